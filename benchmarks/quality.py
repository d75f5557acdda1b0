"""Search quality of TPE samplers: best-found regret on BBOB and model-tuning tasks.

Runs every sampler on the same problems with the same seeds and the same budget and
reports, per problem, the median over seeds of the best-found regret at the budget
and at half of it, the samplers' ranks per problem, and their mean ranks over the
BBOB functions, over the model-tuning tasks and over both. Problems are defined once,
define-by-run, in ``_problems.py``.

Samplers (``--samplers``, comma-separated; options after a colon are passed to the
constructor, e.g. ``hpo_tpe:n_ei_candidates=64:multivariate=True``): hpo_core's, Optuna's,
rustuna's and hyperopt's, listed in ``_runners.py``.

Every sampler gets ``seed`` as its seed. Results are cached per (sampler, problem, seed,
trials) in the ``--out`` JSON file, written after every run, so an interrupted run
continues where it stopped; ``--workers N`` runs N processes.

Usage::

    python benchmarks/quality.py --suite bbob --dims 2,5,10 --seeds 0-4 --trials 200 \\
        --samplers hpo_tpe,optuna_tpe,hyperopt_tpe,hpo_random \\
        --out benchmarks/results/quality_bbob.json --write-readme
    python benchmarks/quality.py --suite sklearn --seeds 0-4 --trials 100 \\
        --out benchmarks/results/quality_sklearn.json --write-readme
    python benchmarks/quality.py --summary benchmarks/results/quality_bbob.json \\
        benchmarks/results/quality_sklearn.json --write-readme   # mean ranks over both
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import fcntl
import json
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _problems  # noqa: E402
import _runners  # noqa: E402

SAMPLERS = _runners.SAMPLERS
parse_sampler = _runners.parse_sampler
DEFAULT_SAMPLERS = "hpo_tpe,optuna_tpe,hyperopt_tpe,hpo_random"
# Budgets at which every run stores its best value (when it reaches them): the ranking's.
RANKING_BUDGETS = (25, 50, 100, 200)
# Regrets below COCO's final target count as equal when ranking (a solved problem).
REGRET_FLOOR = 1e-8
VERSION_DISTS = ("optuna", "hyperopt", "coco-experiment", "scikit-learn", "torch")


# ----------------------------------------------------------------------------- runs
def checkpoints(n_trials: int) -> list[int]:
    """Trial counts at which the best-so-far value is stored: 10%, 25%, 50%, 100% and the
    ranking budgets 25, 50, 100, 200 that the run reaches."""
    return sorted({max(1, n_trials * k // 20) for k in (2, 5, 10, 20)}
                  | {b for b in RANKING_BUDGETS if b <= n_trials})


def run_one(spec: str, problem_name: str, seed: int, n_trials: int) -> dict[str, Any]:
    """One study: ``spec`` on ``problem_name`` with ``seed``; returns the record to cache.

    The record holds the best value found after each checkpoint (``best``) and the number of
    distinct configurations among the trials up to it (``distinct``; fewer than the trials
    where a sampler proposed a configuration it had already evaluated). An exception
    becomes ``record["error"]`` (not cached as a result, retried next time).
    """
    _runners.limit_threads()
    warnings.filterwarnings("ignore")  # convergence and experimental warnings from the tasks
    kind, kwargs = _runners.parse_sampler(spec)
    problem = _problems.problem_by_name(problem_name)
    record: dict[str, Any] = {"sampler": spec, "problem": problem_name, "group": problem.group,
                              "seed": seed, "n_trials": n_trials}
    t0 = time.perf_counter()
    try:
        evaluate = problem.make(seed)
        _runners.limit_threads()  # again: threadpoolctl limits only the libraries make() loaded
        _common.git_rev()  # the code this process runs (cached), before the tree moves on
        _runners.warm_up(spec)
        t1 = time.perf_counter()
        configs: list[tuple[Any, ...]] = []

        def recorded(params: dict[str, Any]) -> float:
            configs.append(_runners.config_key(params))
            return evaluate(params)

        values, objective_s = _runners.run_sampler(kind, kwargs, problem, recorded, seed, n_trials)
    except Exception as e:  # noqa: BLE001 - one failed run must not stop the suite
        record["error"] = f"{type(e).__name__}: {e}"
        return record
    wall = time.perf_counter() - t1
    if len(values) != n_trials:
        record["error"] = f"ran {len(values)} trials, expected {n_trials}"
        return record
    best = np.minimum.accumulate(np.array(values, dtype=float))
    record.update(
        best={str(c): float(best[c - 1]) for c in checkpoints(n_trials)},
        distinct={str(c): len(set(configs[:c])) for c in checkpoints(n_trials)},
        wall_s=round(wall, 4), objective_s=round(objective_s, 4), setup_s=round(t1 - t0, 4),
        git=_common.git_rev(),
        finished=f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S UTC}",
    )
    return record


# ----------------------------------------------------------------------------- cache
def run_key(spec: str, problem: str, seed: int, n_trials: int) -> str:
    return f"{spec}|{problem}|{seed}|{n_trials}"


def load_results(path: Path) -> dict[str, Any]:
    """The cached runs in ``path`` (``{"runs": {key: record}}``), empty if it does not exist."""
    if not path.exists():
        return {"runs": {}}
    with open(path) as f:
        data = json.load(f)
    data.setdefault("runs", {})
    return data


def save_results(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (temporary file + rename) so an interrupt never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    # One run per line: compact, and a rerun shows up as a readable diff.
    lines = [f"{json.dumps(k)}: {json.dumps(r, sort_keys=True)}" for k, r in sorted(data["runs"].items())]
    rest = {k: v for k, v in data.items() if k != "runs"}
    with open(tmp, "w") as f:
        f.write('{"runs": {\n' + ",\n".join(lines) + "\n}")
        for k, v in sorted(rest.items()):
            f.write(f",\n{json.dumps(k)}: {json.dumps(v, sort_keys=True)}")
        f.write("}\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``'s companion ``.lock`` file (processes that share a cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(path.suffix + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_all(specs: Sequence[str], problems: Sequence[str], seeds: Sequence[int], n_trials: int,
            out: Path, *, workers: int = 1, fresh: bool = False, rerun: Sequence[str] = (),
            log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    """Run every missing (sampler, problem, seed) and cache each record in ``out`` as it ends.

    Tasks are ordered problem, seed, sampler, so an interrupted run leaves complete
    comparisons (all samplers on a problem and seed) rather than one sampler everywhere.
    The cached runs of the samplers in ``rerun`` (on these problems and seeds) are
    dropped and run again, e.g. after a change to hpo_core's TPE.
    """
    data = {"runs": {}} if fresh else load_results(out)
    runs = data["runs"]
    dropped = [run_key(spec, p, seed, n_trials) for spec in rerun for p in problems for seed in seeds]
    for key in dropped:
        runs.pop(key, None)
    if rerun and not fresh:
        with _locked(out):
            disk = load_results(out)
            for key in dropped:
                disk["runs"].pop(key, None)
            save_results(out, disk)
    elif fresh:
        save_results(out, data)
    todo = [(s, p, seed) for p in problems for seed in seeds for s in specs
            if run_key(s, p, seed, n_trials) not in runs]
    log(f"{len(todo)} runs to do, {len(problems) * len(seeds) * len(specs) - len(todo)} cached in {out}")
    done = 0

    def store(rec: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        key = run_key(rec["sampler"], rec["problem"], rec["seed"], n_trials)
        with _locked(out):
            # Another process may write the same file (another suite's samplers, a rerun):
            # merge this record into what is on disk now instead of overwriting it.
            disk = load_results(out)
            if "error" in rec:
                disk.setdefault("errors", {})[key] = rec["error"]
            else:
                disk["runs"][key] = rec
                disk.get("errors", {}).pop(key, None)
            save_results(out, disk)
        data.update(disk)
        if "error" in rec:
            log(f"[{done}/{len(todo)}] {key}: ERROR {rec['error']}")
            return
        log(f"[{done}/{len(todo)}] {key}: best {rec['best'][str(n_trials)]:.4g} "
            f"in {rec['wall_s']:.1f} s (objective {rec['objective_s']:.1f} s)")

    if not todo:
        return data
    if workers <= 1:
        for s, p, seed in todo:
            store(run_one(s, p, seed, n_trials))
    else:
        with concurrent.futures.ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(run_one, s, p, seed, n_trials) for s, p, seed in todo]
            for fut in concurrent.futures.as_completed(futures):
                store(fut.result())
    return data


# ----------------------------------------------------------------------------- analysis
def _rank(keys: Sequence[float]) -> list[float]:
    """Ranks 1..k of ``keys`` (smaller is better); exact ties share their average rank."""
    from scipy.stats import rankdata

    return [float(r) for r in rankdata(np.asarray(keys, dtype=float), method="average")]


def analyse(data: dict[str, Any], specs: Sequence[str], n_trials: int | None,
            seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """Regret tables and ranks from the cached runs.

    Only (problem, seed) pairs that every sampler in ``specs`` finished are used, so
    every sampler is compared on the same set. Regret: BBOB objectives are already
    ``f - f_opt``; for tasks with unknown optimum the reference is the best value any
    sampler in ``specs`` found on that problem (over all used seeds, full budget).

    ``n_trials`` None takes each run's own budget (the largest cached per sampler,
    problem and seed), so suites run with different budgets can be summarised together.

    Returns ``{"problems": {name: {...}}, "groups": {...}, "specs": [...]}`` where each
    problem holds per sampler the median regret at the budget and at half of it, the
    mean of ``log10(regret + 1e-8)``, the rank and the seeds used.
    """
    by_problem: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for rec in data["runs"].values():
        if rec["sampler"] not in specs or (n_trials is not None and rec["n_trials"] != n_trials):
            continue
        if seeds is not None and rec["seed"] not in seeds:
            continue
        slot = by_problem.setdefault(rec["problem"], {}).setdefault(rec["sampler"], {})
        if rec["seed"] not in slot or slot[rec["seed"]]["n_trials"] < rec["n_trials"]:
            slot[rec["seed"]] = rec
    problems: dict[str, Any] = {}
    for name, per_sampler in by_problem.items():
        common = set.intersection(*(set(per_sampler.get(s, {})) for s in specs))
        if not common:
            continue
        used = sorted(common)
        group = per_sampler[specs[0]][used[0]]["group"]
        f_opt = _problems.problem_by_name(name).f_opt
        ref = f_opt if f_opt is not None else min(
            _best(per_sampler[s][seed]) for s in specs for seed in used)
        row: dict[str, Any] = {"group": group, "seeds": used, "reference": ref, "samplers": {}}
        for s in specs:
            recs = [per_sampler[s][seed] for seed in used]
            reg_full = np.array([max(_best(r) - ref, 0.0) for r in recs])
            reg_half = np.array([max(_best(r, half=True) - ref, 0.0) for r in recs])
            row["samplers"][s] = {
                "median_regret": float(np.median(reg_full)),
                "median_regret_half": float(np.median(reg_half)),
                "mean_log10_regret": float(np.mean(np.log10(reg_full + REGRET_FLOOR))),
                "wall_s": float(sum(r["wall_s"] for r in recs)),
                "sampler_s": float(sum(r["wall_s"] - r["objective_s"] for r in recs)),
                "n_runs": len(recs),
                "n_trials": int(sum(r["n_trials"] for r in recs)),
            }
        for key, point in (("rank", "median_regret"), ("rank_half", "median_regret_half")):
            ranks = _rank([max(row["samplers"][s][point], REGRET_FLOOR) for s in specs])
            for s, r in zip(specs, ranks):
                row["samplers"][s][key] = r
        problems[name] = row
    groups: dict[str, dict[str, Any]] = {}
    for gname, members in (("bbob", [p for p, r in problems.items() if r["group"] == "bbob"]),
                           ("sklearn", [p for p, r in problems.items() if r["group"] == "sklearn"]),
                           ("discrete", [p for p, r in problems.items() if r["group"] == "discrete"]),
                           ("all", list(problems))):
        if not members:
            continue
        groups[gname] = {"n_problems": len(members), "samplers": {s: {
            "mean_rank": float(np.mean([problems[p]["samplers"][s]["rank"] for p in members])),
            "mean_rank_half": float(np.mean([problems[p]["samplers"][s]["rank_half"] for p in members])),
            "wall_s": float(sum(problems[p]["samplers"][s]["wall_s"] for p in members)),
            "sampler_s": float(sum(problems[p]["samplers"][s]["sampler_s"] for p in members)),
            "n_runs": int(sum(problems[p]["samplers"][s]["n_runs"] for p in members)),
            "n_trials": int(sum(problems[p]["samplers"][s]["n_trials"] for p in members)),
        } for s in specs}}
    budget = f"{n_trials} ({_half(n_trials)})" if n_trials else "the budget (half of it)"
    revs = sorted({per[s][seed].get("git", "unknown") for per in by_problem.values()
                   for s in per for seed in per[s] if s.startswith("hpo_")})
    return {"problems": problems, "groups": groups, "specs": list(specs), "n_trials": n_trials,
            "budget": budget, "git_revs": revs}


def _half(n_trials: int) -> int:
    cps = checkpoints(n_trials)
    return cps[-2] if len(cps) > 1 else n_trials


def _best(rec: dict[str, Any], *, half: bool = False) -> float:
    """Best value of a run at its budget (or at half of it)."""
    n = rec["n_trials"]
    return float(rec["best"][str(_half(n) if half else n)])


# ----------------------------------------------------------------------------- report
def _cell(r: dict[str, Any]) -> str:
    text = f"{_common.fmt_sci(r['median_regret'])} ({_common.fmt_sci(r['median_regret_half'])}) [{r['rank']:g}]"
    return f"**{text}**" if r["rank"] == 1 else text


def regret_table(result: dict[str, Any], group: str) -> str:
    """Markdown: one row per problem of ``group``, one column per sampler."""
    specs = result["specs"]
    names = [p for p, r in result["problems"].items() if r["group"] == group]
    if group == "bbob":  # dimension, then function
        names.sort(key=lambda p: (int(p.rsplit("_d", 1)[1]), p))
    else:
        names.sort()
    head = "| problem | seeds | " + " | ".join(f"`{s}`" for s in specs) + " |"
    if group != "bbob":
        head = head.replace("| seeds |", "| seeds | reference |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for p in names:
        r = result["problems"][p]
        ref = "" if group == "bbob" else f" {_common.fmt_sci(r['reference'])} |"
        cells = " | ".join(_cell(r["samplers"][s]) for s in specs)
        lines.append(f"| {p} | {len(r['seeds'])} |{ref} {cells} |")
    return "\n".join(lines)


def summary_table(result: dict[str, Any]) -> str:
    """Markdown: mean ranks per group, wall time and sampler time per trial."""
    specs = result["specs"]
    groups = [g for g in ("bbob", "sklearn", "discrete", "all") if g in result["groups"]]
    label = {"bbob": "BBOB", "sklearn": "model tuning", "discrete": "discrete", "all": "all"}
    head = ("| sampler | " + " | ".join(
        f"mean rank {label[g]} ({result['groups'][g]['n_problems']}) @ {result['budget']}"
        for g in groups) + " | wall time (s) | sampler time / trial (ms) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for s in specs:
        ranks = " | ".join(f"{result['groups'][g]['samplers'][s]['mean_rank']:.2f} "
                           f"({result['groups'][g]['samplers'][s]['mean_rank_half']:.2f})" for g in groups)
        a = result["groups"]["all"]["samplers"][s]
        per_trial = 1e3 * a["sampler_s"] / max(a["n_trials"], 1)
        lines.append(f"| `{s}` | {ranks} | {a['wall_s']:.1f} | {per_trial:.2f} |")
    return "\n".join(lines)


METHOD = (
    "Cells: median over seeds of the best-found regret after all trials (after half of them) "
    "[rank among the samplers on that problem, by the median at the full budget; regrets below "
    "1e-8 count as equal and ties share the average rank]; the best is in bold. BBOB: regret = "
    "best f(x) - f_opt, f_opt from `cocoex.BareProblem(...).best_value()`, instance = seed + 1, "
    "box [-5, 5]^d, all parameters `suggest_float`. Model tuning: regret = best validation loss "
    "- the reference, the best value any sampler in the table found on that problem (so the "
    "winner of a problem often has regret 0). Each sampler is seeded with the seed. Only "
    "(problem, seed) pairs that every sampler finished are counted. Sampler time = wall time "
    "minus the time spent evaluating the model or function (ask, `suggest_*`, tell and the library's "
    "own bookkeeping; for hyperopt, `fmin` and its `Trials`)."
)


def report(result: dict[str, Any], command: str, *, regret_tables: bool = True) -> str:
    budget = f"{result['n_trials']} trials per study. " if result["n_trials"] else ""
    parts = [f"Command: `{command}`", "", _common.machine_info(VERSION_DISTS), "",
             budget + METHOD]
    if result.get("git_revs"):
        parts += ["", "hpo_core commit(s) of the cached hpo_core runs: "
                  + ", ".join(f"`{r}`" for r in result["git_revs"]) + "."]
    parts += ["", "#### Mean ranks", "", summary_table(result)]
    for group, title in (("bbob", "BBOB"), ("sklearn", "Model tuning"), ("discrete", "Discrete")):
        if regret_tables and any(r["group"] == group for r in result["problems"].values()):
            parts += ["", f"#### {title}: median regret @ {result['budget']} [rank]", "",
                      regret_table(result, group)]
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- CLI
def _int_list(text: str) -> list[int]:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"2,5,10"`` -> [2, 5, 10]."""
    out: list[int] = []
    for part in text.split(","):
        a, sep, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if sep else [int(a)]
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Best-found regret of TPE samplers on BBOB (COCO) and "
                                "model-tuning tasks: hpo_core, Optuna and hyperopt.")
    p.add_argument("--samplers", default=DEFAULT_SAMPLERS,
                   help=f"comma-separated, options after colons (default {DEFAULT_SAMPLERS}); "
                   f"known: {', '.join(SAMPLERS)}")
    p.add_argument("--suite", choices=("bbob", "sklearn", "discrete"), default="bbob")
    p.add_argument("--dims", default="2,5,10", help="BBOB dimensions (default 2,5,10)")
    p.add_argument("--functions", default="1-24", help="BBOB functions (default 1-24)")
    p.add_argument("--problems", default=None,
                   help=f"model-tuning tasks (default all: {','.join(_problems.SKLEARN_PROBLEMS)})")
    p.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4 or 0,3 (default 0-4)")
    p.add_argument("--trials", type=int, default=None, help="trials per study (default 200 bbob, 100 sklearn)")
    p.add_argument("--out", type=Path, default=None,
                   help="results JSON (cache); default benchmarks/results/quality_<suite>.json")
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument("--fresh", action="store_true", help="ignore the cached runs in --out (overwrites it)")
    p.add_argument("--rerun", default="",
                   help="comma-separated samplers (as in --samplers) whose cached runs are dropped and "
                   "run again, e.g. hpo_tpe after a change to it")
    p.add_argument("--report-only", action="store_true", help="do not run anything; report the cache")
    p.add_argument("--summary", type=Path, nargs="+", default=None, metavar="JSON",
                   help="report the union of these results files, each run at its own budget "
                   "(mean ranks over both suites); --trials is ignored")
    p.add_argument("--write-readme", action="store_true",
                   help=f"write the tables into {_common.README.name} between quality markers")
    args = p.parse_args(argv)
    if args.trials is None:
        args.trials = 200 if args.suite == "bbob" else 100
    if args.trials < 2:
        p.error("--trials must be at least 2")
    if args.workers < 1:
        p.error("--workers must be at least 1")
    if args.out is None:
        args.out = Path(__file__).parent / "results" / f"quality_{args.suite}.json"
    try:
        args.specs = [s.strip() for s in args.samplers.split(",") if s.strip()]
        for s in args.specs:
            parse_sampler(s)
        args.seed_list = _int_list(args.seeds)
        args.dim_list = _int_list(args.dims)
        args.function_list = _int_list(args.functions)
    except ValueError as e:
        p.error(str(e))
    args.rerun_list = [s.strip() for s in args.rerun.split(",") if s.strip()]
    if not set(args.rerun_list) <= set(args.specs):
        p.error("--rerun names a sampler that is not in --samplers")
    if len(set(args.specs)) != len(args.specs):
        p.error("--samplers lists a sampler twice")
    return args


def problem_names(args: argparse.Namespace) -> list[str]:
    if args.suite == "bbob":
        return [p.name for p in _problems.bbob_problems(args.dim_list, args.function_list)]
    names = None if args.problems is None else args.problems.split(",")
    return [p.name for p in _problems.suite_problems(args.suite, names)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/quality.py", *(sys.argv[1:] if argv is None else argv)])
    if args.summary:
        data: dict[str, Any] = {"runs": {}}
        for path in args.summary:
            data["runs"].update(load_results(path)["runs"])
        marker = "quality-summary"
    else:
        names = problem_names(args)
        if args.report_only:
            data = load_results(args.out)
        else:
            data = run_all(args.specs, names, args.seed_list, args.trials, args.out,
                           workers=args.workers, fresh=args.fresh, rerun=args.rerun_list)
        data = {"runs": {k: r for k, r in data["runs"].items() if r["problem"] in set(names)}}
        marker = f"quality-{args.suite}"
    result = analyse(data, args.specs, None if args.summary else args.trials, args.seed_list)
    if not result["problems"]:
        print("No (problem, seed) pair has results for every sampler yet.", file=sys.stderr)
        return 1
    body = report(result, command, regret_tables=not args.summary)
    print(body)
    if args.write_readme:
        _common.write_section(_common.README, marker, body)
        print(f"Updated {_common.README} ({marker})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
