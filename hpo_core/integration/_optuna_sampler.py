"""Our samplers inside Optuna: :class:`OptunaSampler`, an ``optuna.samplers.BaseSampler``.

Optuna calls a sampler with its own study and ``FrozenTrial``\\ s; ours read the columnar
history of one of our studies. The adapter keeps, per Optuna study, a :class:`Mirror`
(:mod:`._optuna_mirror`): a shadow study of ours synced incrementally once per trial,
and hands our sampler the shadow study and a shadow :class:`~hpo_core.trial.Trial` of the
same number. Attributes our sampler writes flow back into the Optuna study: a trial's
system attributes (constraint values) and the study's system attributes (CMA-ES and NSGA
state, the QMC seed), so that workers sharing an Optuna storage share them.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from hpo_core._validation import format_error
from hpo_core.distributions import SearchSpace
from hpo_core.integration._optuna_convert import optuna, to_optuna_distribution
from hpo_core.integration._optuna_mirror import Mirror, nan_to_none
from hpo_core.samplers import BaseSampler
from hpo_core.trial._state import TrialState

__all__ = ["OptunaSampler"]

_optuna = optuna("hpo_core.integration.OptunaSampler")
_OptunaBaseSampler: Any = _optuna.samplers.BaseSampler
_BASE_AFTER = BaseSampler.after_trial
_BASE_BEFORE = BaseSampler.before_trial


class OptunaSampler(_OptunaBaseSampler):  # type: ignore[misc]
    """Run one of our samplers inside Optuna: ``optuna.create_study(sampler=OptunaSampler(...))``.

    Args:
        sampler: Any sampler of ours (:class:`~hpo_core.samplers.TPESampler`,
            ``GPSampler``, ``CmaEsSampler``, ``NSGAIISampler``, ``QMCSampler``,
            ``RandomSampler``, ``AutoSampler``, ...), or one written against our
            :class:`~hpo_core.samplers.BaseSampler`.

    Optuna's sampler protocol maps onto ours one to one: ``infer_relative_search_space``,
    ``sample_relative`` (our ``sample_joint``), ``sample_independent``, ``before_trial``,
    ``after_trial`` and ``reseed_rng``. Each Optuna study the sampler serves (one adapter
    may serve several, as an Optuna sampler may) has its own mirror of its trials in our
    columnar history, brought up to date once per trial with the trials added or finished
    since (other workers' too, through an Optuna RDB or journal storage). A
    ``constraints_func`` of our sampler receives our ``FrozenTrial`` of the finished trial
    and its values go into the trial's ``"constraints"`` system attribute, as Optuna's
    samplers store them. Under Optuna's ``HyperbandPruner`` the sampler sees every trial,
    not only the trial's bracket.

    Example:
        >>> import optuna
        >>> import hpo_core
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> sampler = hpo_core.integration.OptunaSampler(hpo_core.samplers.TPESampler(seed=0))
        >>> study = optuna.create_study(sampler=sampler)
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=30)
        >>> abs(study.best_params["x"] - 2) < 1.0
        True
    """

    def __init__(self, sampler: BaseSampler):
        if not isinstance(sampler, BaseSampler):
            raise TypeError(format_error("sampler", "an hpo_core sampler", sampler, owner="OptunaSampler"))
        self.sampler = sampler
        self._init_state()

    def _init_state(self) -> None:
        self._lock = threading.RLock()
        # storage -> {study_id: Mirror}; weak, so a discarded Optuna storage frees its mirrors.
        self._mirrors: weakref.WeakKeyDictionary[Any, dict[int, Mirror]] = weakref.WeakKeyDictionary()
        self._synced: tuple[Any, int, int] | None = None  # (storage, study_id, number)
        self._infer: tuple[dict[str, Any], SearchSpace] | None = None  # last space handed out

    def __getstate__(self) -> dict[str, Any]:
        return {"sampler": self.sampler}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.sampler = state["sampler"]
        self._init_state()

    def __repr__(self) -> str:
        return f"OptunaSampler({self.sampler!r})"

    # ------------------------------------------------------------------ mirrors
    def _mirror(self, study: Any, number: int, *, force: bool = False) -> Mirror:
        """The mirror of ``study``, synced unless it already was for trial ``number``."""
        storage, study_id = study._storage, study._study_id
        per = self._mirrors.get(storage)
        if per is None:
            per = self._mirrors[storage] = {}
        mirror = per.get(study_id)
        if mirror is None:
            mirror = per[study_id] = Mirror(list(study.directions), self.sampler)
            force = True
        synced = self._synced
        if (
            force
            or synced is None
            or synced[0] is not storage
            or synced[1] != study_id
            or synced[2] != number
        ):
            trials = storage.get_all_trials(study_id, deepcopy=False)
            if len(trials) < mirror.n:  # fewer trials than mirrored: another study now has this id
                mirror = per[study_id] = Mirror(list(study.directions), self.sampler)
            mirror.sync(trials)
            # Sampler state other workers keep in the study (a CMA-ES run, NSGA parents).
            mirror.pull_study_attrs(storage.get_study_system_attrs(study_id))
            self._synced = (storage, study_id, number)
        return mirror

    # ------------------------------------------------------------------ protocol
    def before_trial(self, study: Any, trial: Any) -> None:
        with self._lock:
            mirror = self._mirror(study, trial.number)
            if type(self.sampler).before_trial is _BASE_BEFORE:
                return
            snap = _snapshot(mirror, trial.number)
            self.sampler.before_trial(mirror.study, mirror.trial(trial.number))
            _write_back(study, mirror, trial, snap)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        with self._lock:
            mirror = self._mirror(study, trial.number)
            space = self.sampler.infer_relative_search_space(mirror.study, mirror.trial(trial.number))
            if not len(space):
                return {}
            if type(space) is not SearchSpace:  # a sampler written against Optuna's API
                space = SearchSpace(dict(space))
            cached = self._infer
            if cached is not None and cached[1] is space:
                return dict(cached[0])
            odists = {name: to_optuna_distribution(d) for name, d in space.items()}
            self._infer = (odists, space)
            return dict(odists)

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        if not search_space:
            return {}
        with self._lock:
            mirror = self._mirror(study, trial.number)
            cached = self._infer
            space = (
                cached[1] if cached is not None and search_space == cached[0] else mirror.space(search_space)
            )
            shadow = mirror.trial(trial.number)
            snap = _snapshot(mirror, trial.number)
            X = np.asarray(self.sampler.sample_joint(mirror.study, shadow, space), dtype=np.float64)
            _write_back(study, mirror, trial, snap)
        row = space.external_row(X)
        fixed = shadow._fixed
        out = dict(zip(space.names, row))
        if fixed:
            for name, dist in space.items():
                if name in fixed and _fits(dist, fixed[name]):
                    out[name] = fixed[name]
        return out

    def sample_independent(self, study: Any, trial: Any, param_name: str, param_distribution: Any) -> Any:
        with self._lock:
            mirror = self._mirror(study, trial.number)
            dist = mirror.dist(param_distribution)
            shadow = mirror.trial(trial.number)
            fixed = shadow._fixed
            if fixed and param_name in fixed and _fits(dist, fixed[param_name]):
                return fixed[param_name]
            snap = _snapshot(mirror, trial.number)
            value = self.sampler.sample_independent(mirror.study, shadow, param_name, dist)
            _write_back(study, mirror, trial, snap)
        return value

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        if type(self.sampler).after_trial is _BASE_AFTER:
            return
        with self._lock:
            mirror = self._mirror(study, trial.number, force=trial.number >= self._n_mirrored(study))
            number = trial.number
            mirror.refresh(number, trial, user_attrs=True)  # params, reports, user attrs so far
            snap = _snapshot(mirror, number)
            code = TrialState(int(state.value if hasattr(state, "value") else state))
            self.sampler.after_trial(mirror.study, mirror.trial(number), code, nan_to_none(values))
            _write_back(study, mirror, trial, snap)

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()

    # ------------------------------------------------------------------ helpers
    def _n_mirrored(self, study: Any) -> int:
        per = self._mirrors.get(study._storage)
        mirror = None if per is None else per.get(study._study_id)
        return 0 if mirror is None else mirror.n


def _snapshot(mirror: Mirror, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The system attributes of row ``number`` and of the shadow study, before a call into
    our sampler (copies; usually empty)."""
    row = mirror.storage.get_history(0, sync=False).system_attrs[number]
    return (dict(row) if row else {}), dict(mirror.system_attrs)


def _write_back(study: Any, mirror: Mirror, trial: Any, snap: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Write into the Optuna study what our sampler changed in the shadow since ``snap``:
    the trial's and the study's system attributes, and a request to stop (grid exhausted)."""
    row_before, study_before = snap
    row = mirror.storage.get_history(0, sync=False).system_attrs[trial.number] or {}
    for k, v in row.items():
        if k not in row_before or row_before[k] != v:
            study._storage.set_trial_system_attr(trial._trial_id, k, v)
    after = mirror.system_attrs
    if after != study_before:
        for k, v in after.items():
            if k not in study_before or study_before[k] != v:
                study._storage.set_study_system_attr(study._study_id, k, v)
    if mirror.study._stop_flag:
        mirror.study._stop_flag = False
        try:
            study.stop()
        except RuntimeError:  # outside Study.optimize: nothing to stop
            pass


def _fits(dist: Any, value: Any) -> bool:
    try:
        return bool(dist.contains(dist.to_internal_repr(value)))
    except (TypeError, ValueError):
        return False
