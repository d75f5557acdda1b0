"""Parameter distributions and the array form of a search space.

A distribution maps between a parameter's *external* value (what the objective sees:
``0.01``, ``32``, ``"adam"``) and its *internal* value, a float64 stored in the
columnar history:

* ``FloatDistribution`` and ``IntDistribution``: internal == external (as a float);
  int bounds stay within +-2**53, where that is exact (see
  :mod:`hpo_core._distribution_checks`).
* ``CategoricalDistribution``: internal == the index of the choice.

``SearchSpace`` fixes an order over named distributions and precomputes the arrays
samplers need to map the unit cube ``[0, 1)^d`` to internal values (log-scale
parameters are uniform in log space, stepped ones snap to their grid).
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any, Union

from hpo_core._distribution_checks import (
    FLOAT_RANGE,
    INT_RANGE,
    MAX_EXACT_INT,
    MAX_STEPS,
    adjust_float_high,
    check_bounds,
    check_exact_int,
    check_float,
    near_float_grid,
    warn_high_replaced,
)
from hpo_core._validation import format_error

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
        low = check_float(owner, "low", low)
        high = check_float(owner, "high", high)
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, numbers.Real):
                raise TypeError(format_error("step", "a number > 0 or None", step, owner=owner))
            if not step > 0:  # NaN included
                raise ValueError(format_error("step", "a number > 0 or None", step, owner=owner))
            step = check_float(owner, "step", step)
        check_bounds(owner, low, high, log, step)
        if not log and math.isinf(high - low):
            # Samplers map [0, 1) to low + u * (high - low).
            raise ValueError(
                f"{owner}: `high - low` must be at most {sys.float_info.max!r} (the float64 "
                f"range), but got low={low!r} and high={high!r}."
            )
        if step is not None:
            if (high - low) / step > MAX_STEPS:
                min_step = (high - low) / MAX_STEPS
                raise ValueError(
                    format_error(
                        "step",
                        f"a number in the range [{min_step!r}, inf) for low={low!r} and "
                        f"high={high!r} (at most 2**53 steps)",
                        step,
                        owner=owner,
                    )
                )
            high = adjust_float_high(low, high, step)
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
            raise ValueError(format_error("value", FLOAT_RANGE, value, owner="FloatDistribution")) from None
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
            return abs(k - round(k)) < 1e-8 or near_float_grid(self.low, step, v)
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
        low = check_exact_int(owner, "low", low)
        high = check_exact_int(owner, "high", high)
        step = check_exact_int(owner, "step", step, low=1)
        check_bounds(owner, low, high, log, None if step == 1 else step)
        if step > 1 and high - low > MAX_EXACT_INT:
            raise ValueError(
                f"{owner}: `high - low` must be at most 2**53 = {MAX_EXACT_INT} when step > 1 "
                f"(grid points exact in float64), but got low={low!r} and high={high!r}."
            )
        new_high = low + ((high - low) // step) * step
        if new_high != high:
            warn_high_replaced(low, high, step, new_high, 2)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", new_high)
        object.__setattr__(self, "log", log)
        object.__setattr__(self, "step", step)
        self._freeze((low, new_high, log, step))

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        value = param_value_in_external_repr
        if type(value) is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
            return float(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(format_error("value", "an int", value, owner="IntDistribution"))
        if isinstance(value, numbers.Integral):
            # float(2**53 + 1) == 2**53: refuse to store another value than the one given.
            if not -MAX_EXACT_INT <= int(value) <= MAX_EXACT_INT:
                raise ValueError(format_error("value", INT_RANGE, value, owner="IntDistribution"))
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
