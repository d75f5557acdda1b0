"""``BaseTrial``: the interface an objective sees (Optuna's ``optuna.trial.BaseTrial``),
implemented by :class:`Trial`, :class:`FrozenTrial` and :class:`FixedTrial`."""

from __future__ import annotations

import abc
import datetime
from collections.abc import Sequence
from typing import Any

from hpo_core.distributions import BaseDistribution, CategoricalChoiceType
from hpo_core.trial._deprecated import DeprecatedSuggest

__all__ = ["BaseTrial"]


class BaseTrial(DeprecatedSuggest, abc.ABC):
    """Base class of trials; not meant to be used directly (as Optuna's).

    A user-defined trial stand-in subclasses it and implements the abstract methods
    (``suggest_*``, ``report``, ``should_prune``, ``set_user_attr``, ``set_constraint``
    and the ``params``, ``distributions``, ``user_attrs``, ``datetime_start``
    properties). ``suggest_uniform``, ``suggest_loguniform`` and
    ``suggest_discrete_uniform`` (deprecated) call ``suggest_float``.

    Example:
        >>> import hpo_core
        >>> from hpo_core.trial import BaseTrial, FixedTrial, FrozenTrial, Trial
        >>> all(issubclass(c, BaseTrial) for c in (Trial, FrozenTrial, FixedTrial))
        True
    """

    __slots__ = ()

    @abc.abstractmethod
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        raise NotImplementedError

    @abc.abstractmethod
    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        raise NotImplementedError

    @abc.abstractmethod
    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        raise NotImplementedError

    @abc.abstractmethod
    def report(self, value: float, step: int) -> None:
        raise NotImplementedError

    @abc.abstractmethod
    def should_prune(self) -> bool:
        raise NotImplementedError

    @abc.abstractmethod
    def set_user_attr(self, key: str, value: Any) -> None:
        raise NotImplementedError

    @abc.abstractmethod
    def set_constraint(self, key: str, value: float) -> None:
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def distributions(self) -> dict[str, BaseDistribution]:
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def user_attrs(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def datetime_start(self) -> datetime.datetime | None:
        raise NotImplementedError

    @property
    def number(self) -> int:
        """The trial's number in its study."""
        raise NotImplementedError

    @property
    def constraints(self) -> dict[str, float]:
        raise NotImplementedError
