"""Argument checks and float64 exactness rules of the distributions.

Internal values are float64 (see :mod:`hpo_core.distributions`), so the constructors of
``FloatDistribution`` and ``IntDistribution`` refuse bounds and steps that float64
cannot hold exactly, cut Optuna-style float ints (:func:`int_like`), and lower a
``high`` that is off the step grid to the last grid point, with Optuna's warning.
``SearchSpace`` rounds sampled values to the same grid with :func:`float_grid_point`.
Import the distributions from :mod:`hpo_core.distributions`; these helpers assume
nothing beyond what their docstrings say and are not public API.
"""

from __future__ import annotations

import decimal
import math
import numbers
import sys
import warnings
from typing import Any

from hpo_core._validation import format_error
from hpo_core.exceptions import HpoWarning

__all__ = [
    "FLOAT_RANGE",
    "INT_RANGE",
    "MAX_EXACT_INT",
    "MAX_STEPS",
    "adjust_float_high",
    "check_bounds",
    "check_exact_int",
    "check_float",
    "float_grid_point",
    "int_like",
    "near_float_grid",
    "warn_high_replaced",
]


# Exactness limits of the float64 internal representation.
#
# Ints: every int in [-2**53, 2**53] is a float64, and a sum or difference of two
# of them that lands in that range is computed exactly. IntDistribution therefore takes
# bounds (and steps) in that range and, with a step > 1, a span ``high - low`` of at
# most 2**53, so that ``low + k * step`` -- the grid point every sampler computes in
# float64 -- is exact. Beyond 2**53, float64 ints are 2, 4, ... apart: a value could
# not be stored exactly, and sampled values would leave the range or the step grid.
MAX_EXACT_INT = 2**53
INT_RANGE = f"an int in the range [{-MAX_EXACT_INT}, {MAX_EXACT_INT}] (exact in float64)"
# Floats: a stepped range has at most 2**53 steps, so the grid index k is an exact
# float64 int (and Decimal arithmetic on it stays within 28 digits).
MAX_STEPS = 2**53
FLOAT_RANGE = f"a finite number in the float64 range [{-sys.float_info.max!r}, {sys.float_info.max!r}]"
# Rounding allowance of a float grid point, relative to |low| + |value|: computing
# ``low + k * step`` costs up to about 2 ulps, and recomputing k from the result at
# most about as much again; 2**-49 is 16 units of roundoff (2**-53), 4x margin. It
# matters only when the step is below ~1e-7 of the magnitude of the values, where
# Optuna's 1e-8 tolerance on k no longer covers the rounding.
_GRID_ROUNDING = 2.0**-49
_DECIMAL = decimal.Context(prec=28)  # Optuna's (the default) context, not the caller's


def check_float(owner: str, name: str, value: Any) -> float:
    """Check that ``value`` is a real number (not a bool) that is a finite float64."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(format_error(name, "a finite number", value, owner=owner))
    try:
        v = float(value)
    except OverflowError:  # an int beyond the float64 range (10**400)
        raise ValueError(format_error(name, FLOAT_RANGE, value, owner=owner)) from None
    if not math.isfinite(v):
        raise ValueError(format_error(name, FLOAT_RANGE, value, owner=owner))
    return v


def int_like(owner: str, name: str, value: Any, stacklevel: int = 4) -> Any:
    """Optuna's ``int(value)`` for a bound or step given as a finite real number (a
    ``float``, a NumPy float): ``n / 2`` with ``n`` even is ``n // 2``; a fraction is cut
    toward zero, as Optuna does, with an :class:`HpoWarning` naming ``name`` and both
    values. Anything else (ints, bools, NaN, infinities, other types) comes back as it
    was, for the caller's checks to accept or reject.

    Example:
        >>> int_like("IntDistribution", "high", 10 / 2), int_like("IntDistribution", "high", 7)
        (5, 7)
    """
    if isinstance(value, (bool, numbers.Integral)) or not isinstance(value, numbers.Real):
        return value
    f = float(value)
    if not math.isfinite(f) or abs(f) > MAX_EXACT_INT:
        return value
    if f != math.trunc(f):
        warnings.warn(
            f"{owner}: `{name}` should be an int, but got {value!r}; {math.trunc(f)} is used (as Optuna does).",
            HpoWarning, stacklevel=stacklevel,
        )
    return math.trunc(f)


def check_exact_int(owner: str, name: str, value: Any, *, low: int = -MAX_EXACT_INT) -> int:
    """Check that ``value`` is an int (not a bool; a real number is cut to one, see
    :func:`int_like`) in ``[low, 2**53]``."""
    allowed = INT_RANGE if low == -MAX_EXACT_INT else f"an int in the range [{low}, {MAX_EXACT_INT}]"
    value = int_like(owner, name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(format_error(name, allowed, value, owner=owner))
    v = int(value)
    if not low <= v <= MAX_EXACT_INT:
        raise ValueError(format_error(name, allowed, value, owner=owner))
    return v


def check_bounds(owner: str, low: float, high: float, log: bool, step: Any) -> None:
    if low > high:
        raise ValueError(
            f"{owner}: `low` must be <= `high`, but got low={low!r} and high={high!r}."
        )
    if not isinstance(log, bool):
        raise TypeError(format_error("log", "a bool", log, owner=owner))
    if log and low <= 0:
        raise ValueError(format_error("low", "> 0 when log=True", low, owner=owner))
    if log and step is not None and not (owner == "IntDistribution" and step == 1):
        raise ValueError(
            f"{owner}: `step` and `log` cannot be used together, but got step={step!r} "
            "and log=True."
        )


def warn_high_replaced(low: Any, high: Any, step: Any, new_high: Any, stacklevel: int) -> None:
    # Optuna's text (distributions._adjust_discrete_uniform_high), as an HpoWarning.
    warnings.warn(
        f"The distribution is specified by [{low}, {high}] and step={step}, but the range "
        f"is not divisible by `step`. It will be replaced with [{low}, {new_high}].",
        HpoWarning,
        stacklevel=stacklevel + 1,
    )


def float_grid_point(low: float, step: float, v: float) -> float:
    """The float64 grid point ``low + k * step`` nearest to ``v``, as samplers compute it."""
    return low + round((v - low) / step) * step


def near_float_grid(low: float, step: float, v: float) -> bool:
    """Whether ``v`` is a grid point up to float64 rounding (see ``_GRID_ROUNDING``)."""
    return abs(v - float_grid_point(low, step, v)) <= _GRID_ROUNDING * (abs(low) + abs(v))


def adjust_float_high(low: float, high: float, step: float) -> float:
    """Lower ``high`` to the last grid point ``low + k * step <= high`` (Optuna's rule).

    Divisibility is decided in decimal on the shortest reprs, as Optuna does, so that
    ``[0, 0.3]`` with ``step=0.1`` keeps ``high=0.3`` although ``0.3 / 0.1 < 3`` in
    binary. A ``high`` that is already a grid point up to float64 rounding is kept too:
    that is what this function returns, so a distribution rebuilt from its own ``high``
    (JSON, pickle) is the same distribution, without a second warning.
    """
    d_low, d_high, d_step = (decimal.Decimal(repr(x)) for x in (low, high, step))
    d_range = _DECIMAL.subtract(d_high, d_low)
    if _DECIMAL.remainder(d_range, d_step) == 0 or near_float_grid(low, step, high):
        return high
    # At most 2**53 steps (checked by the caller): the quotient fits the 28 digits.
    k = _DECIMAL.divide_int(d_range, d_step)
    new_high = float(_DECIMAL.add(_DECIMAL.multiply(k, d_step), d_low))
    warn_high_replaced(low, high, step, new_high, 3)
    return new_high
