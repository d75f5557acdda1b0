"""Shared argument checks producing the one error-message format.

Every message names the parameter, what is allowed and what was given::

    `n_startup_trials` must be an int in the range [0, inf), but got -1.

An optional ``owner`` ("TPESampler") is prefixed when the parameter name alone is
ambiguous.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection
from typing import Any

__all__ = [
    "check_bool",
    "check_choice",
    "check_int",
    "check_real",
    "check_callable",
    "format_error",
]


def _prefix(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def _fmt_bound(value: float | None, inf: str) -> str:
    if value is None:
        return inf
    return repr(value)


def format_error(name: str, allowed: str, value: Any, *, owner: str | None = None) -> str:
    """Return the standard message: "`name` must be ALLOWED, but got VALUE."."""
    return f"{_prefix(owner)}`{name}` must be {allowed}, but got {value!r}."


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if (low is None or low_open) else "["
    right = ")" if (high is None or high_open) else "]"
    return f"{left}{_fmt_bound(low, '-inf')}, {_fmt_bound(high, 'inf')}{right}"


def check_int(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    allow_none: bool = False,
    owner: str | None = None,
) -> int | None:
    """Check that ``value`` is an int (not a bool) in ``[low, high]`` and return it."""
    if value is None and allow_none:
        return None
    allowed = "an int in the range " + _range_text(low, high, False, False)
    if allow_none:
        allowed += " or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(format_error(name, allowed, value, owner=owner))
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(format_error(name, allowed, value, owner=owner))
    return v


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    allow_inf: bool = False,
    owner: str | None = None,
) -> float | None:
    """Check that ``value`` is a finite real number in the given range and return it."""
    if value is None and allow_none:
        return None
    allowed = "a finite number" if not allow_inf else "a number"
    if low is not None or high is not None:
        allowed += " in the range " + _range_text(low, high, low_open, high_open)
    if allow_none:
        allowed += " or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(format_error(name, allowed, value, owner=owner))
    v = float(value)
    if math.isnan(v) or (not allow_inf and math.isinf(v)):
        raise ValueError(format_error(name, allowed, value, owner=owner))
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(format_error(name, allowed, value, owner=owner))
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(format_error(name, allowed, value, owner=owner))
    return v


def check_bool(name: str, value: Any, *, owner: str | None = None) -> bool:
    """Check that ``value`` is a bool and return it."""
    if not isinstance(value, bool):
        raise TypeError(format_error(name, "a bool", value, owner=owner))
    return value


def check_choice(
    name: str, value: Any, choices: Collection[Any], *, owner: str | None = None
) -> Any:
    """Check that ``value`` is one of ``choices`` and return it."""
    try:
        ok = value in choices
    except TypeError:
        ok = False
    if not ok:
        allowed = "one of " + ", ".join(repr(c) for c in choices)
        raise ValueError(format_error(name, allowed, value, owner=owner))
    return value


def check_callable(
    name: str, value: Any, *, allow_none: bool = False, owner: str | None = None
) -> Callable[..., Any] | None:
    """Check that ``value`` is callable (or None when allowed) and return it."""
    if value is None and allow_none:
        return None
    if not callable(value):
        allowed = "callable" + (" or None" if allow_none else "")
        raise TypeError(format_error(name, allowed, value, owner=owner))
    return value  # type: ignore[no-any-return]
