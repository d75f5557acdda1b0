"""Trial: the object an objective receives; ``suggest_*`` is define-by-run."""

from __future__ import annotations

import datetime
import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._distribution_checks import int_like
from hpo_core._validation import as_real, format_error, param_error
from hpo_core.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
)
from hpo_core.exceptions import HpoWarning
from hpo_core.trial._base import BaseTrial
from hpo_core.trial._constraints import CONSTRAINT_PREFIX, check_constraint, constraints_of

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["Trial"]

_MAX_STEP = 2**63 - 1  # steps are stored as 64-bit ints


def _typed_key(*args: Any) -> tuple[Any, ...]:
    """The arguments and their types: 1, 1.0 and True compare equal but are different."""
    return (*args, *map(type, args))


def _choices_key(choices: Any) -> tuple[Any, ...]:
    if type(choices) is not list and type(choices) is not tuple:
        raise TypeError  # other sequences: not memoized
    if any(type(c) is float and c == 0.0 for c in choices):
        raise TypeError  # -0.0 == 0.0 as keys, but they are different choices
    return _typed_key(*choices)


def _name(name: Any) -> str:
    """``name`` as it reads in an error message (it may itself be the wrong type)."""
    return name if isinstance(name, str) else repr(name)


def _cached(factory: Any, key: Any = _typed_key) -> Any:
    """Memoize distribution construction: the same suggest call in every trial then
    reuses one validated, hashed object. Arguments without a (hashable) key bypass the
    cache, and so do those the constructor rejects: it then says what is wrong."""
    cache: dict[tuple[Any, ...], BaseDistribution] = {}

    def get(*args: Any) -> BaseDistribution:
        try:
            k = key(*args)
            return cache[k]
        except KeyError:
            dist = factory(*args)
            if len(cache) < 4096:
                cache[k] = dist
            return dist
        except TypeError:
            return factory(*args)  # type: ignore[no-any-return]

    return get


_float_dist = _cached(lambda low, high, log, step: FloatDistribution(low, high, log=log, step=step))
_int_dist = _cached(lambda low, high, log, step: IntDistribution(low, high, log=log, step=step))
_categorical_dist = _cached(CategoricalDistribution, key=_choices_key)


def _vector(value: Any, n_objectives: int) -> tuple[float, ...]:
    """A multi-objective report: ``n_objectives`` floats (NaN and inf kept)."""
    allowed = f"a sequence of {n_objectives} numbers (one per objective)"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not hasattr(value, "__iter__"):
        raise TypeError(format_error("value", allowed, value, owner="Trial.report"))
    items = list(value.reshape(-1) if isinstance(value, np.ndarray) else value)
    if len(items) != n_objectives:
        raise ValueError(format_error("value", allowed, value, owner="Trial.report"))
    try:
        return tuple(as_real(v, "value", owner="Trial.report") for v in items)
    except TypeError as e:
        raise TypeError(format_error("value", allowed, value, owner="Trial.report")) from e


class Trial(BaseTrial):
    """A running trial. Created by ``Study.ask`` or ``Study.optimize``; not by users.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study()
        >>> trial = study.ask()
        >>> x = trial.suggest_float("x", -10, 10)
        >>> study.tell(trial, (x - 2) ** 2)
    """

    # Optional state lives in class-level defaults and is set on the instance only when
    # used: a trial of the tight ask/tell loop assigns five attributes and no more.
    _params: dict[str, Any] | None = None
    _dists: dict[str, BaseDistribution] | None = None
    _relative: dict[str, Any] | None = None
    _relative_space: SearchSpace | None = None
    _constraints: dict[str, float] | None = None  # set through this object (set_constraint)
    _fixed: dict[str, Any] | None = None  # from enqueue_trial or a grid point
    _user_attrs: dict[str, Any] | None = None
    number: int = -1  # set in __init__ (an instance attribute, over BaseTrial's property)
    _iv: dict[int, Any] | None = None  # floats, or tuples of floats with several objectives
    #: The device this trial runs on when ``optimize(devices=...)`` places trials
    #: (``"cpu"`` or ``"cuda:N"``, as given there), None otherwise.
    device: str | None = None
    #: What to resume from when a driver resumes the trial (population-based training
    #: gives a :class:`hpo_core.pbt.Checkpoint`), None otherwise; as ``RemoteTrial.checkpoint``.
    checkpoint: Any = None

    def __init__(
        self,
        study: Study,
        trial_id: int,
        number: int | None = None,
        space: SearchSpace | None = None,
        row: list[Any] | None = None,
    ):
        self.study = study
        self._trial_id = trial_id
        # Optuna's Trial(study, trial_id) reads the number from the storage; ask passes it.
        self.number = study._storage.get_trial(trial_id).number if number is None else number
        # Parameters set at ask time from fixed distributions, kept as (space, row) and
        # turned into dicts only when read: the tight ask/tell loop never builds them.
        self._space = space
        self._row = row

    # ------------------------------------------------------------------ params
    def _materialize(self) -> None:
        space, row = self._space, self._row
        if space is None or row is None:
            self._params, self._dists = {}, {}
        else:
            self._params = dict(zip(space.names, row))
            self._dists = dict(space.items())

    @property
    def params(self) -> dict[str, Any]:
        """``{name: value}`` of the parameters suggested so far (a copy)."""
        params = self._params
        if params is None:
            space = self._space
            if space is not None and self._row is not None:
                return dict(zip(space.names, self._row))  # a fresh dict: no copy needed
            self._materialize()
            params = self._params
        return dict(params)  # type: ignore[arg-type]

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        if self._dists is None:
            self._materialize()
        return dict(self._dists)  # type: ignore[arg-type]

    @property
    def trial_id(self) -> int:
        return self._trial_id

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Suggest a float in ``[low, high]``, uniform or log-uniform, optionally stepped.

        Raises:
            ValueError: if ``low > high``, ``log`` with ``low <= 0``, ``step <= 0``, both
                ``step`` and ``log``, or ``name`` was suggested with another distribution.
        """
        try:
            dist = _float_dist(low, high, log, step)
        except (TypeError, ValueError) as e:
            raise param_error(e, _name(name), owner="Trial.suggest_float") from e
        return self._suggest(name, dist)  # type: ignore[no-any-return]

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """Suggest an int in ``[low, high]`` on a grid of ``step``, optionally log-uniform.

        Bounds and step given as floats are cut to ints as Optuna does (``n / 2``; a
        fraction with an :class:`~hpo_core.exceptions.HpoWarning` naming the parameter).
        """
        if type(low) is not int or type(high) is not int or type(step) is not int:
            owner = f"Trial.suggest_int for parameter `{name}`"
            low, high, step = (int_like(owner, "low", low, 3), int_like(owner, "high", high, 3),
                               int_like(owner, "step", step, 3))
        try:
            dist = _int_dist(low, high, log, step)
        except (TypeError, ValueError) as e:
            raise param_error(e, _name(name), owner="Trial.suggest_int") from e
        return self._suggest(name, dist)  # type: ignore[no-any-return]

    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """Suggest one of ``choices`` (None, bool, int, float or str)."""
        try:
            dist = _categorical_dist(choices)
        except (TypeError, ValueError) as e:
            raise param_error(e, _name(name), owner="Trial.suggest_categorical") from e
        return self._suggest(name, dist)

    def _suggest(self, name: str, dist: BaseDistribution) -> Any:
        if type(name) is not str and not isinstance(name, str):
            raise TypeError(format_error("name", "a str", name))
        if self._params is None:
            self._materialize()
        params, dists = self._params, self._dists
        assert params is not None and dists is not None
        if name in params:
            old = dists[name]
            if old == dist:
                return params[name]
            internal = old.to_internal_repr(params[name])
            if type(old) is type(dist) and dist.contains(internal):
                # A fixed distribution (ask) and a compatible suggest: keep the value.
                return params[name]
            raise ValueError(
                f"Parameter `{name}` was already suggested in trial {self.number} as {old!r} "
                f"with value {params[name]!r}; it cannot be suggested again as {dist!r}."
            )
        study = self.study
        value: Any = None
        found = False
        if self._fixed is not None and name in self._fixed:
            value = self._fixed[name]
            try:
                internal = dist.to_internal_repr(value)
                found = dist.contains(internal)
            except (TypeError, ValueError):
                found = False
            if not found:
                warnings.warn(
                    f"Enqueued value {value!r} of `{name}` lies outside {dist!r}; "
                    "sampling it instead.",
                    HpoWarning,
                    stacklevel=3,
                )
        if not found and dist.single():
            internal = float(dist.low) if not isinstance(dist, CategoricalDistribution) else 0.0  # type: ignore[attr-defined]
            found = True
        if not found:
            rel = self._relative
            if rel is None:
                rel = self._sample_relative()
            rs = self._relative_space
            if name in rel and rs is not None and rs[name] == dist:
                internal = float(rel[name])
            else:
                value = study.sampler.sample_independent(study, self, name, dist)
                internal = dist.to_internal_repr(value)
        study._storage.set_trial_param(self._trial_id, name, internal, dist)
        value = dist.to_external_repr(internal)
        params[name] = value
        dists[name] = dist
        return value

    @property
    def relative_params(self) -> dict[str, Any]:
        """``{name: external value}`` that the sampler's joint (relative) step proposed for
        this trial, sampled on first use (as Optuna's ``Trial.relative_params``)."""
        rel = self._relative
        if rel is None:
            rel = self._sample_relative()
        space = self._relative_space
        assert space is not None  # set by _sample_relative
        return {name: space[name].to_external_repr(v) for name, v in rel.items()}

    @property
    def relative_search_space(self) -> dict[str, BaseDistribution] | None:
        """The search space of :attr:`relative_params` (``{name: distribution}``), None
        until the sampler's joint step ran (as Optuna's)."""
        space = self._relative_space
        return None if space is None else dict(space.items())

    def _sample_relative(self) -> dict[str, float]:
        study = self.study
        space = study.sampler.infer_relative_search_space(study, self)
        if type(space) is not SearchSpace:  # an Optuna-style sampler returns a dict
            space = SearchSpace(dict(space or {}))
        self._relative_space = space
        rel: dict[str, float] = {}
        if len(space):
            X = study.sampler.sample_joint(study, self, space)
            rel = dict(zip(space.names, np.asarray(X, dtype=float).tolist()))
        self._relative = rel
        return rel

    # --------------------------------------------------------------- pruning
    def report(self, value: float | Sequence[float], step: int) -> None:
        """Report an intermediate objective ``value`` at ``step`` (for pruners).

        In a study of m > 1 objectives, ``value`` holds one number per objective (a list,
        tuple or 1-D array of m numbers, in the study's directions), which the
        multi-objective pruners read. A second report for the same step is ignored with
        a warning.

        Raises:
            TypeError: if ``step`` is not an int or ``value`` is not a number (a sequence
                of numbers in a multi-objective study).
            ValueError: if ``step`` is negative, or ``value`` does not hold one number per
                objective.
        """
        if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Integral):
            raise TypeError(format_error("step", "an int in the range [0, 2**63 - 1]", step, owner="Trial.report"))
        if not 0 <= step <= _MAX_STEP:
            raise ValueError(format_error("step", "an int in the range [0, 2**63 - 1]", step, owner="Trial.report"))
        n_objectives = len(self.study.directions)
        stored: Any
        if n_objectives > 1:
            value = stored = _vector(value, n_objectives)
        else:
            value = stored = as_real(value, "value", owner="Trial.report")
        iv = self._iv
        if iv is None:
            iv = self._iv = {}
        if step in iv:
            warnings.warn(
                f"Trial {self.number} already reported a value at step {step}; "
                f"ignoring {value!r}.",
                HpoWarning,
                stacklevel=2,
            )
            return
        if n_objectives > 1:
            stored = list(value)  # type: ignore[arg-type]
        self.study._storage.set_trial_intermediate_value(self._trial_id, int(step), stored)
        iv[int(step)] = value

    def should_prune(self) -> bool:
        """Ask the study's pruner whether this trial should stop (raise TrialPruned).

        Raises:
            NotImplementedError: in a multi-objective study whose pruner handles one
                objective only (its ``supports_multi_objective`` is False).
        """
        study = self.study
        pruner = study.pruner
        if study._n_objectives > 1 and not getattr(pruner, "supports_multi_objective", False):
            raise NotImplementedError(
                f"Trial.should_prune: {type(pruner).__name__} prunes single-objective studies "
                f"only, and this study has {len(study.directions)} objectives; use "
                "MultiObjectiveSuccessiveHalvingPruner or MultiObjectiveMedianPruner "
                "(hpo_core.pruners) with `trial.report([v_1, ..., v_m], step)`."
            )
        study._view._stale = True  # one sync for this decision, at the pruner's first read
        return bool(pruner.prune(study, self))

    @property
    def intermediate_values(self) -> dict[int, Any]:
        """``{step: value}`` reported so far by this trial (tuples of floats in a
        multi-objective study)."""
        return dict(self._iv or {})

    @property
    def storage(self) -> Any:
        """The study's storage (Optuna's ``Trial.storage``)."""
        return self.study._storage

    @property
    def last_step(self) -> int | None:
        """The highest step reported so far, None before the first report (what a
        user-defined pruner reads, as ``FrozenTrial.last_step`` in Optuna's)."""
        return max(self._iv) if self._iv else None

    # --------------------------------------------------------------- attributes
    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable ``value`` to this trial under ``key``."""
        if not isinstance(key, str):
            raise TypeError(format_error("key", "a str", key))
        self.study._storage.set_trial_attr(self._trial_id, "user", key, value)
        if self._user_attrs is None:
            self._user_attrs = {}
        self._user_attrs[key] = value

    def set_system_attr(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(format_error("key", "a str", key))
        self.study._storage.set_trial_attr(self._trial_id, "system", key, value)

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._user_attrs or {})

    # --------------------------------------------------------------- constraints
    def set_constraint(self, key: str, value: float) -> None:
        """Set constraint ``key`` of this trial to ``value`` (feasible when every
        constraint is <= 0), as Optuna 5.0's: stored as the system attribute
        ``"constraints:<key>"``, which the samplers, ``best_trial`` and the Wilcoxon
        pruner read. A second call for a key (through any object of this trial: the
        storage is read for a key this object has not set) is ignored with a warning.

        Raises:
            TypeError: if ``value`` cannot be cast to float.
            ValueError: if ``value`` is NaN.
        """
        known = self._constraints
        if known is None or f"{CONSTRAINT_PREFIX}{key}" not in known:
            # As Optuna: the storage says whether the key is set (another object of the
            # same trial, e.g. a worker's, may have set it); one read per new key.
            known = self._constraints = {
                k: v for k, v in self.study._storage.get_trial_system_attrs(self._trial_id).items()
                if k.startswith(CONSTRAINT_PREFIX)
            }
        entry = check_constraint(key, value, known)
        if entry is not None:
            self.study._storage.set_trial_attr(self._trial_id, "system", entry[0], entry[1])
            known[entry[0]] = entry[1]

    @property
    def constraints(self) -> dict[str, float]:
        """``{key: value}`` of this trial's constraints, read from the storage."""
        return constraints_of(self.study._storage.get_trial(self._trial_id).system_attrs)

    @property
    def datetime_start(self) -> datetime.datetime | None:
        return self.study._storage.get_trial(self._trial_id).datetime_start

    def __repr__(self) -> str:
        return f"Trial(number={self.number})"

