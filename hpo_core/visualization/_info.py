"""What each figure draws, computed from the history's columns, with the reduction rules.

The parameter figures (slice, rank, contour, parallel coordinates) live in
``_info_params``, the progress plots in ``_info_progress``; the rules and constants here
hold for all of them.

The rules that keep a figure readable (and small) at 100,000 trials; each plot's
docstring states its own, and the tests check the counts:

* :data:`MAX_POINTS` (2,000): a scatter (optimization history, rank, Pareto front's
  dominated trials, contour markers) draws all its trials up to this many, else a
  seeded sample of this many plus the trials that matter (each improvement of the best
  value, the Pareto front up to this many).
* Slice: up to :data:`MAX_POINTS` trials per parameter as points; beyond, a 2-D
  histogram of :data:`SLICE_BINS` cells (log-spaced on a log axis, one column per
  category), counts on a log colour scale, with the best trial marked.
* Contour: the grid is the mean target per cell over *all* trials (cells without a
  trial take the mean of the nearest filled cell; then a Gaussian smoothing of one cell
  along numeric axes), :data:`CONTOUR_GRID` cells a side at most; the markers follow the
  scatter rule.
* Parallel coordinates: up to :data:`MAX_LINES` (1,000) lines; beyond, the best
  :data:`TAIL_LINES` and worst :data:`TAIL_LINES` trials by target plus a seeded sample
  of the rest, :data:`MAX_LINES` lines in all.
* Intermediate values: up to :data:`MAX_CURVES` (100) curves; beyond, a seeded sample
  of :data:`MAX_CURVES` curves (the best COMPLETE trial's included) drawn thin, over the
  median and 25-75 % band of all reports at each step (steps binned to
  :data:`MAX_STEPS` when there are more).
* Timeline: up to :data:`MAX_BARS` (1,000) bars; beyond, every k-th trial by number
  (k = ceil(n / MAX_BARS)), the title saying so. A bar shorter than 1/:data:`MIN_BAR`
  of the time span is drawn that long, so that it stays visible.
* EDF: exact at :data:`EDF_POINTS` values (Optuna's 100); importances: one bar per
  parameter.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core._validation import check_bool, check_int, format_error
from hpo_core.visualization import _data as D

MAX_POINTS = 2_000
SLICE_BINS = (60, 40)
CONTOUR_GRID = 100
MAX_LINES = 1_000
TAIL_LINES = 200
MAX_CURVES = 100
MAX_STEPS = 500
MAX_BARS = 1_000
EDF_POINTS = 100
MIN_BAR = 500


# ---------------------------------------------------------------- optimization history
@dataclass
class HistoryLine:
    name: str
    numbers: np.ndarray  # drawn trials (feasible)
    values: np.ndarray
    infeasible_numbers: np.ndarray
    infeasible_values: np.ndarray
    best_numbers: np.ndarray  # step line vertices: each improvement, and the last trial
    best_values: np.ndarray
    n_complete: int
    values_std: np.ndarray | None = None
    best_std: np.ndarray | None = None


def _best_line(numbers: np.ndarray, values: np.ndarray, minimize: bool) -> tuple[np.ndarray, np.ndarray]:
    if not len(values):
        return numbers[:0], values[:0]
    best = np.minimum.accumulate(values) if minimize else np.maximum.accumulate(values)
    change = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    if change[-1] != len(best) - 1:
        change = np.r_[change, len(best) - 1]
    return numbers[change], best[change]


def optimization_history(study: Any, target: Any, target_name: Any, error_bar: Any) -> list[HistoryLine]:
    studies = D.as_studies(study)
    target = D.check_target(studies, target, target_name)
    check_bool("error_bar", error_bar)
    lines = []
    for s in studies:
        h = D.history_of(s)
        rows = D.complete_rows(h)
        y = D.target_values(h, rows, target)
        ok = D.feasible(h, rows) & ~np.isnan(y)
        minimize = s.directions[0].name == "MINIMIZE"
        num = rows.astype(np.float64)
        bn, bv = _best_line(num[ok], y[ok], minimize) if target is None else (num[:0], y[:0])
        improve = np.flatnonzero(np.isin(num[ok], bn))
        keep = D.seeded_sample(int(ok.sum()), MAX_POINTS, keep=improve)
        bad = D.seeded_sample(int((~ok).sum()), MAX_POINTS)
        lines.append(HistoryLine(s.study_name, num[ok][keep], y[ok][keep], num[~ok][bad], y[~ok][bad],
                                 bn, bv, len(rows)))
    if not any(line.n_complete for line in lines):
        D.warn_empty("There are no complete trials.")
    if error_bar and len(lines) > 1:
        return [_mean_line(lines, studies, target)]
    return lines


def _mean_line(lines: list[HistoryLine], studies: list[Any], target: Any) -> HistoryLine:
    """Mean and standard deviation over studies per trial number (the ``error_bar`` line)."""
    n = max(int(D.history_of(s).n) for s in studies)
    vals = np.full((len(studies), n), np.nan)
    bests = np.full((len(studies), n), np.nan)
    for i, s in enumerate(studies):
        h = D.history_of(s)
        rows = D.complete_rows(h)
        y = D.target_values(h, rows, target)
        vals[i, rows] = y
        minimize = s.directions[0].name == "MINIMIZE"
        filled = np.where(np.isnan(vals[i]), np.inf if minimize else -np.inf, vals[i])
        acc = np.minimum.accumulate(filled) if minimize else np.maximum.accumulate(filled)
        bests[i] = np.where(np.isfinite(acc), acc, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN is right
        mean, std = np.nanmean(vals, axis=0), np.nanstd(vals, axis=0)
        bmean, bstd = np.nanmean(bests, axis=0), np.nanstd(bests, axis=0)
    num = np.arange(n, dtype=np.float64)
    ok = ~np.isnan(mean)
    keep = D.seeded_sample(int(ok.sum()), MAX_POINTS)
    has_best = target is None
    okb = ~np.isnan(bmean) if has_best else np.zeros(n, dtype=bool)
    return HistoryLine("", num[ok][keep], mean[ok][keep], num[:0], num[:0], num[okb], bmean[okb],
                       int(ok.sum()), std[ok][keep], bstd[okb])


# ---------------------------------------------------------------- intermediate values
@dataclass
class CurvesPlot:
    curves: list[tuple[int, np.ndarray, np.ndarray]]  # (number, steps, values)
    band: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None  # steps, q25, median, q75
    n_curves: int


def intermediate_info(study: Any) -> CurvesPlot:
    h = D.history_of(study)
    states = h.states[: h.n]
    drawn = np.isin(states, [int(D.TrialState.COMPLETE), int(D.TrialState.PRUNED), int(D.TrialState.RUNNING)])
    rows, steps, vals = h.steps.log()
    if h.n == 0:
        D.warn_empty("Study instance does not contain trials.")
    ok = drawn[rows] if len(rows) else np.zeros(0, dtype=bool)
    rows, steps, vals = rows[ok], steps[ok], vals[ok, 0]
    trial_rows = np.unique(rows)
    if h.n and not len(trial_rows):
        D.warn_empty("You need to set up the pruning feature to utilize `plot_intermediate_values()`")
    band = None
    pick = trial_rows
    if len(trial_rows) > MAX_CURVES:
        best = [h.best_row] if len(study.directions) == 1 and h.best_row in set(trial_rows.tolist()) else []
        keep_best = np.flatnonzero(trial_rows == best[0]) if best else None
        pick = trial_rows[D.seeded_sample(len(trial_rows), MAX_CURVES - len(best), keep=keep_best)]
        band = _band(steps, vals)
    sel = np.isin(rows, pick)
    r, s, v = rows[sel], steps[sel], vals[sel]
    order = np.lexsort((s, r))
    r, s, v = r[order], s[order], v[order]
    cut = np.flatnonzero(np.diff(r)) + 1
    curves = [(int(rr[0]), ss, vv) for rr, ss, vv in zip(np.split(r, cut), np.split(s, cut), np.split(v, cut))
              if len(rr)]
    return CurvesPlot(curves, band, len(trial_rows))


def _band(steps: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per step (binned to MAX_STEPS bins): its 25 %, 50 % and 75 % quantiles of ``vals``."""
    fin = np.isfinite(vals)
    steps, vals = steps[fin], vals[fin]
    uniq = np.unique(steps)
    if len(uniq) > MAX_STEPS:
        edges = np.linspace(uniq[0], uniq[-1], MAX_STEPS + 1)
        key = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, MAX_STEPS - 1)
        centre = (edges[:-1] + edges[1:]) / 2
    else:
        key = np.searchsorted(uniq, steps)
        centre = uniq.astype(np.float64)
    order = np.lexsort((vals, key))
    k, v = key[order], vals[order]
    groups, start, count = np.unique(k, return_index=True, return_counts=True)

    def q(p: float) -> np.ndarray:  # the lower p-quantile of each sorted group
        return v[start + np.floor(p * (count - 1)).astype(np.intp)]

    return centre[groups], q(0.25), q(0.5), q(0.75)


# ---------------------------------------------------------------- EDF
@dataclass
class EdfPlot:
    x: np.ndarray
    lines: list[tuple[str, np.ndarray]]
    target_name: str


def edf_info(study: Any, target: Any, target_name: Any) -> EdfPlot:
    studies = D.as_studies(study)
    target = D.check_target(studies, target, target_name)
    per = []
    for s in studies:
        h = D.history_of(s)
        y = D.target_values(h, D.complete_rows(h), target)
        per.append((s.study_name, np.sort(y[np.isfinite(y)])))
    allv = np.concatenate([v for _, v in per]) if per else np.zeros(0)
    if not len(studies):
        D.warn_empty("There are no studies.")
    if not len(allv):
        D.warn_empty("There are no complete trials.")
        return EdfPlot(np.zeros(0), [], target_name)
    x = np.linspace(allv.min(), allv.max(), EDF_POINTS)
    lines = [(name, np.searchsorted(v, x, side="right") / max(len(v), 1)) for name, v in per if len(v)]
    return EdfPlot(x, lines, target_name)


# ---------------------------------------------------------------- Pareto front
@dataclass
class ParetoPlot:
    names: list[str]
    best: np.ndarray  # (k, d) values of drawn front trials
    best_numbers: np.ndarray
    others: np.ndarray
    other_numbers: np.ndarray
    infeasible: np.ndarray
    n_best: int
    n_others: int


def pareto_info(study: Any, target_names: Any, include_dominated_trials: Any, constraints_func: Any,
                targets: Any) -> ParetoPlot:
    from hpo_core import kernels

    h = D.history_of(study)
    check_bool("include_dominated_trials", include_dominated_trials)
    D.check_callable("targets", targets, allow_none=True)
    D.check_callable("constraints_func", constraints_func, allow_none=True)
    if target_names is not None and (not isinstance(target_names, (list, tuple))
                                     or any(not isinstance(t, str) for t in target_names)):
        raise TypeError(format_error("target_names", "a list of str or None", target_names))
    m = len(study.directions)
    if targets is None and m not in (2, 3):
        raise ValueError(format_error("targets", "a callable when the study has not 2 or 3 objectives", None))
    rows = D.complete_rows(h)
    if constraints_func is not None:
        ok = np.array([all(c <= 0.0 for c in constraints_func(h.frozen(r))) for r in rows.tolist()], dtype=bool)
    else:
        ok = D.feasible(h, rows)
    signs = np.array([1.0 if d.name == "MINIMIZE" else -1.0 for d in study.directions])
    vals = h.values[rows]
    front = np.zeros(len(rows), dtype=bool)
    if ok.any():
        front[np.flatnonzero(ok)] = np.asarray(kernels.is_pareto_front(np.ascontiguousarray(vals[ok] * signs)), bool)
    if targets is not None:
        out = [targets(h.frozen(r)) for r in rows.tolist()]
        vals = np.array(out, dtype=np.float64).reshape(len(rows), -1)
    d = vals.shape[1] if len(rows) else (len(target_names) if target_names is not None else m)
    if d not in (2, 3):
        raise ValueError(format_error("targets", "a callable returning 2 or 3 values", f"{d} values"))
    if target_names is None:
        target_names = [f"Objective {i}" for i in range(d)]
    elif len(target_names) != d:
        raise ValueError(format_error("target_names", f"a list of {d} names", target_names))
    if not front.any():
        D.warn_empty("Your study does not have any completed trials.")
    b = np.flatnonzero(front)
    o = np.flatnonzero(ok & ~front) if include_dominated_trials else np.zeros(0, dtype=np.intp)
    bad = np.flatnonzero(~ok)
    b2, o2, bad2 = (x[D.seeded_sample(len(x), MAX_POINTS)] for x in (b, o, bad))
    return ParetoPlot(list(target_names), vals[b2], rows[b2], vals[o2], rows[o2], vals[bad2], len(b), len(o))


# ---------------------------------------------------------------- timeline
@dataclass
class TimelinePlot:
    numbers: np.ndarray
    start: np.ndarray  # POSIX seconds
    end: np.ndarray
    states: np.ndarray
    stride: int
    n_trials: int = 0
    state_names: list[str] = field(default_factory=list)


def timeline_info(study: Any, n_recent_trials: Any) -> TimelinePlot:
    import time

    h = D.history_of(study)
    if n_recent_trials is not None:
        check_int("n_recent_trials", n_recent_trials, low=1)
    rows = h.rows()
    rows = rows[~np.isnan(h.t_start[rows])]
    if n_recent_trials is not None:
        rows = rows[-n_recent_trials:]
    if not len(rows):
        D.warn_empty("Your study does not have any trials.")
    stride = max(1, math.ceil(len(rows) / MAX_BARS))
    sel = rows[::stride]
    start = h.t_start[sel]
    end = h.t_complete[sel].copy()
    running = np.isnan(end)
    end[running] = time.time()  # a running trial's bar reaches now
    if len(sel):  # bars shorter than 1/MIN_BAR of the span drawn that wide: still visible
        span = float(np.nanmax(end) - np.nanmin(start))
        end = np.maximum(end, start + span / MIN_BAR)
    return TimelinePlot(sel, start, end, h.states[sel].astype(np.intp), stride, len(rows))
