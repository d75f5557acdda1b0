"""What a fresh process pays before its first trial: import, first ask+tell, first kernel calls.

Each measurement runs in a new Python process (``sys.executable``), ``--repeat`` times,
and the table reports the median. The kernels timed are the ones the samplers call, on
the arrays they pass: ``tpe_propose`` (``TPESampler``'s one kernel call per proposal;
its Parzen estimators, product-mixture sampling and densities are compiled into it), on
a 10-parameter mixed space with 100 trials and 24 candidates; and the multi-objective
kernels of TPE's split, the GP sampler and ``Study.best_trials``: ``nondominated_rank``
(2 objectives), ``is_pareto_front`` and ``hypervolume`` (3 objectives, 100 points).

Each backend is chosen as a user chooses it, with ``HPO_CORE_BACKEND``, and the kernels
are called through ``hpo_core.kernels``, so a kernel the backend lacks comes from the
fastest available backend that has it (the table says which). For Numba the cases are
an empty cache directory (``NUMBA_CACHE_DIR`` pointing to a new temporary folder: the
very first run on a machine, which compiles) and that folder filled (every later run,
which loads the cached machine code).

Usage::

    python benchmarks/cold_start.py               # prints a markdown table
    python benchmarks/cold_start.py --repeat 5 --backends cext,numba
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KERNELS = ("tpe_propose", "nondominated_rank", "is_pareto_front", "hypervolume")

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import hpo_core
t1 = time.perf_counter()
from hpo_core import kernels
out = {"import": t1 - t0}
if sys.argv[1] == "study":
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    t = study.ask()
    study.tell(t, t.suggest_float("x", 0.0, 1.0))
    out["first"] = time.perf_counter() - t1
else:
    # The arrays TPESampler passes for a 10-parameter space (as benchmarks/overhead_tpe.py):
    # float, log float, float, log int, two floats, int step 1, int step 5 (numeric
    # columns first), categoricals of 3 and 10; 100 trials, the best 10 good.
    rng = np.random.default_rng(0)
    is_log = np.array([False, True, False, True, False, False, False, False])
    step = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 5.0])
    grid_low = np.array([0.0, 1e-3, -5.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    grid_high = np.array([1.0, 1.0, 5.0, 100.0, 1.0, 1.0, 20.0, 100.0])
    low = np.where(is_log, np.log(np.where(is_log, grid_low, 1.0)), grid_low - 0.5 * step)
    high = np.where(is_log, np.log(np.where(is_log, grid_high, 1.0)), grid_high + 0.5 * step)
    sizes, offsets = np.array([3, 10], dtype=np.intp), np.array([0, 3], dtype=np.intp)
    n = 100
    T = low + rng.random((n, 8)) * (high - low)
    X = np.where(is_log, np.exp(T), T)
    X = np.where(step > 0, grid_low + np.round((X - grid_low) / np.where(step > 0, step, 1.0)) * step, X)
    X = np.clip(X, grid_low, grid_high)
    X = np.hstack([X, np.stack([rng.integers(0, c, n) for c in sizes], axis=1).astype(np.float64)])
    tpe_args = (X, np.arange(n, dtype=np.intp), 10, np.arange(10, dtype=np.intp), np.ones(n),
                rng.random((24, 11)), low, high, is_log, step, grid_low, grid_high, offsets, sizes,
                1.0, False, True)
    Y2, Y3 = rng.random((n, 2)), rng.random((n, 3))
    t2 = time.perf_counter()
    kernels.get_backend()  # HPO_CORE_BACKEND: imports the backend (numba, jax, the extension)
    t3 = time.perf_counter()
    kernels.tpe_propose(*tpe_args)
    t4 = time.perf_counter()
    kernels.nondominated_rank(Y2)
    t5 = time.perf_counter()
    front = kernels.is_pareto_front(Y3)
    t6 = time.perf_counter()
    kernels.hypervolume(Y3[front], np.full(3, 1.1))
    t7 = time.perf_counter()
    out.update(load=t3 - t2, tpe_propose=t4 - t3, nondominated_rank=t5 - t4, is_pareto_front=t6 - t5,
               hypervolume=t7 - t6)
    out["served"] = {k: kernels.kernel_backend_name(k) for k in
                     ("tpe_propose", "nondominated_rank", "is_pareto_front", "hypervolume")}
print(json.dumps(out))
"""


def _run(arg: str, env: dict[str, str]) -> dict[str, object]:
    res = subprocess.run([sys.executable, "-c", _PROBE, arg], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.0f} ms" if ms >= 100 else (f"{ms:.1f} ms" if ms >= 1 else f"{ms:.2f} ms")


def _median(runs: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]


def _commit() -> str:
    try:
        res = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True, cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return res.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def _label(backend: str, runs: list[dict[str, object]]) -> str:
    served: dict[str, str] = runs[0]["served"]  # type: ignore[assignment]
    others: dict[str, list[str]] = {}
    for kernel, by in served.items():
        if by != backend:
            others.setdefault(by, []).append(f"`{kernel}`")
    return backend + "".join(f"; {', '.join(ks)} from {by}" for by, ks in others.items())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3, help="processes per cell (default 3)")
    p.add_argument("--backends", default=None,
                   help="comma-separated kernel backends to time (default: every available one)")
    args = p.parse_args()
    from hpo_core import kernels

    backends = kernels.available_backends() if args.backends is None else args.backends.split(",")
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    base = dict(os.environ)
    base.pop("HPO_CORE_BACKEND", None)
    rows: list[tuple[str, str]] = []
    study = [_run("study", base) for _ in range(args.repeat)]
    rows.append(("`import hpo_core`", _ms(_median(study, "import"))))
    rows.append(("first `ask` + `suggest_float` + `tell` (random sampler, in memory)", _ms(_median(study, "first"))))
    for backend in backends:
        env = dict(base, HPO_CORE_BACKEND=backend)
        if backend == "numba":
            cold, warm = [], []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as d:
                    cold.append(_run(backend, dict(env, NUMBA_CACHE_DIR=d)))
                    warm.append(_run(backend, dict(env, NUMBA_CACHE_DIR=d)))
            cases = [(f"{_label(backend, cold)}, empty cache (first run on a machine)", cold),
                     (f"{_label(backend, warm)}, cache filled (later runs)", warm)]
        else:
            runs = [_run(backend, env) for _ in range(args.repeat)]
            cases = [(_label(backend, runs), runs)]
        for label, runs in cases:
            keys = ("load", *KERNELS)
            parts = ", ".join(f"{k} {_ms(_median(runs, k))}" for k in keys)
            total = sum(_median(runs, k) for k in keys)
            rows.append((f"first kernel calls, {label}", f"{_ms(total)} ({parts})"))
    load_after = os.getloadavg()
    print("| fresh process | median |")
    print("|---|---|")
    for a, b in rows:
        print(f"| {a} | {b} |")
    print()
    print(f"Medians of {args.repeat} processes; commit {_commit()}, started {started}, {os.cpu_count()} CPUs; "
          f"load average (1/5/15 min) {'/'.join(f'{v:.2f}' for v in load_before)} before, "
          f"{'/'.join(f'{v:.2f}' for v in load_after)} after.")


if __name__ == "__main__":
    main()
