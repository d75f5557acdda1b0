"""FrozenTrial: an immutable snapshot of a trial, as users and analysis code see it."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hpo_core._validation import as_real, check_int, format_error
from hpo_core.distributions import BaseDistribution
from hpo_core.trial._constraints import ConstraintAttrs
from hpo_core.trial._replay import ReplaySuggest
from hpo_core.trial._state import TrialState

__all__ = ["FrozenTrial", "create_trial"]


class FrozenTrial(ConstraintAttrs, ReplaySuggest):
    """A finished or running trial's record.

    Attributes:
        number: 0-based index of the trial within its study.
        state: :class:`TrialState`.
        values: objective values: a COMPLETE trial's, a PRUNED trial's last report
            (``value``, as Optuna stores it; None without a report or when it is NaN),
            None otherwise.
        params: ``{name: external value}``; ``distributions``: ``{name: distribution}``.
        user_attrs, system_attrs: JSON-serializable attributes.
        intermediate_values: ``{step: value}`` reported with ``Trial.report``.
        datetime_start, datetime_complete: ``datetime.datetime`` or None.
        trial_id: the storage's id of the trial.
        constraints: ``{key: value}`` read from ``system_attrs`` (see ``set_constraint``).

    The constructor takes Optuna's arguments in Optuna's order (``value`` or the
    keyword ``values``, not both).

    A FrozenTrial also stands in for a :class:`Trial`, as in Optuna: ``suggest_*`` return
    the stored parameters, so an objective replays a trial it ran before (the best one,
    say); ``report`` records nothing and ``should_prune`` is False.

    Example:
        >>> import hpo_core
        >>> def objective(trial):
        ...     return (trial.suggest_float("x", -5, 5) - 2) ** 2
        >>> study = hpo_core.create_study()
        >>> study.optimize(objective, n_trials=10)
        >>> objective(study.best_trial) == study.best_value
        True
    """

    __slots__ = (
        "number", "state", "values", "params", "distributions", "user_attrs",
        "system_attrs", "intermediate_values", "datetime_start", "datetime_complete",
        "trial_id",
    )
    # Slots over BaseTrial's properties (typed here for mypy).
    number: int
    params: dict[str, Any]
    datetime_start: datetime.datetime | None

    def __init__(
        self,
        number: int,
        state: TrialState,
        value: float | None,
        datetime_start: datetime.datetime | None,
        datetime_complete: datetime.datetime | None,
        params: dict[str, Any],
        distributions: dict[str, BaseDistribution],
        user_attrs: dict[str, Any],
        system_attrs: dict[str, Any],
        intermediate_values: dict[int, float],
        trial_id: int,
        *,
        values: Sequence[float] | None = None,
    ):
        if value is not None and values is not None:
            raise ValueError("Specify only one of `value` and `values`.")
        self.number = number
        self.state = TrialState(state)
        self.values = [value] if value is not None else list(values) if values is not None else None
        self.params = params
        self.distributions = distributions
        self.user_attrs = user_attrs
        self.system_attrs = system_attrs
        self.intermediate_values = intermediate_values
        self.datetime_start = datetime_start
        self.datetime_complete = datetime_complete
        self.trial_id = trial_id

    @property
    def value(self) -> float | None:
        """The single objective value; raises for multi-objective trials."""
        if self.values is None:
            return None
        if len(self.values) != 1:
            raise RuntimeError(
                "FrozenTrial.value is for single-objective trials; this trial has "
                f"{len(self.values)} values, use FrozenTrial.values."
            )
        return self.values[0]

    @value.setter
    def value(self, v: float | None) -> None:
        if self.values is not None and len(self.values) > 1:
            raise RuntimeError(
                "FrozenTrial.value is for single-objective trials; this trial has "
                f"{len(self.values)} values, use FrozenTrial.values."
            )
        self.values = None if v is None else [v]

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return self.datetime_complete - self.datetime_start

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate_values) if self.intermediate_values else None

    # ---------------------------------------------- replay (hpo_core.trial._replay)
    def _stored(self) -> dict[str, Any]:
        return self.params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        return (
            f"FrozenTrial(number={self.number}, state={self.state!r}, values={self.values!r}, "
            f"params={self.params!r})"
        )

    def _validate(self) -> None:
        """Optuna's checks of a trial given to ``add_trial`` (and ``create_trial``)."""
        if self.state != TrialState.WAITING and self.datetime_start is None:
            raise ValueError("`datetime_start` is supposed to be set when the trial state is not waiting.")
        if self.state.is_finished() and self.datetime_complete is None:
            raise ValueError("`datetime_complete` is supposed to be set for a finished trial.")
        if not self.state.is_finished() and self.datetime_complete is not None:
            raise ValueError("`datetime_complete` is supposed to be None for an unfinished trial.")
        if set(self.params) != set(self.distributions):
            raise ValueError(
                "`params` and `distributions` must have the same keys, but got "
                f"{sorted(self.params)!r} and {sorted(self.distributions)!r}."
            )
        for name, value in self.params.items():
            dist = self.distributions[name]
            try:
                internal = dist.to_internal_repr(value)
            except (TypeError, ValueError) as e:
                raise type(e)(format_error(f"params[{name!r}]", f"a value of {dist!r}", value)) from e
            if not dist.contains(internal):
                raise ValueError(format_error(f"params[{name!r}]", f"inside {dist!r}", value))
        if self.state == TrialState.FAIL and self.values is not None:
            raise ValueError(f"values should be None for a failed trial, but got {self.values}.")
        if self.state == TrialState.COMPLETE:
            if self.values is None:
                raise ValueError("values should be set for a complete trial.")
            for v in self.values:
                if not isinstance(v, (int, float)) or math.isnan(v):
                    raise ValueError(format_error("values", "numbers other than NaN", self.values))


def _check_mapping(name: str, value: Any, allowed: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(format_error(name, f"{allowed} or None", value))
    return dict(value)


def _check_values(value: Any, values: Any) -> list[float] | None:
    if value is not None and values is not None:
        raise ValueError("Give `value` or `values`, not both.")
    if value is not None:
        return [as_real(value, "value")]
    if values is None:
        return None
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(format_error("values", "a sequence of numbers or None", values))
    return [as_real(v, f"values[{i}]") for i, v in enumerate(values)]


def _check_distributions(distributions: Any) -> dict[str, BaseDistribution]:
    dists = _check_mapping("distributions", distributions, "a mapping name -> distribution")
    for name, dist in dists.items():
        if not isinstance(name, str):
            raise TypeError(format_error("distributions", "a mapping with str keys", distributions))
        if not isinstance(dist, BaseDistribution):
            raise TypeError(format_error(f"distributions[{name!r}]", "an hpo_core distribution", dist))
    return dists


def _check_intermediate_values(intermediate_values: Any) -> dict[int, float]:
    ivs = _check_mapping("intermediate_values", intermediate_values, "a mapping step -> value")
    out: dict[int, float] = {}
    for key, v in ivs.items():
        # The rules of Trial.report: steps are ints >= 0, values any real number (NaN too).
        step = int(check_int("intermediate_values step", key, low=0))  # type: ignore[arg-type]
        out[step] = as_real(v, f"intermediate_values[{step}]")
    return out


def create_trial(
    *,
    state: TrialState = TrialState.COMPLETE,
    value: float | None = None,
    values: Sequence[float] | None = None,
    params: Mapping[str, Any] | None = None,
    distributions: Mapping[str, BaseDistribution] | None = None,
    user_attrs: Mapping[str, Any] | None = None,
    system_attrs: Mapping[str, Any] | None = None,
    intermediate_values: Mapping[int, float] | None = None,
    constraints: Mapping[str, float] | None = None,
) -> FrozenTrial:
    """Build a trial to pass to ``Study.add_trial`` (warm starts, imported results).

    ``constraints`` (``{key: value}``, feasible when all are <= 0) are set with
    :meth:`FrozenTrial.set_constraint`, as in Optuna. A PRUNED trial keeps no ``value`` of
    its own once added: its value is its last report (see :class:`FrozenTrial`).

    Raises:
        TypeError: if an argument has the wrong type (``params`` not a mapping, a value
            not a number, an intermediate step not an int, ...); the message names it.
        ValueError: if both ``value`` and ``values`` are given, params lie outside their
            distributions, a COMPLETE trial has no value, or an intermediate step is
            negative.
    """
    vals = _check_values(value, values)
    params_ = _check_mapping("params", params, "a mapping name -> value")
    dists = _check_distributions(distributions)
    user = _check_mapping("user_attrs", user_attrs, "a mapping")
    system = _check_mapping("system_attrs", system_attrs, "a mapping")
    ivs = _check_intermediate_values(intermediate_values)
    try:
        state = TrialState(state)
    except ValueError:
        raise ValueError(format_error("state", "a TrialState", state)) from None
    now = datetime.datetime.now()
    trial = FrozenTrial(
        number=-1,
        state=state,
        value=None,
        values=vals,
        params=params_,
        distributions=dists,
        user_attrs=user,
        system_attrs=system,
        intermediate_values=ivs,
        datetime_start=now if state != TrialState.WAITING else None,
        datetime_complete=now if state.is_finished() else None,
        trial_id=-1,
    )
    if constraints is not None:
        for key, c in _check_mapping("constraints", constraints, "a mapping name -> value").items():
            trial.set_constraint(key, c)
    trial._validate()
    return trial
