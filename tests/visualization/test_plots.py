"""Every plot, in plotly and matplotlib: studies of each kind, arguments, errors, and the
reduction rules at a large study."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.exceptions import HpoWarning

from ._studies import large_study, mixed_study, multi_study

plotly = pytest.importorskip("plotly")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hpo_core.visualization as V  # noqa: E402
import hpo_core.visualization.matplotlib as M  # noqa: E402

SINGLE = ["plot_optimization_history", "plot_param_importances", "plot_slice", "plot_contour",
          "plot_parallel_coordinate", "plot_intermediate_values", "plot_edf", "plot_rank", "plot_timeline"]
TARGETED = ["plot_optimization_history", "plot_param_importances", "plot_slice", "plot_contour",
            "plot_parallel_coordinate", "plot_edf", "plot_rank"]
NO_TARGET_NEEDED = ["plot_param_importances", "plot_parallel_coordinate"]  # one bar set / axis per objective
WITH_PARAMS = ["plot_param_importances", "plot_slice", "plot_contour", "plot_parallel_coordinate", "plot_rank"]
MODULES = [pytest.param(V, id="plotly"), pytest.param(M, id="matplotlib")]


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def study() -> hpo_core.Study:
    return mixed_study()


@pytest.fixture(scope="module")
def mo_study() -> hpo_core.Study:
    return multi_study()


def _is_figure(mod: Any, out: Any) -> bool:
    if mod is V:
        return isinstance(out, plotly.graph_objects.Figure)
    axes = np.asarray(out, dtype=object).ravel()
    return all(isinstance(a, matplotlib.axes.Axes) for a in axes)


def _points(fig: Any) -> int:
    """Markers and line vertices drawn by a plotly figure (a heatmap's cells excluded)."""
    n = 0
    for tr in fig.data:
        if tr.type in ("scatter", "scattergl", "scatter3d", "bar"):
            n += 0 if tr.x is None else len(tr.x)
        elif tr.type == "parcoords":
            n += len(tr.dimensions[0]["values"])
    return n


# ---------------------------------------------------------------- every plot, every study
@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", SINGLE)
def test_plot_single_objective(mod: Any, name: str, study: hpo_core.Study) -> None:
    assert _is_figure(mod, getattr(mod, name)(study))


@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", SINGLE + ["plot_pareto_front"])
def test_plot_empty_study(mod: Any, name: str) -> None:
    directions = ["minimize", "minimize"] if name == "plot_pareto_front" else ["minimize"]
    empty = hpo_core.create_study(directions=directions)
    assert _is_figure(mod, getattr(mod, name)(empty))


@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", TARGETED)
def test_plot_multi_objective_needs_target(mod: Any, name: str, mo_study: hpo_core.Study) -> None:
    if name in NO_TARGET_NEEDED:
        assert _is_figure(mod, getattr(mod, name)(mo_study))
    else:
        with pytest.raises(ValueError, match="target"):
            getattr(mod, name)(mo_study)
    out = getattr(mod, name)(mo_study, target=lambda t: t.values[1], target_name="second")
    assert _is_figure(mod, out)


@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", ["plot_intermediate_values", "plot_timeline", "plot_pareto_front"])
def test_plot_multi_objective(mod: Any, name: str, mo_study: hpo_core.Study) -> None:
    assert _is_figure(mod, getattr(mod, name)(mo_study))


@pytest.mark.parametrize("mod", MODULES)
def test_plot_pareto_front_three_objectives_and_targets(mod: Any) -> None:
    s = hpo_core.create_study(directions=["minimize"] * 3, sampler=hpo_core.samplers.RandomSampler(seed=1))
    s.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1), 1.0), n_trials=20)
    assert _is_figure(mod, mod.plot_pareto_front(s, target_names=["a", "b", "c"]))
    assert _is_figure(mod, mod.plot_pareto_front(s, targets=lambda t: (t.values[0], t.values[1]),
                                                 target_names=["a", "b"]))
    with pytest.raises(ValueError, match="target_names"):
        mod.plot_pareto_front(s, target_names=["a", "b"])


# ---------------------------------------------------------------- arguments
@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", TARGETED)
def test_plot_target_name_default_warns_with_target(mod: Any, name: str, study: hpo_core.Study) -> None:
    with pytest.warns(HpoWarning, match="target_name"):
        getattr(mod, name)(study, target=lambda t: t.value)


@pytest.mark.parametrize("name", ["plot_optimization_history", "plot_slice", "plot_edf"])
def test_plot_target_name_labels_the_axis(name: str, study: hpo_core.Study) -> None:
    fig = getattr(V, name)(study, target=lambda t: -t.value, target_name="negated")
    assert "negated" in fig.to_json()


@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", WITH_PARAMS)
def test_plot_params_selects_and_rejects(mod: Any, name: str, study: hpo_core.Study) -> None:
    assert _is_figure(mod, getattr(mod, name)(study, params=["x", "lr"]))
    with pytest.raises(ValueError, match="params"):
        getattr(mod, name)(study, params=["x", "nope"])
    with pytest.raises(TypeError, match="params"):
        getattr(mod, name)(study, params="x")


@pytest.mark.parametrize("mod", MODULES)
@pytest.mark.parametrize("name", SINGLE)
def test_plot_rejects_a_non_study(mod: Any, name: str) -> None:
    with pytest.raises(TypeError, match="study"):
        getattr(mod, name)(object())


@pytest.mark.parametrize("mod", MODULES)
def test_plot_bad_arguments_named(mod: Any, study: hpo_core.Study) -> None:
    with pytest.raises(TypeError, match="target"):
        mod.plot_slice(study, target=3)
    with pytest.raises(TypeError, match="target_name"):
        mod.plot_slice(study, target_name=3)
    with pytest.raises(TypeError, match="error_bar"):
        mod.plot_optimization_history(study, error_bar="yes")
    with pytest.raises(ValueError, match="n_recent_trials"):
        mod.plot_timeline(study, n_recent_trials=0)
    with pytest.raises(TypeError, match="include_dominated_trials"):
        mod.plot_pareto_front(multi_study(5), include_dominated_trials=1)


def test_plot_slice_log_and_categorical_axes(study: hpo_core.Study) -> None:
    fig = V.plot_slice(study)
    layout = fig.layout
    titles = {getattr(layout, k).title.text: getattr(layout, k) for k in layout if k.startswith("xaxis")}
    assert titles["lr"].type == "log"
    assert list(titles["c"].ticktext) == sorted(titles["c"].ticktext, key=list(titles["c"].ticktext).index)
    assert set(titles["c"].ticktext) == {"a", "b", "c"}
    axs = M.plot_slice(study)
    by_name = {ax.get_xlabel(): ax for ax in axs}
    assert by_name["lr"].get_xscale() == "log"
    assert {t.get_text() for t in by_name["c"].get_xticklabels()} == {"a", "b", "c"}


def test_plot_slice_conditional_parameter_has_only_its_trials(study: hpo_core.Study) -> None:
    fig = V.plot_slice(study, params=["depth"])
    n_a = sum(1 for t in study.trials if "depth" in t.params)
    assert len(fig.data[0].x) == n_a < len(study.trials)


def test_plot_optimization_history_error_bar_and_several_studies() -> None:
    studies = [mixed_study(20, seed=s) for s in range(3)]
    fig = V.plot_optimization_history(studies)
    assert sorted(tr.name for tr in fig.data if tr.name.startswith("Best Value")) == sorted(
        f"Best Value of {s.study_name}" for s in studies)
    fig = V.plot_optimization_history(studies, error_bar=True)
    assert fig.data[0].error_y.array is not None
    assert _is_figure(M, M.plot_optimization_history(studies, error_bar=True))


def test_plot_contour_one_param_is_empty(study: hpo_core.Study, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        fig = V.plot_contour(study, params=["x"])
    assert len(fig.data) == 0


def test_is_available() -> None:
    assert V.is_available() and M.is_available()


# ---------------------------------------------------------------- reduction at a large study
@pytest.fixture(scope="module")
def big() -> hpo_core.Study:
    return large_study(12_000, n_steps=3)


def test_plot_optimization_history_large_samples_points_keeps_best_exact(big: hpo_core.Study) -> None:
    from hpo_core.visualization import _info

    fig = V.plot_optimization_history(big)
    pts, best = fig.data[0], fig.data[1]
    assert len(pts.x) <= _info.MAX_POINTS + len(best.x)
    values = np.array([t.value for t in big.trials])
    best_at = np.minimum.accumulate(values)
    # the step line is exact: at each trial it equals the best value so far
    k = np.searchsorted(np.asarray(best.x), np.arange(len(values)), side="right") - 1
    np.testing.assert_array_equal(np.asarray(best.y)[k], best_at)


def test_plot_slice_large_bins(big: hpo_core.Study) -> None:
    from hpo_core.visualization import _info

    fig = V.plot_slice(big)
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    assert len(heat) == 4 and _points(fig) <= 4
    nx, ny = _info.SLICE_BINS
    assert np.asarray(heat[0].z).shape == (ny, nx)
    assert np.nansum(10 ** np.asarray(heat[0].z, dtype=float)) == pytest.approx(12_000, rel=0.02)


@pytest.mark.parametrize("name, limit", [("plot_parallel_coordinate", 1_000), ("plot_timeline", 1_000)])
def test_plot_large_point_limits(big: hpo_core.Study, name: str, limit: int) -> None:
    assert _points(getattr(V, name)(big)) <= limit


@pytest.mark.parametrize("name", ["plot_rank", "plot_contour"])
def test_plot_large_panel_limits(big: hpo_core.Study, name: str) -> None:
    fig = getattr(V, name)(big)
    scatters = [tr for tr in fig.data if tr.type == "scatter"]
    assert len(scatters) == 12  # 4 parameters: 12 panels
    assert max(len(tr.x) for tr in scatters) == 2_000


def test_plot_parallel_coordinate_keeps_best_and_worst(big: hpo_core.Study) -> None:
    values = np.array([t.value for t in big.trials])
    fig = V.plot_parallel_coordinate(big)
    drawn = np.sort(np.asarray(fig.data[0].dimensions[0]["values"]))
    assert len(drawn) == 1_000
    np.testing.assert_array_equal(drawn[:200], np.sort(values)[:200])
    np.testing.assert_array_equal(drawn[-200:], np.sort(values)[-200:])


def test_plot_intermediate_values_large_samples_curves_and_band(big: hpo_core.Study) -> None:
    fig = V.plot_intermediate_values(big)
    curves = [tr for tr in fig.data if (tr.name or "").startswith("Trial")]
    assert len(curves) == 100
    median = next(tr for tr in fig.data if tr.name == "median")
    assert len(median.x) == 3


def test_plot_pareto_front_large_samples_dominated() -> None:
    s = large_study(5_000, n_objectives=2)
    fig = V.plot_pareto_front(s)
    assert _points(fig) <= 3 * 2_000
    best = next(tr for tr in fig.data if tr.name == "Best Trial")
    assert len(best.x) == len(s.best_trials)


# ---------------------------------------------------------------- agreement with Optuna
optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def pair() -> tuple[hpo_core.Study, Any]:
    from ._studies import to_optuna

    ours = mixed_study(30, seed=3)
    return ours, to_optuna(ours)


def _xy(tr: Any) -> set[tuple[float, float]]:
    return {(round(float(a), 9), round(float(b), 9)) for a, b in zip(tr.x, tr.y)}


def test_optuna_parity_optimization_history(pair: Any) -> None:
    ours, theirs = pair
    a, b = V.plot_optimization_history(ours), optuna.visualization.plot_optimization_history(theirs)
    assert _xy(a.data[0]) == _xy(b.data[0])
    best = a.data[1]
    k = np.searchsorted(np.asarray(best.x), np.asarray(b.data[1].x), side="right") - 1
    np.testing.assert_allclose(np.asarray(best.y)[k], b.data[1].y)


def test_optuna_parity_slice(pair: Any) -> None:
    ours, theirs = pair
    for p in ["x", "lr", "n", "depth"]:
        a, b = V.plot_slice(ours, params=[p]), optuna.visualization.plot_slice(theirs, params=[p])
        assert _xy(a.data[0]) == _xy(b.data[0]), p


def test_optuna_parity_edf(pair: Any) -> None:
    ours, theirs = pair
    a, b = V.plot_edf(ours), optuna.visualization.plot_edf(theirs)
    np.testing.assert_allclose(a.data[0].x, b.data[0].x)
    np.testing.assert_allclose(a.data[0].y, b.data[0].y)


def test_optuna_parity_intermediate_values(pair: Any) -> None:
    ours, theirs = pair
    a, b = V.plot_intermediate_values(ours), optuna.visualization.plot_intermediate_values(theirs)
    ours_curves = {tr.name: (list(tr.x), list(tr.y)) for tr in a.data}
    their_curves = {tr.name: (list(tr.x), list(tr.y)) for tr in b.data}
    assert ours_curves == their_curves


@pytest.mark.parametrize("params", [["x", "lr"], ["lr", "x"]])
def test_optuna_parity_rank_points_and_colour(pair: Any, params: list[str]) -> None:
    ours, theirs = pair
    a = V.plot_rank(ours, params=params)
    b = optuna.visualization.plot_rank(theirs, params=params)
    assert a.layout.xaxis.title.text == b.layout.xaxis.title.text == params[0]
    assert _xy(a.data[0]) == _xy(b.data[0])
    # Optuna colours each trial by its rank over n - 1; ours keeps that index.
    values = np.array([t.value for t in theirs.trials])
    order = np.argsort(np.argsort(values))
    np.testing.assert_allclose(np.sort(a.data[0].marker.color), np.sort(order / (len(values) - 1)))


def test_optuna_parity_contour_points(pair: Any) -> None:
    ours, theirs = pair
    a = V.plot_contour(ours, params=["x", "lr"])
    b = optuna.visualization.plot_contour(theirs, params=["x", "lr"])
    assert _xy(a.data[1]) == _xy(b.data[1])


def _normalized_lines(fig: Any) -> set[tuple[float, ...]]:
    """Each drawn trial as its values scaled to [0, 1] per axis (Optuna 5.0 draws one
    line trace per trial so scaled; a Parcoords trace holds the values)."""
    if fig.data and fig.data[0].type == "parcoords":
        cols = []
        for d in fig.data[0].dimensions:
            v = np.asarray(d["values"], dtype=float)
            cols.append((v - v.min()) / (np.ptp(v) or 1.0))
        return {tuple(np.round(r, 9)) for r in np.stack(cols, axis=1)}
    return {tuple(np.round(np.asarray(tr.y, dtype=float), 9)) for tr in fig.data
            if tr.mode == "lines" and tr.y is not None and None not in tr.y}


@pytest.mark.parametrize("params", [["x", "n"], ["lr", "x"]])
def test_optuna_parity_parallel_coordinate(pair: Any, params: list[str]) -> None:
    ours, theirs = pair
    a = V.plot_parallel_coordinate(ours, params=params)
    b = optuna.visualization.plot_parallel_coordinate(theirs, params=params)
    assert _normalized_lines(a) == _normalized_lines(b)


def test_optuna_parity_parallel_coordinate_multi_objective() -> None:
    from ._studies import to_optuna

    ours = multi_study(30, seed=4)
    a = V.plot_parallel_coordinate(ours)
    b = optuna.visualization.plot_parallel_coordinate(to_optuna(ours))
    assert [d["label"] for d in a.data[0].dimensions][:2] == ["Objective 0", "Objective 1"]
    assert _normalized_lines(a) == _normalized_lines(b)


def test_optuna_parity_param_importances(pair: Any) -> None:
    ours, theirs = pair
    a, b = V.plot_param_importances(ours), optuna.visualization.plot_param_importances(theirs)
    assert list(a.data[0].y) == list(b.data[0].y)
    np.testing.assert_allclose(a.data[0].x, b.data[0].x, rtol=1e-6)


def test_optuna_parity_pareto_front() -> None:
    from ._studies import to_optuna

    ours = multi_study(40, seed=2)
    a, b = V.plot_pareto_front(ours), optuna.visualization.plot_pareto_front(to_optuna(ours))
    best_a = next(tr for tr in a.data if tr.name == "Best Trial")
    best_b = b.data[-1]  # Optuna 5.0: the dominated trials, then the front (unnamed traces)
    assert _xy(best_a) == _xy(best_b)


def _quiet(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def test_optuna_parity_timeline_counts(pair: Any) -> None:
    ours, theirs = pair
    a, b = V.plot_timeline(ours), _quiet(optuna.visualization.plot_timeline, theirs)
    assert sum(len(tr.y) for tr in a.data) == sum(len(tr.y) for tr in b.data) == 30
