"""Draw the images of docs/visualization.md (matplotlib versions) from real studies.

* ``tpe``: TPESampler (seed 0), 2,500 trials on a training-like objective: a 6-D
  problem with a log-scale learning rate, an int width, a categorical optimizer and a
  parameter only one optimizer uses, reporting a 20-epoch learning curve that the
  MedianPruner prunes.
* ``mo``: TPESampler (seed 0), 1,500 trials on ZDT1 with 6 variables (two objectives).
* ``progress``: the terminator's improvement on a TPE study (seed 0, 60 trials) of a
  random forest on scikit-learn's wine data (5-fold CV scores reported), and the
  hypervolume history of the ``mo`` study.
* ``large``: 100,000 random trials (one ``ask_array`` batch, NumPy seed 0) on the same
  objective with 10 reports each: the downsampling and binning rules at work.
* ``plotly``: the plotly versions of the ``tpe``, ``mo`` and terminator plots, as PNGs in
  ``images/plotly/`` (plotly's image export: ``pip install kaleido``, which drives a
  local Chrome or Chromium, e.g. Debian's ``chromium`` package).

Run from the repository root: ``nice python docs/make_images.py`` (about a minute).
"""

from __future__ import annotations

import logging
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

OUT = Path(__file__).with_name("images")
OPTIMIZERS = ["adam", "sgd", "rmsprop"]


def loss(x: float, y: float, lr: float, width: int, opt: str, momentum: float | None) -> float:
    """A final validation loss: a Rosenbrock valley with ripples (local minima) in
    (x, y), a best learning rate near 1e-3 (1e-1 with sgd), diminishing returns in width."""
    best_lr = -1.0 if opt == "sgd" else -3.0
    v = 0.05 * ((1 - x) ** 2 + 5 * (y - x * x) ** 2) + 0.4 * (math.log10(lr) - best_lr) ** 2
    v += 0.25 * (2 - math.cos(2.5 * math.pi * x) - math.cos(2.5 * math.pi * y))  # local minima
    v += 3.0 / math.sqrt(width) + {"adam": 0.0, "sgd": 0.15, "rmsprop": 0.3}[opt]
    if momentum is not None:
        v += 0.8 * (momentum - 0.9) ** 2
    return v


def tpe_study(n_trials: int = 2_500, name: str = "tpe-2500") -> hpo_core.Study:
    def objective(t: hpo_core.Trial) -> float:
        x = t.suggest_float("x", -2.0, 2.0)
        y = t.suggest_float("y", -1.0, 3.0)
        lr = t.suggest_float("lr", 1e-5, 1.0, log=True)
        width = t.suggest_int("width", 8, 512, log=True)
        opt = t.suggest_categorical("optimizer", OPTIMIZERS)
        momentum = t.suggest_float("momentum", 0.0, 0.99) if opt == "sgd" else None
        final = loss(x, y, lr, width, opt, momentum)
        for epoch in range(20):
            t.report(final + 2.0 * math.exp(-epoch / (4 + 10 * lr)), epoch)
            if t.should_prune():
                raise hpo_core.TrialPruned()
        return final

    study = hpo_core.create_study(study_name=name, sampler=hpo_core.samplers.TPESampler(seed=0),
                                  pruner=hpo_core.pruners.MedianPruner(n_startup_trials=20, n_warmup_steps=10))
    study.optimize(objective, n_trials=n_trials)
    return study


def threaded_study(n_trials: int = 48) -> hpo_core.Study:
    """4 threads, trials sleeping 0.05-0.4 s, some pruned and some failing: a timeline."""
    import time

    def objective(t: hpo_core.Trial) -> float:
        x = t.suggest_float("x", -2.0, 2.0)
        time.sleep(0.05 + 0.35 * abs(x) / 2)
        if t.number % 11 == 5:
            raise RuntimeError("diverged")
        if t.number % 7 == 3:
            raise hpo_core.TrialPruned()
        return x * x

    study = hpo_core.create_study(study_name="threads", sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=n_trials, n_jobs=4, catch=(RuntimeError,))
    return study


def mo_study(n_trials: int = 1_500) -> hpo_core.Study:
    def zdt1(t: hpo_core.Trial) -> tuple[float, float]:
        xs = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)]
        g = 1 + 9 * sum(xs[1:]) / 5
        return xs[0], g * (1 - math.sqrt(xs[0] / g))

    study = hpo_core.create_study(study_name="zdt1", directions=["minimize", "minimize"],
                                  sampler=hpo_core.samplers.TPESampler(seed=0))
    study.optimize(zdt1, n_trials=n_trials)
    return study


def forest_study(n_trials: int = 60) -> hpo_core.Study:
    """A random forest on scikit-learn's wine data, 5-fold CV accuracy, its scores reported
    for the terminator's cross-validation error."""
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import KFold, cross_val_score

    from hpo_core.terminator import report_cross_validation_scores

    X, y = load_wine(return_X_y=True)

    def objective(t: hpo_core.Trial) -> float:
        clf = RandomForestClassifier(n_estimators=20, max_depth=t.suggest_int("max_depth", 1, 16),
                                     min_samples_split=t.suggest_float("min_samples_split", 0.01, 0.9),
                                     criterion=t.suggest_categorical("criterion", ["gini", "entropy"]),
                                     random_state=0)
        scores = cross_val_score(clf, X, y, cv=KFold(n_splits=5, shuffle=True, random_state=0))
        report_cross_validation_scores(t, scores)
        return float(scores.mean())

    study = hpo_core.create_study(study_name="forest", direction="maximize",
                                  sampler=hpo_core.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=n_trials)
    return study


def large_study(n: int = 100_000, n_steps: int = 10) -> hpo_core.Study:
    space = {"x": FloatDistribution(-2.0, 2.0), "y": FloatDistribution(-1.0, 3.0),
             "lr": FloatDistribution(1e-5, 1.0, log=True), "width": IntDistribution(8, 512, log=True),
             "optimizer": CategoricalDistribution(OPTIMIZERS)}
    study = hpo_core.create_study(study_name="random-100k", sampler=hpo_core.samplers.RandomSampler(seed=0))
    batch = study.ask_array(space, n)
    P = batch.params
    opts = np.array(OPTIMIZERS)[P[:, 4].astype(int)]
    final = np.array([loss(*row[:3], int(row[3]), o, None) for row, o in zip(P.tolist(), opts)])
    noise = np.random.default_rng(0).normal(0, 0.05, (n, n_steps))
    storage = study._storage  # reports of an ask_array batch go through the storage
    for i, tid in enumerate(batch.trial_ids.tolist()):
        for s in range(n_steps):
            storage.set_trial_intermediate_value(tid, s, float(final[i] + 2.0 * math.exp(-s / 3) + noise[i, s]))
    study.tell_array(batch, final)
    h = study.view.sync()  # a 16-worker schedule, for the timeline
    start = 1.8e9 + np.arange(n) // 16 * 2.0 + np.random.default_rng(1).random(n)
    h.t_start[:n] = start
    h.t_complete[:n] = start + 1.0 + np.random.default_rng(2).random(n)
    return study


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import hpo_core.visualization.matplotlib as M

    hpo_core.logging.set_verbosity(logging.WARNING)
    warnings.simplefilter("ignore")
    OUT.mkdir(exist_ok=True)
    which = set(sys.argv[1:]) or {"tpe", "mo", "progress", "large", "plotly"}

    def save(ax: object, name: str) -> None:
        fig = np.asarray(ax, dtype=object).ravel()[0].figure
        fig.savefig(OUT / f"{name}.png", dpi=90, bbox_inches="tight")
        plt.close("all")
        print("wrote", OUT / f"{name}.png", flush=True)

    if "tpe" in which:
        s = tpe_study()
        save(M.plot_optimization_history(s), "optimization_history")
        save(M.plot_param_importances(s), "param_importances")
        save(M.plot_slice(s, params=["x", "lr", "width", "optimizer"]), "slice")
        save(M.plot_contour(s, params=["x", "y"]), "contour")
        save(M.plot_contour(s, params=["x", "y", "lr"]), "contour_matrix")
        save(M.plot_parallel_coordinate(s, params=["lr", "optimizer", "width", "x", "y"]), "parallel_coordinate")
        save(M.plot_intermediate_values(s), "intermediate_values")
        save(M.plot_edf([s, tpe_study(300, "tpe-300")]), "edf")
        save(M.plot_rank(s, params=["x", "y", "lr"]), "rank")
        save(M.plot_timeline(threaded_study()), "timeline")
    if "mo" in which:
        s = mo_study()
        save(M.plot_pareto_front(s), "pareto_front")
    if "progress" in which:
        from hpo_core.terminator import RegretBoundEvaluator

        s = forest_study()
        save(M.plot_terminator_improvement(s, plot_error=True, improvement_evaluator=RegretBoundEvaluator(seed=0)),
             "terminator_improvement")
        save(M.plot_hypervolume_history(mo_study(), [1.1, 10.0]), "hypervolume_history")
    if "large" in which:
        s = large_study()
        save(M.plot_optimization_history(s), "large_optimization_history")
        save(M.plot_slice(s), "large_slice")
        save(M.plot_contour(s, params=["x", "y"]), "large_contour")
        save(M.plot_parallel_coordinate(s), "large_parallel_coordinate")
        save(M.plot_intermediate_values(s), "large_intermediate_values")
        save(M.plot_rank(s, params=["x", "lr"]), "large_rank")
        save(M.plot_timeline(s), "large_timeline")
    if "plotly" in which:
        plotly_images()


def plotly_images() -> None:
    """The plotly figures of the same studies, exported by kaleido."""
    import hpo_core.visualization as P

    out = OUT / "plotly"
    out.mkdir(exist_ok=True)

    def save(fig: object, name: str) -> None:
        fig.update_layout(width=900, height=560)  # type: ignore[attr-defined]
        fig.write_image(out / f"{name}.png")  # type: ignore[attr-defined]
        print("wrote", out / f"{name}.png", flush=True)

    s = tpe_study()
    save(P.plot_optimization_history(s), "optimization_history")
    save(P.plot_param_importances(s), "param_importances")
    save(P.plot_slice(s, params=["x", "lr", "width", "optimizer"]), "slice")
    save(P.plot_contour(s, params=["x", "y"]), "contour")
    save(P.plot_parallel_coordinate(s, params=["lr", "optimizer", "width", "x", "y"]), "parallel_coordinate")
    save(P.plot_intermediate_values(s), "intermediate_values")
    save(P.plot_edf([s, tpe_study(300, "tpe-300")]), "edf")
    save(P.plot_rank(s, params=["x", "y", "lr"]), "rank")
    save(P.plot_timeline(threaded_study()), "timeline")
    m = mo_study()
    save(P.plot_pareto_front(m), "pareto_front")
    save(P.plot_hypervolume_history(m, [1.1, 10.0]), "hypervolume_history")
    plotly_terminator_image(save)


def plotly_terminator_image(save: Any) -> None:
    """The plotly terminator improvement of the ``progress`` forest study."""
    import hpo_core.visualization as P
    from hpo_core.terminator import RegretBoundEvaluator

    f = forest_study()
    save(P.plot_terminator_improvement(f, plot_error=True, improvement_evaluator=RegretBoundEvaluator(seed=0)),
         "terminator_improvement")


if __name__ == "__main__":
    main()
