"""Plot timings: hpo_core.visualization against Optuna 5.0's, same trials, same run.

Issue 16: each plot at 100,000 trials x 8 parameters in a few seconds at most. The trials
are drawn once per size (uniformly, NumPy seed 0) over eight parameters (five floats, one
log-scale, an int and a four-way categorical) with an objective of clearly different
weights; each trial reports ``--steps`` intermediate values. The same trials go into an
hpo_core study and an Optuna study (``add_trials``). Each call is timed as a user makes
it (reading the study included; the figure object returned, not rasterized): the
median of ``--repeats`` calls after one warm-up, for the plotly and the matplotlib
functions of both libraries. Optuna runs up to ``--optuna-max`` trials (default 10,000),
and a plot whose 1,000-trial call took over ``--optuna-skip`` seconds (default 5) is not
run at 10,000::

    nice python benchmarks/plots.py                       # README figures
    nice python benchmarks/plots.py --sizes 1000 --no-readme   # quick look

Writes ``benchmarks/results/plots.json`` and the README section (``--no-readme`` to skip;
``--from-json`` reports the saved results again).
"""

from __future__ import annotations

import argparse
import json
import logging
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
from hpo_core.distributions import (  # noqa: E402
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

RESULTS = Path(__file__).with_name("results") / "plots.json"
CHOICES = ("adam", "sgd", "rmsprop", "lamb")
PLOTS = ["plot_optimization_history", "plot_param_importances", "plot_slice", "plot_contour",
         "plot_parallel_coordinate", "plot_intermediate_values", "plot_edf", "plot_rank", "plot_timeline"]


def space() -> dict[str, Any]:
    return {
        "x0": FloatDistribution(-5.0, 5.0), "x1": FloatDistribution(-5.0, 5.0),
        "x2": FloatDistribution(-5.0, 5.0), "x3": FloatDistribution(-5.0, 5.0),
        "x4": FloatDistribution(-5.0, 5.0), "lr": FloatDistribution(1e-5, 1.0, log=True),
        "units": IntDistribution(1, 256), "opt": CategoricalDistribution(list(CHOICES)),
    }


def objective(X: np.ndarray) -> np.ndarray:
    """(n, 8) internal values -> (n,) a rotated-ellipsoid-like objective with a log term."""
    y = 10 * (X[:, 0] - 1) ** 2 + 3 * (X[:, 1] + X[:, 2]) ** 2 + 0.5 * X[:, 3] ** 2 + 0.05 * X[:, 4] ** 2
    y += 2 * (np.log10(X[:, 5]) + 3) ** 2 + 0.002 * (X[:, 6] - 64) ** 2 + np.array([0, 3, 1, 2])[X[:, 7].astype(int)]
    return y


def build(n: int, n_steps: int, with_optuna: bool) -> tuple[hpo_core.Study, Any]:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    batch = study.ask_array(space(), n)
    y = objective(batch.params)
    t0 = time.time() - n  # one trial a second, so the timeline has a span
    h = study.view.history
    storage = study._storage  # intermediate values of an ask_array batch: through the storage
    for i, tid in enumerate(batch.trial_ids.tolist()):
        for s in range(n_steps):
            storage.set_trial_intermediate_value(tid, s, float(y[i] * (1 + (n_steps - s) / n_steps)))
    study.tell_array(batch, y)
    h = study.view.sync()
    h.t_start[:n] = t0 + np.arange(n)
    h.t_complete[:n] = h.t_start[:n] + 0.5 + np.random.default_rng(0).random(n)
    copy = None
    if with_optuna:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        copy = optuna.create_study()
        from hpo_core.distributions import distribution_to_json

        dists = {k: optuna.distributions.json_to_distribution(distribution_to_json(d)) for k, d in space().items()}
        rows = batch.space.external_rows(batch.params)
        import datetime

        trials = []
        for i, r in enumerate(rows):
            start = datetime.datetime.fromtimestamp(h.t_start[i])
            trials.append(optuna.trial.create_trial(
                params=dict(zip(batch.space.names, r)), distributions=dists, value=float(y[i]),
                intermediate_values={s: float(y[i] * (1 + (n_steps - s) / n_steps)) for s in range(n_steps)},
                ))
            trials[-1].datetime_start = start
            trials[-1].datetime_complete = datetime.datetime.fromtimestamp(h.t_complete[i])
        copy.add_trials(trials)
    return study, copy


def timed(fn: Callable[[], Any], repeats: int) -> float:
    import matplotlib.pyplot as plt

    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        plt.close("all")
    return statistics.median(times[1:]) if repeats > 0 else times[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--optuna-max", type=int, default=10_000)
    ap.add_argument("--optuna-skip", type=float, default=5.0)
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument("--from-json", action="store_true", help="report the saved results; run nothing")
    ap.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = ap.parse_args(argv)
    if args.from_json:
        body = report(json.loads(args.results.read_text()))
        print(body)
        if not args.no_readme:
            _common.write_section(Path(__file__).with_name("README.md"), "plots", body)
        return
    import matplotlib

    matplotlib.use("Agg")
    import optuna.visualization as ov
    import optuna.visualization.matplotlib as om

    import hpo_core.visualization as hv
    import hpo_core.visualization.matplotlib as hm

    hpo_core.logging.set_verbosity(logging.WARNING)
    warnings.simplefilter("ignore")
    rev = _common.git_rev()
    results: dict[str, Any] = {"git": rev, "sizes": args.sizes, "steps": args.steps, "repeats": args.repeats,
                               "machine": _common.machine_info(["optuna", "plotly", "matplotlib"]),
                               "optuna_max": args.optuna_max, "optuna_skip": args.optuna_skip, "times": {}}
    slow: set[tuple[str, str]] = set()
    # Warm-up on a small study: the first call of each plot imports and caches.
    small, osmall = build(min(50, min(args.sizes)), 2, True)
    for name in PLOTS:
        for mod, s in ((hv, small), (hm, small), (ov, osmall), (om, osmall)):
            timed(lambda mod=mod, s=s, name=name: getattr(mod, name)(s), 0)
    for n in args.sizes:
        with_optuna = n <= args.optuna_max
        study, ostudy = build(n, args.steps, with_optuna)
        row: dict[str, Any] = {}
        for name in PLOTS:
            for lib, mod, s in (("hpo_core plotly", hv, study), ("hpo_core matplotlib", hm, study),
                                ("Optuna plotly", ov, ostudy), ("Optuna matplotlib", om, ostudy)):
                if s is None or (lib, name) in slow:
                    continue
                reps = args.repeats if lib.startswith("hpo_core") else 1
                t = timed(lambda mod=mod, s=s, name=name: getattr(mod, name)(s), reps)
                row[f"{name}|{lib}"] = t
                if lib.startswith("Optuna") and t > args.optuna_skip:
                    slow.add((lib, name))
                print(f"{n:>7} {name:<28} {lib:<20} {t:8.3f} s", flush=True)
        results["times"][str(n)] = row
    args.results.parent.mkdir(exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1))
    body = report(results)
    print(body)
    if not args.no_readme:
        _common.write_section(Path(__file__).with_name("README.md"), "plots", body)


def report(results: dict[str, Any]) -> str:
    sizes = [str(n) for n in results["sizes"]]
    lines = [
        f"Seconds per call (hpo_core: median of {results.get('repeats', 3)} after a warm-up; Optuna: one "
        f"call; both warmed up on a 50-trial study first), 8 parameters, {results['steps']} intermediate "
        f"values per trial, git {results['git']}. '-': not run (Optuna above "
        f"{results.get('optuna_max', 10_000):,} trials, or over {results.get('optuna_skip', 5.0):g} s at the "
        "previous size). A call builds the figure object (plotly) or the Axes "
        "(matplotlib); rendering in a browser or rasterizing is not included. The machine is "
        "shared with other jobs: differences under about 2x between neighbouring cells are noise.",
        "",
        results.get("machine") or _common.machine_info(["optuna", "plotly", "matplotlib"]),
    ]
    for backend in ("plotly", "matplotlib"):
        cols = [(lib, n) for lib in ("hpo_core", "Optuna") for n in sizes
                if any(f"{name}|{lib} {backend}" in results["times"].get(n, {}) for name in PLOTS)]
        lines += ["", f"**{backend}**", "",
                  "| plot | " + " | ".join(f"{lib} {int(n):,}" for lib, n in cols) + " |",
                  "|" + " --- |" * (1 + len(cols))]
        for name in PLOTS:
            cells = []
            for lib, n in cols:
                t = results["times"].get(n, {}).get(f"{name}|{lib} {backend}")
                cells.append("-" if t is None else f"{t:.3f}")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
