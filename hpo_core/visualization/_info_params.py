"""What the parameter figures draw: slice, rank, contour and parallel coordinates.

Each takes the COMPLETE trials with a finite target and the chosen parameters' columns
(``hpo_core.visualization._data.axis``) and reduces them by the rules that
:mod:`hpo_core.visualization._info` states, with its constants (:data:`MAX_POINTS`,
:data:`SLICE_BINS`, :data:`CONTOUR_GRID`, :data:`MAX_LINES`, :data:`TAIL_LINES`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_core.visualization import _data as D
from hpo_core.visualization._info import CONTOUR_GRID, MAX_LINES, MAX_POINTS, SLICE_BINS, TAIL_LINES


# ---------------------------------------------------------------- slice and rank
@dataclass
class Panel:
    """One parameter's scatter (or 2-D histogram) against the target."""

    axis: D.Axis
    x: np.ndarray
    y: np.ndarray
    numbers: np.ndarray
    n_trials: int
    hist: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # counts (ny, nx), x edges, y edges
    best: tuple[float, float] | None = None


@dataclass
class ParamPlot:
    panels: list[Panel]
    target_name: str
    n_complete: int
    minimize: bool = True


def _rows_target(study: Any, params: Any, target: Any, target_name: Any, *, keep_order: bool = False
                 ) -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
    h = D.history_of(study)
    target = D.check_target([study], target, target_name)
    params = D.check_params(params)
    rows = D.complete_rows(h)
    names = D.select_params(h, rows, params, keep_order=keep_order)
    y = D.target_values(h, rows, target)
    ok = ~np.isnan(y)
    return h, rows[ok], y[ok], names


def _edges(v: np.ndarray, n: int, log: bool) -> np.ndarray:
    lo, hi = float(np.min(v)), float(np.max(v))
    if log and lo > 0:
        return np.geomspace(lo, hi, n + 1) if hi > lo else np.array([lo / 1.01, hi * 1.01])
    return np.linspace(lo, hi, n + 1) if hi > lo else np.array([lo - 0.5, hi + 0.5])


def slice_info(study: Any, params: Any, target: Any, target_name: Any) -> ParamPlot:
    h, rows, y, names = _rows_target(study, params, target, target_name)
    minimize = len(study.directions) == 1 and study.directions[0].name == "MINIMIZE"
    panels = []
    for name in names:
        ax = D.axis(h, name, rows)
        has = ~np.isnan(ax.values)
        x, yy, num = ax.values[has], y[has], rows[has]
        panel = Panel(ax, x, yy, num, len(x))
        if len(x) > MAX_POINTS:
            nx, ny = SLICE_BINS
            xe = (np.arange(len(ax.labels or []) + 1) - 0.5 if ax.is_categorical else _edges(x, nx, ax.is_log))
            # y bins over the 0.1-99.9 % quantiles: a heavy tail would squash the rest
            # into one row; values outside fall in the edge bins.
            lo, hi = np.quantile(yy, [0.001, 0.999])
            ye = _edges(np.array([lo, hi]), ny, False)
            counts, _, _ = np.histogram2d(x, np.clip(yy, ye[0], ye[-1]), bins=(xe, ye))
            k = int(np.argmin(yy) if minimize else np.argmax(yy))
            panel = Panel(ax, x[:0], yy[:0], num[:0], len(x), (counts.T, xe, ye), (float(x[k]), float(yy[k])))
        panels.append(panel)
    if not len(rows):
        D.warn_empty("Your study does not have any completed trials.")
    return ParamPlot(panels, target_name, len(rows), minimize)


@dataclass
class RankPlot:
    """Pairs of parameters (or one parameter against the target) coloured by rank."""

    names: list[str]
    axes: dict[str, D.Axis]
    y: np.ndarray  # sampled target values
    rank: np.ndarray  # (n,) in [0, 1], the target's rank among all trials
    target_name: str
    n_complete: int


def rank_info(study: Any, params: Any, target: Any, target_name: Any) -> RankPlot:
    from scipy.stats import rankdata

    h, rows, y, names = _rows_target(study, params, target, target_name, keep_order=True)
    if not len(rows):
        D.warn_empty("Your study does not have any completed trials.")
    # Optuna's colour index: the rank from 0, ties sharing their mean rank, over n - 1.
    rank = (rankdata(y, method="average") - 1.0) / (len(y) - 1) if len(y) >= 2 else np.full(len(y), 0.5)
    keep = D.seeded_sample(len(rows), MAX_POINTS)
    axes = {n: D.axis(h, n, rows[keep]) for n in names}
    return RankPlot(names, axes, y[keep], rank[keep], target_name, len(rows))


# ---------------------------------------------------------------- contour
@dataclass
class ContourPair:
    x: D.Axis
    y: D.Axis
    xs: np.ndarray  # grid centres (gx,)
    ys: np.ndarray  # (gy,)
    z: np.ndarray  # (gy, gx) mean target per cell, nearest-filled
    px: np.ndarray  # marker positions (sampled)
    py: np.ndarray


@dataclass
class ContourPlot:
    names: list[str]
    pairs: dict[tuple[str, str], ContourPair]
    target_name: str
    n_complete: int
    reverse_scale: bool


def _grid_coord(ax: D.Axis, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell index of each value and the cell centres, over ``n`` cells (one per category)."""
    if ax.is_categorical:
        k = len(ax.labels or [])
        return v.astype(np.intp), np.arange(k, dtype=np.float64)
    edges = _edges(v, n, ax.is_log)
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)
    centres = np.sqrt(edges[:-1] * edges[1:]) if ax.is_log else (edges[:-1] + edges[1:]) / 2
    return idx, centres


def _contour_pair(ax: D.Axis, ay: D.Axis, y: np.ndarray, g: int) -> ContourPair:
    from scipy import ndimage

    has = ~np.isnan(ax.values) & ~np.isnan(ay.values)
    vx, vy, z = ax.values[has], ay.values[has], y[has]
    ix, xs = _grid_coord(ax, vx, g)
    iy, ys = _grid_coord(ay, vy, g)
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    np.add.at(total, (iy, ix), z)
    np.add.at(count, (iy, ix), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = total / count
    empty = count == 0
    if empty.all():
        grid = np.full_like(grid, np.nan)
    elif empty.any():  # each empty cell takes its nearest filled cell's mean
        _, (ii, jj) = ndimage.distance_transform_edt(empty, return_indices=True)
        grid = grid[ii, jj]
    if not empty.all():  # smooth one cell along numeric axes (never across categories)
        grid = ndimage.gaussian_filter(grid, sigma=(0.0 if ay.is_categorical else 1.0,
                                                    0.0 if ax.is_categorical else 1.0), mode="nearest")
    keep = D.seeded_sample(len(vx), MAX_POINTS)
    return ContourPair(ax, ay, xs, ys, grid, vx[keep], vy[keep])


def contour_info(study: Any, params: Any, target: Any, target_name: Any) -> ContourPlot:
    h, rows, y, names = _rows_target(study, params, target, target_name)
    if not len(rows):
        D.warn_empty("Your study does not have any completed trials.")
    if len(names) < 2:
        if len(rows):
            D.warn_empty("The length of params must be greater than 1.")
        names = names if len(names) >= 2 else []
    # Grid resolution grows with the data: about 2 trials per cell, 10..CONTOUR_GRID a side.
    g = int(np.clip(math.sqrt(max(len(rows), 1) / 2.0), 10, CONTOUR_GRID))
    axes = {n: D.axis(h, n, rows) for n in names}
    pairs = {}
    for a in names:
        for b in names:
            if a != b:
                pairs[(a, b)] = _contour_pair(axes[a], axes[b], y, g)
    minimize = len(study.directions) == 1 and study.directions[0].name == "MINIMIZE"
    return ContourPlot(names, pairs, target_name, len(rows), reverse_scale=minimize)


# ---------------------------------------------------------------- parallel coordinates
@dataclass
class ParallelPlot:
    objectives: list[tuple[str, np.ndarray]]  # (label, values over the drawn lines)
    axes: list[D.Axis]  # over the drawn lines
    color: np.ndarray  # the target, or the Pareto rank (0 = the front)
    color_title: str
    n_complete: int
    reverse_scale: bool


def parallel_info(study: Any, params: Any, target: Any, target_name: Any) -> ParallelPlot:
    from hpo_core import kernels

    h = D.history_of(study)
    multi = target is None and len(study.directions) > 1
    if multi:  # Optuna 5.0: one axis per objective, lines coloured by Pareto rank
        rows = D.complete_rows(h)
        vals = h.values[rows]
        fin = np.isfinite(vals).all(axis=1)
        rows, vals = rows[fin], vals[fin]
        names = D.select_params(h, rows, D.check_params(params))
    else:
        h, rows, y, names = _rows_target(study, params, target, target_name)
        vals = y[:, None]
    if not len(rows):
        D.warn_empty("Your study does not have any completed trials.")
    # Optuna draws the trials holding every plotted parameter.
    if names and len(rows):
        cols = [h.param_index[n] for n in names]
        full = (h.codes[rows][:, cols] >= 0).all(axis=1)
        rows, vals = rows[full], vals[full]
    if multi:
        signs = np.array([1.0 if d.name == "MINIMIZE" else -1.0 for d in study.directions])
        color = np.asarray(kernels.nondominated_rank(np.ascontiguousarray(vals * signs)), dtype=np.float64) \
            if len(rows) else np.zeros(0)
        loss, labels, title, reverse = color, [f"Objective {i}" for i in range(vals.shape[1])], "Pareto Rank", True
    else:
        color = vals[:, 0]
        minimize = len(study.directions) == 1 and study.directions[0].name == "MINIMIZE"
        loss, labels, title, reverse = (color if minimize else -color), [target_name], target_name, minimize
    keep = np.arange(len(rows))
    if len(rows) > MAX_LINES:
        order = np.argsort(loss, kind="stable")
        best, worst, mid = order[:TAIL_LINES], order[-TAIL_LINES:], order[TAIL_LINES:-TAIL_LINES]
        mid = mid[D.seeded_sample(len(mid), MAX_LINES - 2 * TAIL_LINES)]
        keep = np.sort(np.concatenate([best, worst, mid]))
    objectives = [(label, vals[keep, i]) for i, label in enumerate(labels)]
    axes = [D.axis(h, n, rows[keep]) for n in names]
    return ParallelPlot(objectives, axes, color[keep], title, len(rows), reverse)
