"""Optuna's deprecated ``suggest_uniform`` / ``suggest_loguniform`` /
``suggest_discrete_uniform``, kept so that old Optuna code runs; each warns
``FutureWarning`` (Optuna's text) and calls ``suggest_float``."""

from __future__ import annotations

from typing import Any

from hpo_core._deprecation import warn_deprecated

__all__ = ["DeprecatedSuggest"]


def _warn(name: str, instead: str) -> None:
    warn_deprecated(name, "3.0.0", instead=f"Use suggest_float{instead} instead.", stacklevel=3)


class DeprecatedSuggest:
    """Mixin of :class:`BaseTrial`: the deprecated suggests of every trial (they call
    ``suggest_float``)."""

    __slots__ = ()
    suggest_float: Any

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: ``suggest_float(name, low, high)``.

        Example:
            >>> import warnings, hpo_core
            >>> trial = hpo_core.create_study().ask()
            >>> with warnings.catch_warnings():
            ...     warnings.simplefilter("ignore", FutureWarning)
            ...     0.0 <= trial.suggest_uniform("x", 0.0, 1.0) <= 1.0
            True
        """
        _warn(f"{type(self).__name__}.suggest_uniform", "")
        return float(self.suggest_float(name, low, high))

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: ``suggest_float(name, low, high, log=True)``."""
        _warn(f"{type(self).__name__}.suggest_loguniform", "(..., log=True)")
        return float(self.suggest_float(name, low, high, log=True))

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        """Deprecated: ``suggest_float(name, low, high, step=q)``."""
        _warn(f"{type(self).__name__}.suggest_discrete_uniform", "(..., step=...)")
        return float(self.suggest_float(name, low, high, step=q))
