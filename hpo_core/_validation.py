"""Shared argument checks producing the one error-message format.

Every message names the parameter, what is allowed and what was given::

    `n_startup_trials` must be an int in the range [0, inf), but got -1.

An optional ``owner`` ("TPESampler") is prefixed when the parameter name alone is
ambiguous.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "as_real",
    "check_bool",
    "check_choice",
    "check_int",
    "check_real",
    "check_callable",
    "for_param",
    "format_error",
    "param_error",
]

_E = TypeVar("_E", bound=Exception)  # a TypeError or ValueError (or a union of both)


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
    try:
        v = float(value)
    except OverflowError:  # an int beyond the float64 range (10**400)
        raise ValueError(format_error(name, allowed, value, owner=owner)) from None
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


_REAL_ALLOWED = "a real number (a Python, NumPy or PyTorch scalar, or a one-element array or tensor)"


def as_real(value: Any, name: str, *, owner: str | None = None) -> float:
    """Convert a real scalar to a Python float, the way ``float(value)`` would.

    Accepts Python ints and floats, NumPy integer and floating scalars, and arrays or
    tensors with exactly one element (NumPy, PyTorch -- ``requires_grad`` and CUDA
    tensors included --, JAX ...), plus other objects with ``__float__`` (``Decimal``).
    NaN and infinities are returned as they are: the caller decides whether they are
    acceptable (``Trial.report`` stores a NaN, ``tell`` fails the trial).

    Raises:
        TypeError: for bools (also NumPy and PyTorch ones), strings, complex numbers,
            arrays or tensors of other than one element, and objects without a float value.
        ValueError: for an int too large for float64 (``10**400``).
    """
    if type(value) is float:
        return value
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(format_error(name, _REAL_ALLOWED, value, owner=owner))
    if isinstance(value, numbers.Real):  # int, NumPy integer and floating scalars, Fraction
        try:
            return float(value)
        except OverflowError:
            raise ValueError(
                format_error(name, "a real number in the float64 range", value, owner=owner)
            ) from None
    torch = sys.modules.get("torch")  # a tensor implies torch is imported already
    if torch is not None and isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype == torch.bool or value.is_complex():
            raise TypeError(format_error(name, _REAL_ALLOWED, value, owner=owner))
        # detach(): float() on a tensor that requires grad works but warns.
        return float(value.detach())
    if isinstance(value, (np.ndarray, np.generic)):
        if value.size != 1 or value.dtype.kind not in "iufO":
            raise TypeError(format_error(name, _REAL_ALLOWED, value, owner=owner))
        # A NumPy scalar, or the element of an object array (float() of an array with
        # ndim > 0 is deprecated).
        return as_real(value.reshape(-1)[0], name, owner=owner)
    # Other array types (JAX, CuPy) and scalars with __float__ (Decimal).
    kind = getattr(getattr(value, "dtype", None), "kind", "f")
    if getattr(value, "size", 1) != 1 or kind not in "iuf":
        raise TypeError(format_error(name, _REAL_ALLOWED, value, owner=owner))
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            format_error(name, "a real number in the float64 range", value, owner=owner)
        ) from None
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(format_error(name, _REAL_ALLOWED, value, owner=owner)) from None


# "FloatDistribution: `low` must be ..." -> owner "FloatDistribution", rest "`low` must be ...".
_OWNER_PREFIX = re.compile(r"([A-Za-z_][\w.]*): ")


def param_error(error: _E, param: str, *, owner: str | None = None) -> _E:
    """Return a copy of a validation error whose message names the hyperparameter.

    For ``Trial.suggest_*``, whose distribution constructors name the argument
    (``low``) but cannot know the hyperparameter (``"lr"``)::

        FloatDistribution: `low` must be > 0 when log=True, but got 0.0.
        -> Trial.suggest_float for parameter `lr`: `low` must be > 0 when log=True, but got 0.0.

    Args:
        error: a ``TypeError`` or ``ValueError`` in this module's format.
        param: the hyperparameter's name.
        owner: replaces the owner prefix of the message ("FloatDistribution"); kept
            when None.

    Returns:
        An exception of the same type; raise it ``from error``.
    """
    msg = str(error)
    m = _OWNER_PREFIX.match(msg)
    rest = msg[m.end():] if m else msg
    who = owner or (m.group(1) if m else None)
    head = f"{who} for parameter `{param}`" if who else f"Parameter `{param}`"
    try:
        return type(error)(f"{head}: {rest}")
    except Exception:  # an exception class with another constructor signature
        return (ValueError if isinstance(error, ValueError) else TypeError)(f"{head}: {rest}")  # type: ignore[return-value]


class _ForParam:
    __slots__ = ("param", "owner")

    def __init__(self, param: str, owner: str | None):
        self.param = param
        self.owner = owner

    def __enter__(self) -> _ForParam:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, TypeError):
            raise param_error(exc, self.param, owner=self.owner) from exc
        if isinstance(exc, ValueError):
            raise param_error(exc, self.param, owner=self.owner) from exc


def for_param(param: str, *, owner: str | None = None) -> _ForParam:
    """Context manager: a TypeError or ValueError raised inside is re-raised by
    :func:`param_error` with ``param`` (and ``owner``) in its message.

    Example:
        >>> from hpo_core.distributions import FloatDistribution
        >>> with for_param("lr", owner="Trial.suggest_float"):
        ...     FloatDistribution(0.0, 1.0, log=True)
        Traceback (most recent call last):
        ...
        ValueError: Trial.suggest_float for parameter `lr`: `low` must be > 0 when log=True, but got 0.0.
    """
    return _ForParam(param, owner)
