"""Child generation of NSGA-II and NSGA-III on arrays (Optuna's default strategy).

Notation (``k`` parents, ``d`` parameters of the space, ``m`` objectives):

* ``Parents``: the parent population of one generation, read once per generation:
  ``X`` (k, d) internal values, ``T`` (k, d) the same in the transformed space (log of
  log parameters; categoricals keep their index), ``loss`` (k, m) values to minimise,
  ``penalty`` (k,) summed positive constraint values or None (unconstrained).
* The child is built as in Optuna, drawing from the sampler's ``RandomState`` the same
  values in the same order: ``rand() < crossover_prob`` decides between a crossover of
  ``crossover.n_parents`` parents picked by binary tournament (``randint`` twice per
  parent, among those not chosen yet) and a copy of a random parent (``randint``); the
  crossover draws the categorical swap mask, then the numeric one (uniform crossover);
  then each parameter is flagged for mutation by ``rand() < mutation_prob`` (default
  ``1 / d``), categoricals first after a crossover, each group in the order of the names
  (Optuna's search space is sorted by name). A flagged parameter goes to ``mutation``
  when one is given (numeric ones), else it is drawn afresh at random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core.distributions import SearchSpace
from hpo_core.samplers._optuna_stream import LegacyStream, code_of, untransform
from hpo_core.samplers.nsga._crossovers import BaseCrossover, UniformCrossover
from hpo_core.samplers.nsga._mutations import BaseMutation

__all__ = ["Config", "Layout", "ParentArrays", "Parents", "draw_empty_child", "make_child"]

_CAT = 2
_LINEAR, _GRID, _LOG, _LOG_INT, _FLOAT_GRID = 0, 1, 2, 3, 4  # how a numeric coordinate maps back
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
        kinds = np.where(self.linear_float, _LINEAR,
                         np.where(self.gridded, np.where(self.is_int_num, _GRID, _FLOAT_GRID),
                                  np.where(self.log_int, _LOG_INT, _LOG)))
        self.codes = list(zip(kinds.tolist(), self.low.tolist(), self.high.tolist(), step.tolist()))
        # Optuna's order of draws: its search space is sorted by name, and a crossover
        # builds the child categoricals first.
        free = [j for j in np.argsort(np.array(space.names, dtype=object), kind="stable").tolist() if not single[j]]
        self.sorted_free = free
        self.cat_sorted = [j for j in free if is_cat[j]]
        self.num_sorted = [j for j in free if not is_cat[j]]
        self.cross_order = self.cat_sorted + self.num_sorted
        pos = {j: i for i, j in enumerate(self.num.tolist())}
        self.num_sorted_pos = [pos[j] for j in self.num_sorted]  # into `num`
        # Where a value copied from a parent changes through Optuna's transform and back:
        # log floats (exp(log(x)), then below `high`) and linear floats (kept below `high`).
        floats = [j for j in self.num_sorted if space.kinds[j] == 0 and space.step[j] == 0]
        self.linear_below = [(j, code_of(space[space.names[j]])[6]) for j in floats if not space.is_log[j]]
        self.log_codes = [(j, code_of(space[space.names[j]])) for j in floats if space.is_log[j]]

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
            if code[0] == _LINEAR and code[1] <= v < code[2]:
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
    """One transformed coordinate back to its internal value, on the grid and in bounds
    (a continuous float at or above ``high`` becomes the float below it, as in Optuna)."""
    kind, low, high, step = code
    if kind == _LINEAR and v >= high:
        return float(np.nextafter(high, -math.inf)) if low < high else high
    if kind == _GRID:  # ints: floor(. + 0.5), Optuna rounds half up
        v = math.floor((v - low) / step + 0.5) * step + low
    elif kind == _FLOAT_GRID:  # stepped floats: np.round, half to even, as Python's round
        v = round((v - low) / step) * step + low
    elif kind != _LINEAR:
        v = math.exp(min(v, 709.0))  # beyond 709 exp overflows; the bound clips it anyway
        if kind == _LOG_INT:
            v = float(round(v))
        elif v >= high:  # log floats: kept below `high`, as Optuna's untransform
            return float(np.nextafter(high, -math.inf)) if low < high else high
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
        self.missing_idx = np.flatnonzero(missing).tolist()
        self.any_missing = bool(missing.any())


def _dominates(p: Parents, a: int, b: int) -> bool:
    """Whether parent ``a`` (constrained-)dominates parent ``b`` (Deb et al. 2002)."""
    if p.penalties is not None:
        pa, pb = p.penalties[a], p.penalties[b]
        if pa > 0 or pb > 0:
            return pb > 0 and (pa <= 0 or pa < pb)
    va, vb = p.loss_rows[a], p.loss_rows[b]
    return va != vb and all(x <= y for x, y in zip(va, vb))


def _tournament(p: Parents, n_parents: int, stream: LegacyStream) -> list[int]:
    """``n_parents`` distinct parents, each the winner of a binary tournament between two
    uniform draws among those not chosen yet (the second wins unless the first dominates)."""
    k = len(p.rows)
    chosen: list[int] = []
    for r in range(n_parents):
        a = stream.choice(k - r)
        b = stream.choice(k - r)
        for c in sorted(chosen):  # the i-th index not chosen yet
            if a >= c:
                a += 1
            if b >= c:
                b += 1
        chosen.append(a if _dominates(p, a, b) else b)
    return chosen


def make_child(p: Parents, layout: Layout, arrays: ParentArrays, cfg: Config, stream: LegacyStream,
               study: Any) -> tuple[np.ndarray, list[int]]:
    """One child: (d,) internal values and the indices, ascending, of the values to draw
    afresh at random (mutated without a mutation operator, or missing).

    Every draw comes from ``stream`` (the operators draw from its synced generator), in
    Optuna's order (see the module docstring)."""
    if stream.rand() < cfg.crossover_prob:
        child = _crossover(p, layout, arrays, cfg, stream, study)
        order = layout.cross_order
    else:
        child = arrays.X[stream.choice(len(p.rows))].copy()
        order = layout.sorted_free
    n = len(order)
    mp = cfg.mutation_prob if cfg.mutation_prob is not None else 1.0 / max(1.0, n)
    if layout.n_single:
        child[layout.single] = layout.space.low[layout.single]
    redraw: list[int] = []
    if cfg.mutation is None:
        if n:
            redraw = [j for j, u in zip(order, stream.rand_list(n)) if u < mp]
            if len(redraw) > 1:
                redraw.sort()
    else:
        redraw = _mutate(child, order, mp, layout, cfg.mutation, stream, study)
    if arrays.any_missing:
        redraw = sorted(set(redraw).union(arrays.missing_idx))
    return child, redraw


def draw_empty_child(p: Parents, cfg: Config, stream: LegacyStream) -> None:
    """The draws of a child of an empty space (Optuna breeds one all the same): the
    crossover decision, then the parents' tournaments or the copied parent's index."""
    if stream.rand() < cfg.crossover_prob:
        _tournament(p, cfg.crossover.n_parents, stream)
    else:
        stream.choice(len(p.rows))


def _crossover(p: Parents, layout: Layout, arrays: ParentArrays, cfg: Config, stream: LegacyStream,
               study: Any) -> np.ndarray:
    swap = cfg.swapping_prob
    cat_sorted = layout.cat_sorted
    if type(cfg.crossover) is UniformCrossover:
        # Every gene is one parent's; only the transform's round trip can change it.
        idx = _tournament(p, 2, stream)
        first, last = arrays.X_rows[idx[0]], arrays.X_rows[idx[1]]
        genes = list(first)
        if cat_sorted:
            for j, u in zip(cat_sorted, stream.rand_list(len(cat_sorted))):
                if u >= swap:
                    genes[j] = last[j]
        num_sorted = layout.num_sorted
        if num_sorted:
            num_swap = cfg.crossover.swapping_prob
            for j, u in zip(num_sorted, stream.rand_list(len(num_sorted))):
                if u >= num_swap:
                    genes[j] = last[j]
            for j, below in layout.linear_below:  # Optuna's untransform keeps them below `high`
                if genes[j] >= below:
                    genes[j] = below
            for j, code in layout.log_codes:  # exp(log(x)) need not give x back
                genes[j] = untransform(math.log(genes[j]), code)
        return np.array(genes)
    num, cat = layout.num, layout.cat
    num_pos = layout.num_sorted_pos
    child = np.empty(len(layout.space))
    for tries in range(MAX_TRIES):
        idx = _tournament(p, cfg.crossover.n_parents, stream)
        if len(cat):
            first, last = arrays.X_rows[idx[0]], arrays.X_rows[idx[-1]]
            for j, u in zip(cat_sorted, stream.rand_list(len(cat_sorted))):
                child[j] = last[j] if u >= swap else first[j]
        if not len(num):
            return child
        # The crossover sees the numeric columns in name order, as Optuna's transform.
        t_sorted = np.asarray(cfg.crossover.crossover(arrays.T_num[idx][:, num_pos], stream.sync(), study,
                                                      layout.bounds[num_pos]), dtype=np.float64)
        t = np.empty(len(num))
        t[num_pos] = t_sorted
        x, below = layout.untransform(t)
        if not below or tries == MAX_TRIES - 1:
            child[num] = x
            return child
    raise AssertionError("unreachable")  # pragma: no cover


def _mutate(child: np.ndarray, order: list[int], mutation_prob: float, layout: Layout, mutation: BaseMutation,
            stream: LegacyStream, study: Any) -> list[int]:
    """Flag each parameter of ``order`` (``rand() < mutation_prob``) and mutate a flagged
    numeric one at once, as Optuna interleaves the draws; returns the flagged
    categorical ones (drawn afresh at random), ascending."""
    redraw: list[int] = []
    pos_of = {j: pos for pos, j in enumerate(layout.num.tolist())}
    for j in order:
        if stream.rand() >= mutation_prob:
            continue
        pos = pos_of.get(j)
        if pos is None:
            redraw.append(j)
            continue
        lo, hi = layout.bounds[pos]
        t = float(np.log(child[j])) if layout.is_log[j] else float(child[j])
        t = min(max(float(mutation.mutation(t, stream.sync(), study, layout.bounds[pos])), lo), hi)
        child[j] = layout.untransform_one(pos, t)
    return sorted(redraw)
