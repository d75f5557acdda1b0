"""``SearchSpace``: an ordered mapping of named distributions and its array form.

It precomputes the arrays samplers need to map the unit cube ``[0, 1)^d`` to internal
values (log-scale parameters are uniform in log space, stepped ones snap to their
grid) and back, and converts internal rows to external values. Import it from
:mod:`hpo_core.distributions`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from hpo_core._distribution_checks import float_grid_point
from hpo_core._validation import format_error
from hpo_core.distributions import (
    KIND_CATEGORICAL,
    KIND_FLOAT,
    KIND_INT,
    BaseDistribution,
    CategoricalDistribution,
    IntDistribution,
)

__all__ = ["SearchSpace", "unit_to_internal"]


_ROW_FNS: dict[tuple[str, ...], Any] = {}


def _row_converter(kinds: tuple[str, ...]) -> Any:
    """``fn(v, c)``: the external values of a list ``v`` of internal ones, for columns of
    ``kinds`` (``"f"`` float, ``"i"`` int, ``"c"`` categorical, whose choices are ``c[j]``).

    One list display per column pattern (``[v[0], round(v[1]), c[2][round(v[2])]]``),
    compiled once and shared by every space with that pattern: the per-trial ask converts a
    row with no loop, no per-column branch and no call but ``round`` (which rounds half to
    even, like ``np.rint``, and returns an int). Only column indices enter the source.
    """
    fn = _ROW_FNS.get(kinds)
    if fn is None:
        items = [f"v[{j}]" if k == "f" else f"round(v[{j}])" if k == "i" else f"c[{j}][round(v[{j}])]"
                 for j, k in enumerate(kinds)]
        fn = eval(f"lambda v, c: [{', '.join(items)}]", {})  # noqa: S307 (source built above)
        if len(_ROW_FNS) < 4096:
            _ROW_FNS[kinds] = fn
    return fn


class SearchSpace(Mapping[str, BaseDistribution]):
    """An ordered, immutable mapping ``name -> distribution`` with its array form.

    Arrays (all of shape ``(d,)``):
        kinds: 0 float, 1 int, 2 categorical.
        lo, hi: the box in the *transformed* space the unit cube maps to: log-space for
            log parameters, widened by half a step for stepped ones so that every grid
            point gets an equal share, ``[0, n_choices)`` for categoricals.
        is_log, step (0.0 where none), low, high (internal bounds), n_choices.

    Example:
        >>> import numpy as np
        >>> from hpo_core.distributions import FloatDistribution, IntDistribution
        >>> space = SearchSpace({"lr": FloatDistribution(1e-4, 1e-1, log=True),
        ...                      "layers": IntDistribution(1, 4)})
        >>> X = space.from_unit(np.array([[0.5, 0.99]]))
        >>> space.to_external(X[0])["layers"]
        4
    """

    __slots__ = (
        "_dists", "names", "kinds", "lo", "hi", "is_log", "step", "low", "high",
        "n_choices", "_hash", "_all_float", "_any_discrete", "_converters", "_row_fn", "_choices",
    )

    def __init__(self, distributions: Mapping[str, BaseDistribution]):
        if isinstance(distributions, SearchSpace):
            distributions = dict(distributions.items())
        if not isinstance(distributions, Mapping):
            raise TypeError(format_error("distributions", "a mapping of name -> distribution", distributions))
        dists: dict[str, BaseDistribution] = {}
        for name, dist in distributions.items():
            if not isinstance(name, str):
                raise TypeError(format_error("parameter name", "a str", name))
            if not isinstance(dist, BaseDistribution):
                raise TypeError(format_error(f"distributions[{name!r}]", "an hpo_core distribution", dist))
            dists[name] = dist
        self._dists = dists
        self.names = tuple(dists)
        d = len(dists)
        self.kinds = np.empty(d, dtype=np.int8)
        self.lo = np.empty(d)
        self.hi = np.empty(d)
        self.is_log = np.zeros(d, dtype=bool)
        self.step = np.zeros(d)
        self.low = np.empty(d)
        self.high = np.empty(d)
        self.n_choices = np.zeros(d, dtype=np.int64)
        converters: list[Any] = []
        for j, dist in enumerate(dists.values()):
            if isinstance(dist, CategoricalDistribution):
                n = len(dist.choices)
                self.kinds[j] = KIND_CATEGORICAL
                self.lo[j], self.hi[j] = 0.0, float(n)
                self.low[j], self.high[j] = 0.0, float(n - 1)
                self.n_choices[j] = n
                converters.append(dist.choices.__getitem__)
                continue
            is_int = isinstance(dist, IntDistribution)
            self.kinds[j] = KIND_INT if is_int else KIND_FLOAT
            low, high = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
            step = float(dist.step) if dist.step is not None else 0.0  # type: ignore[attr-defined]
            self.low[j], self.high[j], self.step[j] = low, high, step
            self.is_log[j] = dist.log  # type: ignore[attr-defined]
            half = 0.5 * step
            if dist.log:  # type: ignore[attr-defined]
                # Ints on a log scale: widen by half a unit so 1 and `high` are as
                # likely as their neighbours in log space.
                lo_, hi_ = (low - half, high + half) if is_int else (low, high)
                self.lo[j], self.hi[j] = math.log(lo_), math.log(hi_)
            else:
                self.lo[j], self.hi[j] = low - half, high + half
            converters.append(int if is_int else float)
        self._converters = tuple(converters)
        self._choices = tuple(getattr(c, "__self__", None) for c in converters)  # categoricals' tuples
        self._row_fn = _row_converter(tuple(
            "f" if c is float else "i" if c is int else "c" for c in converters))
        self._all_float = bool(np.all(self.kinds == KIND_FLOAT))
        self._any_discrete = bool(np.any((self.kinds != KIND_FLOAT) | (self.step > 0)))
        self._hash = hash(tuple(dists.items()))

    # Mapping protocol -------------------------------------------------------------
    def __getitem__(self, name: str) -> BaseDistribution:
        return self._dists[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, SearchSpace):
            return self._hash == other._hash and list(self._dists.items()) == list(other._dists.items())
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"SearchSpace({self._dists!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SearchSpace, (dict(self._dists),))

    # Array maps ----------------------------------------------------------------------
    def from_unit(self, U: np.ndarray) -> np.ndarray:
        """Map points of the unit cube to internal values.

        Args:
            U: (n, d) array in [0, 1).

        Returns:
            (n, d) float64 internal values, each inside its distribution.
        """
        X = self.lo + U * (self.hi - self.lo)
        if self.is_log.any():
            X[:, self.is_log] = np.exp(X[:, self.is_log])
        if self._any_discrete:
            X = self.snap(X)
        else:
            # exp(log(high)) can exceed high by an ulp.
            np.clip(X, self.low, self.high, out=X)
        return X

    def snap(self, X: np.ndarray) -> np.ndarray:
        """Round continuous internal values to the grid of stepped, int and categorical
        parameters and clip everything into bounds. X: (n, d); returns a new array."""
        X = np.array(X, dtype=np.float64, copy=True)
        cat = self.kinds == KIND_CATEGORICAL
        stepped = (self.step > 0) & ~cat
        if stepped.any():
            low, step = self.low[stepped], self.step[stepped]
            X[:, stepped] = low + np.round((X[:, stepped] - low) / step) * step
        if cat.any():
            X[:, cat] = np.floor(X[:, cat])
        np.clip(X, self.low, self.high, out=X)
        return X

    def to_unit(self, X: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`from_unit` for the continuous part: (n, d) -> (n, d) in [0, 1].

        Grid points and categories map to the centre of their cell.
        """
        X = np.array(X, dtype=np.float64, copy=True)
        if self.is_log.any():
            X[:, self.is_log] = np.log(X[:, self.is_log])
        cat = self.kinds == KIND_CATEGORICAL
        X[:, cat] += 0.5
        return (X - self.lo) / (self.hi - self.lo)

    def to_external(self, row: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Convert one internal row (d,) to ``{name: external value}``."""
        values = row.tolist() if isinstance(row, np.ndarray) else list(row)
        if self._all_float:
            return dict(zip(self.names, values))
        return dict(zip(self.names, self._row_fn(values, self._choices)))

    def external_row(self, x: np.ndarray) -> list[Any]:
        """Convert one internal row (d,) to its external values (in name order).

        The one-row twin of :meth:`external_rows` in plain Python (per-trial asks: a
        NumPy round trip for one row costs several times more); rounds half to even
        like ``np.rint``.
        """
        values = x.tolist()
        if self._all_float:
            return values  # type: ignore[no-any-return]
        return self._row_fn(values, self._choices)  # type: ignore[no-any-return]

    def external_rows(self, X: np.ndarray) -> list[list[Any]]:
        """Convert (n, d) internal values to n lists of external values (in name order)."""
        if self._all_float:
            return X.tolist()  # type: ignore[no-any-return]
        cols: list[list[Any]] = []
        for j, conv in enumerate(self._converters):
            col = X[:, j]
            if conv is float:
                cols.append(col.tolist())
            else:
                cols.append([conv(i) for i in np.rint(col).astype(np.int64).tolist()])
        return [list(r) for r in zip(*cols)]

    def contains_row(self, row: np.ndarray) -> bool:
        """Whether every internal value of ``row`` (d,) lies inside its distribution."""
        return all(dist.contains(v) for dist, v in zip(self._dists.values(), row.tolist()))


def unit_to_internal(dist: BaseDistribution, u: float) -> float:
    """Map one ``u`` in [0, 1) to an internal value of ``dist`` (scalar, pure Python).

    The scalar twin of :meth:`SearchSpace.from_unit`, for per-parameter sampling where
    building arrays would cost more than the arithmetic.
    """
    span = getattr(dist, "_span", None)
    if span is not None:  # a linear float range without a step
        return min(dist.low + u * span, dist.high)  # type: ignore[attr-defined,no-any-return]
    if isinstance(dist, CategoricalDistribution):
        return float(min(int(u * len(dist.choices)), len(dist.choices) - 1))
    low, high = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    step = dist.step  # type: ignore[attr-defined]
    is_int = isinstance(dist, IntDistribution)
    half = 0.5 * step if step is not None else 0.0
    if dist.log:  # type: ignore[attr-defined]
        lo_, hi_ = (low - half, high + half) if is_int else (low, high)
        v = math.exp(math.log(lo_) + u * (math.log(hi_) - math.log(lo_)))
    else:
        v = (low - half) + u * ((high + half) - (low - half))
    if step is not None:
        if is_int:
            # In int arithmetic: k clipped to the grid, low + k * step exact.
            n = (dist.high - dist.low) // step  # type: ignore[attr-defined]
            k = min(max(round((v - low) / step), 0), n)
            return float(dist.low + k * step)  # type: ignore[attr-defined]
        v = float_grid_point(low, step, v)
    return min(max(v, low), high)
