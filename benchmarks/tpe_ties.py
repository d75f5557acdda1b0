"""TPE's one documented difference from Optuna 5.0, measured: the order of tied observations.

Where observations share a value in a dimension (usual on integer grids), hpo_core's
Parzen estimator gives their bandwidths out in trial order (a stable sort); Optuna 5.0 in
the order of NumPy's default ``argsort``, which is not stable and depends on NumPy's
version and the CPU's sort kernels (``hpo_core/samplers/tpe/_parzen.py``). Everything else
is pinned equal by ``tests/samplers/test_tpe_optuna_parity.py``.

This runs Optuna's own TPESampler per (problem, seed) as it is, with a stable ``argsort`` in
its Parzen estimator (the only change: hpo_core's tie order) and with ties in a pseudo-random
but deterministic order (a hash of position and value), and hpo_core's, on the discrete suite
(``_problems.DISCRETE_PROBLEMS``), and reports per problem the mean best value and the
seed-by-seed wins/ties/losses against ``optuna_tpe`` (the same seed gives the Optuna variants
the same random stream, so they agree until the tie order first changes a proposal)::

    python benchmarks/tpe_ties.py --seeds 0-59 --trials 100 --workers 2   # README figures
    python benchmarks/tpe_ties.py --seeds 0-2 --trials 20 --problems syn_log_int   # quick look

Results are cached in ``--out`` (JSON ``{"sampler|problem|seed|trials": {budget: best}}``, the
best value after a quarter, half and all of the trials).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _problems  # noqa: E402

from hpo_core.testing.optuna_parity import NumpyStableArgsort  # noqa: E402

SAMPLERS = ("optuna_tpe", "optuna_tpe_stable_ties", "optuna_tpe_hashed_ties", "hpo_tpe")


class _NumpyHashedArgsort(NumpyStableArgsort):
    """NumPy whose ``argsort`` breaks ties in a pseudo-random order that differs between
    values (a hash of the position and the value), deterministic and platform-independent."""

    @staticmethod
    def argsort(a: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        key = (np.arange(len(a), dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        key ^= a.view(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        key ^= key >> np.uint64(31)
        return np.lexsort((key, a))


def budgets(n_trials: int) -> list[int]:
    """The budgets reported and cached: a quarter, half and all of the trials."""
    return sorted({max(1, n_trials // 4), max(1, n_trials // 2), n_trials})


def run(sampler: str, problem_name: str, seed: int, n_trials: int) -> dict[str, float]:
    """Best value of one study after each of ``budgets(n_trials)`` trials."""
    warnings.simplefilter("ignore")
    problem = _problems.problem_by_name(problem_name)
    objective = problem.objective(seed)
    if sampler.startswith("optuna"):
        import optuna
        from optuna.samplers._tpe import parzen_estimator

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # Set in every job: a worker runs jobs of both variants.
        shims = {"optuna_tpe_stable_ties": NumpyStableArgsort, "optuna_tpe_hashed_ties": _NumpyHashedArgsort}
        parzen_estimator.np = shims[sampler]("numpy") if sampler in shims else np  # type: ignore[assignment]
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    else:
        import hpo_core

        hpo_core.logging.set_verbosity(30)
        study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    best = np.minimum.accumulate([t.value for t in study.trials])
    return {str(b): float(best[b - 1]) for b in budgets(n_trials)}


def _job(args: tuple[str, str, int, int]) -> tuple[str, dict[str, float]]:
    sampler, problem, seed, n_trials = args
    return f"{sampler}|{problem}|{seed}|{n_trials}", run(sampler, problem, seed, n_trials)


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def report(results: dict[str, dict[str, float]], problems: list[str], seeds: list[int], n_trials: int,
           budget: int, samplers: list[str]) -> str:
    """Per problem: mean best value at ``budget`` per sampler, and seed-by-seed W/T/L of
    each sampler against ``optuna_tpe`` (which must be among ``samplers``)."""
    others = [x for x in samplers if x != "optuna_tpe"]
    lines = [f"Best value after {budget} trials: mean over seeds; W/T/L against `optuna_tpe` seed by seed "
             "(lower is better).", "",
             "| problem | seeds | " + " | ".join(f"`{s}`" for s in ["optuna_tpe", *others]) + " | "
             + " | ".join(f"`{x}` W/T/L" for x in others) + " |",
             "|---|---|" + "---|" * (1 + 2 * len(others))]
    totals = {s: [0, 0, 0] for s in others}
    worse_mean = {s: 0 for s in others}
    for p in problems:
        done = [s for s in seeds if all(f"{x}|{p}|{s}|{n_trials}" in results for x in samplers)]
        if not done:
            continue
        best = {x: np.array([results[f"{x}|{p}|{s}|{n_trials}"][str(budget)] for s in done]) for x in samplers}
        cells = []
        for x in others:
            a, b = best[x], best["optuna_tpe"]
            wtl = [int((a < b).sum()), int((a == b).sum()), int((a > b).sum())]
            totals[x] = [t + w for t, w in zip(totals[x], wtl)]
            worse_mean[x] += int(a.mean() > b.mean())
            cells.append("/".join(map(str, wtl)))
        lines.append(f"| {p} | {len(done)} | " + " | ".join(f"{best[x].mean():.4g}" for x in ["optuna_tpe", *others])
                     + " | " + " | ".join(cells) + " |")
    lines.append("")
    for x, (w, t, l_) in totals.items():
        lines.append(f"- `{x}` against `optuna_tpe`: won {w}, tied {t}, lost {l_}; worse on the mean on "
                     f"{worse_mean[x]} of {len(problems)} problems.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(_problems.DISCRETE_PROBLEMS),
                    help="discrete-suite problems (default all)")
    ap.add_argument("--seeds", default="0-29", help="e.g. 0-89 or 0,3 (default 0-29)")
    ap.add_argument("--trials", type=int, default=50, help="trials per study (default 50)")
    ap.add_argument("--samplers", default=",".join(SAMPLERS), help=f"subset of {','.join(SAMPLERS)}")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                  "tpe_ties.json"))
    a = ap.parse_args()
    problems, seeds = a.problems.split(","), _seeds(a.seeds)
    results: dict[str, dict[str, float]] = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            results = json.load(f)
    samplers = a.samplers.split(",")
    jobs = [(s, p, seed, a.trials) for p in problems for seed in seeds for s in samplers
            if f"{s}|{p}|{seed}|{a.trials}" not in results]
    start = time.time()
    with mp.get_context("spawn").Pool(a.workers) as pool:
        for i, (key, values) in enumerate(pool.imap_unordered(_job, jobs), 1):
            results[key] = values
            if i % 50 == 0 or i == len(jobs):
                with open(a.out, "w") as f:
                    json.dump(results, f)
    print(f"{len(jobs)} studies run in {time.time() - start:.0f} s; cache {a.out}\n")
    for budget in budgets(a.trials)[1:]:
        print(report(results, problems, seeds, a.trials, budget, samplers) + "\n")


if __name__ == "__main__":
    main()
