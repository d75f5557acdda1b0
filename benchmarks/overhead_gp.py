"""Per-ask time of GP samplers versus history size: hpo_core's GPSampler and Optuna's.

The 10-parameter mixed space and trivial objective of ``overhead_tpe.py`` (float, log
float, float step, int, log int, int step, two categoricals, two more floats). Per
history size N and library: a fresh study (seed 0) is prefilled with N finished trials
through ``add_trial`` (the same random points and objective values for both libraries),
``--warmup`` ask+tell pairs are run untimed (default 1: the first GP ask after the prefill
fits the hyperparameters from scratch, later ones warm-start and refit only every 5 % of
growth; ``--long`` shows those refits in a real study), then ``--window`` consecutive
ask+tell pairs are timed one by one; the table shows the
median (and the range) in milliseconds and the ratio. A cell whose first pair takes
longer than ``--ask-limit`` seconds stops there (its one timing is reported).

``--api dbr`` (default) asks define-by-run (``study.ask()``, then ``suggest_*`` for every
parameter: the GP proposes at the first suggest in hpo_core, in ``ask()`` in Optuna);
``--api space`` asks with the whole space (``ask(SearchSpace)``, Optuna
``ask(fixed_distributions)``).

Machine state, for the figures to mean something on a shared or small machine:

* ``--load N`` runs N CPU-bound busy-loop processes while the pairs are timed (not while
  the study is prefilled): the ask competes for the cores as it would beside other work.
* ``--n-jobs K`` times ``study.optimize(n_trials=window, n_jobs=K)`` (K threads, each
  asking define-by-run) instead of single pairs. A cell then shows the time per trial
  (the optimize call's wall time / window: asks complete at that rate) and, in the
  range, the median and maximum time a worker thread took per trial (its ask, waiting
  for the other thread's ask included, the objective and the tell).
* ``--blas-threads 1,none`` runs one hpo_core row per value of
  ``GPSampler(n_blas_threads=...)`` (``none``: BLAS threads left as they are, OpenBLAS's
  default of one per core), in the same run; the default is the sampler's default, 1.

``--long N`` also runs a real N-trial hpo_core GP study (every trial after the startup
ones proposed by the GP) and reports the per-ask time in windows along the way.

``--backend NAME`` runs hpo_core's GP math on that kernel backend (``GPSampler(backend=...)``:
``jax``, ``numba`` or ``numpy``; default: the NumPy reference). JAX compiles once per
padded shape, so the first pairs of a cell include compilation: compare the ranges, not
only the medians.

Usage::

    python benchmarks/overhead_gp.py                       # 100, 300, 1000
    python benchmarks/overhead_gp.py --sizes 1000 --window 21 --load 1
    python benchmarks/overhead_gp.py --sizes 1000 --window 20 --n-jobs 2
    python benchmarks/overhead_gp.py --sizes 1000 --paths hpo --blas-threads 1,none
    python benchmarks/overhead_gp.py --sizes 100 --window 3 --paths hpo
    python benchmarks/overhead_gp.py --long 5000 --paths hpo
    python benchmarks/overhead_gp.py --sizes 100,300 --paths hpo --backend jax
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import overhead_tpe as o  # noqa: E402

PATHS = ("hpo", "optuna")
LABELS = {"hpo": "hpo_core `GPSampler`", "optuna": "Optuna `GPSampler`"}
APIS = ("dbr", "space")
DEFAULT_BLAS_THREADS = 1  # GPSampler's default n_blas_threads


def make_study(path: str, backend: str | None = None, *, api: str = "dbr",
               blas_threads: int | None = DEFAULT_BLAS_THREADS) -> dict[str, Any]:
    """A fresh study of ``path`` (seed 0) as ``add(params, value)``, ``step()`` (one
    ask+tell), ``objective(trial)`` (define-by-run, for ``optimize``) and ``optimize(f,
    n_trials, n_jobs)``; ``backend`` and ``blas_threads`` are
    hpo_core's ``GPSampler(backend=..., n_blas_threads=...)`` (Optuna ignores them)."""
    def objective(trial: Any) -> float:
        return o.objective(o.suggest_all(trial))

    if path == "hpo":
        import logging

        import hpo_core
        from hpo_core.samplers import GPSampler

        hpo_core.logging.set_verbosity(logging.WARNING)  # no line per trial under optimize
        study = hpo_core.create_study(sampler=GPSampler(seed=0, backend=backend, n_blas_threads=blas_threads))
        dists = o.distributions(hpo_core)
        space = hpo_core.SearchSpace(dists)

        def add(params: dict[str, Any], value: float) -> None:
            study.add_trial(hpo_core.create_trial(params=params, distributions=dists, value=value))

        def step() -> None:
            if api == "dbr":
                t = study.ask()
                study.tell(t, objective(t))
            else:
                t = study.ask(space)
                study.tell(t, o.objective(t.params))

        return dict(add=add, step=step, objective=objective, optimize=study.optimize)
    if path == "optuna":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        ostudy = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0))
        odists = o.distributions(optuna.distributions)

        def oadd(params: dict[str, Any], value: float) -> None:
            ostudy.add_trial(optuna.trial.create_trial(params=params, distributions=odists, value=value))

        def ostep() -> None:
            if api == "dbr":
                t = ostudy.ask()
                ostudy.tell(t, objective(t))
            else:
                t = ostudy.ask(odists)
                ostudy.tell(t, o.objective(t.params))

        return dict(add=oadd, step=ostep, objective=objective, optimize=ostudy.optimize)
    raise ValueError(f"unknown path {path!r}; choose from {PATHS}")


@contextlib.contextmanager
def busy_load(n: int) -> Iterator[None]:
    """``n`` CPU-bound processes (a Python busy loop each) for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        if procs:
            time.sleep(0.3)  # let them reach the loop
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def measure(path: str, size: int, window: int, ask_limit: float, backend: str | None = None, *,
            api: str = "dbr", load: int = 0, n_jobs: int = 1, warmup: int = 1,
            blas_threads: int | None = DEFAULT_BLAS_THREADS) -> list[float]:
    """Seconds per timed pair, or with ``n_jobs`` > 1 ``[wall / window, worker times...]``."""
    study = make_study(path, backend, api=api, blas_threads=blas_threads)
    for p in o.random_params(size, seed=1):
        study["add"](p, o.objective(p))
    for _ in range(warmup):
        study["step"]()
    with busy_load(load):
        if n_jobs > 1:
            return _measure_parallel(study, window, n_jobs)
        times = []
        for _ in range(window):
            t0 = time.perf_counter()
            study["step"]()
            times.append(time.perf_counter() - t0)
            if times[-1] > ask_limit:
                break
    return times


def _measure_parallel(study: dict[str, Any], window: int, n_jobs: int) -> list[float]:
    """``optimize(n_trials=window, n_jobs=n_jobs)``: [wall / window] + each worker's time
    per trial (between the ends of its consecutive objective calls; from the start for
    its first)."""
    lock = threading.Lock()
    last_end: dict[int, float] = {}
    cycles: list[float] = []
    objective: Callable[[Any], float] = study["objective"]
    start = time.perf_counter()

    def timed(trial: Any) -> float:
        value = objective(trial)
        now = time.perf_counter()
        with lock:
            tid = threading.get_ident()
            cycles.append(now - last_end.get(tid, start))
            last_end[tid] = now
        return value

    study["optimize"](timed, n_trials=window, n_jobs=n_jobs)
    return [(time.perf_counter() - start) / window] + cycles


def long_study(n_trials: int, log: Any, backend: str | None = None, *, api: str = "dbr",
               blas_threads: int | None = DEFAULT_BLAS_THREADS) -> list[tuple[int, float, float]]:
    """Per-ask time of a real hpo_core GP study: (trial, median ms, max ms) per window."""
    study = make_study("hpo", backend, api=api, blas_threads=blas_threads)
    marks = sorted({m for m in (100, 300, 1000, 2000, 3000, 5000, 10000, n_trials) if m <= n_trials})
    out, times = [], []
    for i in range(n_trials):
        t0 = time.perf_counter()
        study["step"]()
        times.append(time.perf_counter() - t0)
        if i + 1 in marks:
            w = times[-min(20, len(times)):]
            out.append((i + 1, 1e3 * float(np.median(w)), 1e3 * float(np.max(w))))
            log(f"  long study @ {i + 1:,}: median {out[-1][1]:,.1f} ms over the last {len(w)}")
    return out


def _blas_values(text: str) -> list[int | None]:
    """The distinct values of a comma-separated ``--blas-threads`` list, in order."""
    values = [None if v.strip().lower() == "none" else int(v) for v in text.split(",") if v.strip()]
    return list(dict.fromkeys(values))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--window", type=int, default=5, help="timed ask+tell pairs (or trials) per cell (default 5)")
    parser.add_argument("--ask-limit", type=float, default=60.0, help="stop a cell after a slower pair (s)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed ask+tell pairs after the prefill (default 1)")
    parser.add_argument("--api", default="dbr", choices=APIS,
                        help="dbr: define-by-run ask() + suggest_* (default); space: ask(SearchSpace)")
    parser.add_argument("--load", type=int, default=0, help="CPU-bound busy processes while timing (default 0)")
    parser.add_argument("--n-jobs", type=int, default=1, help="time optimize(n_jobs=K) instead of single pairs")
    parser.add_argument("--blas-threads", default=str(DEFAULT_BLAS_THREADS),
                        help="comma-separated GPSampler(n_blas_threads=...) values for hpo rows; 'none' "
                             "leaves the BLAS threads alone (default: 1, the sampler's default)")
    parser.add_argument("--long", type=int, default=0, help="also run a real hpo_core study of this many trials")
    parser.add_argument("--backend", default=None, choices=("jax", "numba", "numpy"),
                        help="kernel backend of hpo_core's GP math (default: the NumPy reference)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    paths = [p for p in args.paths.split(",") if p]
    blas = _blas_values(args.blas_threads)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    # One row per (path, n_blas_threads); Optuna has one row.
    rows = [(p, b) for p in paths for b in (blas if p == "hpo" else [DEFAULT_BLAS_THREADS])]

    def label(path: str, b: int | None) -> str:
        text = LABELS[path] + (f" (backend {args.backend!r})" if path == "hpo" and args.backend else "")
        if path == "hpo" and (b != DEFAULT_BLAS_THREADS or len(blas) > 1):
            text += f" (`n_blas_threads={b}`)"
        return text

    results: dict[tuple[str, int | None, int], list[float]] = {}
    for size in sizes:
        for path, b in rows:
            r = measure(path, size, args.window, args.ask_limit, args.backend, api=args.api, load=args.load,
                        n_jobs=args.n_jobs, warmup=args.warmup, blas_threads=b)
            results[path, b, size] = r
            log(f"  {label(path, b)} @ {size:,}: {1e3 * _headline(r, args.n_jobs):,.1f} ms")
    mode = ("define-by-run (`ask()` + `suggest_*`)" if args.api == "dbr" else "`ask(space)`") + (
        f", `optimize(n_jobs={args.n_jobs})`" if args.n_jobs > 1 else "") + (
        f", {args.load} busy process(es) running" if args.load else ", no added load")
    lines = [f"Command: `python benchmarks/overhead_gp.py {' '.join(argv or sys.argv[1:])}`".rstrip(), "",
             _common.machine_info(["scipy", "optuna", "threadpoolctl"]
                                  + (["jax"] if args.backend == "jax" else [])),
             f"- Mode: {mode}",
             "",
             "| library | " + " | ".join(f"N = {s:,}" for s in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for path, b in rows:
        cells = []
        for s in sizes:
            r = results[path, b, s]
            if args.n_jobs > 1:
                w = 1e3 * np.array(r[1:])
                cells.append(f"{1e3 * r[0]:,.1f} ms per trial (worker median {np.median(w):,.0f}, "
                             f"max {w.max():,.0f}, n={len(w)})")
            else:
                t = 1e3 * np.array(r)
                cells.append(f"{np.median(t):,.1f} ms ({t.min():,.0f}-{t.max():,.0f}, n={len(t)})")
        lines.append(f"| {label(path, b)} | " + " | ".join(cells) + " |")
    if "optuna" in paths:
        for path, b in rows:
            if path != "hpo":
                continue
            ratios = [_headline(results["optuna", DEFAULT_BLAS_THREADS, s], args.n_jobs)
                      / _headline(results["hpo", b, s], args.n_jobs) for s in sizes]
            name = "Optuna / hpo_core" + (f" (`n_blas_threads={b}`)" if len(blas) > 1 else "")
            lines.append(f"| {name} | " + " | ".join(f"{r:,.1f}x" for r in ratios) + " |")
    if args.long:
        lines += ["", f"Real hpo_core GP study of {args.long:,} trials, ms per ask+tell over the last 20 "
                  "trials before each count (median, max):", ""]
        lines += [f"- {n:,}: {med:,.1f} ms (max {mx:,.1f})"
                  for n, med, mx in long_study(args.long, log, args.backend, api=args.api, blas_threads=blas[0])]
    print("\n".join(lines))


def _headline(r: list[float], n_jobs: int) -> float:
    """The cell's headline seconds: the median pair, or with n_jobs > 1 the time per trial."""
    return r[0] if n_jobs > 1 else float(np.median(r))


if __name__ == "__main__":
    main()
