"""``FixedTrial``: run an objective on given parameter values (Optuna's)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from hpo_core._validation import check_int, format_error
from hpo_core.distributions import BaseDistribution
from hpo_core.trial._constraints import ConstraintAttrs
from hpo_core.trial._replay import ReplaySuggest

__all__ = ["FixedTrial"]


class FixedTrial(ConstraintAttrs, ReplaySuggest):
    """A trial whose ``suggest_*`` return the values in ``params``, as Optuna's: for
    checking an objective or evaluating one configuration outside a study.

    ``params`` and ``distributions`` hold what the objective suggested (not every key of
    the ``params`` given); ``report`` records nothing; ``should_prune`` is False;
    ``set_constraint`` and ``constraints`` use ``system_attrs``, as Optuna's.

    Args:
        params: ``{name: external value}``.
        number: The trial number the objective sees (default 0).

    Example:
        >>> def objective(trial):
        ...     return trial.suggest_float("x", -10, 10) ** 2 + trial.suggest_int("n", 1, 3)
        >>> objective(FixedTrial({"x": 2.0, "n": 1}))
        5.0
    """

    __slots__ = ("_given", "params", "distributions", "user_attrs", "system_attrs", "datetime_start", "number")
    # Slots over BaseTrial's properties (typed here for mypy).
    number: int
    params: dict[str, Any]
    datetime_start: datetime.datetime | None

    def __init__(self, params: Mapping[str, Any], number: int = 0) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(format_error("params", "a mapping of parameter names to values", params,
                                         owner="FixedTrial"))
        self._given = dict(params)
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, BaseDistribution] = {}
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}
        self.datetime_start: datetime.datetime | None = datetime.datetime.now()
        self.number: int = check_int("number", number, low=0, owner="FixedTrial")  # type: ignore[assignment]

    def _stored(self) -> dict[str, Any]:
        return self._given

    def _record(self, name: str, dist: BaseDistribution, value: Any) -> None:
        self.distributions[name] = dist
        self.params[name] = value
