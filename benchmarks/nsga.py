"""NSGA-II and NSGA-III: per-trial overhead versus study size, and search quality.

``overhead``: ask+tell time per trial at 100, 1,000 and 10,000 trials on the 10-parameter
mixed space of ``overhead_tpe.py`` (float, log float, float step, int, log int, int step,
two categoricals, two more floats) with two objectives and a trivial objective function.
hpo_core's ``NSGAIISampler`` / ``NSGAIIISampler`` go through ``ask(SearchSpace)``, Optuna
5.0's through ``ask(fixed_distributions)``, rustuna 0.2's ``NSGAIISampler`` define-by-run
(its ``ask()`` takes no distributions); all with their defaults (population 50) and seed
0, in memory, in the same process. Each library runs one study up to the largest size,
timing every ask+tell with ``time.perf_counter_ns``; the table gives the median and the
90th percentile over the ``--window`` trials just before each size.

``quality``: hypervolume of all trials after ``--trials`` trials (default 1,000: 20
generations of 50) on ZDT1-4 (two objectives, 10 variables; Zitzler, Deb and Thiele 2000)
and DTLZ1-4 (three objectives, 7 variables for DTLZ1, 12 for the others; Deb, Thiele,
Laumanns and Zitzler 2002), for hpo_core's and Optuna's NSGA-II and NSGA-III with their
defaults, seeds ``--first-seed`` (0) to ``--first-seed + --seeds - 1``. The problem
formulas are written out below (as pymoo defines them). Per problem and seed the samplers
are ranked by hypervolume (1 = best); the table gives the median hypervolume and the mean
rank.

Usage::

    nice python benchmarks/nsga.py overhead                 # 100 / 1,000 / 10,000
    nice python benchmarks/nsga.py quality --seeds 10       # ZDT1-4, DTLZ1-4
    nice python benchmarks/nsga.py overhead --sizes 100,1000 --write-readme
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import overhead_tpe  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


# ----------------------------------------------------------------------------- overhead
def _objective(params: dict[str, Any]) -> tuple[float, float]:
    v = overhead_tpe.objective(params)
    return v, params["f_extra0"] - v + params["i_step"] / 100.0


def _hpo_loop(kind: str) -> Callable[[], None]:
    import hpo_core
    from hpo_core.samplers import NSGAIIISampler, NSGAIISampler

    cls = NSGAIISampler if kind == "nsga2" else NSGAIIISampler
    study = hpo_core.create_study(directions=["minimize", "minimize"], sampler=cls(seed=0))
    space = hpo_core.SearchSpace(overhead_tpe.distributions(hpo_core))

    def step() -> None:
        t = study.ask(space)
        study.tell(t, _objective(t.params))

    return step


def _optuna_loop(kind: str) -> Callable[[], None]:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NSGAIIISampler is experimental in Optuna
        sampler = (optuna.samplers.NSGAIISampler if kind == "nsga2" else optuna.samplers.NSGAIIISampler)(seed=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    dists = overhead_tpe.distributions(optuna.distributions)

    def step() -> None:
        t = study.ask(dists)
        study.tell(t, _objective(t.params))

    return step


def _rustuna_loop(kind: str) -> Callable[[], None]:
    import rustuna

    study = rustuna.create_study(directions=["minimize", "minimize"],
                                 sampler=rustuna.samplers.NSGAIISampler(seed=0))

    def step() -> None:
        t = study.ask()
        study.tell(t.number, _objective(overhead_tpe.suggest_all(t)))

    return step


def _hpo_qmc_loop() -> Callable[[], None]:
    import hpo_core

    study = hpo_core.create_study(sampler=hpo_core.samplers.QMCSampler(seed=0))
    space = hpo_core.SearchSpace(overhead_tpe.distributions(hpo_core))

    def step() -> None:
        t = study.ask(space)
        study.tell(t, overhead_tpe.objective(t.params))

    return step


def _optuna_qmc_loop() -> Callable[[], None]:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # QMCSampler is experimental in Optuna
        study = optuna.create_study(sampler=optuna.samplers.QMCSampler(seed=0))
    dists = overhead_tpe.distributions(optuna.distributions)

    def step() -> None:
        t = study.ask(dists)
        study.tell(t, overhead_tpe.objective(t.params))

    return step


PATHS: dict[str, tuple[str, Callable[[], Callable[[], None]]]] = {
    "hpo_nsga2": ("hpo_core NSGAIISampler `ask(SearchSpace)`", lambda: _hpo_loop("nsga2")),
    "optuna_nsga2": ("Optuna NSGAIISampler `ask(fixed_distributions)`", lambda: _optuna_loop("nsga2")),
    "rustuna_nsga2": ("rustuna NSGAIISampler define-by-run", lambda: _rustuna_loop("nsga2")),
    "hpo_nsga3": ("hpo_core NSGAIIISampler `ask(SearchSpace)`", lambda: _hpo_loop("nsga3")),
    "optuna_nsga3": ("Optuna NSGAIIISampler `ask(fixed_distributions)`", lambda: _optuna_loop("nsga3")),
    # QMC (issue 15's fourth sampler; one objective, the same space and objective):
    "hpo_qmc": ("hpo_core QMCSampler `ask(SearchSpace)`", _hpo_qmc_loop),
    "optuna_qmc": ("Optuna QMCSampler `ask(fixed_distributions)`", _optuna_qmc_loop),
}


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(s) for s in args.sizes.split(",")]
    out: dict[str, Any] = {"sizes": sizes, "window": args.window, "cells": {}}
    for path in args.paths.split(","):
        label, make = PATHS[path]
        step = make()
        step()  # first call: imports, compilation
        times = np.empty(max(sizes), dtype=np.int64)
        clock = time.perf_counter_ns
        t_all = time.perf_counter()
        for i in range(1, max(sizes)):
            t = clock()
            step()
            times[i] = clock() - t
        cells = {}
        for n in sizes:
            w = times[max(1, n - args.window):n] / 1e3
            cells[n] = {"median_us": float(np.median(w)), "p90_us": float(np.percentile(w, 90))}
        out["cells"][path] = cells
        print(f"{label}: " + ", ".join(f"{n:,}: {c['median_us']:,.1f} us (p90 {c['p90_us']:,.1f})"
                                       for n, c in cells.items())
              + f"  [{time.perf_counter() - t_all:.0f} s]", flush=True)
    return out


def overhead_table(res: dict[str, Any]) -> str:
    sizes = res["sizes"]
    cells = res["cells"]

    def fmt(x: float) -> str:
        return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"

    lines = ["| library / path | " + " | ".join(f"N = {n:,}" for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for path, per in cells.items():
        row = [f"{fmt(per[str(n)]['median_us'] if str(n) in per else per[n]['median_us'])} "
               f"({fmt(per[str(n)]['p90_us'] if str(n) in per else per[n]['p90_us'])})" for n in sizes]
        lines.append(f"| {PATHS[path][0]} | " + " | ".join(row) + " |")
    ratio = []
    for kind in ("nsga2", "nsga3", "qmc"):
        hpo = cells.get(f"hpo_{kind}")
        for other in ("optuna", "rustuna"):
            o = cells.get(f"{other}_{kind}")
            if hpo is None or o is None:
                continue
            r = [o[_k(o, n)]["median_us"] / hpo[_k(hpo, n)]["median_us"] for n in sizes]
            ratio.append(f"| {other} {dict(nsga2='NSGA-II', nsga3='NSGA-III', qmc='QMC')[kind]} / hpo_core | "
                         + " | ".join(f"{x:.2f}x" for x in r) + " |")
    if ratio:
        lines += ["", "| ratio of medians (above 1: hpo_core faster) | " + " | ".join(f"N = {n:,}" for n in sizes)
                  + " |", "|---|" + "---|" * len(sizes), *ratio]
    return "\n".join(lines)


def _k(d: dict[Any, Any], n: int) -> Any:
    return n if n in d else str(n)


# ----------------------------------------------------------------------------- problems
def _zdt(which: int, n: int = 10) -> tuple[Callable[[np.ndarray], tuple[float, ...]], list[tuple[float, float]]]:
    bounds = [(0.0, 1.0)] * n if which != 4 else [(0.0, 1.0)] + [(-5.0, 5.0)] * (n - 1)

    def f(x: np.ndarray) -> tuple[float, ...]:
        f1 = x[0]
        if which == 4:
            g = 1 + 10 * (n - 1) + float(np.sum(x[1:] ** 2 - 10 * np.cos(4 * np.pi * x[1:])))
        else:
            g = 1 + 9 * float(np.mean(x[1:]))
        if which == 1 or which == 4:
            h = 1 - math.sqrt(f1 / g)
        elif which == 2:
            h = 1 - (f1 / g) ** 2
        else:
            h = 1 - math.sqrt(f1 / g) - (f1 / g) * math.sin(10 * math.pi * f1)
        return f1, g * h

    return f, bounds


def _dtlz(which: int, m: int = 3) -> tuple[Callable[[np.ndarray], tuple[float, ...]], list[tuple[float, float]]]:
    k = 5 if which == 1 else 10
    n = m + k - 1

    def f(x: np.ndarray) -> tuple[float, ...]:
        xm = x[m - 1:]
        if which in (1, 3):
            g = 100 * (k + float(np.sum((xm - 0.5) ** 2 - np.cos(20 * np.pi * (xm - 0.5)))))
        else:
            g = float(np.sum((xm - 0.5) ** 2))
        if which == 1:
            out = []
            for i in range(m):
                v = 0.5 * (1 + g) * float(np.prod(x[: m - 1 - i]))
                if i > 0:
                    v *= 1 - x[m - 1 - i]
                out.append(v)
            return tuple(out)
        y = x[: m - 1] ** 100 if which == 4 else x[: m - 1]
        out = []
        for i in range(m):
            v = (1 + g) * float(np.prod(np.cos(y[: m - 1 - i] * np.pi / 2)))
            if i > 0:
                v *= math.sin(y[m - 1 - i] * np.pi / 2)
            out.append(v)
        return tuple(out)

    return f, [(0.0, 1.0)] * n


# name -> (problem, hypervolume reference point). The reference points bound what a
# 1,000-trial run reaches, beyond the Pareto fronts (ZDT4 and DTLZ1/3 are multimodal
# and stay far from their fronts at this budget).
PROBLEMS: dict[str, tuple[Any, tuple[float, ...]]] = {
    "zdt1": (_zdt(1), (1.1, 11.0)),
    "zdt2": (_zdt(2), (1.1, 11.0)),
    "zdt3": (_zdt(3), (1.1, 11.0)),
    "zdt4": (_zdt(4), (1.1, 300.0)),
    "dtlz1": (_dtlz(1), (400.0, 400.0, 400.0)),
    "dtlz2": (_dtlz(2), (2.5, 2.5, 2.5)),
    "dtlz3": (_dtlz(3), (1500.0, 1500.0, 1500.0)),
    "dtlz4": (_dtlz(4), (2.5, 2.5, 2.5)),
}
SAMPLERS = ("hpo_nsga2", "optuna_nsga2", "hpo_nsga3", "optuna_nsga3")
LABELS = {"hpo_nsga2": "hpo_core NSGA-II", "optuna_nsga2": "Optuna NSGA-II",
          "hpo_nsga3": "hpo_core NSGA-III", "optuna_nsga3": "Optuna NSGA-III"}


def _run(sampler: str, problem: str, seed: int, n_trials: int) -> np.ndarray:
    (f, bounds), _ = PROBLEMS[problem]
    m = len(f(np.array([0.5 * (lo + hi) for lo, hi in bounds])))

    def objective(trial: Any) -> tuple[float, ...]:
        return f(np.array([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]))

    if sampler.startswith("hpo_"):
        import hpo_core
        from hpo_core.samplers import NSGAIIISampler, NSGAIISampler

        hpo_core.logging.set_verbosity(logging.WARNING)
        s: Any = (NSGAIISampler if sampler == "hpo_nsga2" else NSGAIIISampler)(seed=seed)
        study: Any = hpo_core.create_study(directions=["minimize"] * m, sampler=s)
    else:
        import warnings

        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = (optuna.samplers.NSGAIISampler if sampler == "optuna_nsga2"
                 else optuna.samplers.NSGAIIISampler)(seed=seed)
        study = optuna.create_study(directions=["minimize"] * m, sampler=s)
    study.optimize(objective, n_trials=n_trials)
    return np.array([t.values for t in study.trials if t.values is not None])


def quality(args: argparse.Namespace) -> dict[str, Any]:
    from hpo_core import kernels

    problems = args.problems.split(",")
    samplers = args.samplers.split(",")
    first = getattr(args, "first_seed", 0)
    res: dict[str, Any] = {"trials": args.trials, "seeds": args.seeds, "first_seed": first, "hv": {}, "seconds": {}}
    for problem in problems:
        ref = np.array(PROBLEMS[problem][1])
        for sampler in samplers:
            hv, secs = [], []
            for seed in range(first, first + args.seeds):
                t = time.perf_counter()
                Y = _run(sampler, problem, seed, args.trials)
                secs.append(time.perf_counter() - t)
                hv.append(float(kernels.hypervolume(Y, ref)))
            res["hv"].setdefault(problem, {})[sampler] = hv
            res["seconds"].setdefault(problem, {})[sampler] = secs
            print(f"{problem} {LABELS[sampler]}: median HV {np.median(hv):.6g}, "
                  f"median {np.median(secs):.2f} s per study", flush=True)
    return res


def _ranks(res: dict[str, Any], problem: str, samplers: list[str]) -> dict[str, float]:
    hv = np.array([res["hv"][problem][s] for s in samplers])  # (samplers, seeds)
    # Rank per seed (1 = largest hypervolume; ties share the mean rank).
    ranks = np.zeros_like(hv)
    for j in range(hv.shape[1]):
        col = -hv[:, j]
        order = np.argsort(col, kind="stable")
        r = np.empty(len(col))
        r[order] = np.arange(1, len(col) + 1)
        for v in np.unique(col):
            r[col == v] = r[col == v].mean()
        ranks[:, j] = r
    return {s: float(ranks[i].mean()) for i, s in enumerate(samplers)}


def quality_table(res: dict[str, Any]) -> str:
    problems = list(res["hv"])
    samplers = list(next(iter(res["hv"].values())))
    head = "| problem (reference point) | " + " | ".join(LABELS[s] for s in samplers) + " |"
    lines = [head, "|---|" + "---|" * len(samplers)]
    mean_rank: dict[str, list[float]] = {s: [] for s in samplers}
    for p in problems:
        ranks = _ranks(res, p, samplers)
        for s in samplers:
            mean_rank[s].append(ranks[s])
        ref = ", ".join(f"{v:g}" for v in PROBLEMS[p][1])
        cells = [f"{np.median(res['hv'][p][s]):.6g} (rank {ranks[s]:.2f})" for s in samplers]
        lines.append(f"| {p.upper()} ({ref}) | " + " | ".join(cells) + " |")
    lines.append("| mean rank over problems | " + " | ".join(f"{np.mean(mean_rank[s]):.2f}" for s in samplers) + " |")
    secs = {s: float(np.median([x for p in problems for x in res["seconds"][p][s]])) for s in samplers}
    lines.append("| median seconds per study | " + " | ".join(f"{secs[s]:.2f}" for s in samplers) + " |")
    pairs = []
    for kind in ("nsga2", "nsga3"):
        a, b = f"hpo_{kind}", f"optuna_{kind}"
        if a in samplers and b in samplers:
            wins = [sum(x > y for x, y in zip(res["hv"][p][a], res["hv"][p][b])) for p in problems]
            losses = [sum(x < y for x, y in zip(res["hv"][p][a], res["hv"][p][b])) for p in problems]
            pr = [_ranks(res, p, [a, b]) for p in problems]
            pairs.append(f"| {LABELS[a]} vs {LABELS[b]} | {sum(wins)} / {sum(losses)} | "
                         f"{np.mean([r[a] for r in pr]):.2f} / {np.mean([r[b] for r in pr]):.2f} |")
    if pairs:
        lines += ["", "| pair (same seeds) | seeds with the larger / smaller hypervolume | mean rank of the pair "
                  "(1 = better) |", "|---|---|---|", *pairs]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--sizes", default="100,1000,10000")
    o.add_argument("--window", type=int, default=50)
    o.add_argument("--paths", default=",".join(PATHS))
    q = sub.add_parser("quality")
    q.add_argument("--problems", default=",".join(PROBLEMS))
    q.add_argument("--samplers", default=",".join(SAMPLERS))
    q.add_argument("--trials", type=int, default=1000)
    q.add_argument("--seeds", type=int, default=10)
    q.add_argument("--first-seed", type=int, default=0, help="seeds first-seed ... first-seed + seeds - 1")
    for p in (o, q):
        p.add_argument("--write-readme", action="store_true", help="update benchmarks/README.md")
        p.add_argument("--json", type=Path, default=None, help="write the results here")
        p.add_argument("--from-json", type=Path, default=None,
                       help="report the results saved by an earlier run instead of running")
    args = parser.parse_args()
    rev = _common.git_rev()  # the code this process runs
    command = "python benchmarks/nsga.py " + " ".join(a for a in sys.argv[1:] if a != "--write-readme")
    saved = json.loads(args.from_json.read_text()) if args.from_json else None
    if args.cmd == "overhead":
        res = saved or overhead(args)
        table = overhead_table(json.loads(json.dumps(res)))
        marker, what = "nsga-overhead", "ask+tell per trial, median (p90) in µs"
    else:
        res = saved or quality(args)
        table = quality_table(res)
        marker, what = "nsga-quality", (f"hypervolume of all trials after {res['trials']:,} trials, "
                                        f"median over {res['seeds']} seeds (mean rank per problem, 1 = best)")
    if saved is None:
        res["command"], res["commit"] = command, rev
        res["machine"] = _common.machine_info(["optuna", "rustuna"])
        path = args.json or RESULTS / f"nsga_{args.cmd}.json"
        path.write_text(json.dumps(res, indent=1))
    print(table)
    if args.write_readme:
        body = (f"`{res['command']}` at {res['commit']}: {what}.\n\n"
                + res["machine"] + "\n\n" + table + "\n")
        _common.write_section(_common.README, marker, body)

if __name__ == "__main__":
    main()
