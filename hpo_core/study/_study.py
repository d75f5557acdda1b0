"""Study: a set of trials optimizing one objective (or several)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int, format_error
from hpo_core._view import StudyView
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.exceptions import FailedTrialWarning, UpdateFinishedTrialError
from hpo_core.history import History
from hpo_core.pruners import BasePruner, NopPruner
from hpo_core.samplers import BaseSampler, RandomSampler
from hpo_core.storages import BaseStorage
from hpo_core.study._tell import check_state, check_values
from hpo_core.trial import FrozenTrial, StudyDirection, Trial, TrialState

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Study", "TrialBatch"]

_COMPLETE = TrialState.COMPLETE
_COMPLETE_INT = int(TrialState.COMPLETE)
_WAITING = int(TrialState.WAITING)
_FIXED_PARAMS_ATTR = "fixed_params"
# The most trials one ask(n=...) or ask_array creates: bounds the memory a typo can take.
MAX_BATCH = 10_000_000


@dataclass
class TrialBatch:
    """Trials created by :meth:`Study.ask_array`.

    Attributes:
        numbers: (n,) int64 trial numbers.
        trial_ids: (n,) int64 storage ids.
        params: (n, d) float64 *internal* values in ``space.names`` order (the value
            itself for float and int parameters, the choice index for categoricals).
        space: the :class:`SearchSpace` sampled.
    """

    numbers: np.ndarray
    trial_ids: np.ndarray
    params: np.ndarray
    space: SearchSpace

    def __len__(self) -> int:
        return len(self.numbers)

    def to_dicts(self) -> list[dict[str, Any]]:
        """The parameters as ``{name: external value}`` dicts, one per trial."""
        names = self.space.names
        return [dict(zip(names, r)) for r in self.space.external_rows(self.params)]


class Study:
    """A study: the trials of one optimization, kept in a storage.

    Create one with :func:`hpo_core.create_study` or :func:`hpo_core.load_study`.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(direction="minimize")
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 2) ** 2, n_trials=20)
        >>> round(study.best_params["x"])  # doctest: +SKIP
        2
    """

    def __init__(
        self,
        study_name: str,
        storage: BaseStorage,
        sampler: BaseSampler | None = None,
        pruner: BasePruner | None = None,
    ):
        self.study_name = study_name
        self._storage = storage
        self._study_id = storage.get_study_id_from_name(study_name)
        self._directions = storage.get_study_directions(self._study_id)
        self._n_objectives = len(self._directions)
        self.sampler = sampler if sampler is not None else RandomSampler()
        self.pruner = pruner if pruner is not None else NopPruner()
        self._stop_flag = False
        self._view = StudyView(storage, self._study_id, self._directions)
        self._space_cache: tuple[Any, dict[str, Any], SearchSpace] | None = None
        self._thread_local = threading.local()

    # --------------------------------------------------------------- basics
    @property
    def directions(self) -> list[StudyDirection]:
        return list(self._directions)

    @property
    def direction(self) -> StudyDirection:
        if self._n_objectives != 1:
            raise RuntimeError(
                "Study.direction is for single-objective studies; this one has "
                f"{self._n_objectives} objectives, use Study.directions."
            )
        return self._directions[0]

    def _history(self) -> History:
        """The columnar history, synced with the storage now (for the user's reads)."""
        return self._storage.get_history(self._study_id)

    @property
    def view(self) -> StudyView:
        """The read-only :class:`~hpo_core.StudyView` that samplers and pruners read:
        the columnar history (synced once per ask or pruning decision), directions,
        attributes and ``reserve``."""
        return self._view

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._storage.get_study_attrs(self._study_id, "user")

    @property
    def system_attrs(self) -> dict[str, Any]:
        return self._storage.get_study_attrs(self._study_id, "system")

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON-serializable ``value`` on the study under ``key``."""
        if not isinstance(key, str):
            raise TypeError(format_error("key", "a str", key))
        self._storage.set_study_attr(self._study_id, "user", key, value)

    def set_system_attr(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(format_error("key", "a str", key))
        self._storage.set_study_attr(self._study_id, "system", key, value)

    def stop(self) -> None:
        """Stop ``optimize`` after the running trials finish (thread-safe)."""
        self._stop_flag = True

    # --------------------------------------------------------------- trials
    @property
    def trials(self) -> list[FrozenTrial]:
        """All trials in number order (snapshots)."""
        return self.get_trials()

    def get_trials(
        self, deepcopy: bool = True, states: Iterable[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """Trials in number order, optionally only those in ``states``."""
        # Snapshots are built fresh from the history on every call, so they are
        # already independent copies; ``deepcopy`` is accepted for compatibility.
        return self._storage.get_all_trials(self._study_id, states=states)

    @property
    def best_trial(self) -> FrozenTrial:
        """The best COMPLETE trial (single objective).

        Raises:
            ValueError: if no trial is complete yet.
            RuntimeError: for a multi-objective study (use ``best_trials``).
        """
        if self._n_objectives != 1:
            raise RuntimeError(
                "Study.best_trial is for single-objective studies; use Study.best_trials "
                "for the Pareto front."
            )
        h = self._history()
        if h.best_row < 0:
            raise ValueError("No trial is complete yet, so there is no best trial.")
        return h.frozen(h.best_row)

    @property
    def best_params(self) -> dict[str, Any]:
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto front: COMPLETE trials no other complete trial dominates."""
        from hpo_core import kernels

        h = self._history()
        rows = h.rows([int(_COMPLETE)])
        if not len(rows):
            return []
        signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in self._directions])
        values = np.ascontiguousarray(h.values[rows] * signs)
        front = rows[np.asarray(kernels.is_pareto_front(values), dtype=np.bool_)]
        return [h.frozen(r) for r in front.tolist()]

    # --------------------------------------------------------------- ask
    def _as_space(self, fixed: Mapping[str, BaseDistribution] | SearchSpace) -> SearchSpace:
        if type(fixed) is SearchSpace:
            return fixed
        cached = self._space_cache
        # Reuse the SearchSpace built for an equal dict. Dict equality runs in C and
        # compares identical distribution objects without calling __eq__; a dict that
        # was changed in place since (other keys or distributions) gets a new space.
        if cached is not None and cached[0] is fixed and fixed == cached[1]:
            return cached[2]
        if isinstance(fixed, SearchSpace):
            return fixed
        if not isinstance(fixed, Mapping):
            raise TypeError(format_error("fixed_distributions", "a mapping name -> distribution", fixed))
        space = SearchSpace(fixed)
        self._space_cache = (fixed, dict(fixed), space)
        return space

    def ask(
        self,
        fixed_distributions: Mapping[str, BaseDistribution] | SearchSpace | None = None,
        *,
        n: int | None = None,
    ) -> Any:
        """Start a new trial (or ``n`` of them) and return it.

        Args:
            fixed_distributions: Parameters to sample now, jointly, before the trial is
                returned (define-and-run); read them from ``trial.params``. A prebuilt
                :class:`SearchSpace` is the fastest form.
            n: Start ``n`` trials and return them as a list. Model-based samplers see
                the earlier trials of the batch as RUNNING, so the batch is diverse.

        Returns:
            A :class:`Trial`, or a list of ``n`` trials.
        """
        space = None if fixed_distributions is None else self._as_space(fixed_distributions)
        if n is not None:
            check_int("n", n, low=1, high=MAX_BATCH)
            if space is not None and self.sampler.has_batch and not self._has_waiting():
                return self._ask_batch(space, n)
            return [self.ask(space) for _ in range(n)]
        storage = self._storage
        sampler = self.sampler
        waiting = self._has_waiting()
        if (space is not None and not waiting and not sampler._joint_uses_trial and len(space)
                and type(sampler).before_trial is BaseSampler.before_trial):  # a subclass may add one
            # Fast path: the sampler ignores the trial when sampling jointly, so sample
            # first and create the trial with its parameters in one storage write.
            X = sampler.sample_joint(self, None, space)  # type: ignore[arg-type]
            trial_id, number = storage.create_new_trial(self._study_id, space=space, internal=X)
            trial = Trial(
                self, trial_id, number, space=space,
                row=space.external_row(X),
            )
            return trial
        claimed = storage.claim_waiting_trial(self._study_id) if waiting else None
        if claimed is None:
            trial_id, number = storage.create_new_trial(self._study_id)
            trial = Trial(self, trial_id, number)
        else:
            trial_id, number = claimed
            trial = Trial(self, trial_id, number)
            fixed = storage.get_trial(trial_id).system_attrs.get(_FIXED_PARAMS_ATTR)
            if fixed:
                trial._fixed = dict(fixed)
        self.sampler.before_trial(self, trial)
        if space is not None and len(space):
            X = self.sampler.sample_joint(self, trial, space)
            if trial._fixed:
                X = self._apply_fixed(trial._fixed, space, X)
            storage.set_trial_params(trial_id, space, X)
            trial._space = space
            trial._row = space.external_row(X)
            trial._params = trial._dists = None  # rebuilt from (space, row) when read
        return trial

    def _has_waiting(self) -> bool:
        """Sync the history (the one sync of this ask: the sampler reads it as it is
        now) and say whether a WAITING trial may be claimed."""
        return self._view.sync().state_counts[_WAITING] > 0

    @staticmethod
    def _apply_fixed(fixed: dict[str, Any], space: SearchSpace, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float)
        for j, (name, dist) in enumerate(space.items()):
            if name in fixed:
                try:
                    internal = dist.to_internal_repr(fixed[name])
                except (TypeError, ValueError):
                    continue
                if dist.contains(internal):
                    X[j] = internal
        return X

    def _ask_batch(self, space: SearchSpace, n: int) -> list[Trial]:
        return self._batch_trials(self.ask_array(space, n))

    def _batch_trials(self, batch: TrialBatch) -> list[Trial]:
        return [Trial(self, tid, num, space=batch.space, row=row) for tid, num, row in zip(
            batch.trial_ids.tolist(), batch.numbers.tolist(), batch.space.external_rows(batch.params))]

    def ask_array(
        self, space: Mapping[str, BaseDistribution] | SearchSpace, n: int
    ) -> TrialBatch:
        """Start ``n`` trials on a fixed space and return their parameters as one array.

        The array-level path for tight loops: one sampler call and one storage write
        for the whole batch. Needs a sampler with a batch path (random, quasi-random);
        others raise ``NotImplementedError``. Finish the batch with :meth:`tell_array`.
        """
        space = self._as_space(space)
        check_int("n", n, low=1, high=MAX_BATCH)
        if not self.sampler.has_batch:
            raise NotImplementedError(
                f"{type(self.sampler).__name__} has no batch path; use study.ask(n=...) "
                "to get a batch of trials one proposal at a time."
            )
        self._view._stale = True
        ids, numbers = self._storage.create_new_trials(self._study_id, n)
        sampler = self.sampler
        if type(sampler).before_trial is not BaseSampler.before_trial:
            for tid, num in zip(ids.tolist(), numbers.tolist()):
                sampler.before_trial(self, Trial(self, tid, num))
        X = sampler.sample_joint_batch(self, numbers, space)
        self._storage.set_trials_params(ids, space, X)
        return TrialBatch(numbers, ids, X, space)

    def tell_array(
        self,
        batch: TrialBatch,
        values: np.ndarray | Sequence[float],
        *,
        state: TrialState = TrialState.COMPLETE,
    ) -> None:
        """Finish the trials of ``batch`` with ``values`` (n,) or (n, n_objectives).

        Trials whose row holds a NaN are marked FAIL (with one warning for the batch);
        the others get ``state``.
        """
        state = check_state(state)
        n, m = len(batch), self._n_objectives
        if state != _COMPLETE:
            try:
                self._after_batch(batch, np.full(n, int(state)), None)
            finally:  # as in tell: a failing after_trial does not leave the batch RUNNING
                self._storage.set_trials_state_values(batch.trial_ids, state, None)
            return
        V = np.asarray(values, dtype=np.float64)
        if V.ndim == 1 and m == 1:
            V = V[:, None]
        if V.shape != (n, m):
            raise ValueError(format_error("values", f"an array of shape ({n},) or ({n}, {m})", f"shape {V.shape}"))
        bad = np.isnan(V).any(axis=1)
        try:
            self._after_batch(batch, np.where(bad, int(TrialState.FAIL), int(state)), V)
        finally:
            self._store_batch(batch, state, V, bad)

    def _store_batch(self, batch: TrialBatch, state: TrialState, V: np.ndarray, bad: Any) -> None:
        """Store the end of a batch: FAIL where ``bad`` (n,) (a NaN value), else ``state``
        with its row of V (n, m)."""
        n = len(batch)
        if bad.any():
            warnings.warn(
                f"{int(bad.sum())} of {n} trials in the batch returned NaN and are marked FAIL.",
                FailedTrialWarning,
                stacklevel=3,  # the caller of tell_array
            )
            self._storage.set_trials_state_values(batch.trial_ids[bad], TrialState.FAIL, None)
            self._storage.set_trials_state_values(batch.trial_ids[~bad], state, V[~bad])
        else:
            self._storage.set_trials_state_values(batch.trial_ids, state, V)

    def _after_batch(self, batch: TrialBatch, states: np.ndarray, V: np.ndarray | None) -> None:
        """The sampler's ``after_trial`` for each trial of a batch (skipped for samplers
        that do not override it: the tight loop pays nothing)."""
        sampler = self.sampler
        if type(sampler).after_trial is BaseSampler.after_trial:
            return
        for k, trial in enumerate(self._batch_trials(batch)):
            st = TrialState(int(states[k]))
            vals = V[k].tolist() if V is not None and st == _COMPLETE else None
            sampler.after_trial(self, trial, st, vals)

    # --------------------------------------------------------------- tell
    def tell(
        self,
        trial: Trial | int,
        values: float | Sequence[float] | None = None,
        *,
        state: TrialState | None = None,
        skip_if_finished: bool = False,
    ) -> None:
        """Finish a trial started with :meth:`ask`.

        Args:
            trial: The :class:`Trial` or its number.
            values: The objective value(s); required unless ``state`` is PRUNED or FAIL.
            state: COMPLETE (default when values are given), PRUNED or FAIL.
            skip_if_finished: Return quietly if the trial is already finished.

        A NaN or a wrong number of values marks the trial FAIL with a warning that says
        why, rather than raising, so a loop over many trials keeps going.

        Raises:
            ValueError: bad ``state``, or values given with PRUNED/FAIL.
            UpdateFinishedTrialError: the trial is finished and ``skip_if_finished`` is
                False.
        """
        if type(trial) is Trial:
            trial_id = trial._trial_id
            if (
                state is None
                and type(values) is float
                and values == values  # not NaN
                and self._n_objectives == 1
                and type(self.sampler).after_trial is BaseSampler.after_trial
            ):
                # Tight-loop path: nothing to validate further, nothing to notify.
                try:
                    self._storage.set_trial_state_values(trial_id, _COMPLETE_INT, (values,))
                except UpdateFinishedTrialError:
                    if not skip_if_finished:
                        raise
                return
        else:
            trial, trial_id = self._trial_from_number(trial)
        if state is None:
            state = _COMPLETE
        elif state is not _COMPLETE:
            state = check_state(state)
        if state is _COMPLETE:
            if type(values) is float and values == values and self._n_objectives == 1:
                vals: list[float] | None = [values]
            else:
                if values is None:
                    raise ValueError(
                        "`values` must be given for a COMPLETE trial, but got None; pass "
                        "state=TrialState.FAIL or TrialState.PRUNED otherwise."
                    )
                vals, reason = check_values(values, self._n_objectives)
                if vals is None:
                    warnings.warn(
                        f"Trial {trial.number} is marked FAIL: {reason}.",
                        FailedTrialWarning,
                        stacklevel=2,
                    )
                    state = TrialState.FAIL
                    self._storage.set_trial_attr(trial_id, "system", "fail_reason", reason)
        else:
            if values is not None and state == TrialState.FAIL:
                raise ValueError(format_error("values", "None for a FAIL trial", values))
            vals = None
        try:
            self.sampler.after_trial(self, trial, state, vals)
        except BaseException:
            if getattr(self._thread_local, "fail_on_error", False):
                raise  # optimize ends the trial as FAIL, with the error as its fail_reason
            self._store_state(trial_id, state, vals, skip_if_finished)
            raise
        self._store_state(trial_id, state, vals, skip_if_finished)

    def _store_state(
        self, trial_id: int, state: TrialState, vals: list[float] | None, skip_if_finished: bool
    ) -> None:
        try:
            self._storage.set_trial_state_values(trial_id, state, vals)
        except UpdateFinishedTrialError:
            if not skip_if_finished:
                raise

    def _trial_from_number(self, trial: Any) -> tuple[Trial, int]:
        if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)):
            raise TypeError(format_error("trial", "a Trial or a trial number (int)", trial))
        try:
            trial_id = self._storage.get_trial_id_from_number(self._study_id, int(trial))
        except KeyError:
            raise ValueError(format_error("trial", "the number of a trial of this study", trial)) from None
        return Trial(self, trial_id, int(trial)), trial_id

    # --------------------------------------------------------------- optimize
    def optimize(
        self,
        func: Callable[[Trial], float | Sequence[float]],
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        catch: Iterable[type[Exception]] | type[Exception] = (),
        callbacks: Iterable[Callable[[Study, FrozenTrial], None]] | None = None,
        gc_after_trial: bool = False,
        show_progress_bar: bool = False,
    ) -> None:
        """Run ``func`` on new trials until ``n_trials``, ``timeout`` or :meth:`stop`.

        Args:
            func: The objective: takes a :class:`Trial`, returns a value (or one per
                objective). Raising :class:`~hpo_core.TrialPruned` marks it PRUNED.
            n_trials: Number of trials to run (all threads together); None = no limit.
            timeout: Seconds after which no new trial starts; None = no limit.
            n_jobs: Threads running trials in parallel; -1 = one per CPU.
            catch: Exception types that mark the trial FAIL and let the study go on.
                Other exceptions also mark it FAIL, then propagate.
            callbacks: Called as ``cb(study, frozen_trial)`` after each trial.
            gc_after_trial: Run ``gc.collect()`` after each trial.
            show_progress_bar: Show a tqdm progress bar.
        """
        from hpo_core.study._optimize import optimize

        optimize(
            self, func, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs, catch=catch,
            callbacks=callbacks, gc_after_trial=gc_after_trial,
            show_progress_bar=show_progress_bar,
        )

    # --------------------------------------------------------------- warm starts
    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        user_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
    ) -> None:
        """Queue a trial whose ``suggest_*`` calls return ``params`` (next ask gets it).

        Args:
            params: ``{name: value}``; names not suggested are ignored, values outside
                the suggested distribution are replaced by a sample (with a warning).
            user_attrs: Attributes for the queued trial.
            skip_if_exists: Do nothing if a trial with the same params exists or waits.
        """
        if not isinstance(params, Mapping):
            raise TypeError(format_error("params", "a mapping name -> value", params))
        params = dict(params)
        if skip_if_exists:
            for t in self._storage.get_all_trials(self._study_id):
                existing = t.params if t.state != TrialState.WAITING else t.system_attrs.get(_FIXED_PARAMS_ATTR, {})
                if existing == params:
                    return
        from hpo_core.trial import create_trial

        template = create_trial(
            state=TrialState.WAITING,
            system_attrs={_FIXED_PARAMS_ATTR: params},
            user_attrs=user_attrs,
        )
        self._storage.create_new_trial(self._study_id, template)

    def add_trial(self, trial: FrozenTrial) -> None:
        """Add a finished trial (e.g. from an earlier run) to the study (warm start)."""
        if not isinstance(trial, FrozenTrial):
            raise TypeError(format_error("trial", "a FrozenTrial (see hpo_core.create_trial)", trial))
        trial._validate()
        if trial.values is not None and len(trial.values) != self._n_objectives:
            raise ValueError(
                format_error("trial.values", f"{self._n_objectives} value(s)", trial.values)
            )
        self._storage.create_new_trial(self._study_id, trial)

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        for t in trials:
            self.add_trial(t)

    # --------------------------------------------------------------- analysis
    def trials_dataframe(
        self,
        attrs: Sequence[str] = (
            "number", "value", "datetime_start", "datetime_complete", "duration",
            "params", "user_attrs", "system_attrs", "state",
        ),
        multi_index: bool = False,
    ) -> pd.DataFrame:
        """The trials as a pandas DataFrame (needs ``pip install 'hpo_core[pandas]'``)."""
        from hpo_core.study._dataframe import trials_dataframe

        return trials_dataframe(self, attrs, multi_index)

    def __repr__(self) -> str:
        return f"Study(study_name={self.study_name!r}, directions={self._directions!r})"
