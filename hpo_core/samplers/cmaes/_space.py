"""The optimizer's coordinates of a search space, and the ``cmaes`` optimizers built on them.

Notation (``d`` parameters in the space, ``k`` numeric ones that vary, ``c`` categorical
ones that vary):

* internal values: (d,) float64 rows as the history stores them (the value itself for
  floats and ints, the choice index for categoricals).
* coordinates: (k,) float64, each numeric parameter mapped to [0, 1] (in log space for
  log parameters), so that every dimension has the same scale, as Optuna's
  ``_SearchSpaceTransform(transform_0_1=True)``.

Two maps of the numeric parameters:

* ``tight=False`` (plain and separable CMA-ES): SearchSpace's unit cube, where a stepped
  or int parameter's interval is widened by half a step on each side so that every grid
  point gets an equal share; values are rounded to the grid on the way back.
* ``tight=True`` (CMA-ES with margin, CatCMA with margin): the grid itself, ``[low,
  high]`` -> ``[0, 1]`` (``[log low, log high]`` for log ints), with the step in
  coordinates (``steps``), as the margin optimizers discretize on their own. Log
  parameters stay continuous (in log space).

The numeric coordinates follow the parameters' names in sorted order (Optuna's
intersection search space is sorted by name), whatever the space's order, and both
maps repeat Optuna's ``_SearchSpaceTransform(transform_0_1=True)`` operation by
operation (``math.log`` / ``math.exp`` for log parameters, ints rounded half up,
stepped floats half to even, floats kept below ``high``), so that the same optimizer
samples give Optuna's parameters bit for bit.

Parameters with a single value (``single()``) are not optimized: they are filled in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpo_core.distributions import SearchSpace

__all__ = ["Coder", "MAX_GRID_POINTS", "make_optimizer", "set_rng"]

_INT, _CAT = 1, 2  # SearchSpace.kinds codes of int and categorical parameters
# A discrete parameter with more grid points than this is a continuous dimension of
# CatCMA with margin (rounded on the way back): its integer space is a dense
# (n_integer, max_points) table.
MAX_GRID_POINTS = 1024
_EPS = 1e-10


class Coder:
    """Internal values of ``space`` <-> optimizer coordinates (see the module docstring).

    Attributes:
        num: (k,) indices into the space of the numeric parameters that vary, in the
            order of their names.
        cat: (c,) indices of the categorical parameters that vary.
        steps: (k,) grid step in coordinates (0.0 where continuous; only when tight).
        n_choices: (c,) number of choices of each categorical parameter.
    """

    def __init__(self, space: SearchSpace, *, tight: bool):
        self.space = space
        single = np.array([dist.single() for dist in space.values()], dtype=bool)
        is_cat = space.kinds == _CAT
        names = space.names
        self.num = np.array(sorted(np.flatnonzero(~is_cat & ~single).tolist(), key=names.__getitem__),
                            dtype=np.int64)
        self.cat = np.flatnonzero(is_cat & ~single)
        self.fixed = np.where(single, space.low, 0.0)  # single ints/floats: their value
        lo, hi = space.lo.copy(), space.hi.copy()
        steps = np.zeros(len(space))
        is_int = space.kinds == _INT
        if tight:
            grid = (space.step > 0) & ~space.is_log & ~is_cat & ~single
            lo[grid], hi[grid] = space.low[grid], space.high[grid]
            steps[grid] = space.step[grid] / (space.high[grid] - space.low[grid])
            for j in np.flatnonzero(is_int & space.is_log & ~single).tolist():  # no half step either
                lo[j], hi[j] = math.log(space.low[j]), math.log(space.high[j])
        num = self.num
        self.lo, self.hi = lo[num], hi[num]
        self.steps = steps[num]
        self.is_log = space.is_log[num]
        self.any_log = bool(self.is_log.any())
        self._log_cols = np.flatnonzero(self.is_log).tolist()
        self.n_choices = space.n_choices[self.cat]
        #: The space as text: a stored run applies to the spaces with its signature.
        self.signature = repr(space)
        # Optuna's untransform, per coordinate: stepped floats round half to even, ints
        # (linear) half up, log ints to the nearest int; floats stay below `high`.
        low, high, step = space.low[num], space.high[num], space.step[num]
        c_int = is_int[num]
        self._round_even = np.flatnonzero((step > 0) & ~c_int)
        self._round_up = np.flatnonzero(c_int & ~self.is_log)
        self._round_log = np.flatnonzero(c_int & self.is_log)
        self._rounds = bool(len(self._round_even) or len(self._round_up) or len(self._round_log))
        self._low, self._step = low, np.where(step > 0, step, 1.0)
        below_high = np.nextafter(high, high - 1)
        self._top = np.where((step > 0) | c_int, high, below_high)
        # Every parameter a numeric coordinate: from_coords returns the coordinates' row
        # (the per-ask path) without filling in singles or categoricals.
        self._all_numeric = len(num) == len(space)
        inverse = np.argsort(num)  # coordinate order -> space order (None: the same)
        self._inverse = None if (inverse == np.arange(len(num))).all() else inverse

    @property
    def n_numeric(self) -> int:
        return len(self.num)

    def to_coords(self, X: np.ndarray) -> np.ndarray:
        """(n, d) internal values -> (n, k) coordinates of the numeric parameters (Optuna's
        ``transform``: ``(value - lo) / (hi - lo)``, ``math.log`` of log values)."""
        V = np.array(X[:, self.num], dtype=np.float64)
        for j in self._log_cols:
            V[:, j] = [math.log(v) for v in V[:, j].tolist()]
        return (V - self.lo) / (self.hi - self.lo)  # type: ignore[no-any-return]

    def from_coords(self, u: np.ndarray, cat_index: np.ndarray | None = None) -> np.ndarray:
        """Coordinates ``u`` (k,) and category indices (c,) -> one internal row (d,),
        on each parameter's grid and inside its bounds (Optuna's ``untransform``)."""
        v = self.lo + np.minimum(np.maximum(u, 0.0), 1.0) * (self.hi - self.lo)
        if self._log_cols:
            for j in self._log_cols:
                v[j] = math.exp(v[j])
        if self._rounds:
            low, step = self._low, self._step
            idx = self._round_even
            if len(idx):
                v[idx] = np.round((v[idx] - low[idx]) / step[idx]) * step[idx] + low[idx]
            idx = self._round_up
            if len(idx):
                v[idx] = np.floor((v[idx] - low[idx]) / step[idx] + 0.5) * step[idx] + low[idx]
            idx = self._round_log
            if len(idx):
                v[idx] = np.round(v[idx])
        v = np.minimum(np.maximum(v, self._low, out=v), self._top, out=v)
        if self._all_numeric:
            return v if self._inverse is None else v[self._inverse]  # type: ignore[no-any-return]
        x = self.fixed.copy()
        x[self.num] = v
        if cat_index is not None and len(self.cat):
            x[self.cat] = cat_index
        return x

    def grid_points(self, j: int) -> int:
        """Number of grid points of numeric coordinate ``j`` (0 when continuous)."""
        s = self.steps[j]
        return 0 if s <= 0 else int(round(1.0 / s)) + 1

    def one_hot(self, X: np.ndarray) -> np.ndarray:
        """(n, d) internal rows -> (n, c, max choices) bool one-hot of the categoricals."""
        width = int(self.n_choices.max())
        idx = np.rint(X[:, self.cat]).astype(np.int64)
        out = np.zeros((len(X), len(self.cat), width), dtype=bool)
        n, c = np.indices(idx.shape)
        out[n, c, idx] = True
        return out


def set_rng(optimizer: Any, rng: np.random.RandomState) -> None:
    """Make ``optimizer`` draw from ``rng`` (CMA-ES with margin wraps a CMA)."""
    inner = getattr(optimizer, "_cma", None)
    (inner if inner is not None else optimizer)._rng = rng


def make_optimizer(
    kind: str,
    coder: Coder,
    *,
    mean: np.ndarray | None,
    sigma: float | None,
    cov: np.ndarray | None,
    popsize: int | None,
    lr_adapt: bool,
    seed: int,
) -> Any:
    """Build a ``cmaes`` optimizer of ``kind`` over ``coder``'s coordinates.

    ``kind``: ``"cma"``, ``"sepcma"``, ``"cmawm"`` or ``"catcmawm"``. ``mean`` (k,) and
    ``cov`` (k, k) are in coordinates (None: the centre and ``sigma**2 I``); ``sigma``
    None is Optuna's default, a sixth of the coordinate range. Trusts its inputs.
    """
    import cmaes

    k = coder.n_numeric
    if kind == "catcmawm":
        return _make_catcmawm(coder, mean=mean, sigma=sigma, cov=cov, popsize=popsize, seed=seed)
    if mean is None:
        mean = np.full(k, 0.5)
    sigma = max(1.0 / 6.0 if sigma is None else sigma, _EPS)  # avoid a zero step size
    bounds = np.tile([0.0, 1.0], (k, 1))
    common = dict(mean=mean, sigma=sigma, bounds=bounds, seed=seed, n_max_resampling=10 * k,
                  population_size=popsize)
    if kind == "sepcma":
        return cmaes.SepCMA(**common)
    if kind == "cmawm":
        return cmaes.CMAwM(steps=coder.steps, cov=cov, **common)
    return cmaes.CMA(cov=cov, lr_adapt=lr_adapt, **common)


def _make_catcmawm(
    coder: Coder, *, mean: np.ndarray | None, sigma: float | None, cov: np.ndarray | None,
    popsize: int | None, seed: int,
) -> Any:
    """CatCMA with margin: continuous coordinates first, then the grid ones, then the
    categoricals (the optimizer's own order; :func:`gauss_order` maps ours to it)."""
    import cmaes

    cont, grid = gauss_order(coder)
    x_space = [[0.0, 1.0]] * len(cont) or None
    z_space = [list(np.linspace(0.0, 1.0, coder.grid_points(j))) for j in grid] or None
    c_space = coder.n_choices.tolist() or None
    order = np.concatenate([cont, grid]).astype(np.int64)
    g_mean = None if mean is None or not len(order) else mean[order]
    g_cov = None if cov is None or not len(order) else cov[np.ix_(order, order)]
    if sigma is not None and g_cov is None and len(order):
        g_cov = np.eye(len(order))  # a given sigma0 is the standard deviation itself
    return cmaes.CatCMAwM(x_space=x_space, z_space=z_space, c_space=c_space, population_size=popsize,
                          mean=g_mean, sigma=sigma, cov=g_cov, seed=seed)


def gauss_order(coder: Coder) -> tuple[np.ndarray, np.ndarray]:
    """CatCMA with margin's split of the numeric coordinates: (continuous ones, grid ones),
    each as indices into the coordinates. A grid of more than :data:`MAX_GRID_POINTS`
    points counts as continuous."""
    points = np.array([coder.grid_points(j) for j in range(coder.n_numeric)], dtype=np.int64)
    is_grid = (points >= 2) & (points <= MAX_GRID_POINTS)
    return np.flatnonzero(~is_grid), np.flatnonzero(is_grid)


def default_popsize(kind: str, coder: Coder) -> int:
    """The optimizer's default population size, ``4 + floor(3 ln n)`` (Hansen's eq. 48)."""
    n = coder.n_numeric + (len(coder.cat) if kind == "catcmawm" else 0)
    return 4 + math.floor(3 * math.log(max(n, 1)))
