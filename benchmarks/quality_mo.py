"""Multi-objective search quality: hypervolume of hpo_core's and Optuna's samplers.

Problems (``--problems``), every parameter in [0, 1], every objective minimised:

- ``zdt1`` (Zitzler, Deb and Thiele 2000), two objectives: f1 = x0, g = 1 + 9 mean(x1..),
  f2 = g (1 - sqrt(f1 / g)); reference point (1.1, 11). A convex front.
- ``zdt2``: as ZDT1 with f2 = g (1 - (f1 / g)^2); reference point (1.1, 11). A concave front.
- ``dtlz2`` (Deb, Thiele, Laumanns and Zitzler 2002), three objectives:
  g = sum((x_i - 0.5)^2) over x2.., f1 = (1 + g) cos(x0 pi/2) cos(x1 pi/2),
  f2 = (1 + g) cos(x0 pi/2) sin(x1 pi/2), f3 = (1 + g) sin(x0 pi/2); reference point
  (1.1, 1.1, 1.1). The front is the positive octant of the unit sphere.

The hypervolume of all trials' values is measured against the problem's reference point
(``kernels.hypervolume``). Prints, per problem and sampler, the median hypervolume over the
seeds, each seed's value and the median wall time of a study.

Samplers (``--samplers``): ``hpo_gp``, ``hpo_tpe``, ``hpo_random`` (hpo_core) and
``optuna_gp``, ``optuna_tpe`` (Optuna 5.0, default settings; its GP needs PyTorch and
uses log expected hypervolume improvement for several objectives).

Usage::

    python benchmarks/quality_mo.py                     # zdt1, 4 parameters, 50 trials, seeds 0-4
    python benchmarks/quality_mo.py --problems zdt1,zdt2,dtlz2 --samplers hpo_gp,optuna_gp
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

SAMPLERS = ("hpo_gp", "hpo_tpe", "hpo_random", "optuna_gp", "optuna_tpe")


def zdt(dims: int, power: float) -> Any:
    """ZDT1 (power 0.5) or ZDT2 (power 2) with ``dims`` parameters."""
    def objective(t: Any) -> tuple[float, float]:
        x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(dims)]
        g = 1.0 + 9.0 * sum(x[1:]) / max(dims - 1, 1)
        return x[0], g * (1.0 - (x[0] / g) ** power)

    return objective


def dtlz2(dims: int) -> Any:
    """DTLZ2 with three objectives and ``dims`` (at least 3) parameters."""
    def objective(t: Any) -> tuple[float, float, float]:
        x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(dims)]
        r = 1.0 + sum((v - 0.5) ** 2 for v in x[2:])
        a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
        return r * math.cos(a) * math.cos(b), r * math.cos(a) * math.sin(b), r * math.sin(a)

    return objective


# name -> (objective factory, number of objectives, reference point)
PROBLEMS = {
    "zdt1": (lambda d: zdt(d, 0.5), 2, np.array([1.1, 11.0])),
    "zdt2": (lambda d: zdt(d, 2.0), 2, np.array([1.1, 11.0])),
    "dtlz2": (lambda d: dtlz2(max(d, 3)), 3, np.array([1.1, 1.1, 1.1])),
}


def make_study(name: str, n_objectives: int, seed: int) -> Any:
    directions = ["minimize"] * n_objectives
    if name.startswith("hpo_"):
        cls = {"hpo_gp": hpo_core.samplers.GPSampler, "hpo_tpe": hpo_core.samplers.TPESampler,
               "hpo_random": hpo_core.samplers.RandomSampler}[name]
        return hpo_core.create_study(directions=directions, sampler=cls(seed=seed))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cls = {"optuna_gp": optuna.samplers.GPSampler, "optuna_tpe": optuna.samplers.TPESampler}[name]
    return optuna.create_study(directions=directions, sampler=cls(seed=seed))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--problems", default="zdt1", help=f"comma-separated, of {', '.join(PROBLEMS)} (default zdt1)")
    p.add_argument("--samplers", default="hpo_gp,hpo_tpe,hpo_random",
                   help=f"comma-separated, of {', '.join(SAMPLERS)} (default hpo_gp,hpo_tpe,hpo_random)")
    p.add_argument("--dims", type=int, default=4)
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 (default 5)")
    args = p.parse_args(argv)
    problems = [x for x in args.problems.split(",") if x]
    samplers = [x for x in args.samplers.split(",") if x]
    for x in problems:
        if x not in PROBLEMS:
            p.error(f"--problems: unknown problem {x!r}; choose from {', '.join(PROBLEMS)}")
    for x in samplers:
        if x not in SAMPLERS:
            p.error(f"--samplers: unknown sampler {x!r}; choose from {', '.join(SAMPLERS)}")
    hpo_core.logging.set_verbosity(logging.WARNING)  # no line per trial (the library's logger only)
    for problem in problems:
        factory, n_objectives, ref = PROBLEMS[problem]
        print(f"\n{problem.upper()}, {args.dims} parameters, {args.trials} trials, seeds 0-{args.seeds - 1}, "
              f"reference point {tuple(float(r) for r in ref)}\n")
        print("| sampler | median hypervolume | per seed | median s per study |\n|---|---|---|---|")
        for name in samplers:
            hv, wall = [], []
            for seed in range(args.seeds):
                study = make_study(name, n_objectives, seed)
                t0 = time.perf_counter()
                study.optimize(factory(args.dims), n_trials=args.trials)
                wall.append(time.perf_counter() - t0)
                values = np.array([t.values for t in study.trials if t.values is not None])
                hv.append(kernels.hypervolume(values, ref))
            print(f"| `{name}` | {np.median(hv):.3f} | {', '.join(f'{h:.3f}' for h in hv)} | {np.median(wall):.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
