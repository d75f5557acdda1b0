"""Per-ask time of the GP sampler with three objectives (LogEHVI): hpo_core's and Optuna's.

DTLZ2 with three objectives and ``--dims`` parameters in [0, 1] (``quality_mo.dtlz2``).
Per history size N and library: a fresh study (seed 0) is prefilled through
``add_trial`` with the same N finished trials for both libraries, then ``--warmup``
ask+tell pairs run untimed (the first GP ask after a prefill fits the hyperparameters
from scratch) and ``--window`` define-by-run pairs (``ask()``, the ``suggest_float``
calls, ``tell``) are timed one by one. The table gives the median (and the range) in
milliseconds, the Pareto front's size and, for hpo_core, the number of LogEHVI boxes.

The prefilled points (``--prefill``): ``nsga`` (default) the first N trials of an
hpo_core ``NSGAIISampler(seed=1)`` run on the same problem, a front of the size a
search that converges reaches (a random prefill has a much smaller front, and LogEHVI
costs grow with the front); ``random``: N uniform points.

Usage::

    nice python benchmarks/overhead_gp_mo.py                      # N = 300, both libraries
    nice python benchmarks/overhead_gp_mo.py --sizes 100,300 --window 5 --paths hpo
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import quality_mo  # noqa: E402

PATHS = ("hpo", "optuna")
LABELS = {"hpo": "hpo_core `GPSampler`", "optuna": "Optuna `GPSampler`"}


def prefill_points(n: int, dims: int, how: str) -> list[dict[str, float]]:
    """``n`` parameter sets of DTLZ2 (``dims`` parameters), the same for both libraries."""
    if how == "random":
        rng = np.random.default_rng(1)
        return [{f"x{i}": float(v) for i, v in enumerate(row)} for row in rng.random((n, dims))]
    import hpo_core
    from hpo_core.samplers import NSGAIISampler

    hpo_core.logging.set_verbosity(logging.WARNING)
    study = hpo_core.create_study(directions=["minimize"] * 3, sampler=NSGAIISampler(seed=1))
    study.optimize(quality_mo.dtlz2(dims), n_trials=n)
    return [dict(t.params) for t in study.trials]


def _values(params: dict[str, float], dims: int) -> tuple[float, ...]:
    class _Fixed:  # a trial that answers suggest_float from params
        def suggest_float(self, name: str, low: float, high: float) -> float:
            return params[name]

    return tuple(quality_mo.dtlz2(dims)(_Fixed()))


def measure(path: str, points: list[dict[str, float]], dims: int, window: int, warmup: int) -> dict[str, Any]:
    objective = quality_mo.dtlz2(dims)
    if path == "hpo":
        import hpo_core
        from hpo_core.samplers import GPSampler

        hpo_core.logging.set_verbosity(logging.WARNING)
        lib: Any = hpo_core
        study: Any = hpo_core.create_study(directions=["minimize"] * 3, sampler=GPSampler(seed=0))
        dists: dict[str, Any] = {
            f"x{i}": hpo_core.distributions.FloatDistribution(0.0, 1.0) for i in range(dims)
        }
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        lib = optuna
        study = optuna.create_study(directions=["minimize"] * 3, sampler=optuna.samplers.GPSampler(seed=0))
        dists = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(dims)}
    for p in points:
        study.add_trial(lib.trial.create_trial(params=p, distributions=dists, values=list(_values(p, dims))))
    times = []
    for i in range(warmup + window):
        t0 = time.perf_counter()
        t = study.ask()
        study.tell(t, objective(t))
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    Y = np.array([t.values for t in study.trials])
    from hpo_core import kernels

    return {"times": times, "front": int(kernels.is_pareto_front(Y).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="300")
    parser.add_argument("--dims", type=int, default=4)
    parser.add_argument("--window", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--prefill", choices=("nsga", "random"), default="nsga")
    args = parser.parse_args()
    print(f"commit {_common.git_rev()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(_common.machine_info(["optuna", "torch"]))
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        points = prefill_points(n, args.dims, args.prefill)
        med = {}
        for path in args.paths.split(","):
            r = measure(path, points, args.dims, args.window, args.warmup)
            ms = np.array(r["times"]) * 1e3
            med[path] = float(np.median(ms))
            rows.append(
                f"| {n:,} | {LABELS[path]} | {med[path]:,.0f} ({ms.min():,.0f}-{ms.max():,.0f}) | "
                f"{r['front']} |"
            )
            print(rows[-1], flush=True)
        if "hpo" in med and "optuna" in med:
            print(f"N = {n}: Optuna / hpo_core = {med['optuna'] / med['hpo']:.2f}x", flush=True)
    print(
        "\n| N | library | ms per ask+tell: median (range) | front size after the window |\n|---|---|---|---|"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
