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

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core.distributions import SearchSpace
from hpo_core.samplers.nsga._crossovers import BaseCrossover
from hpo_core.samplers.nsga._mutations import BaseMutation

__all__ = ["Config", "Layout", "Parents", "make_child"]

_CAT = 2
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

    def transform(self, X: np.ndarray) -> np.ndarray:
        T = np.array(X, dtype=np.float64, copy=True)
        if self.any_log:
            with np.errstate(invalid="ignore", divide="ignore"):
                T[:, self.is_log] = np.log(T[:, self.is_log])
        return T

    def untransform(self, t: np.ndarray) -> tuple[np.ndarray, bool]:
        """Internal values of the numeric coordinates ``t`` (len(num),), rounded to the
        grid and clipped, and whether a continuous float fell below its ``low``."""
        x = t.copy()
        below = bool((x[self.linear_float] < self.low[self.linear_float]).any())
        if self.is_log_num.any():
            x[self.is_log_num] = np.exp(x[self.is_log_num])
            x[self.log_int] = np.round(x[self.log_int])
        g = self.gridded
        if g.any():  # floor(. + 0.5): Optuna rounds half up on the grid
            x[g] = np.floor((x[g] - self.low[g]) / self.step[g] + 0.5) * self.step[g] + self.low[g]
        return np.clip(x, self.low, self.high), below

    def untransform_one(self, pos: int, t: float) -> float:
        """:meth:`untransform` of the ``pos``-th numeric coordinate alone."""
        if self.is_log_num[pos]:
            x = float(np.exp(t))
            if self.log_int[pos]:
                x = float(np.round(x))
        elif self.gridded[pos]:
            low, step = float(self.low[pos]), float(self.step[pos])
            x = float(np.floor((t - low) / step + 0.5)) * step + low
        else:
            x = t
        return min(max(x, float(self.low[pos])), float(self.high[pos]))


@dataclass
class Parents:
    generation: int
    rows: np.ndarray
    loss: np.ndarray
    penalty: np.ndarray | None
    # Per space: (X, T, missing) with ``missing`` (d,) the columns some parent lacks.
    arrays: dict[SearchSpace, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    frozen: list[Any] | None = None
    loss_rows: list[tuple[float, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.loss_rows = [tuple(r) for r in self.loss.tolist()]


def _dominates(p: Parents, a: int, b: int) -> bool:
    """Whether parent ``a`` (constrained-)dominates parent ``b`` (Deb et al. 2002)."""
    if p.penalty is not None:
        pa, pb = p.penalty[a], p.penalty[b]
        if pa > 0 or pb > 0:
            return pb > 0 and (pa <= 0 or pa < pb)
    va, vb = p.loss_rows[a], p.loss_rows[b]
    return va != vb and all(x <= y for x, y in zip(va, vb))


def _tournament(p: Parents, n_parents: int, rng: np.random.RandomState) -> list[int]:
    """``n_parents`` distinct parents, each the winner of a binary tournament among those
    not chosen yet (the second candidate wins unless the first dominates it)."""
    k = len(p.rows)
    chosen: list[int] = []
    for _ in range(n_parents):
        pick = []
        for _ in range(2):
            i = int(rng.choice(k - len(chosen)))
            for c in sorted(chosen):  # the i-th index not chosen yet
                if i >= c:
                    i += 1
            pick.append(i)
        chosen.append(pick[0] if _dominates(p, pick[0], pick[1]) else pick[1])
    return chosen


def make_child(p: Parents, layout: Layout, X: np.ndarray, T: np.ndarray, cfg: Config, rng: np.random.RandomState,
               study: Any) -> tuple[np.ndarray, np.ndarray]:
    """One child: (d,) internal values and (d,) bool, True where the value is to be
    drawn afresh at random (mutated without a mutation operator)."""
    d = len(layout.space)
    if rng.rand() < cfg.crossover_prob:
        child = _crossover(p, layout, X, T, cfg, rng, study)
    else:
        child = X[int(rng.choice(len(p.rows)))].copy()
    n_params = d - int(layout.single.sum())
    mp = cfg.mutation_prob if cfg.mutation_prob is not None else 1.0 / max(1.0, n_params)
    redraw = rng.rand(d) < mp
    redraw[layout.single] = False
    if cfg.mutation is not None and redraw.any():
        child = _mutate(child, redraw, layout, cfg.mutation, rng, study)
    child[layout.single] = layout.space.low[layout.single]
    return child, redraw


def _crossover(p: Parents, layout: Layout, X: np.ndarray, T: np.ndarray, cfg: Config,
               rng: np.random.RandomState, study: Any) -> np.ndarray:
    child = np.empty(len(layout.space))
    num, cat = layout.num, layout.cat
    for tries in range(MAX_TRIES):
        idx = _tournament(p, cfg.crossover.n_parents, rng)
        if len(cat):
            second = rng.rand(len(cat)) >= cfg.swapping_prob
            child[cat] = np.where(second, X[idx[-1], cat], X[idx[0], cat])
        if not len(num):
            return child
        t = np.asarray(cfg.crossover.crossover(T[np.ix_(idx, num)], rng, study, layout.bounds), dtype=np.float64)
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
