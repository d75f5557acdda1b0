"""Optuna's deprecation warning, in one place: the text of ``optuna._deprecated`` for a
name Optuna deprecated, so that code moving between the two libraries warns alike.

Imports nothing from hpo_core (the bottom layer, beside ``exceptions`` and ``_validation``).
"""

from __future__ import annotations

import warnings

__all__ = ["deprecation_message", "warn_deprecated"]


def deprecation_message(name: str, since: str, *, removed: str = "6.0.0", instead: str = "") -> str:
    """``"{name} has been deprecated in v{since}. This feature will be removed in
    v{removed}. See https://github.com/optuna/optuna/releases/tag/v{since}."`` and then
    ``instead`` (a sentence saying what to use), as Optuna words it.

    Example:
        >>> deprecation_message("`gamma`", "4.9.0")
        '`gamma` has been deprecated in v4.9.0. This feature will be removed in v6.0.0. See https://github.com/optuna/optuna/releases/tag/v4.9.0.'
    """
    text = (
        f"{name} has been deprecated in v{since}. This feature will be removed in v{removed}. "
        f"See https://github.com/optuna/optuna/releases/tag/v{since}."
    )
    return f"{text} {instead}" if instead else text


def warn_deprecated(name: str, since: str, *, removed: str = "6.0.0", instead: str = "", stacklevel: int = 2) -> None:
    """Warn :func:`deprecation_message` as a ``FutureWarning`` (Optuna's category);
    ``stacklevel`` counts from the caller of this function, as ``warnings.warn`` does."""
    warnings.warn(deprecation_message(name, since, removed=removed, instead=instead), FutureWarning,
                  stacklevel=stacklevel + 1)
