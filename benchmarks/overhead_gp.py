"""Per-ask time of GP samplers versus history size: hpo_core's GPSampler and Optuna's.

The 10-parameter mixed space and trivial objective of ``overhead_tpe.py`` (float, log
float, float step, int, log int, int step, two categoricals, two more floats). Per
history size N and library: a fresh study (seed 0) is prefilled with N finished trials
through ``add_trial`` (the same random points and objective values for both libraries),
then ``--window`` consecutive ask+tell pairs are timed one by one; the table shows the
median (and the range) in milliseconds and the ratio. A cell whose first pair takes
longer than ``--ask-limit`` seconds stops there (its one timing is reported).

``--long N`` also runs a real N-trial hpo_core GP study (every trial after the startup
ones proposed by the GP) and reports the per-ask time in windows along the way.

``--backend NAME`` runs hpo_core's GP math on that kernel backend (``GPSampler(backend=...)``:
``jax``, ``numba`` or ``numpy``; default: NumPy/SciPy BLAS). JAX compiles once per padded
shape, so the first pairs of a cell include compilation: compare the ranges, not only
the medians.

Usage::

    python benchmarks/overhead_gp.py                       # 100, 300, 1000
    python benchmarks/overhead_gp.py --sizes 100 --window 3 --paths hpo
    python benchmarks/overhead_gp.py --long 5000 --paths hpo
    python benchmarks/overhead_gp.py --sizes 100,300 --paths hpo --backend jax
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import overhead_tpe as o  # noqa: E402

PATHS = ("hpo", "optuna")
LABELS = {"hpo": "hpo_core `GPSampler`", "optuna": "Optuna `GPSampler`"}


def make_study(path: str, backend: str | None = None) -> tuple[Any, Any, Any]:
    """(add(params, value), step(), n_trials()) of a fresh study of ``path`` (seed 0);
    ``backend`` is hpo_core's ``GPSampler(backend=...)`` (Optuna ignores it)."""
    if path == "hpo":
        import hpo_core
        from hpo_core.samplers import GPSampler

        study = hpo_core.create_study(sampler=GPSampler(seed=0, backend=backend))
        dists = o.distributions(hpo_core)
        space = hpo_core.SearchSpace(dists)

        def add(params: dict[str, Any], value: float) -> None:
            study.add_trial(hpo_core.create_trial(params=params, distributions=dists, value=value))

        def step() -> None:
            t = study.ask(space)
            study.tell(t, o.objective(t.params))

        return add, step, lambda: study._history().n
    if path == "optuna":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0))
        dists = o.distributions(optuna.distributions)

        def add(params: dict[str, Any], value: float) -> None:
            study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value))

        def step() -> None:
            t = study.ask(dists)
            study.tell(t, o.objective(t.params))

        return add, step, lambda: len(study.get_trials(deepcopy=False))
    raise ValueError(f"unknown path {path!r}; choose from {PATHS}")


def measure(path: str, size: int, window: int, ask_limit: float,
            backend: str | None = None) -> list[float]:
    add, step, _ = make_study(path, backend)
    for p in o.random_params(size, seed=1):
        add(p, o.objective(p))
    times = []
    for _ in range(window):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if times[-1] > ask_limit:
            break
    return times


def long_study(n_trials: int, log: Any, backend: str | None = None) -> list[tuple[int, float, float]]:
    """Per-ask time of a real hpo_core GP study: (trial, median ms, max ms) per window."""
    add, step, n_now = make_study("hpo", backend)
    marks = sorted({m for m in (100, 300, 1000, 2000, 3000, 5000, 10000, n_trials) if m <= n_trials})
    out, times = [], []
    for i in range(n_trials):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if i + 1 in marks:
            w = times[-min(20, len(times)):]
            out.append((i + 1, 1e3 * float(np.median(w)), 1e3 * float(np.max(w))))
            log(f"  long study @ {i + 1:,}: median {out[-1][1]:,.1f} ms over the last {len(w)}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--window", type=int, default=5, help="timed ask+tell pairs per cell (default 5)")
    parser.add_argument("--ask-limit", type=float, default=60.0, help="stop a cell after a slower pair (s)")
    parser.add_argument("--long", type=int, default=0, help="also run a real hpo_core study of this many trials")
    parser.add_argument("--backend", default=None, choices=("jax", "numba", "numpy"),
                        help="kernel backend of hpo_core's GP math (default: NumPy/SciPy BLAS)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    paths = [p for p in args.paths.split(",") if p]
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    def label(path: str) -> str:
        return LABELS[path] + (f" (backend {args.backend!r})" if path == "hpo" and args.backend else "")

    results: dict[tuple[str, int], list[float]] = {}
    for size in sizes:
        for path in paths:
            results[path, size] = measure(path, size, args.window, args.ask_limit, args.backend)
            log(f"  {label(path)} @ {size:,}: median {1e3 * np.median(results[path, size]):,.1f} ms")
    lines = [f"Command: `python benchmarks/overhead_gp.py {' '.join(argv or sys.argv[1:])}`".rstrip(), "",
             _common.machine_info(["scipy", "optuna", "torch"] + (["jax"] if args.backend == "jax" else [])),
             "",
             "| library | " + " | ".join(f"N = {s:,}" for s in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for path in paths:
        cells = []
        for s in sizes:
            t = 1e3 * np.array(results[path, s])
            cells.append(f"{np.median(t):,.1f} ms ({t.min():,.0f}-{t.max():,.0f}, n={len(t)})")
        lines.append(f"| {label(path)} | " + " | ".join(cells) + " |")
    if set(paths) >= {"hpo", "optuna"}:
        ratios = [np.median(results["optuna", s]) / np.median(results["hpo", s]) for s in sizes]
        lines.append("| Optuna / hpo_core | " + " | ".join(f"{r:,.1f}x" for r in ratios) + " |")
    if args.long:
        lines += ["", f"Real hpo_core GP study of {args.long:,} trials, ms per ask+tell over the last 20 "
                  "trials before each count (median, max):", ""]
        lines += [f"- {n:,}: {med:,.1f} ms (max {mx:,.1f})"
                  for n, med, mx in long_study(args.long, log, args.backend)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
