"""Two-objective search quality on ZDT1: hypervolume of hpo_core's GP, TPE and random search.

ZDT1 (Zitzler, Deb and Thiele 2000) with ``--dims`` parameters in [0, 1]: f1 = x0,
g = 1 + 9 * mean(x1..), f2 = g (1 - sqrt(f1 / g)), both minimised; the hypervolume of all
trials' values is measured against the reference point (1.1, 11) (``kernels.hypervolume``).
Prints, per sampler, the median hypervolume over the seeds, each seed's value and the
median wall time of a study.

Usage::

    python benchmarks/quality_mo.py                     # 4 parameters, 50 trials, seeds 0-4
    python benchmarks/quality_mo.py --trials 30 --seeds 2
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from typing import Any

import numpy as np

import hpo_core
from hpo_core import kernels
from hpo_core.samplers import GPSampler, RandomSampler, TPESampler

SAMPLERS = {"hpo_gp": GPSampler, "hpo_tpe": TPESampler, "hpo_random": RandomSampler}
REF = np.array([1.1, 11.0])


def zdt1(dims: int) -> Any:
    def objective(t: Any) -> tuple[float, float]:
        x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(dims)]
        g = 1.0 + 9.0 * sum(x[1:]) / max(dims - 1, 1)
        return x[0], g * (1.0 - math.sqrt(x[0] / g))

    return objective


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dims", type=int, default=4)
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 (default 5)")
    args = p.parse_args(argv)
    logging.disable(logging.INFO)
    print(f"ZDT1, {args.dims} parameters, {args.trials} trials, seeds 0-{args.seeds - 1}, reference point (1.1, 11)")
    print("| sampler | median hypervolume | per seed | median s per study |\n|---|---|---|---|")
    for name, cls in SAMPLERS.items():
        hv, wall = [], []
        for seed in range(args.seeds):
            study = hpo_core.create_study(directions=["minimize", "minimize"], sampler=cls(seed=seed))
            t0 = time.perf_counter()
            study.optimize(zdt1(args.dims), n_trials=args.trials)
            wall.append(time.perf_counter() - t0)
            hv.append(kernels.hypervolume(np.array([t.values for t in study.trials]), REF))
        print(f"| `{name}` | {np.median(hv):.3f} | {', '.join(f'{h:.3f}' for h in hv)} | {np.median(wall):.2f} |")


if __name__ == "__main__":
    main()
