"""Full-length TPE studies, every trial proposed by TPE (no prefill): per-trial overhead along the way.

``overhead_tpe.py`` measures the cost of an ask at history size N on a study prefilled
with N uniformly random trials. In a real study the trials cluster around the good
region, so fewer mixture components are negligible for a candidate and an ask can
cost more than on random points of the same count. This script runs the real loop:
``--trials`` ask+tell pairs of each library's TPE sampler (seed 0, default settings) on
the 10-parameter mixed space and trivial objective of ``overhead_tpe.py``, in memory,
each pair timed, and prints the median and 90th percentile over the last 10% (at
least 50) of the trials before each checkpoint (100, 1,000, 10,000, 100,000), the
total wall time, the resident memory growth per trial and, for hpo_core, the history's
array bytes per trial.

Paths are those of ``overhead_tpe.py``: ``hpo_space`` (``ask(SearchSpace)``),
``hpo_dbr`` (define-by-run), ``hpo_space_exact`` (no resampling of the bad estimator),
``optuna`` (``ask(fixed_distributions)``), ``rustuna`` (define-by-run).

Usage::

    python benchmarks/tpe_long_study.py --trials 100000 --paths hpo_space
    python benchmarks/tpe_long_study.py --trials 1000 --paths hpo_space,hpo_dbr,rustuna,optuna
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import overhead_tpe  # noqa: E402  (the shared space, objective and study adapters)


def run(path: str, n: int) -> list[str]:
    """Run one real study of ``n`` trials; returns the markdown rows for it."""
    gc.collect()
    rss0 = _common.rss_bytes() or 0
    study = overhead_tpe.make_study(path, "tpe")
    ns = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    for i in range(n):
        s = clock()
        study.step()
        ns[i] = clock() - s
    wall = time.perf_counter() - t0
    cells = []
    c = 100
    while c <= n:
        w = ns[c - max(50, c // 10): c]
        cells.append(f"{np.median(w) / 1e3:,.0f} ({np.percentile(w, 90) / 1e3:,.0f})")
        c *= 10
    hist = study.history_bytes()
    mem = f"{((_common.rss_bytes() or 0) - rss0) / n:,.0f} B" + ("" if hist is None else f" ({hist / n:,.0f} B history)")
    return [f"| {overhead_tpe.LABELS.get(path, path)} | " + " | ".join(cells) + f" | {wall:,.1f} s | {mem} |"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=100_000, help="trials per study (default 100,000)")
    p.add_argument("--paths", default="hpo_space", help="comma-separated paths (default hpo_space)")
    p.add_argument("--n-ei-candidates", type=int, default=None,
                   help="n_ei_candidates of hpo_core's TPESampler (default: the sampler's default)")
    args = p.parse_args()
    if args.n_ei_candidates is not None:
        if args.n_ei_candidates < 1:
            p.error("--n-ei-candidates must be at least 1")
        overhead_tpe.HPO_TPE_OPTIONS["n_ei_candidates"] = args.n_ei_candidates
    paths = [s for s in args.paths.split(",") if s]
    for path in paths:
        if path not in overhead_tpe.PATHS:
            p.error(f"--paths: {path!r} is not one of {', '.join(overhead_tpe.PATHS)}")
    cps = []
    c = 100
    while c <= args.trials:
        cps.append(f"{c:,}")
        c *= 10
    options = "".join(f", hpo_core {k}={v}" for k, v in overhead_tpe.HPO_TPE_OPTIONS.items())
    print(f"Real TPE studies of {args.trials:,} trials{options}, median (p90) µs per ask+tell in the "
          "window before each trial count")
    print()
    print("| library / path | " + " | ".join(cps) + " | wall time | RSS growth / trial |")
    print("|---|" + "---|" * len(cps) + "---|---|")
    for path in paths:
        for row in run(path, args.trials):
            print(row, flush=True)


if __name__ == "__main__":
    main()
