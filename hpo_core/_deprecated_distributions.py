"""Optuna's deprecated distribution classes, kept so that old Optuna code runs.

``UniformDistribution``, ``LogUniformDistribution``, ``DiscreteUniformDistribution``,
``IntUniformDistribution`` and ``IntLogUniformDistribution`` are thin subclasses of
:class:`~hpo_core.distributions.FloatDistribution` and
:class:`~hpo_core.distributions.IntDistribution`, as in Optuna 5.0: constructing one
warns ``FutureWarning`` with Optuna's text, it is not equal to the
``FloatDistribution``/``IntDistribution`` of the same range (the class is part of a
distribution's identity in both libraries), and it serializes under its own name with
Optuna's attributes (``{"name": "UniformDistribution", "attributes": {"low": 0.0,
"high": 1.0}}``), so a study stored by either library reads back in the other.
Reading one back from JSON does not warn again (a storage would warn at every load).
"""

from __future__ import annotations

from typing import Any

from hpo_core._deprecation import warn_deprecated
from hpo_core.distributions import FloatDistribution, IntDistribution

__all__ = [
    "DEPRECATED_CLASSES",
    "DiscreteUniformDistribution",
    "IntLogUniformDistribution",
    "IntUniformDistribution",
    "LogUniformDistribution",
    "UniformDistribution",
]

def _warn(cls: type, instead: str) -> None:
    warn_deprecated(cls.__name__, "3.0.0", instead=f"Use :class:`~optuna.distributions.{instead}` instead.",
                    stacklevel=3)


class UniformDistribution(FloatDistribution):
    """Deprecated: ``FloatDistribution(low, high)``."""

    __slots__ = ()

    def __init__(self, low: float, high: float) -> None:
        _warn(type(self), "FloatDistribution")
        super().__init__(low, high, log=False, step=None)

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    def __repr__(self) -> str:
        return f"UniformDistribution(high={self.high!r}, low={self.low!r})"


class LogUniformDistribution(FloatDistribution):
    """Deprecated: ``FloatDistribution(low, high, log=True)``."""

    __slots__ = ()

    def __init__(self, low: float, high: float) -> None:
        _warn(type(self), "FloatDistribution")
        super().__init__(low, high, log=True, step=None)

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    def __repr__(self) -> str:
        return f"LogUniformDistribution(high={self.high!r}, low={self.low!r})"


class DiscreteUniformDistribution(FloatDistribution):
    """Deprecated: ``FloatDistribution(low, high, step=q)``; ``q`` reads ``step``."""

    __slots__ = ()

    def __init__(self, low: float, high: float, q: float) -> None:
        _warn(type(self), "FloatDistribution")
        super().__init__(low, high, log=False, step=q)

    @property
    def q(self) -> float:
        """The discretization step (``step``)."""
        assert self.step is not None
        return self.step

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "q": self.step}

    def __repr__(self) -> str:
        return f"DiscreteUniformDistribution(high={self.high!r}, low={self.low!r}, q={self.step!r})"


class IntUniformDistribution(IntDistribution):
    """Deprecated: ``IntDistribution(low, high, step=step)``."""

    __slots__ = ()

    def __init__(self, low: int, high: int, step: int = 1) -> None:
        _warn(type(self), "IntDistribution")
        super().__init__(low, high, log=False, step=step)

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "step": self.step}

    def __repr__(self) -> str:
        return f"IntUniformDistribution(high={self.high!r}, low={self.low!r}, step={self.step!r})"


class IntLogUniformDistribution(IntDistribution):
    """Deprecated: ``IntDistribution(low, high, log=True, step=step)``."""

    __slots__ = ()

    def __init__(self, low: int, high: int, step: int = 1) -> None:
        _warn(type(self), "IntDistribution")
        super().__init__(low, high, log=True, step=step)

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "step": self.step}

    def __repr__(self) -> str:
        return f"IntLogUniformDistribution(high={self.high!r}, low={self.low!r}, step={self.step!r})"


DEPRECATED_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (
        UniformDistribution,
        LogUniformDistribution,
        DiscreteUniformDistribution,
        IntUniformDistribution,
        IntLogUniformDistribution,
    )
}


def from_json_attributes(name: str, attrs: dict[str, Any]) -> FloatDistribution | IntDistribution:
    """Rebuild a deprecated distribution from its stored attributes, without warning.

    ``attrs`` are Optuna's (``low``, ``high`` and ``q`` or ``step``) or the full set
    that ``distribution_to_json`` wrote before these classes had their own format.
    """
    cls = DEPRECATED_CLASSES[name]
    low, high = attrs["low"], attrs["high"]
    obj: Any = object.__new__(cls)
    if cls is UniformDistribution or cls is LogUniformDistribution:
        FloatDistribution.__init__(obj, low, high, log=cls is LogUniformDistribution, step=None)
    elif cls is DiscreteUniformDistribution:
        FloatDistribution.__init__(obj, low, high, log=False, step=attrs.get("q", attrs.get("step")))
    else:
        step = attrs.get("step", 1)
        IntDistribution.__init__(obj, low, high, log=cls is IntLogUniformDistribution, step=step)
    return obj  # type: ignore[no-any-return]
