"""Child generation of NSGA-II and NSGA-III on arrays (Optuna's default strategy).

Notation (``k`` parents, ``d`` parameters of the space, ``m`` objectives):

* ``Parents``: the parent population of one generation, read once per generation:
  ``X`` (k, d) internal values, ``T`` (k, d) the same in the transformed space (log of
  log parameters; categoricals keep their index), ``loss`` (k, m) values to minimise,
  ``penalty`` (k,) summed positive constraint values or None (unconstrained).
* The child is built as in Optuna: with probability ``crossover_prob`` a crossover of
  ``crossover.n_parents`` parents picked by binary tournament (without repetition),
  else a copy of a random parent; then each parameter is mutated with probability
  ``mutation_prob`` (default ``1 / d``): by ``mutation`` for numeric parameters when
  one is given, else drawn afresh at random.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core.distributions import SearchSpace
from hpo_core.samplers.nsga._crossovers import BaseCrossover, UniformCrossover
from hpo_core.samplers.nsga._mutations import BaseMutation

__all__ = ["Config", "Layout", "ParentArrays", "Parents", "make_child"]

_CAT = 2
_LINEAR, _GRID, _LOG, _LOG_INT = 0, 1, 2, 3  # how a numeric coordinate maps back
# A crossover whose continuous floats keep falling below their range is retried this
# many times (Optuna retries forever), then the child is clipped into the range.
MAX_TRIES = 100


@dataclass(frozen=True)
class Config:
    crossover: BaseCrossover
    mutation: BaseMutation | None
    mutation_prob: float | None
    crossover_prob: float
    swapping_prob: float


class Layout:
    """The arrays of a space that child generation needs, built once per space.

    ``num``: indices of numeric parameters with more than one value; ``cat``: of
    categorical ones; ``fixed``: single-valued parameters (their value is ``low``).
    ``bounds``: (len(num), 2) bounds of the transformed space of ``num``.
    """

    def __init__(self, space: SearchSpace):
        self.space = space
        single = np.array([dist.single() for dist in space.values()], dtype=bool)
        is_cat = space.kinds == _CAT
        self.num = np.flatnonzero(~is_cat & ~single)
        self.cat = np.flatnonzero(is_cat & ~single)
        self.single = single
        self.n_single = int(single.sum())
        self.single_idx = np.flatnonzero(single).tolist()
        self.is_cat_list = is_cat.tolist()
        self.bounds = np.stack([space.lo[self.num], space.hi[self.num]], axis=1)
        self.is_log = space.is_log.copy()
        self.any_log = bool(self.is_log.any())
        step = space.step[self.num]
        self.step = step
        self.low, self.high = space.low[self.num], space.high[self.num]
        self.is_log_num = space.is_log[self.num]
        self.is_int_num = space.kinds[self.num] == 1
        # Continuous linear floats: below `low` the crossover is retried (Optuna).
        self.linear_float = (~self.is_log_num) & (step == 0) & ~self.is_int_num
        self.gridded = (step > 0) & ~self.is_log_num
        self.log_int = self.is_log_num & self.is_int_num
        kinds = np.where(self.linear_float, _LINEAR, np.where(self.gridded, _GRID,
                                                              np.where(self.log_int, _LOG_INT, _LOG)))
        self.codes = list(zip(kinds.tolist(), self.low.tolist(), self.high.tolist(), step.tolist()))

    def transform(self, X: np.ndarray) -> np.ndarray:
        T = np.array(X, dtype=np.float64, copy=True)
        if self.any_log:
            with np.errstate(invalid="ignore", divide="ignore"):
                T[:, self.is_log] = np.log(T[:, self.is_log])
        return T

    def untransform(self, t: np.ndarray) -> tuple[list[float], bool]:
        """Internal values of the numeric coordinates ``t`` (len(num),), rounded to the
        grid and clipped, and whether a continuous float fell below its ``low``.

        A plain loop: for a handful of parameters it costs less than NumPy calls."""
        out: list[float] = []
        below = False
        for v, code in zip(t.tolist(), self.codes):
            if code[0] == _LINEAR and code[1] <= v <= code[2]:
                out.append(v)  # the common case: a continuous value inside its range
                continue
            if code[0] == _LINEAR and v < code[1]:
                below = True
            out.append(_back(v, code))
        return out, below

    def untransform_one(self, pos: int, t: float) -> float:
        """:meth:`untransform` of the ``pos``-th numeric coordinate alone."""
        return _back(t, self.codes[pos])


def _back(v: float, code: tuple[int, float, float, float]) -> float:
    """One transformed coordinate back to its internal value, on the grid and in bounds."""
    kind, low, high, step = code
    if kind == _GRID:  # floor(. + 0.5): Optuna rounds half up on the grid
        v = math.floor((v - low) / step + 0.5) * step + low
    elif kind != _LINEAR:
        v = math.exp(min(v, 709.0))  # beyond 709 exp overflows; the bound clips it anyway
        if kind == _LOG_INT:
            v = float(round(v))
    return low if v < low else high if v > high else v


@dataclass
class Parents:
    generation: int
    rows: np.ndarray
    loss: np.ndarray
    penalty: np.ndarray | None
    # Per space, the parents' parameters (see ``ParentArrays``).
    arrays: dict[SearchSpace, ParentArrays] = field(default_factory=dict)
    frozen: list[Any] | None = None
    loss_rows: list[tuple[float, ...]] = field(default_factory=list)
    penalties: list[float] | None = None

    def __post_init__(self) -> None:
        self.loss_rows = [tuple(r) for r in self.loss.tolist()]
        self.penalties = None if self.penalty is None else self.penalty.tolist()


class ParentArrays:
    """The parents' parameters in one space: ``X`` (k, d) internal values, ``T_num``
    (k, len(num)) numeric ones transformed, ``cat_rows`` the categorical indices as
    lists, ``missing`` (d,) the columns some parent lacks (drawn at random instead)."""

    def __init__(self, layout: Layout, X: np.ndarray, missing: np.ndarray):
        self.X = X
        self.T_num = np.ascontiguousarray(layout.transform(X)[:, layout.num])
        self.cat_rows = X[:, layout.cat].tolist()
        self.X_rows = X.tolist()
        self.missing = missing
        self.any_missing = bool(missing.any())


def _dominates(p: Parents, a: int, b: int) -> bool:
    """Whether parent ``a`` (constrained-)dominates parent ``b`` (Deb et al. 2002)."""
    if p.penalties is not None:
        pa, pb = p.penalties[a], p.penalties[b]
        if pa > 0 or pb > 0:
            return pb > 0 and (pa <= 0 or pa < pb)
    va, vb = p.loss_rows[a], p.loss_rows[b]
    return va != vb and all(x <= y for x, y in zip(va, vb))


def _tournament(p: Parents, n_parents: int, rand: Callable[[], float]) -> list[int]:
    """``n_parents`` distinct parents, each the winner of a binary tournament between two
    uniform draws among those not chosen yet (the second wins unless the first dominates)."""
    k = len(p.rows)
    chosen: list[int] = []
    for r in range(n_parents):
        a = int(rand() * (k - r))
        b = int(rand() * (k - r))
        for c in sorted(chosen):  # the i-th index not chosen yet
            if a >= c:
                a += 1
            if b >= c:
                b += 1
        chosen.append(a if _dominates(p, a, b) else b)
    return chosen


def make_child(p: Parents, layout: Layout, arrays: ParentArrays, cfg: Config, rng: np.random.RandomState,
               rand: Callable[[], float], study: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """One child: (d,) internal values and (d,) bool, True where the value is to be
    drawn afresh at random (mutated without a mutation operator, or missing), or None.

    ``rand`` draws the sampler's own choices (tournaments, swaps, mutation flags);
    ``rng`` is handed to the crossover and mutation operators."""
    d = len(layout.space)
    if rand() < cfg.crossover_prob:
        child = _crossover(p, layout, arrays, cfg, rng, rand, study)
    else:
        child = arrays.X[int(rand() * len(p.rows))].copy()
    mp = cfg.mutation_prob if cfg.mutation_prob is not None else 1.0 / max(1.0, d - layout.n_single)
    flags = [rand() < mp for _ in range(d)]
    if layout.n_single:
        child[layout.single] = layout.space.low[layout.single]
        for j in layout.single_idx:
            flags[j] = False
    redraw = np.array(flags) if any(flags) else None
    if cfg.mutation is not None and redraw is not None:
        child = _mutate(child, redraw, layout, cfg.mutation, rng, study)
    if arrays.any_missing:
        redraw = arrays.missing.copy() if redraw is None else redraw | arrays.missing
    return child, redraw


def _crossover(p: Parents, layout: Layout, arrays: ParentArrays, cfg: Config, rng: np.random.RandomState,
               rand: Callable[[], float], study: Any) -> np.ndarray:
    num, cat = layout.num, layout.cat
    swap = cfg.swapping_prob
    if type(cfg.crossover) is UniformCrossover:
        # Every gene is one parent's: no transform, no rounding, no retry (same child).
        idx = _tournament(p, 2, rand)
        first, last = arrays.X_rows[idx[0]], arrays.X_rows[idx[1]]
        num_swap = cfg.crossover.swapping_prob
        return np.array([(b if rand() >= (swap if c else num_swap) else a)
                         for a, b, c in zip(first, last, layout.is_cat_list)])
    child = np.empty(len(layout.space))
    for tries in range(MAX_TRIES):
        idx = _tournament(p, cfg.crossover.n_parents, rand)
        if len(cat):
            first, last = arrays.cat_rows[idx[0]], arrays.cat_rows[idx[-1]]
            child[cat] = [b if rand() >= swap else a for a, b in zip(first, last)]
        if not len(num):
            return child
        t = np.asarray(cfg.crossover.crossover(arrays.T_num[idx], rng, study, layout.bounds), dtype=np.float64)
        x, below = layout.untransform(t)
        if not below or tries == MAX_TRIES - 1:
            child[num] = x
            return child
    raise AssertionError("unreachable")  # pragma: no cover


def _mutate(child: np.ndarray, redraw: np.ndarray, layout: Layout, mutation: BaseMutation,
            rng: np.random.RandomState, study: Any) -> np.ndarray:
    """Apply ``mutation`` to the numeric parameters flagged in ``redraw`` (which are then
    unflagged); categorical ones stay flagged for a random draw."""
    for pos, j in enumerate(layout.num.tolist()):
        if not redraw[j]:
            continue
        lo, hi = layout.bounds[pos]
        t = float(np.log(child[j])) if layout.is_log[j] else float(child[j])
        t = min(max(float(mutation.mutation(t, rng, study, layout.bounds[pos])), lo), hi)
        child[j] = layout.untransform_one(pos, t)
        redraw[j] = False
    return child
