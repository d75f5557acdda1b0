"""Plotly renderers: each takes the arrays of ``_info`` and returns a ``go.Figure``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpo_core._imports import import_optional
from hpo_core.visualization import _data as D
from hpo_core.visualization import _info as I
from hpo_core.visualization import _info_params as IPar
from hpo_core.visualization import _info_progress as IP

COLORSCALE = "Blues"
STATE_COLORS = {"COMPLETE": "blue", "FAIL": "red", "PRUNED": "orange", "RUNNING": "green", "WAITING": "gray"}


def _go() -> Any:
    return import_optional("plotly.graph_objects", extra="visualization", feature="hpo_core.visualization")


def _subplots(rows: int, cols: int, **kw: Any) -> Any:
    sp = import_optional("plotly.subplots", extra="visualization", feature="hpo_core.visualization")
    return sp.make_subplots(rows=rows, cols=cols, **kw)


def _axis_kw(ax: D.Axis) -> dict[str, Any]:
    if ax.is_categorical:
        return {"type": "linear", "tickmode": "array", "tickvals": list(range(len(ax.labels or []))),
                "ticktext": ax.labels}
    return {"type": "log" if ax.is_log else "linear"}


def optimization_history(lines: list[I.HistoryLine], target_name: str) -> Any:
    go = _go()
    fig = go.Figure()
    multi = len(lines) > 1
    for line in lines:
        suffix = f" of {line.name}" if multi else ""  # Optuna's labels
        err = None if line.values_std is None else {"type": "data", "array": line.values_std, "visible": True}
        label = target_name if line.n_complete <= I.MAX_POINTS else (
            f"{target_name} ({len(line.values):,} of {line.n_complete:,} trials)")
        fig.add_trace(go.Scatter(x=line.numbers, y=line.values, mode="markers", name=label + suffix,
                                 error_y=err, marker={"size": 4 if line.n_complete > I.MAX_POINTS else 6}))
        if len(line.best_numbers):
            fig.add_trace(go.Scatter(x=line.best_numbers, y=line.best_values, mode="lines",
                                     line={"shape": "hv"}, name="Best Value" + suffix))
        if len(line.infeasible_numbers):
            fig.add_trace(go.Scatter(x=line.infeasible_numbers, y=line.infeasible_values, mode="markers",
                                     name="Infeasible Trial", marker={"color": "#cccccc"}, showlegend=False))
    fig.update_layout(title="Optimization History Plot", xaxis={"title": "Trial"},
                      yaxis={"title": target_name})
    return fig


def param_importances(sets: list[tuple[str, dict[str, float]]]) -> Any:
    go = _go()
    fig = go.Figure()
    order = list(sets[0][1])[::-1] if sets else []  # least important of the first set at the bottom
    for name, imp in sets:
        vals = [imp.get(n, 0.0) for n in order]
        fig.add_trace(go.Bar(x=vals, y=order, orientation="h", name=name, textposition="outside",
                             text=[f"{v:.2f}" if v >= 0.01 else "<0.01" for v in vals]))
    xtitle = f"Hyperparameter Importance ({sets[0][0]})" if len(sets) == 1 else "Hyperparameter Importance"
    fig.update_layout(title="Hyperparameter Importances", xaxis={"title": xtitle},
                      yaxis={"title": "Hyperparameter"}, showlegend=len(sets) > 1, barmode="group")
    return fig


def slice_plot(info: IPar.ParamPlot) -> Any:
    go = _go()
    n = len(info.panels)
    fig = _subplots(1, max(n, 1), shared_yaxes=True, horizontal_spacing=0.03 if n > 4 else 0.08)
    for i, p in enumerate(info.panels, start=1):
        if p.hist is None:
            fig.add_trace(go.Scatter(
                x=p.x, y=p.y, mode="markers", name="Feasible Trial", showlegend=False,
                marker={"color": p.numbers, "colorscale": COLORSCALE, "line": {"width": 0.5, "color": "Grey"},
                        "colorbar": {"title": "Trial"} if i == 1 else None, "showscale": i == 1}),
                row=1, col=i)
        else:
            counts, xe, ye = p.hist
            xc = np.sqrt(xe[:-1] * xe[1:]) if p.axis.is_log else (xe[:-1] + xe[1:]) / 2
            fig.add_trace(go.Heatmap(x=xc, y=(ye[:-1] + ye[1:]) / 2, z=np.where(counts > 0, np.log10(
                np.maximum(counts, 1)), np.nan), colorscale=COLORSCALE, showscale=i == 1,
                colorbar={"title": "log10 trials"}, name=f"{p.n_trials:,} trials"), row=1, col=i)
            if p.best is not None:
                fig.add_trace(go.Scatter(x=[p.best[0]], y=[p.best[1]], mode="markers", name="Best Trial",
                                         showlegend=i == 1, marker={"color": "red", "symbol": "star",
                                                                    "size": 10}), row=1, col=i)
        fig.update_xaxes(title_text=p.axis.name, row=1, col=i, **_axis_kw(p.axis))
    fig.update_yaxes(title_text=info.target_name, row=1, col=1)
    fig.update_layout(title="Slice Plot", width=max(300 * n, 600))
    return fig


def contour(info: IPar.ContourPlot) -> Any:
    go = _go()
    names = info.names
    k = len(names)
    if k == 0:
        fig = go.Figure()
        fig.update_layout(title="Contour Plot")
        return fig
    if k == 2:
        a, b = names
        fig = go.Figure(_contour_traces(go, info.pairs[(a, b)], info, True))
        fig.update_layout(title="Contour Plot", xaxis={"title": a, **_axis_kw(info.pairs[(a, b)].x)},
                          yaxis={"title": b, **_axis_kw(info.pairs[(a, b)].y)})
        return fig
    def panel(xa: str, yb: str, first: bool) -> tuple[list[Any], D.Axis, D.Axis]:
        pair = info.pairs[(xa, yb)]
        return _contour_traces(go, pair, info, first), pair.x, pair.y

    fig = _matrix(names, panel)
    fig.update_layout(title="Contour Plot", width=220 * k + 100, height=220 * k + 100)
    return fig


def _matrix(names: list[str], panel: Any) -> Any:
    """A k x k matrix of panels, ``panel(x_name, y_name, first) -> (traces, x Axis,
    y Axis)`` off the diagonal; the traces and axes go in with one call each (plotly's
    per-panel ``add_trace(row=, col=)`` and ``update_xaxes`` cost ~10 ms apiece)."""
    k = len(names)
    fig = _subplots(k, k, horizontal_spacing=0.04, vertical_spacing=0.04)
    traces, rows, cols = [], [], []
    layout: dict[str, Any] = {}
    for r, yb in enumerate(names, start=1):
        for c, xa in enumerate(names, start=1):
            idx = (r - 1) * k + c
            xk, yk = ("xaxis", "yaxis") if idx == 1 else (f"xaxis{idx}", f"yaxis{idx}")
            xl, yl = layout.setdefault(xk, {}), layout.setdefault(yk, {})
            if xa != yb:
                new, ax, ay = panel(xa, yb, (r, c) == (1, 2))
                traces += new
                rows += [r] * len(new)
                cols += [c] * len(new)
                xl.update(_axis_kw(ax))
                yl.update(_axis_kw(ay))
            if r == k:
                xl["title"] = {"text": xa}
            if c == 1:
                yl["title"] = {"text": yb}
    if traces:
        fig.add_traces(traces, rows=rows, cols=cols)
    fig.update_layout(layout)
    return fig


def _to_edges(ax: D.Axis, c: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Cell centres ``c`` of a numeric axis extended by the two outer cell edges (plotly
    draws a contour between its outermost x/y only, half a cell short of the trials at
    the ends); categorical axes stay as they are. Returns the coordinates and the pad."""
    if ax.is_categorical or len(c) < 2:
        return c, (0, 0)
    if ax.is_log:
        lo, hi = c[0] / math.sqrt(c[1] / c[0]), c[-1] * math.sqrt(c[-1] / c[-2])
    else:
        lo, hi = c[0] - (c[1] - c[0]) / 2, c[-1] + (c[-1] - c[-2]) / 2
    return np.concatenate(([lo], c, [hi])), (1, 1)


def _contour_traces(go: Any, pair: IPar.ContourPair, info: IPar.ContourPlot, first: bool) -> list[Any]:
    xs, px = _to_edges(pair.x, pair.xs)
    ys, py = _to_edges(pair.y, pair.ys)
    z = np.pad(pair.z, (py, px), mode="edge") if pair.z.size else pair.z
    return [go.Contour(x=xs, y=ys, z=z, colorscale=COLORSCALE, connectgaps=True,
                       reversescale=info.reverse_scale, showscale=first,
                       colorbar={"title": info.target_name}, contours_coloring="heatmap"),
            go.Scatter(x=pair.px, y=pair.py, mode="markers", showlegend=False,
                       marker={"color": "black", "size": 3 if info.n_complete > I.MAX_POINTS else 5,
                               "line": {"color": "white", "width": 0.5}})]


def parallel_coordinate(info: IPar.ParallelPlot) -> Any:
    go = _go()
    dims: list[dict[str, Any]] = [{"label": label, "values": v, "range": [float(np.min(v)), float(np.max(v))] if len(v) else [0, 1]}
            for label, v in info.objectives]
    for ax in info.axes:
        v = ax.values
        if ax.is_log:
            v = np.log10(v)
            lo, hi = float(v.min()), float(v.max())
            ticks = np.arange(math.floor(lo), math.ceil(hi) + 1)
            dims.append({"label": ax.name, "values": v, "range": [lo, hi], "tickvals": ticks,
                         "ticktext": [f"1e{int(t)}" for t in ticks]})
        elif ax.is_categorical:
            dims.append({"label": ax.name, "values": v, "tickvals": list(range(len(ax.labels or []))),
                         "ticktext": ax.labels})
        else:
            dims.append({"label": ax.name, "values": v, "range": [float(v.min()), float(v.max())]})
    title = "Parallel Coordinate Plot"
    if info.n_complete > I.MAX_LINES:
        title += f" ({I.MAX_LINES:,} of {info.n_complete:,} trials: best/worst {I.TAIL_LINES} and a sample)"
    line = {"color": info.color, "colorscale": COLORSCALE, "reversescale": info.reverse_scale,
            "showscale": True, "colorbar": {"title": info.color_title}}
    fig = go.Figure(go.Parcoords(dimensions=dims, labelangle=30, labelside="bottom", line=line))
    fig.update_layout(title=title)
    return fig


def intermediate_values(info: I.CurvesPlot) -> Any:
    go = _go()
    fig = go.Figure()
    sampled = info.band is not None
    if info.band is not None:
        s, q25, q50, q75 = info.band
        fig.add_trace(go.Scatter(x=s, y=q75, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=s, y=q25, mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(31,119,180,0.25)", name="25-75 %"))
        fig.add_trace(go.Scatter(x=s, y=q50, mode="lines", line={"color": "rgb(31,119,180)", "width": 3},
                                 name="median"))
    for number, steps, values in info.curves:
        fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers" if not sampled else "lines",
                                 name=f"Trial{number}", showlegend=not sampled,
                                 line={"width": 0.7, "color": "rgba(90,90,90,0.35)"} if sampled else None,
                                 marker={"maxdisplayed": 10}))
    title = "Intermediate Values Plot"
    if sampled:
        title += f" ({len(info.curves)} of {info.n_curves:,} trials, median and 25-75 % of all)"
    fig.update_layout(title=title, xaxis={"title": "Step"}, yaxis={"title": "Intermediate Value"})
    return fig


def edf(info: I.EdfPlot) -> Any:
    go = _go()
    fig = go.Figure([go.Scatter(x=info.x, y=y, name=name, mode="lines") for name, y in info.lines])
    fig.update_layout(title="Empirical Distribution Function Plot", xaxis={"title": info.target_name},
                      yaxis={"title": "Cumulative Probability"})
    return fig


def pareto_front(info: I.ParetoPlot) -> Any:
    go = _go()
    d = len(info.names)
    scatter = go.Scatter if d == 2 else go.Scatter3d

    def xyz(v: np.ndarray) -> dict[str, Any]:
        out = {"x": v[:, 0], "y": v[:, 1]}
        if d == 3:
            out["z"] = v[:, 2]
        return out

    fig = go.Figure()
    size = 4 if d == 2 else 2
    if len(info.others):
        fig.add_trace(scatter(**xyz(info.others), mode="markers", name="Trial", hovertext=info.other_numbers,
                              marker={"color": info.other_numbers, "colorscale": COLORSCALE, "size": size,
                                      "showscale": True, "colorbar": {"title": "Trial"}}))
    if len(info.best):
        fig.add_trace(scatter(**xyz(info.best), mode="markers", name="Best Trial", hovertext=info.best_numbers,
                              marker={"color": "red", "size": size + 3}))
    if len(info.infeasible):
        fig.add_trace(scatter(**xyz(info.infeasible), mode="markers", name="Infeasible Trial",
                              marker={"color": "#cccccc", "size": size}))
    title = "Pareto-front Plot"
    if info.n_others > I.MAX_POINTS:
        title += f" (dominated: {len(info.others):,} of {info.n_others:,} trials)"
    # The legend goes above the plot: at its default place it covers the colour bar's title.
    legend = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0}
    if d == 2:
        fig.update_layout(title=title, xaxis={"title": info.names[0]}, yaxis={"title": info.names[1]},
                          legend=legend)
    else:
        fig.update_layout(title=title, scene={"xaxis_title": info.names[0], "yaxis_title": info.names[1],
                                              "zaxis_title": info.names[2]}, legend=legend)
    return fig


def rank(info: IPar.RankPlot) -> Any:
    go = _go()
    names = info.names
    marker = {"color": info.rank, "colorscale": "RdYlBu_r", "size": 4 if info.n_complete > 500 else 7,
              "colorbar": {"title": f"Rank ({info.target_name})"}, "cmin": 0, "cmax": 1}
    title = f"Rank ({info.target_name})"
    if info.n_complete > I.MAX_POINTS:
        title += f" ({len(info.y):,} of {info.n_complete:,} trials)"
    if not names:
        fig = go.Figure()
        fig.update_layout(title=title)
        return fig
    if len(names) == 1:
        ax = info.axes[names[0]]
        fig = go.Figure(go.Scatter(x=ax.values, y=info.y, mode="markers", marker=marker, showlegend=False))
        fig.update_layout(title=title, xaxis={"title": ax.name, **_axis_kw(ax)},
                          yaxis={"title": info.target_name})
        return fig
    if len(names) == 2:
        ax, ay = info.axes[names[0]], info.axes[names[1]]
        fig = go.Figure(go.Scatter(x=ax.values, y=ay.values, mode="markers", marker=marker, showlegend=False))
        fig.update_layout(title=title, xaxis={"title": ax.name, **_axis_kw(ax)},
                          yaxis={"title": ay.name, **_axis_kw(ay)})
        return fig
    k = len(names)

    def panel(xa: str, yb: str, first: bool) -> tuple[list[Any], D.Axis, D.Axis]:
        ax, ay = info.axes[xa], info.axes[yb]
        m = dict(marker, showscale=first)
        return [go.Scatter(x=ax.values, y=ay.values, mode="markers", marker=m, showlegend=False)], ax, ay

    fig = _matrix(names, panel)
    fig.update_layout(title=title, width=220 * k + 100, height=220 * k + 100)
    return fig


def timeline(info: I.TimelinePlot) -> Any:
    import datetime

    go = _go()
    from hpo_core.trial import TrialState

    fig = go.Figure()
    for state in TrialState:
        sel = info.states == int(state)
        if not sel.any():
            continue
        base = [datetime.datetime.fromtimestamp(t) for t in info.start[sel].tolist()]
        fig.add_trace(go.Bar(base=base, x=(info.end[sel] - info.start[sel]) * 1000.0, y=info.numbers[sel],
                             orientation="h", name=state.name, marker={"color": STATE_COLORS.get(state.name)}))
    title = "Timeline Plot"
    if info.stride > 1:
        title += f" (every {info.stride}th of {info.n_trials:,} trials)"
    fig.update_layout(title=title, xaxis={"title": "Datetime", "type": "date"}, yaxis={"title": "Trial"},
                      barmode="overlay", bargap=0)
    return fig


def terminator_improvement(info: IP.ImprovementInfo) -> Any:
    """Optuna's figure: the improvements as one line, lighter up to ``min_n_trials``; the
    errors in red; the y range from the improvements past ``min_n_trials``."""
    go = _go()
    fig = go.Figure(layout=go.Layout(title="Terminator Improvement Plot", xaxis={"title": "Trial"},
                                     yaxis={"title": "Terminator Improvement"}))
    n, k = len(info.trial_numbers), info.min_n_trials
    if n == 0:
        D.warn_empty("There are no complete trials.")
        return fig

    def line(x: list[int], y: list[float], opacity: float, showlegend: bool) -> Any:
        color = f"rgba(99, 110, 250, {opacity})"  # plotly's first colour, Optuna's
        return go.Scatter(x=x, y=y, mode="markers+lines", marker={"color": color}, line={"color": color},
                          name="Terminator Improvement", showlegend=showlegend, legendgroup="improvement")

    fig.add_trace(line(info.trial_numbers[: k + 1], info.improvements[: k + 1], IP.OPACITY, n <= k))
    if n > k:
        fig.add_trace(line(info.trial_numbers[k:], info.improvements[k:], 1.0, True))
    if info.errors is None:
        fig.add_trace(go.Scatter())  # Optuna's empty error trace
    else:
        red = "rgb(239, 85, 59)"
        fig.add_trace(go.Scatter(x=info.trial_numbers, y=info.errors, mode="markers+lines", name="Error",
                                 marker={"color": red}, line={"color": red}))
    fig.update_yaxes(range=info.y_range())
    return fig


def hypervolume_history(info: IP.HypervolumeInfo) -> Any:
    """Optuna's line and markers per COMPLETE trial; beyond 2,000 trials a step line
    through the trials where the hypervolume changed (exact, the title says so)."""
    go = _go()
    title = "Hypervolume History Plot"
    if info.is_reduced:
        trace = go.Scatter(x=info.trial_numbers, y=info.values, mode="lines", line={"shape": "hv"})
        title += f" ({info.n_complete:,} trials, {info.n_changes:,} changes)"
    else:
        trace = go.Scatter(x=info.trial_numbers, y=info.values, mode="lines+markers")
    return go.Figure(data=trace, layout=go.Layout(title=title, xaxis={"title": "Trial"},
                                                  yaxis={"title": "Hypervolume"}))
