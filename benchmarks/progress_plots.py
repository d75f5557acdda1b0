"""Timings of the two progress plots against Optuna 5.0's, same trials, same run.

* ``plot_hypervolume_history``: random-search trials of ZDT1 with 6 variables (two
  objectives) and of DTLZ2 with 6 variables (three), NumPy seed 0, reference point 1.1 x
  the worst value of each objective; 1,000, 10,000 and 100,000 COMPLETE trials, added
  to an hpo_core study in one ``ask_array`` batch and to an Optuna study with
  ``add_trials``. Optuna runs up to ``--optuna-max`` trials (default 10,000).
* ``plot_terminator_improvement``: a 2-D quadratic with 5 noisy CV scores per trial
  (reported as ``report_cross_validation_scores`` does), ``--terminator-trials`` trials
  (default 40), the default RegretBoundEvaluator (seed 0) with ``plot_error=True``: one
  GP fit per trial in both libraries.

Each time is the median of ``--repeats`` calls after one warm-up (the terminator plot:
one call each), the figure object returned, not rasterized::

    nice python benchmarks/progress_plots.py

Writes ``benchmarks/results/progress_plots.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.distributions import FloatDistribution  # noqa: E402

RESULTS = Path(__file__).with_name("results") / "progress_plots.json"


def problem(name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 6) uniform parameters and their (n, m) objective values, NumPy seed 0."""
    X = np.random.default_rng(0).random((n, 6))
    if name == "zdt1":
        g = 1 + 9 * X[:, 1:].mean(axis=1)
        return X, np.stack([X[:, 0], g * (1 - np.sqrt(X[:, 0] / g))], axis=1)
    g = ((X[:, 2:] - 0.5) ** 2).sum(axis=1)  # DTLZ2, three objectives
    a, b = X[:, 0] * math.pi / 2, X[:, 1] * math.pi / 2
    return X, np.stack([(1 + g) * np.cos(a) * np.cos(b), (1 + g) * np.cos(a) * np.sin(b), (1 + g) * np.sin(a)],
                       axis=1)


def ours_mo(X: np.ndarray, V: np.ndarray) -> hpo_core.Study:
    study = hpo_core.create_study(directions=["minimize"] * V.shape[1],
                                  sampler=hpo_core.samplers.RandomSampler(seed=0))
    space = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(X.shape[1])}
    batch = study.ask_array(space, len(X))
    study.tell_array(batch, V)  # the batch's own parameters; the values are what is plotted
    return study


def optuna_mo(X: np.ndarray, V: np.ndarray) -> Any:
    import optuna

    study = optuna.create_study(directions=["minimize"] * V.shape[1])
    dists = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(X.shape[1])}
    study.add_trials([optuna.trial.create_trial(params={k: float(x[i]) for i, k in enumerate(dists)},
                                                distributions=dists, values=v.tolist())
                      for x, v in zip(X, V)])
    return study


def timed(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def terminator_studies(n: int) -> tuple[hpo_core.Study, Any]:
    import optuna

    rng = np.random.default_rng(0)
    ours = hpo_core.create_study()
    theirs = optuna.create_study()
    for _ in range(n):
        x = rng.uniform(-1, 1, 2)
        scores = (float((x**2).sum()) + rng.normal(0, 0.02, 5)).tolist()
        params = {"a": float(x[0]), "b": float(x[1])}
        attrs = {"terminator:cv_scores": scores}
        ours.add_trial(hpo_core.trial.create_trial(
            params=params, distributions={k: FloatDistribution(-1, 1) for k in params},
            value=float(np.mean(scores)), system_attrs=attrs))
        theirs.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: optuna.distributions.FloatDistribution(-1, 1) for k in params},
            value=float(np.mean(scores)), system_attrs=attrs))
    return ours, theirs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--optuna-max", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--terminator-trials", type=int, default=40)
    args = ap.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    import optuna.terminator
    import optuna.visualization
    import optuna.visualization.matplotlib

    import hpo_core.terminator
    import hpo_core.visualization
    import hpo_core.visualization.matplotlib

    hpo_core.logging.set_verbosity(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    rev = _common.git_rev()
    results: dict[str, Any] = {"commit": rev, "machine": _common.machine_info(["optuna", "plotly", "matplotlib"]),
                               "hypervolume": {}, "terminator": {}}
    for name in ("zdt1", "dtlz2"):
        for n in args.sizes:
            X, V = problem(name, n)
            ref = (1.1 * V.max(axis=0)).tolist()
            row: dict[str, float] = {}
            ours = ours_mo(X, V)
            row["hpo_core plotly"] = timed(lambda s=ours, r=ref: hpo_core.visualization.plot_hypervolume_history(s, r),
                                           args.repeats)
            row["hpo_core matplotlib"] = timed(
                lambda s=ours, r=ref: (hpo_core.visualization.matplotlib.plot_hypervolume_history(s, r), plt.close("all")),
                args.repeats)
            if n <= args.optuna_max:
                theirs = optuna_mo(X, V)
                row["Optuna plotly"] = timed(lambda s=theirs, r=ref: optuna.visualization.plot_hypervolume_history(s, r),
                                             args.repeats)
                fig = hpo_core.visualization.plot_hypervolume_history(ours, ref)
                want = optuna.visualization.plot_hypervolume_history(theirs, ref)
                row["same last value"] = float(math.isclose(fig.data[0].y[-1], want.data[0].y[-1], rel_tol=1e-9))
            results["hypervolume"][f"{name}|{n}"] = row
            print(name, n, {k: round(v, 4) for k, v in row.items()}, flush=True)
    ours_t, theirs_t = terminator_studies(args.terminator_trials)
    t = time.perf_counter()
    hpo_core.visualization.plot_terminator_improvement(
        ours_t, plot_error=True, improvement_evaluator=hpo_core.terminator.RegretBoundEvaluator(seed=0))
    results["terminator"]["hpo_core plotly"] = time.perf_counter() - t
    t = time.perf_counter()
    optuna.visualization.plot_terminator_improvement(
        theirs_t, plot_error=True, improvement_evaluator=optuna.terminator.RegretBoundEvaluator(seed=0))
    results["terminator"]["Optuna plotly"] = time.perf_counter() - t
    print("terminator", args.terminator_trials, results["terminator"], flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"\ncommit {rev}\n")
    print("| problem | trials | hpo_core plotly (s) | hpo_core matplotlib (s) | Optuna plotly (s) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, row in results["hypervolume"].items():
        name, n = key.split("|")
        o = row.get("Optuna plotly")
        ratio = f"{o / row['hpo_core plotly']:.0f}x" if o else "-"
        print(f"| {name} | {int(n):,} | {row['hpo_core plotly']:.3f} | {row['hpo_core matplotlib']:.3f} | "
              f"{o:.3f} | {ratio} |" if o else f"| {name} | {int(n):,} | {row['hpo_core plotly']:.3f} | "
              f"{row['hpo_core matplotlib']:.3f} | not run | - |")


if __name__ == "__main__":
    main()
