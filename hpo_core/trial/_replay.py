"""Trials that replay given parameter values (Optuna's ``FrozenTrial`` and ``FixedTrial``
as stand-ins for a :class:`Trial`): ``suggest_*`` return the stored value, checked
against the distribution the objective asks for; ``report`` records nothing and
``should_prune`` is False."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from hpo_core.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    check_distribution_compatibility,
)
from hpo_core.exceptions import HpoWarning
from hpo_core.trial._base import BaseTrial

__all__ = ["ReplaySuggest"]


class ReplaySuggest(BaseTrial):
    """Mixin: ``suggest_*`` from :meth:`_stored` (the values given), recorded through
    :meth:`_record`. Subclasses provide ``_stored`` and ``distributions`` and
    ``user_attrs`` dicts."""

    __slots__ = ()
    user_attrs: dict[str, Any]

    def _stored(self) -> dict[str, Any]:  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    distributions: dict[str, BaseDistribution]

    def _record(self, name: str, dist: BaseDistribution, value: Any) -> None:
        """Record a suggestion (``distributions[name] = dist`` and what else a subclass keeps)."""
        self.distributions[name] = dist

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        """The stored value of ``name`` (see :meth:`_replay`)."""
        return float(self._replay(name, FloatDistribution(low, high, log=log, step=step)))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """The stored value of ``name`` (see :meth:`_replay`)."""
        return int(self._replay(name, IntDistribution(low, high, log=log, step=step)))

    def suggest_categorical(self, name: str, choices: Sequence[CategoricalChoiceType]) -> CategoricalChoiceType:
        """The stored value of ``name`` (see :meth:`_replay`)."""
        return self._replay(name, CategoricalDistribution(choices))

    def report(self, value: float, step: int) -> None:
        """Records nothing: a replayed trial is never pruned (as Optuna's)."""

    def should_prune(self) -> bool:
        """False: a replayed trial is never pruned (as Optuna's)."""
        return False

    def set_user_attr(self, key: str, value: Any) -> None:
        """Set ``user_attrs[key]`` on this object (not in any storage)."""
        self.user_attrs[key] = value

    def _replay(self, name: str, dist: BaseDistribution) -> Any:
        """The stored value of ``name``: ValueError if there is none or the kinds are not
        compatible with the earlier suggestion; an :class:`HpoWarning` (Optuna's text) if
        it lies outside ``dist``."""
        stored = self._stored()
        if name not in stored:
            raise ValueError(
                f"The value of the parameter '{name}' is not found. "
                f"Please set it at the construction of the {type(self).__name__} object."
            )
        value = stored[name]
        if not dist.contains(dist.to_internal_repr(value)):
            warnings.warn(f"The value {value} of the parameter '{name}' is out of the range of the distribution "
                          f"{dist}.", HpoWarning, stacklevel=3)
        if name in self.distributions:
            check_distribution_compatibility(self.distributions[name], dist, name=name)
        self._record(name, dist, value)
        return value
