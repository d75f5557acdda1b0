"""Parameter distributions and the array form of a search space.

A distribution maps between a parameter's *external* value (what the objective sees:
``0.01``, ``32``, ``"adam"``) and its *internal* value, a float64 stored in the
columnar history:

* ``FloatDistribution`` and ``IntDistribution``: internal == external (as a float);
  int bounds stay within +-2**53, where that is exact (see ``_MAX_EXACT_INT``).
* ``CategoricalDistribution``: internal == the index of the choice.

``SearchSpace`` fixes an order over named distributions and precomputes the arrays
samplers need to map the unit cube ``[0, 1)^d`` to internal values (log-scale
parameters are uniform in log space, stepped ones snap to their grid).
"""

from __future__ import annotations

import decimal
import json
import math
import numbers
import sys
import warnings
from collections.abc import Sequence
from typing import Any, Union

from hpo_core._validation import format_error
from hpo_core.exceptions import HpoWarning

__all__ = [
    "BaseDistribution",
    "FloatDistribution",
    "IntDistribution",
    "CategoricalDistribution",
    "CategoricalChoiceType",
    "SearchSpace",
    "distribution_to_json",
    "json_to_distribution",
    "check_distribution_compatibility",
    "unit_to_internal",
    "UniformDistribution",
    "LogUniformDistribution",
    "DiscreteUniformDistribution",
    "IntUniformDistribution",
    "IntLogUniformDistribution",
]

CategoricalChoiceType = Union[None, bool, int, float, str]

# Kind codes used in SearchSpace arrays.
KIND_FLOAT = 0
KIND_INT = 1
KIND_CATEGORICAL = 2


class BaseDistribution:
    """Common interface of parameter distributions (immutable, hashable)."""

    __slots__ = ("_hash", "_key")
    _key: tuple[Any, ...]
    _hash: int

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_external_repr(self, param_value_in_internal_repr: float) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def contains(self, internal: float) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def single(self) -> bool:  # pragma: no cover - abstract
        """Whether the distribution has exactly one possible value."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return self is other or (type(self) is type(other) and self._key == other._key)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return self._hash

    def _freeze(self, key: tuple[Any, ...]) -> None:
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_hash", hash((type(self).__name__, key)))

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_key"):
            raise AttributeError(f"{type(self).__name__} is immutable")
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (json_to_distribution, (distribution_to_json(self),))


# Exactness limits of the float64 internal representation.
#
# Ints: every int in [-2**53, 2**53] is a float64, and a sum or difference of two
# of them that lands in that range is computed exactly. IntDistribution therefore takes
# bounds (and steps) in that range and, with a step > 1, a span ``high - low`` of at
# most 2**53, so that ``low + k * step`` -- the grid point every sampler computes in
# float64 -- is exact. Beyond 2**53, float64 ints are 2, 4, ... apart: a value could
# not be stored exactly, and sampled values would leave the range or the step grid.
_MAX_EXACT_INT = 2**53
_INT_RANGE = f"an int in the range [{-_MAX_EXACT_INT}, {_MAX_EXACT_INT}] (exact in float64)"
# Floats: a stepped range has at most 2**53 steps, so the grid index k is an exact
# float64 int (and Decimal arithmetic on it stays within 28 digits).
_MAX_STEPS = 2**53
_FLOAT_RANGE = f"a finite number in the float64 range [{-sys.float_info.max!r}, {sys.float_info.max!r}]"
# Rounding allowance of a float grid point, relative to |low| + |value|: computing
# ``low + k * step`` costs up to about 2 ulps, and recomputing k from the result at
# most about as much again; 2**-49 is 16 units of roundoff (2**-53), 4x margin. It
# matters only when the step is below ~1e-7 of the magnitude of the values, where
# Optuna's 1e-8 tolerance on k no longer covers the rounding.
_GRID_ROUNDING = 2.0**-49
_DECIMAL = decimal.Context(prec=28)  # Optuna's (the default) context, not the caller's


def _check_float(owner: str, name: str, value: Any) -> float:
    """Check that ``value`` is a real number (not a bool) that is a finite float64."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(format_error(name, "a finite number", value, owner=owner))
    try:
        v = float(value)
    except OverflowError:  # an int beyond the float64 range (10**400)
        raise ValueError(format_error(name, _FLOAT_RANGE, value, owner=owner)) from None
    if not math.isfinite(v):
        raise ValueError(format_error(name, _FLOAT_RANGE, value, owner=owner))
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
    if not math.isfinite(f) or abs(f) > _MAX_EXACT_INT:
        return value
    if f != math.trunc(f):
        warnings.warn(
            f"{owner}: `{name}` should be an int, but got {value!r}; {math.trunc(f)} is used (as Optuna does).",
            HpoWarning, stacklevel=stacklevel,
        )
    return math.trunc(f)


def _check_exact_int(owner: str, name: str, value: Any, *, low: int = -_MAX_EXACT_INT) -> int:
    """Check that ``value`` is an int (not a bool; a real number is cut to one, see
    :func:`int_like`) in ``[low, 2**53]``."""
    allowed = _INT_RANGE if low == -_MAX_EXACT_INT else f"an int in the range [{low}, {_MAX_EXACT_INT}]"
    value = int_like(owner, name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(format_error(name, allowed, value, owner=owner))
    v = int(value)
    if not low <= v <= _MAX_EXACT_INT:
        raise ValueError(format_error(name, allowed, value, owner=owner))
    return v


def _check_bounds(owner: str, low: float, high: float, log: bool, step: Any) -> None:
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


def _warn_high_replaced(low: Any, high: Any, step: Any, new_high: Any, stacklevel: int) -> None:
    # Optuna's text (distributions._adjust_discrete_uniform_high), as an HpoWarning.
    warnings.warn(
        f"The distribution is specified by [{low}, {high}] and step={step}, but the range "
        f"is not divisible by `step`. It will be replaced with [{low}, {new_high}].",
        HpoWarning,
        stacklevel=stacklevel + 1,
    )


def _float_grid_point(low: float, step: float, v: float) -> float:
    """The float64 grid point ``low + k * step`` nearest to ``v``, as samplers compute it."""
    return low + round((v - low) / step) * step


def _near_float_grid(low: float, step: float, v: float) -> bool:
    """Whether ``v`` is a grid point up to float64 rounding (see ``_GRID_ROUNDING``)."""
    return abs(v - _float_grid_point(low, step, v)) <= _GRID_ROUNDING * (abs(low) + abs(v))


def _adjust_float_high(low: float, high: float, step: float) -> float:
    """Lower ``high`` to the last grid point ``low + k * step <= high`` (Optuna's rule).

    Divisibility is decided in decimal on the shortest reprs, as Optuna does, so that
    ``[0, 0.3]`` with ``step=0.1`` keeps ``high=0.3`` although ``0.3 / 0.1 < 3`` in
    binary. A ``high`` that is already a grid point up to float64 rounding is kept too:
    that is what this function returns, so a distribution rebuilt from its own ``high``
    (JSON, pickle) is the same distribution, without a second warning.
    """
    d_low, d_high, d_step = (decimal.Decimal(repr(x)) for x in (low, high, step))
    d_range = _DECIMAL.subtract(d_high, d_low)
    if _DECIMAL.remainder(d_range, d_step) == 0 or _near_float_grid(low, step, high):
        return high
    # At most 2**53 steps (checked by the caller): the quotient fits the 28 digits.
    k = _DECIMAL.divide_int(d_range, d_step)
    new_high = float(_DECIMAL.add(_DECIMAL.multiply(k, d_step), d_low))
    _warn_high_replaced(low, high, step, new_high, 3)
    return new_high


class FloatDistribution(BaseDistribution):
    """A float in ``[low, high]``, optionally log-uniform or on a grid of ``step``.

    When ``step`` is given and ``high - low`` is not a multiple of it, ``high`` is
    lowered to the last grid point ``low + k * step <= high`` with an ``HpoWarning``
    (Optuna warns the same way).

    Bounds must be finite float64 values (and, without ``log``, so must ``high - low``);
    a stepped range has at most 2**53 steps. ``contains`` accepts a value within 1e-8
    steps of a grid point, as Optuna does, or within float64 rounding of it: with steps
    far below the magnitude of the values the grid points are not float64 numbers, and
    every value this distribution's rounding produces must still be contained.
    """

    __slots__ = ("low", "high", "log", "step", "_span")
    low: float
    high: float
    log: bool
    step: float | None
    _span: float | None  # high - low for a plain linear range (the unit_to_internal fast path)

    def __init__(self, low: float, high: float, log: bool = False, step: float | None = None):
        owner = "FloatDistribution"
        low = _check_float(owner, "low", low)
        high = _check_float(owner, "high", high)
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, numbers.Real):
                raise TypeError(format_error("step", "a number > 0 or None", step, owner=owner))
            if not step > 0:  # NaN included
                raise ValueError(format_error("step", "a number > 0 or None", step, owner=owner))
            step = _check_float(owner, "step", step)
        _check_bounds(owner, low, high, log, step)
        if not log and math.isinf(high - low):
            # Samplers map [0, 1) to low + u * (high - low).
            raise ValueError(
                f"{owner}: `high - low` must be at most {sys.float_info.max!r} (the float64 "
                f"range), but got low={low!r} and high={high!r}."
            )
        if step is not None:
            if (high - low) / step > _MAX_STEPS:
                min_step = (high - low) / _MAX_STEPS
                raise ValueError(
                    format_error(
                        "step",
                        f"a number in the range [{min_step!r}, inf) for low={low!r} and "
                        f"high={high!r} (at most 2**53 steps)",
                        step,
                        owner=owner,
                    )
                )
            high = _adjust_float_high(low, high, step)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "_span", high - low if not log and step is None else None)
        self._freeze((low, high, log, step))

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        value = param_value_in_external_repr
        if type(value) is float and value == value:  # fast path: a float, not NaN
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(format_error("value", "a real number", value, owner="FloatDistribution"))
        try:
            v = float(value)
        except OverflowError:
            raise ValueError(format_error("value", _FLOAT_RANGE, value, owner="FloatDistribution")) from None
        if math.isnan(v):
            raise ValueError(format_error("value", "a number, not NaN", value, owner="FloatDistribution"))
        return v

    def to_external_repr(self, param_value_in_internal_repr: float) -> float:
        return float(param_value_in_internal_repr)

    def contains(self, internal: float) -> bool:
        v = float(internal)
        if not (self.low <= v <= self.high):
            return False
        step = self.step
        if step is not None:
            k = (v - self.low) / step
            # Optuna's tolerance, then float64 rounding for steps too fine for it.
            return abs(k - round(k)) < 1e-8 or _near_float_grid(self.low, step, v)
        return True

    def single(self) -> bool:
        if self.step is not None:
            return self.high - self.low < self.step
        return self.low == self.high

    def __repr__(self) -> str:
        return f"FloatDistribution(low={self.low!r}, high={self.high!r}, log={self.log!r}, step={self.step!r})"


class IntDistribution(BaseDistribution):
    """An int in ``[low, high]`` on a grid of ``step``, optionally log-uniform.

    When ``high - low`` is not a multiple of ``step``, ``high`` is lowered to the last
    grid point ``low + k * step <= high`` with an ``HpoWarning`` (as in Optuna).

    Values are stored as float64, so bounds and step must lie in ``[-2**53, 2**53]``
    and, with ``step > 1``, ``high - low <= 2**53``: every grid point is then exact.
    (Optuna accepts larger ints but rounds them through float64, so that sampled
    values can fall off the step grid or outside ``[low, high]``; here such a range
    fails at construction with a ValueError instead.)
    """

    __slots__ = ("low", "high", "log", "step")
    low: int
    high: int
    log: bool
    step: int

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1):
        owner = "IntDistribution"
        low = _check_exact_int(owner, "low", low)
        high = _check_exact_int(owner, "high", high)
        step = _check_exact_int(owner, "step", step, low=1)
        _check_bounds(owner, low, high, log, None if step == 1 else step)
        if step > 1 and high - low > _MAX_EXACT_INT:
            raise ValueError(
                f"{owner}: `high - low` must be at most 2**53 = {_MAX_EXACT_INT} when step > 1 "
                f"(grid points exact in float64), but got low={low!r} and high={high!r}."
            )
        new_high = low + ((high - low) // step) * step
        if new_high != high:
            _warn_high_replaced(low, high, step, new_high, 2)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", new_high)
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "step", step)
        self._freeze((low, new_high, log, step))

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        value = param_value_in_external_repr
        if type(value) is int and -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
            return float(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(format_error("value", "an int", value, owner="IntDistribution"))
        if isinstance(value, numbers.Integral):
            # float(2**53 + 1) == 2**53: refuse to store another value than the one given.
            if not -_MAX_EXACT_INT <= int(value) <= _MAX_EXACT_INT:
                raise ValueError(format_error("value", _INT_RANGE, value, owner="IntDistribution"))
            return float(int(value))
        v = float(value)
        if math.isnan(v) or v != math.floor(v):
            raise ValueError(format_error("value", "an integral number", value, owner="IntDistribution"))
        return v

    def to_external_repr(self, param_value_in_internal_repr: float) -> int:
        return int(round(param_value_in_internal_repr))

    def contains(self, internal: float) -> bool:
        v = float(internal)
        if not (self.low <= v <= self.high and v.is_integer()):
            return False
        return (int(v) - self.low) % self.step == 0  # exact, in int arithmetic

    def single(self) -> bool:
        return self.low == self.high

    def __repr__(self) -> str:
        return f"IntDistribution(low={self.low!r}, high={self.high!r}, log={self.log!r}, step={self.step!r})"


def _choice_key(c: Any) -> tuple[str, Any]:
    # Distinguish 1, 1.0 and True, which compare equal in Python.
    return (type(c).__name__, c)


class CategoricalDistribution(BaseDistribution):
    """One of a fixed sequence of ``choices`` (None, bool, int, float or str)."""

    __slots__ = ("choices", "_index")
    choices: tuple[CategoricalChoiceType, ...]
    _index: dict[tuple[str, Any], int]

    def __init__(self, choices: Sequence[CategoricalChoiceType]):
        owner = "CategoricalDistribution"
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise TypeError(format_error("choices", "a non-empty sequence", choices, owner=owner))
        if len(choices) == 0:
            raise ValueError(format_error("choices", "a non-empty sequence", choices, owner=owner))
        index: dict[tuple[str, Any], int] = {}
        for i, c in enumerate(choices):
            if c is not None and not isinstance(c, (bool, int, float, str)):
                raise TypeError(
                    format_error(
                        f"choices[{i}]", "None, bool, int, float or str", c, owner=owner
                    )
                )
            if isinstance(c, float) and math.isnan(c):
                raise ValueError(format_error(f"choices[{i}]", "not NaN", c, owner=owner))
            key = _choice_key(c)
            if key in index:
                raise ValueError(format_error("choices", "a sequence without duplicates", tuple(choices), owner=owner))
            index[key] = i
        object.__setattr__(self, "choices", tuple(choices))
        object.__setattr__(self, "_index", index)
        self._freeze(tuple(_choice_key(c) for c in choices))

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        value = param_value_in_external_repr
        try:
            return float(self._index[_choice_key(value)])
        except (KeyError, TypeError):
            raise ValueError(
                format_error("value", f"one of {list(self.choices)!r}", value, owner="CategoricalDistribution")
            ) from None

    def to_external_repr(self, param_value_in_internal_repr: float) -> CategoricalChoiceType:
        return self.choices[int(param_value_in_internal_repr)]

    def contains(self, internal: float) -> bool:
        i = int(internal)
        return i == internal and 0 <= i < len(self.choices)

    def single(self) -> bool:
        return len(self.choices) == 1

    def __repr__(self) -> str:
        return f"CategoricalDistribution(choices={self.choices!r})"


def distribution_to_json(dist: BaseDistribution) -> str:
    """Serialize a distribution to a JSON string (storage format, stable; Optuna's)."""
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        asdict = getattr(dist, "_asdict", None)  # Optuna's deprecated classes store fewer attributes
        attrs: dict[str, Any] = (
            asdict() if asdict is not None else {"low": dist.low, "high": dist.high, "log": dist.log, "step": dist.step}
        )
    elif isinstance(dist, CategoricalDistribution):
        attrs = {"choices": list(dist.choices)}
    else:
        raise TypeError(format_error("dist", "an hpo_core distribution", dist))
    return json.dumps({"name": type(dist).__name__, "attributes": attrs}, sort_keys=True)


def json_to_distribution(json_str: str) -> BaseDistribution:
    """Inverse of :func:`distribution_to_json`; also reads Optuna's abbreviated form.

    The abbreviated form is what Optuna's command line takes (``{"type": "float",
    "low": 0, "high": 1, "log": true}``, ``{"type": "int", ...}``, ``{"type":
    "categorical", "choices": [...]}``). Optuna's deprecated classes
    (``UniformDistribution``, ...) are rebuilt without a new deprecation warning.
    """
    d = json.loads(json_str)
    if "name" not in d:
        kind = d.get("type")
        if kind == "categorical":
            return CategoricalDistribution(d["choices"])
        if kind == "float":
            return FloatDistribution(d["low"], d["high"], log=d.get("log", False), step=d.get("step"))
        if kind == "int":
            step = d.get("step")
            return IntDistribution(d["low"], d["high"], log=d.get("log", False), step=1 if step is None else step)
        raise ValueError(format_error("type", "'float', 'int' or 'categorical'", kind, owner="json_to_distribution"))
    name, attrs = d["name"], d["attributes"]
    if name == "FloatDistribution":
        return FloatDistribution(attrs["low"], attrs["high"], log=attrs["log"], step=attrs["step"])
    if name == "IntDistribution":
        return IntDistribution(attrs["low"], attrs["high"], log=attrs["log"], step=attrs["step"])
    if name == "CategoricalDistribution":
        return CategoricalDistribution(attrs["choices"])
    if name in DEPRECATED_CLASSES:
        return from_json_attributes(name, attrs)
    raise ValueError(format_error("name", "a known distribution name", name, owner="json_to_distribution"))


def check_distribution_compatibility(
    dist_old: BaseDistribution, dist_new: BaseDistribution, *, name: str | None = None
) -> None:
    """Raise ValueError if a parameter's two distributions cannot share one column.

    Optuna's rule and signature: the same parameter may change its range between
    trials (the history stores the internal value with each trial's own
    distribution), but not its kind (class), its log flag or, for categoricals, its
    choices. ``name``, an addition, puts the parameter's name in the message.
    """
    if dist_old == dist_new:
        return
    param = "a parameter" if name is None else f"Parameter `{name}`"
    if type(dist_old) is not type(dist_new):
        raise ValueError(
            f"Cannot set different distribution kind to the same parameter name: {param} was suggested as "
            f"{dist_old!r} before and now as {dist_new!r}; a parameter name must keep one kind "
            "(float, int or categorical)."
        )
    if isinstance(dist_old, CategoricalDistribution) and isinstance(dist_new, CategoricalDistribution):
        raise ValueError(
            f"CategoricalDistribution does not support dynamic value space: {param} was suggested with "
            f"choices {list(dist_old.choices)!r} before and now with {list(dist_new.choices)!r}; "
            "categorical choices of a parameter cannot change."
        )
    if dist_old.log != dist_new.log:  # type: ignore[attr-defined]
        raise ValueError(
            f"Cannot set different log configuration to the same parameter name: {param} was suggested "
            f"with log={dist_old.log!r} before and now with log={dist_new.log!r}; "  # type: ignore[attr-defined]
            "the log flag of a parameter cannot change."
        )


# The array form of a search space lives in its own module and is re-exported here.
from hpo_core._deprecated_distributions import (  # noqa: E402, F401
    DEPRECATED_CLASSES,
    DiscreteUniformDistribution,
    IntLogUniformDistribution,
    IntUniformDistribution,
    LogUniformDistribution,
    UniformDistribution,
    from_json_attributes,
)
from hpo_core._search_space import SearchSpace, unit_to_internal  # noqa: E402, F401
