"""CMA-ES: per-trial ask+tell time versus study size, and search quality on BBOB.

Overhead: each library runs one in-memory study of ``--n-trials`` (10,000) trials on a
10-parameter space (floats in [0, 1], objective ``sum((x - 0.3)^2)``); every
ask+tell pair is timed with ``time.perf_counter_ns`` and the table reports the median
over the window before each checkpoint (100, 1,000, 10,000): the last half of the
first 100 trials, then the last 10 %; hpo_core and rustuna run ``--repeats`` studies
each, interleaved, and report the median of their medians (Optuna runs one). hpo_core and Optuna are timed on the
``ask(fixed_distributions)`` path (then ``trial.params`` and ``tell``); rustuna's
``ask()`` takes no fixed distributions, so it is timed define-by-run (10
``suggest_float`` calls). The issue's targets: hpo_core at most 0.1 ms per ask+tell at
10,000 trials, flat from 100 to 10,000 (the 10,000 median at most 1.5x the 100 one),
and at most 2x rustuna's.

Quality (``--quality``): hpo_core's and Optuna's CmaEsSampler with default arguments,
define-by-run, on BBOB functions (``--functions``, ``--dims``) for ``--seeds`` seeds of
``--quality-trials`` trials each; the table gives the median final regret and the
mean rank (1 = better of the two; ties share) per problem and overall. Optuna's final
values are cached in ``--optuna-cache`` (a JSON file keyed by problem, seed, trials and
the Optuna and cmaes versions; default ``benchmarks/results/cmaes_bbob_optuna.json``):
they do not depend on hpo_core, and they take most of the time.

Usage::

    python benchmarks/cmaes_sampler.py                        # overhead, 10,000 trials
    python benchmarks/cmaes_sampler.py --quality              # and the BBOB check
    python benchmarks/cmaes_sampler.py --quality --write-readme

Run with the repository on ``PYTHONPATH``; one benchmark process at a time. (Not named
``cmaes.py``: the script's folder comes first on ``sys.path`` and would shadow the
``cmaes`` package.)
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402  (machine info and README sections)

N_PARAMS = 10
NAMES = [f"x{i}" for i in range(N_PARAMS)]
CHECKPOINTS = (100, 1_000, 10_000)
TARGET_S = 1e-4
TARGET_RUSTUNA_RATIO = 2.0
TARGET_FLAT_RATIO = 1.5
QUALITY_FUNCTIONS = (1, 2, 8, 10, 15, 20)


def _objective(values: list[float]) -> float:
    return sum((v - 0.3) ** 2 for v in values)


def _window(c: int) -> tuple[int, int]:
    w = c // 2 if c <= 100 else c // 10
    return c - w, c


def _time_loop(step: Callable[[], None], n: int) -> np.ndarray:
    ns = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        step()
        ns[i] = clock() - t0
    return ns


# ----------------------------------------------------------------------------- steps
def step_hpo_core(seed: int) -> Callable[[], None]:
    import hpo_core
    from hpo_core.distributions import FloatDistribution
    from hpo_core.samplers import CmaEsSampler

    space = {n: FloatDistribution(0.0, 1.0) for n in NAMES}
    study = hpo_core.create_study(sampler=CmaEsSampler(seed=seed))
    ask, tell = study.ask, study.tell

    def step() -> None:
        t = ask(space)
        tell(t, _objective(list(t.params.values())))

    return step


def step_optuna(seed: int) -> Callable[[], None]:
    import optuna

    dists = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in NAMES}
    study = optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=seed))
    ask, tell = study.ask, study.tell

    def step() -> None:
        t = ask(fixed_distributions=dists)
        tell(t, _objective(list(t.params.values())))

    return step


def step_rustuna(seed: int) -> Callable[[], None]:
    import rustuna

    study = rustuna.create_study(sampler=rustuna.samplers.CmaEsSampler(seed=seed))
    ask, tell = study.ask, study.tell

    def step() -> None:
        t = ask()
        tell(t.number, _objective([t.suggest_float(n, 0.0, 1.0) for n in NAMES]))

    return step


LIBRARIES: dict[str, tuple[str, Callable[[int], Callable[[], None]]]] = {
    "hpo_core": ("hpo_core `ask(space)`", step_hpo_core),
    "optuna": ("Optuna `ask(fixed_distributions)`", step_optuna),
    "rustuna": ("rustuna define-by-run", step_rustuna),
}


def overhead(args: argparse.Namespace) -> dict[str, dict[int, float]]:
    """Median seconds per ask+tell at each checkpoint, per library (in one process).

    The fast libraries run ``--repeats`` studies each, interleaved (hpo_core, rustuna,
    hpo_core, ...), and each checkpoint reports the median of the studies' medians, so
    that load from other processes on a shared machine hits them alike; Optuna (about
    70 s per 10,000-trial study) runs once.
    """
    cps = [c for c in CHECKPOINTS if c <= args.n_trials]
    per_lib: dict[str, list[dict[int, float]]] = {key: [] for key in args.libraries}
    for key in args.libraries:  # warm-up: imports and first-call caches
        _time_loop(LIBRARIES[key][1](args.seed + 1), 300)
    order = [key for r in range(args.repeats) for key in args.libraries if key != "optuna" or r == 0]
    for key in order:
        label, make = LIBRARIES[key]
        print(f"  {label} ...", file=sys.stderr, flush=True)
        gc.collect()
        t0 = time.perf_counter()
        ns = _time_loop(make(args.seed), args.n_trials)
        print(f"    -> {args.n_trials:,} trials in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        per_lib[key].append({c: float(np.median(ns[slice(*_window(c))])) * 1e-9 for c in cps})
    return {key: {c: float(np.median([m[c] for m in runs])) for c in cps} for key, runs in per_lib.items()}


def overhead_table(res: dict[str, dict[int, float]]) -> tuple[str, list[str]]:
    cps = sorted(next(iter(res.values())))
    lines = ["| library (path) | " + " | ".join(f"{c:,} trials" for c in cps) + " |",
             "| --- | " + " | ".join("---:" for _ in cps) + " |"]
    for key, med in res.items():
        lines.append(f"| {LIBRARIES[key][0]} | " + " | ".join(f"{med[c] * 1e3:.3f} ms" for c in cps) + " |")
    verdicts: list[str] = []
    if "hpo_core" in res:
        ours = res["hpo_core"]
        last, first = ours[cps[-1]], ours[cps[0]]
        verdicts.append(f"hpo_core at {cps[-1]:,} trials: {last * 1e3:.3f} ms per ask+tell "
                        f"(target <= {TARGET_S * 1e3:.1f} ms): {'met' if last <= TARGET_S else 'NOT met'}")
        verdicts.append(f"flat: {cps[-1]:,} / {cps[0]:,} trials = {last / first:.2f}x "
                        f"(target <= {TARGET_FLAT_RATIO}x): {'met' if last / first <= TARGET_FLAT_RATIO else 'NOT met'}")
        if "rustuna" in res:
            r = last / res["rustuna"][cps[-1]]
            verdicts.append(f"hpo_core / rustuna at {cps[-1]:,} trials = {r:.2f}x (target <= "
                            f"{TARGET_RUSTUNA_RATIO}x): {'met' if r <= TARGET_RUSTUNA_RATIO else 'NOT met'}")
        if "optuna" in res:
            verdicts.append(f"Optuna / hpo_core at {cps[-1]:,} trials = {res['optuna'][cps[-1]] / last:.0f}x")
    return "\n".join(lines), verdicts


# ----------------------------------------------------------------------------- quality
def _best(lib: str, objective: Callable[[Any], float], n: int, seed: int) -> float:
    if lib == "hpo_core":
        import hpo_core

        study: Any = hpo_core.create_study(sampler=hpo_core.samplers.CmaEsSampler(seed=seed))
    else:
        import optuna

        study = optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=seed))
    study.optimize(objective, n_trials=n)
    return float(study.best_value)


def _cache_key(name: str, seed: int, n: int) -> str:
    import cmaes
    import optuna

    return f"{name}/seed={seed}/trials={n}/optuna={optuna.__version__}/cmaes={cmaes.__version__}"


def _load_cache(path: str | None) -> dict[str, float]:
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return {k: float(v) for k, v in json.load(f).items()}


def _save_cache(path: str | None, cache: dict[str, float]) -> None:
    if not path:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(dict(sorted(cache.items())), f, indent=0)
    os.replace(tmp, path)  # whole files only: a reader never sees a partial write


def quality(args: argparse.Namespace, *, libraries: tuple[str, ...] = ("hpo_core", "optuna")
            ) -> list[tuple[str, list[float], list[float]]]:
    """Per BBOB problem: the final values of hpo_core and of Optuna, one per seed
    (Optuna's from ``args.optuna_cache`` when there; a library left out of
    ``libraries`` gets an empty list)."""
    from _problems import bbob_problems

    cache = _load_cache(args.optuna_cache)
    rows = []
    for p in bbob_problems(args.dims, args.functions):
        ours, theirs = [], []
        t0 = time.perf_counter()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if "hpo_core" in libraries:
                ours.append(_best("hpo_core", p.objective(seed), args.quality_trials, seed))
            if "optuna" in libraries:
                key = _cache_key(p.name, seed, args.quality_trials)
                if key not in cache:
                    cache[key] = _best("optuna", p.objective(seed), args.quality_trials, seed)
                    _save_cache(args.optuna_cache, cache)
                theirs.append(cache[key])
        print(f"  {p.name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        rows.append((p.name, ours, theirs))
    return rows


def quality_table(rows: list[tuple[str, list[float], list[float]]]) -> tuple[str, list[str]]:
    lines = ["| problem | hpo_core median regret | Optuna median regret | hpo_core mean rank | Optuna mean rank |",
             "| --- | ---: | ---: | ---: | ---: |"]
    all_ours: list[float] = []
    for name, ours, theirs in rows:
        a, b = np.array(ours), np.array(theirs)
        rank_ours = np.where(a < b, 1.0, np.where(a > b, 2.0, 1.5))
        all_ours.extend(rank_ours.tolist())
        lines.append(f"| {name} | {_common.fmt_sci(float(np.median(a)))} | {_common.fmt_sci(float(np.median(b)))} "
                     f"| {rank_ours.mean():.2f} | {3.0 - rank_ours.mean():.2f} |")
    mean = float(np.mean(all_ours))
    lines.append(f"| **all ({len(all_ours)} runs)** | | | **{mean:.2f}** | **{3.0 - mean:.2f}** |")
    verdict = (f"mean rank hpo_core {mean:.2f} vs Optuna {3.0 - mean:.2f} "
               f"(target: no worse): {'met' if mean <= 1.5 else 'NOT met'}")
    ranks = np.array(all_ours)
    wins, losses = int((ranks == 1.0).sum()), int((ranks == 2.0).sum())
    from scipy.stats import binomtest

    p = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
    sign = (f"runs where hpo_core is better: {wins}, Optuna: {losses}, ties: {len(ranks) - wins - losses}; "
            f"two-sided sign test p = {p:.2f}")
    return "\n".join(lines), [verdict, sign]


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-trials", type=int, default=10_000)
    ap.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=list(LIBRARIES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=5, help="studies per fast library (Optuna: one)")
    ap.add_argument("--no-overhead", action="store_true", help="skip the overhead part")
    ap.add_argument("--quality", action="store_true", help="also run the BBOB quality check")
    ap.add_argument("--functions", type=int, nargs="+", default=list(QUALITY_FUNCTIONS))
    ap.add_argument("--dims", type=int, nargs="+", default=[10, 20])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="quality seeds first-seed .. first-seed + seeds - 1 (fresh seeds for a second look)")
    ap.add_argument("--quality-trials", type=int, default=1_000)
    ap.add_argument("--write-readme", action="store_true", help="update the cmaes section of benchmarks/README.md")
    ap.add_argument("--optuna-cache", default=str(Path(__file__).resolve().parent / "results" / "cmaes_bbob_optuna.json"),
                    help="JSON file of Optuna's final values (read, and extended with new runs); '' for none")
    ap.add_argument("--only-optuna", action="store_true",
                    help="quality: run (and cache) Optuna's runs only, print no table")
    args = ap.parse_args(argv)

    import optuna

    import hpo_core

    hpo_core.logging.set_verbosity(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")  # Optuna's experimental and deprecation warnings
    rev = _common.git_rev()  # the code this process runs
    parts = ["_Command_: `python benchmarks/cmaes_sampler.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
             + "`", "", _common.machine_info(["optuna", "rustuna", "cmaes"]), ""]
    if not args.no_overhead:
        table, verdicts = overhead_table(overhead(args))
        parts += [f"Per ask+tell, median over the window before each checkpoint; hpo_core and rustuna: the "
                  f"median of {args.repeats} studies each, interleaved, Optuna: one study; all in one "
                  "process:", "", table, ""] + [f"- {v}" for v in verdicts] + [""]
    if args.quality and args.only_optuna:
        quality(args, libraries=("optuna",))
        return
    if args.quality:
        table, verdicts = quality_table(quality(args))
        parts += [f"Quality: BBOB, {args.seeds} seeds, {args.quality_trials:,} trials, default "
                  "CmaEsSampler of each library, define-by-run (regret = best value - f_opt):", "", table, ""]
        parts += [f"- {v}" for v in verdicts] + [""]
    body = "\n".join(parts)
    print(body)
    if args.write_readme:
        head = ("## CMA-ES: per-trial time and search quality (issue 15)\n\n"
                "`CmaEsSampler` reads only the trials finished since its previous ask (the history's "
                "`generation` column) and stores its run in the study once per generation, so an "
                "ask+tell costs the same at any study size. Script: `benchmarks/cmaes_sampler.py`.\n\n")
        _common.write_section(_common.README, "cmaes", head + f"_git {rev}_\n\n" + body)


if __name__ == "__main__":
    main()
