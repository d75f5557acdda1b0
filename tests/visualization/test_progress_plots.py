"""plot_terminator_improvement and plot_hypervolume_history, plotly and matplotlib: the
data against Optuna's on the same trials, the reduction of a large hypervolume history,
and the errors."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import kernels
from hpo_core import terminator as T
from hpo_core.distributions import FloatDistribution
from hpo_core.trial import TrialState, create_trial

plotly = pytest.importorskip("plotly")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hpo_core.visualization as V  # noqa: E402
import hpo_core.visualization.matplotlib as M  # noqa: E402

MODULES = [pytest.param(V, id="plotly"), pytest.param(M, id="matplotlib")]
KEY = "terminator:cv_scores"


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # Optuna 5.0 deprecates its terminator
        warnings.filterwarnings("ignore", message=".* is experimental")
        yield
    plt.close("all")


def _rows(n: int, m: int, seed: int) -> list[tuple[dict[str, float], list[float], list[float] | None, str]]:
    """n trials of 2 parameters with m objectives; some infeasible, some FAIL, some outside
    the reference point (2.0 in every objective)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        x = rng.uniform(0, 1, 2)
        values = [float(x[0]), float((1 - x[0]) ** 2 + x[1])] + [float(x[1] * (1 + x[0]))] * (m - 2)
        if i % 11 == 5:
            values[1] = 2.5  # beyond the reference point
        c = [float(rng.normal() - 1.0)] if i % 3 == 0 else None
        state = "FAIL" if i % 13 == 7 else "COMPLETE"
        out.append(({"x0": float(x[0]), "x1": float(x[1])}, values, c, state))
    return out


def _pair(rows: list[Any], directions: list[str]) -> tuple[hpo_core.Study, Any]:
    optuna = pytest.importorskip("optuna", reason="Optuna is the reference these tests compare with")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    ours = hpo_core.create_study(directions=directions)
    theirs = optuna.create_study(directions=directions)
    for params, values, c, state in rows:
        attrs = {} if c is None else {"constraints": c}
        signed = [v if d == "minimize" else -v for v, d in zip(values, directions)]
        done = state == "COMPLETE"
        ours.add_trial(
            create_trial(
                params=params,
                distributions={k: FloatDistribution(0, 1) for k in params},
                values=signed if done else None,
                state=TrialState[state],
                system_attrs=attrs,
            )
        )
        theirs.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: optuna.distributions.FloatDistribution(0, 1) for k in params},
                values=signed if done else None,
                state=optuna.trial.TrialState[state],
                system_attrs=attrs,
            )
        )
    return ours, theirs


# ------------------------------------------------------------------ hypervolume history
@pytest.mark.parametrize(
    ("directions", "ref"),
    [
        (["minimize", "minimize"], [2.0, 2.0]),
        (["minimize", "maximize"], [2.0, -2.0]),
        (["minimize", "minimize", "minimize"], [2.0, 2.0, 2.0]),
    ],
)
def test_hypervolume_history_equals_optuna(directions: list[str], ref: list[float]) -> None:
    import optuna

    ours, theirs = _pair(_rows(120, len(directions), seed=1), directions)
    a = V.plot_hypervolume_history(ours, ref)
    b = optuna.visualization.plot_hypervolume_history(theirs, ref)
    np.testing.assert_array_equal(a.data[0].x, b.data[0].x)
    np.testing.assert_allclose(a.data[0].y, b.data[0].y, rtol=1e-12, atol=1e-12)
    assert a.layout.title.text == b.layout.title.text
    ax = M.plot_hypervolume_history(ours, ref)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), b.data[0].y, rtol=1e-12, atol=1e-12)


def test_hypervolume_history_large_is_a_step_line_through_the_changes() -> None:
    rng = np.random.default_rng(0)
    n = 30_000
    study = hpo_core.create_study(
        directions=["minimize", "minimize"], sampler=hpo_core.samplers.RandomSampler(seed=0)
    )
    batch = study.ask_array({"x": FloatDistribution(0, 1)}, n)
    x = batch.params[:, 0]
    noise = rng.random((n, 2))  # independent per objective: a few hundred changes of the front
    final = np.stack([x, 1 - np.sqrt(x)], axis=1) + noise
    study.tell_array(batch, final)
    fig = V.plot_hypervolume_history(study, [1.5, 1.5])
    tr = fig.data[0]
    assert tr.line.shape == "hv" and tr.mode == "lines"
    xs, ys = np.asarray(tr.x), np.asarray(tr.y)
    assert xs[0] == 0 and xs[-1] == n - 1 and len(xs) < n // 10
    assert (np.diff(ys) >= -1e-12).all()  # a hypervolume never decreases
    assert f"{n:,} trials" in fig.layout.title.text
    assert ys[-1] == pytest.approx(kernels.hypervolume(final, np.array([1.5, 1.5])), rel=1e-12)
    # Every change point equals the hypervolume of the trials up to it.
    for i in np.flatnonzero(np.diff(ys) > 0)[:: max(1, len(ys) // 20)] + 1:
        k = int(xs[i])
        assert ys[i] == pytest.approx(kernels.hypervolume(final[: k + 1], np.array([1.5, 1.5])), rel=1e-12)
    ax = M.plot_hypervolume_history(study, [1.5, 1.5])
    assert ax.lines[0].get_ydata()[-1] == pytest.approx(ys[-1])


@pytest.mark.parametrize("mod", MODULES)
def test_hypervolume_history_errors_and_empty(mod: Any, caplog: pytest.LogCaptureFixture) -> None:
    single = hpo_core.create_study()
    with pytest.raises(ValueError, match="multi-objective"):
        mod.plot_hypervolume_history(single, [1.0])
    two = hpo_core.create_study(directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="reference point"):
        mod.plot_hypervolume_history(two, [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="study"):
        mod.plot_hypervolume_history("not a study", [1.0, 1.0])
    hpo_core.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            mod.plot_hypervolume_history(two, [1.0, 1.0])
    finally:
        hpo_core.logging.disable_propagation()
    assert "does not have any completed trials" in caplog.text


# ------------------------------------------------------------------ terminator improvement
def _stagnating(n: int = 30) -> hpo_core.Study:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n)
    study.add_trial(create_trial(state=TrialState.FAIL))  # a trial that completes nothing new
    return study


def test_terminator_improvement_stagnation_equals_optuna() -> None:
    import optuna
    import optuna.terminator

    from ._studies import to_optuna

    ours = _stagnating()
    theirs = to_optuna(ours)
    a = V.plot_terminator_improvement(
        ours, improvement_evaluator=T.BestValueStagnationEvaluator(5), plot_error=True, min_n_trials=10
    )
    b = optuna.visualization.plot_terminator_improvement(
        theirs,
        improvement_evaluator=optuna.terminator.BestValueStagnationEvaluator(5),
        plot_error=True,
        min_n_trials=10,
    )
    assert len(a.data) == len(b.data) == 3
    for ta, tb in zip(a.data, b.data):
        assert list(ta.x) == list(tb.x) and list(ta.y) == list(tb.y)
        assert ta.marker.color == tb.marker.color
    assert tuple(a.layout.yaxis.range) == pytest.approx(tuple(b.layout.yaxis.range))


@pytest.mark.parametrize("mod", MODULES)
def test_terminator_improvement_regret_bound_with_cv_error(mod: Any) -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    rng = np.random.default_rng(0)

    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        scores = x**2 + rng.normal(0, 0.01, 5)
        T.report_cross_validation_scores(trial, scores)
        return float(scores.mean())

    study.optimize(objective, n_trials=25)
    out = mod.plot_terminator_improvement(
        study, plot_error=True, improvement_evaluator=T.RegretBoundEvaluator(seed=0)
    )
    error = T.CrossValidationErrorEvaluator().evaluate(study.trials, study.direction)
    if mod is V:
        assert [len(t.x) for t in out.data] == [21, 5, 25]  # 0..20 lighter, 20..24, the errors
        assert out.data[2].y[-1] == pytest.approx(error)
        assert all(v > 0 for v in out.data[1].y)
    else:
        assert [len(line.get_xdata()) for line in out.lines] == [21, 5, 25]
        assert out.lines[2].get_ydata()[-1] == pytest.approx(error)


@pytest.mark.parametrize("mod", MODULES)
def test_terminator_improvement_errors_and_empty(mod: Any) -> None:
    mo = hpo_core.create_study(directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="multi-objective"):
        mod.plot_terminator_improvement(mo)
    study = hpo_core.create_study()
    with pytest.raises(ValueError, match="min_n_trials"):
        mod.plot_terminator_improvement(study, min_n_trials=-1)
    with pytest.raises(TypeError, match="improvement_evaluator"):
        mod.plot_terminator_improvement(study, improvement_evaluator=T.StaticErrorEvaluator(0))
    with pytest.raises(TypeError, match="plot_error"):
        mod.plot_terminator_improvement(study, plot_error="yes")
    out = mod.plot_terminator_improvement(study)  # no COMPLETE trial: an empty figure
    assert (len(out.data) if mod is V else len(out.lines)) == 0
