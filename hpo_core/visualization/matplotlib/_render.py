"""Matplotlib renderers: each takes the arrays of ``_info`` and returns Axes."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from hpo_core._imports import import_optional
from hpo_core.trial import TrialState
from hpo_core.visualization import _data as D
from hpo_core.visualization import _info as I
from hpo_core.visualization import _info_params as IPar
from hpo_core.visualization import _info_progress as IP

CMAP = "Blues"
STATE_COLORS = {"COMPLETE": "tab:blue", "FAIL": "tab:red", "PRUNED": "tab:orange", "RUNNING": "tab:green",
                "WAITING": "tab:gray"}


def _blues() -> Any:
    """Blues without its near-white end, so that the first trials stay visible."""
    colors = import_optional("matplotlib.colors", extra="visualization", feature="hpo_core.visualization.matplotlib")
    base = _plt().get_cmap("Blues")
    return colors.ListedColormap(base(np.linspace(0.25, 1.0, 256)))


def _plt() -> Any:
    return import_optional("matplotlib.pyplot", extra="visualization", feature="hpo_core.visualization.matplotlib")


def _style_axis(ax: Any, a: D.Axis, which: str) -> None:
    set_scale = ax.set_xscale if which == "x" else ax.set_yscale
    if a.is_log:
        set_scale("log")
    elif a.is_categorical:
        labels = a.labels or []
        (ax.set_xticks if which == "x" else ax.set_yticks)(range(len(labels)))
        (ax.set_xticklabels if which == "x" else ax.set_yticklabels)(labels)


def optimization_history(lines: list[I.HistoryLine], target_name: str) -> Any:
    plt = _plt()
    _, ax = plt.subplots(figsize=(8, 5))
    ax.set_title("Optimization History Plot")
    ax.set_xlabel("Trial")
    ax.set_ylabel(target_name)
    multi = len(lines) > 1
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, line in enumerate(lines):
        c = colors[(2 * i) % len(colors)]
        suffix = f" of {line.name}" if multi else ""  # Optuna's labels
        big = line.n_complete > I.MAX_POINTS
        label = target_name if not big else f"{target_name} ({len(line.values):,} of {line.n_complete:,} trials)"
        if line.values_std is not None:
            ax.errorbar(line.numbers, line.values, yerr=line.values_std, fmt="o", ms=3, color=c, alpha=0.6,
                        label=label + suffix)
        else:
            ax.scatter(line.numbers, line.values, s=4 if big else 15, color=c, alpha=0.4 if big else 1.0,
                       label=label + suffix, linewidths=0)
        if len(line.best_numbers):
            ax.step(line.best_numbers, line.best_values, where="post", color=colors[(2 * i + 1) % len(colors)],
                    label="Best Value" + suffix, lw=2)
            if line.best_std is not None:
                ax.fill_between(line.best_numbers, line.best_values - line.best_std,
                                line.best_values + line.best_std, alpha=0.2, step="post",
                                color=colors[(2 * i + 1) % len(colors)])
        if len(line.infeasible_numbers):
            ax.scatter(line.infeasible_numbers, line.infeasible_values, s=8, color="#cccccc")
    if any(len(line.numbers) for line in lines):
        ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return ax


def param_importances(sets: list[tuple[str, dict[str, float]]]) -> Any:
    plt = _plt()
    order = list(sets[0][1])[::-1] if sets else []
    _, ax = plt.subplots(figsize=(8, 0.45 * max(len(order) * max(len(sets), 1), 3) + 1.5))
    height = 0.8 / max(len(sets), 1)
    top = 0.0
    for k, (name, imp) in enumerate(sets):
        vals = [imp.get(n, 0.0) for n in order]
        pos = np.arange(len(order)) + (k - (len(sets) - 1) / 2) * height
        bars = ax.barh(pos, vals, height=height, label=name)
        for b, v in zip(bars, vals):
            ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {v:.2f}" if v >= 0.01 else " <0.01",
                    va="center", fontsize=8)
        top = max([top, *vals])
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels(order)
    ax.set_title("Hyperparameter Importances")
    ax.set_xlabel(f"Hyperparameter Importance ({sets[0][0]})" if len(sets) == 1 else "Hyperparameter Importance")
    ax.set_ylabel("Hyperparameter")
    ax.set_xlim(0, top * 1.15 or 1)
    if len(sets) > 1:
        ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return ax


def slice_plot(info: IPar.ParamPlot) -> Any:
    plt = _plt()
    n = len(info.panels)
    fig, axs = plt.subplots(1, max(n, 1), sharey=True, figsize=(max(3.2 * n, 6), 4), squeeze=False,
                            layout="constrained")
    fig.suptitle("Slice Plot")
    axs = axs[0]
    colors = import_optional("matplotlib.colors", extra="visualization", feature="plot_slice")
    scatter = mesh = None
    for ax, p in zip(axs, info.panels):
        if p.hist is None:
            scatter = ax.scatter(p.x, p.y, c=p.numbers, cmap=_blues(), s=12, edgecolors="grey", linewidths=0.3)
        else:
            counts, xe, ye = p.hist
            masked = np.ma.masked_equal(counts, 0)
            mesh = ax.pcolormesh(xe, ye, masked, cmap="viridis",
                                 norm=colors.LogNorm() if counts.max() > 1 else None)
            if p.best is not None:
                ax.scatter([p.best[0]], [p.best[1]], marker="*", s=120, color="red", label="Best Trial", zorder=3)
        ax.set_xlabel(p.axis.name)
        _style_axis(ax, p.axis, "x")
        ax.grid(alpha=0.3)
    axs[0].set_ylabel(info.target_name)
    if mesh is not None:
        fig.colorbar(mesh, ax=list(axs), label="trials per cell")
    elif scatter is not None:
        fig.colorbar(scatter, ax=list(axs), label="Trial")
    return axs[0] if n == 1 else axs


def contour(info: IPar.ContourPlot) -> Any:
    plt = _plt()
    k = len(info.names)
    cmap = "Blues_r" if info.reverse_scale else "Blues"
    if k < 2:
        _, ax = plt.subplots()
        ax.set_title("Contour Plot")
        return ax
    if k == 2:
        fig, ax = plt.subplots(figsize=(7, 5.5))
        a, b = info.names
        cs = _contour_panel(ax, info.pairs[(a, b)], info, cmap)
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        ax.set_title("Contour Plot")
        fig.colorbar(cs, ax=ax, label=info.target_name)
        return ax
    fig, axs = plt.subplots(k, k, figsize=(2.4 * k + 1.5, 2.4 * k), squeeze=False, layout="constrained")
    fig.suptitle("Contour Plot")
    cs = None
    for r, yb in enumerate(info.names):
        for c, xa in enumerate(info.names):
            ax = axs[r, c]
            if xa == yb:
                ax.axis("off")
                continue
            cs = _contour_panel(ax, info.pairs[(xa, yb)], info, cmap)
            _matrix_labels(ax, r, c, k, xa, yb)
    fig.colorbar(cs, ax=axs, label=info.target_name)
    return axs


def _matrix_labels(ax: Any, r: int, c: int, k: int, xa: str, yb: str) -> None:
    """Labels of panel (r, c) of a k x k matrix with an empty diagonal: names on the
    outer panels (the last row, and the panel above the empty corner), none inside."""
    if r == k - 1 or (r == k - 2 and c == k - 1):
        ax.set_xlabel(xa)
    else:
        ax.tick_params(labelbottom=False)
    if c == 0 or (c == 1 and r == 0):
        ax.set_ylabel(yb)
    else:
        ax.tick_params(labelleft=False)


def _contour_panel(ax: Any, pair: IPar.ContourPair, info: IPar.ContourPlot, cmap: str) -> Any:
    if np.isnan(pair.z).all():
        return ax.scatter([], [])
    cs = ax.pcolormesh(pair.xs, pair.ys, pair.z, cmap=cmap, shading="nearest")
    if info.n_complete > I.MAX_POINTS:  # a sample: small and faint, the grid carries the data
        ax.scatter(pair.px, pair.py, s=1, color="black", alpha=0.25, linewidths=0)
    else:
        ax.scatter(pair.px, pair.py, s=8, color="black", edgecolors="white", linewidths=0.3)
    _style_axis(ax, pair.x, "x")
    _style_axis(ax, pair.y, "y")
    return cs


def parallel_coordinate(info: IPar.ParallelPlot) -> Any:
    plt = _plt()
    cols: list[tuple[str, np.ndarray, Any]] = [(label, v, None) for label, v in info.objectives]
    for a in info.axes:
        v = np.log10(a.values) if a.is_log else a.values
        cols.append((a.name + (" (log10)" if a.is_log else ""), v, a.labels))
    n = len(cols)
    fig, ax = plt.subplots(figsize=(max(1.6 * n, 6), 5))
    title = "Parallel Coordinate Plot"
    if info.n_complete > I.MAX_LINES:
        title += f"\n{I.MAX_LINES:,} of {info.n_complete:,} trials: best and worst {I.TAIL_LINES}, a sample of the rest"
    ax.set_title(title)
    if not len(info.color):
        return ax
    scaled = np.empty((len(info.color), n))
    for i, (_, v, labels) in enumerate(cols):
        lo, hi = (0.0, max(len(labels) - 1, 1)) if labels else (float(np.nanmin(v)), float(np.nanmax(v)))
        scaled[:, i] = (v - lo) / (hi - lo) if hi > lo else 0.5
        ticks = np.linspace(0, 1, 5) if not labels else np.arange(len(labels)) / max(len(labels) - 1, 1)
        texts = [f"{lo + t * (hi - lo):.3g}" for t in ticks] if not labels else labels
        for t, s in zip(ticks, texts):
            ax.text(i, t, s + " ", ha="right", va="center", fontsize=7)
        ax.axvline(i, color="black", lw=0.8)
    cmap = plt.get_cmap("Blues_r" if info.reverse_scale else "Blues")
    yr = (info.color - info.color.min()) / (np.ptp(info.color) or 1.0)
    order = np.argsort(-yr if info.reverse_scale else yr)  # best lines on top
    from matplotlib.collections import LineCollection

    segs = np.stack([np.tile(np.arange(n), (len(order), 1)), scaled[order]], axis=2)
    rgba = cmap(0.15 + 0.85 * yr[order])
    if info.n_complete > I.MAX_LINES:  # reduced: the best lines opaque, the rest faint
        goodness = np.linspace(0.0, 1.0, len(order))  # draw order: worst first
        rgba[:, 3] = 0.12 + 0.8 * goodness**3
    lc = LineCollection(list(segs), colors=rgba, linewidths=0.8, alpha=None if info.n_complete > I.MAX_LINES else 0.8)
    ax.add_collection(lc)
    norm = _plt().Normalize(float(info.color.min()), float(info.color.max()))
    sm = _plt().cm.ScalarMappable(norm=norm, cmap=cmap)
    ax.figure.colorbar(sm, ax=ax, label=info.color_title)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(range(n))
    ax.set_xticklabels([c[0] for c in cols], rotation=30, ha="right")
    ax.set_yticks([])
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    return ax


def intermediate_values(info: I.CurvesPlot) -> Any:
    plt = _plt()
    _, ax = plt.subplots(figsize=(8, 5))
    sampled = info.band is not None
    for number, steps, values in info.curves:
        if sampled:
            ax.plot(steps, values, color="grey", lw=0.6, alpha=0.35)
        else:
            ax.plot(steps, values, marker="o", ms=3, lw=1, label=f"Trial{number}")
    title = "Intermediate Values Plot"
    if info.band is not None:
        s, q25, q50, q75 = info.band
        ax.fill_between(s, q25, q75, color="tab:blue", alpha=0.3, label="25-75 % of all trials")
        ax.plot(s, q50, color="tab:blue", lw=2.5, label="median of all trials")
        title += f"\n{len(info.curves)} of {info.n_curves:,} trials drawn, band over all"
        ax.legend(loc="best")
    elif 0 < len(info.curves) <= 10:
        ax.legend(loc="best", fontsize=7)
    ax.set_title(title)
    ax.set_xlabel("Step")
    ax.set_ylabel("Intermediate Value")
    ax.grid(alpha=0.3)
    return ax


def edf(info: I.EdfPlot) -> Any:
    plt = _plt()
    _, ax = plt.subplots(figsize=(8, 5))
    for name, y in info.lines:
        ax.plot(info.x, y, label=name)
    ax.set_title("Empirical Distribution Function Plot")
    ax.set_xlabel(info.target_name)
    ax.set_ylabel("Cumulative Probability")
    ax.set_ylim(0, 1.02)
    if len(info.lines) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def pareto_front(info: I.ParetoPlot) -> Any:
    plt = _plt()
    d = len(info.names)
    fig = plt.figure(figsize=(8, 6))
    ax = fig.add_subplot(111, projection="3d" if d == 3 else None)

    def pts(v: np.ndarray) -> list[np.ndarray]:
        return [v[:, i] for i in range(d)]

    title = "Pareto-front Plot"
    if len(info.others):
        sc = ax.scatter(*pts(info.others), c=info.other_numbers, cmap=_blues(), s=6, label="Trial")
        fig.colorbar(sc, ax=ax, label="Trial", shrink=0.8)
    if len(info.best):
        ax.scatter(*pts(info.best), color="tab:red", s=18, label="Best Trial")
    if len(info.infeasible):
        ax.scatter(*pts(info.infeasible), color="#cccccc", s=6, label="Infeasible Trial")
    if info.n_others > I.MAX_POINTS:
        title += f"\ndominated: {len(info.others):,} of {info.n_others:,} trials drawn"
    ax.set_title(title)
    ax.set_xlabel(info.names[0])
    ax.set_ylabel(info.names[1])
    if d == 3:
        ax.set_zlabel(info.names[2])
    if len(info.best) or len(info.others):
        ax.legend(loc="best")
    return ax


def rank(info: IPar.RankPlot) -> Any:
    plt = _plt()
    names = info.names
    title = f"Rank ({info.target_name})"
    if info.n_complete > I.MAX_POINTS:
        title += f": {len(info.y):,} of {info.n_complete:,} trials"
    s = 6 if info.n_complete > 500 else 20
    kw = {"c": info.rank, "cmap": "RdYlBu_r", "vmin": 0, "vmax": 1, "s": s}
    if len(names) <= 2:
        fig, ax = plt.subplots(figsize=(7, 5))
        if len(names) == 1:
            a = info.axes[names[0]]
            sc = ax.scatter(a.values, info.y, **kw)
            ax.set_ylabel(info.target_name)
        elif len(names) == 2:
            a, b = info.axes[names[0]], info.axes[names[1]]
            sc = ax.scatter(a.values, b.values, **kw)
            ax.set_ylabel(b.name)
            _style_axis(ax, b, "y")
        else:
            ax.set_title(title)
            return ax
        ax.set_xlabel(a.name)
        _style_axis(ax, a, "x")
        ax.set_title(title)
        fig.colorbar(sc, ax=ax, label="rank (0 = lowest)")
        return ax
    k = len(names)
    fig, axs = plt.subplots(k, k, figsize=(2.4 * k + 1.5, 2.4 * k), squeeze=False, layout="constrained")
    fig.suptitle(title)
    for r, yb in enumerate(names):
        for c, xa in enumerate(names):
            ax = axs[r, c]
            if xa == yb:
                ax.axis("off")
                continue
            a, b = info.axes[xa], info.axes[yb]
            sc = ax.scatter(a.values, b.values, **dict(kw, s=3 if s == 6 else 10))
            _style_axis(ax, a, "x")
            _style_axis(ax, b, "y")
            _matrix_labels(ax, r, c, k, xa, yb)
    fig.colorbar(sc, ax=axs, label="rank (0 = lowest)")
    return axs


def timeline(info: I.TimelinePlot) -> Any:
    plt = _plt()
    mdates = import_optional("matplotlib.dates", extra="visualization", feature="plot_timeline")
    _, ax = plt.subplots(figsize=(9, 5))
    title = "Timeline Plot"
    if info.stride > 1:
        title += f" (every {info.stride}th of {info.n_trials:,} trials)"
    ax.set_title(title)
    ax.set_xlabel("Datetime")
    ax.set_ylabel("Trial")
    h = info.stride * 0.8
    for state in TrialState:
        sel = info.states == int(state)
        if not sel.any():
            continue
        start = mdates.date2num([datetime.datetime.fromtimestamp(t) for t in info.start[sel].tolist()])
        end = mdates.date2num([datetime.datetime.fromtimestamp(t) for t in info.end[sel].tolist()])
        ax.barh(info.numbers[sel], end - start, left=start, height=h, color=STATE_COLORS.get(state.name),
                label=state.name)
    if len(info.numbers):
        ax.xaxis_date()
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.legend(loc="best")
    return ax


def terminator_improvement(info: IP.ImprovementInfo) -> Any:
    """Optuna's figure: improvements lighter up to ``min_n_trials``, errors in red."""
    plt = _plt()
    _, ax = plt.subplots(figsize=(8, 5))
    ax.set_title("Terminator Improvement Plot")
    ax.set_xlabel("Trial")
    ax.set_ylabel("Terminator Improvement")
    n, k = len(info.trial_numbers), info.min_n_trials
    if n == 0:
        D.warn_empty("There are no complete trials.")
        return ax
    ax.plot(info.trial_numbers[: k + 1], info.improvements[: k + 1], marker="o", color="tab:blue",
            alpha=IP.OPACITY, label="Terminator Improvement" if n <= k else None)
    if n > k:
        ax.plot(info.trial_numbers[k:], info.improvements[k:], marker="o", color="tab:blue",
                label="Terminator Improvement")
    if info.errors is not None:
        ax.plot(info.trial_numbers, info.errors, marker="o", color="tab:red", label="Error")
    ax.legend()
    ax.set_ylim(info.y_range())
    ax.grid(alpha=0.3)
    return ax


def hypervolume_history(info: IP.HypervolumeInfo) -> Any:
    """Optuna's line and markers per COMPLETE trial; beyond 2,000 trials a step line
    through the changes."""
    plt = _plt()
    _, ax = plt.subplots(figsize=(8, 5))
    title = "Hypervolume History Plot"
    if info.is_reduced:
        ax.step(info.trial_numbers, info.values, where="post", color="tab:blue")
        title += f"\n{info.n_complete:,} trials, {info.n_changes:,} changes"
    else:
        ax.plot(info.trial_numbers, info.values, marker="o", color="tab:blue", alpha=0.5)
    ax.set_title(title)
    ax.set_xlabel("Trial")
    ax.set_ylabel("Hypervolume")
    ax.grid(alpha=0.3)
    return ax
