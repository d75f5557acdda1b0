"""The discrete-space suite at budgets 25, 50 and 100 trials: regret, ranks and solved runs.

Runs (and caches) the problems of group ``"discrete"`` (``_problems.DISCRETE_PROBLEMS``:
the ``tab_*`` lookup tables and the ``syn_*`` functions with known optima) through
``quality.run_all``, in ``quality.py``'s results format, then reports at a quarter, a half
and all of the trials. The samplers are not told the budget, so the best value after 25
trials of a 100-trial study is the result of a 25-trial study with the same seed: one run
per (sampler, problem, seed) gives all three budgets.

Every problem's optimum is known (the table's minimum; 0 for the synthetic ones), so the
regret is exact. Reported per problem: the median regret over seeds at each budget and the
rank of each sampler by it (regrets below 1e-8 count as equal, ties share the average rank);
then per sampler the mean rank over the tables, the synthetic problems and all of them, and
the share of runs that found the optimum (regret below 1e-8).

Usage::

    python benchmarks/quality_discrete.py --seeds 0-9 --trials 100 \\
        --samplers hpo_tpe,optuna_tpe,hpo_random --write-readme
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import _problems  # noqa: E402
import quality  # noqa: E402

DEFAULT_SAMPLERS = "hpo_tpe,optuna_tpe,hpo_random"


def budgets(n_trials: int) -> list[int]:
    """A quarter, a half and all of ``n_trials`` (each a stored checkpoint of ``quality.py``)."""
    return [n_trials // 4, n_trials // 2, n_trials]


def analyse(data: dict[str, Any], specs: Sequence[str], names: Sequence[str], n_trials: int,
            seeds: Sequence[int]) -> dict[str, Any]:
    """Per problem and budget: median regret and rank per sampler; per sampler: mean ranks and
    the share of solved runs. Only seeds every sampler finished on a problem are used."""
    runs = data["runs"]
    rows: dict[str, Any] = {}
    for name in names:
        used = [s for s in seeds if all(quality.run_key(sp, name, s, n_trials) in runs for sp in specs)]
        if not used:
            continue
        f_opt = _problems.problem_by_name(name).f_opt
        row: dict[str, Any] = {"seeds": used, "f_opt": f_opt, "samplers": {sp: {} for sp in specs}}
        for b in budgets(n_trials):
            regrets = {sp: np.array([max(runs[quality.run_key(sp, name, s, n_trials)]["best"][str(b)] - f_opt, 0.0)
                                     for s in used]) for sp in specs}
            ranks = quality._rank([max(float(np.median(regrets[sp])), quality.REGRET_FLOOR) for sp in specs])
            for sp, r in zip(specs, ranks):
                row["samplers"][sp][b] = {"median": float(np.median(regrets[sp])), "rank": r,
                                          "solved": float(np.mean(regrets[sp] < quality.REGRET_FLOOR))}
        rows[name] = row
    summary: dict[str, Any] = {}
    for label, prefix in (("tables", "tab_"), ("synthetic", "syn_"), ("all", "")):
        members = [n for n in rows if n.startswith(prefix)]
        if members:
            summary[label] = {"n_problems": len(members), "samplers": {sp: {b: {
                "mean_rank": float(np.mean([rows[n]["samplers"][sp][b]["rank"] for n in members])),
                "solved": float(np.mean([rows[n]["samplers"][sp][b]["solved"] for n in members])),
            } for b in budgets(n_trials)} for sp in specs}}
    per_trial: dict[str, float] = {}
    repeats: dict[str, dict[int, float] | None] = {}
    for sp in specs:
        recs = [runs[quality.run_key(sp, n, s, n_trials)] for n in rows for s in rows[n]["seeds"]]
        per_trial[sp] = 1e3 * sum(r["wall_s"] - r["objective_s"] for r in recs) / max(1, n_trials * len(recs))
        # Share of the first b trials that repeat an earlier configuration (runs that
        # stored ``distinct``; older caches lack it).
        counted = [r for r in recs if "distinct" in r]
        repeats[sp] = None
        if counted and len(counted) == len(recs):
            shares = {b: [1.0 - r["distinct"][str(b)] / b for r in counted] for b in budgets(n_trials)}
            repeats[sp] = {b: float(np.mean(v)) for b, v in shares.items()}
    revs = sorted({runs[quality.run_key(sp, n, s, n_trials)].get("git", "unknown")
                   for sp in specs if sp.startswith("hpo_") for n in rows for s in rows[n]["seeds"]})
    return {"problems": rows, "summary": summary, "specs": list(specs), "n_trials": n_trials,
            "sampler_ms_per_trial": per_trial, "repeats": repeats, "git_revs": revs}


def report(result: dict[str, Any], command: str) -> str:
    specs, bs = result["specs"], budgets(result["n_trials"])
    at = " / ".join(str(b) for b in bs)
    head = "| sampler | " + " | ".join(
        f"mean rank {label} ({s['n_problems']}) @ {at}" for label, s in result["summary"].items())
    head += f" | optimum found @ {at} | repeated configurations @ {at} | sampler time / trial (ms) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for sp in specs:
        cells = [" / ".join(f"{s['samplers'][sp][b]['mean_rank']:.2f}" for b in bs)
                 for s in result["summary"].values()]
        solved = " / ".join(f"{100 * result['summary']['all']['samplers'][sp][b]['solved']:.0f}%" for b in bs)
        rep = result["repeats"][sp]
        repeated = " / ".join(f"{100 * rep[b]:.1f}%" for b in bs) if rep is not None else "-"
        lines.append(f"| `{sp}` | " + " | ".join(cells) + f" | {solved} | {repeated} | "
                     f"{result['sampler_ms_per_trial'][sp]:.2f} |")
    table = ["| problem | seeds | f_opt | " + " | ".join(f"`{sp}`" for sp in specs) + " |"]
    table.append("|" + "---|" * (len(specs) + 3))
    for name, row in result["problems"].items():
        cells = []
        for sp in specs:
            r = row["samplers"][sp]
            text = " / ".join(_common.fmt_sci(r[b]["median"]) for b in bs) + f" [{r[bs[-1]]['rank']:g}]"
            cells.append(f"**{text}**" if r[bs[-1]]["rank"] == 1 else text)
        table.append(f"| {name} | {len(row['seeds'])} | {_common.fmt_sci(row['f_opt'])} | " + " | ".join(cells) + " |")
    method = (f"Cells: median over seeds of the regret (best value - f_opt) after {at} trials "
              f"[rank at {bs[-1]}], from one {bs[-1]}-trial study per seed; regrets below 1e-8 count "
              "as equal when ranking and as an optimum found. f_opt: the table's minimum (`tab_*`), "
              "0 for `syn_*` (their objective is f - f_min on instance seed + 1). Repeated "
              f"configurations: the share of the first {at} trials whose parameters equal an "
              "earlier trial's, mean over runs (a repeat on a lookup table or a deterministic function "
              "is a wasted trial). Sampler time: wall time minus the lookups or function evaluations, "
              "per trial.")
    revs = ", ".join(f"`{r}`" for r in result["git_revs"])
    return "\n".join([f"Command: `{command}`", "", _common.machine_info(quality.VERSION_DISTS), "",
                      method, "", f"hpo_core commit(s) of the cached hpo_core runs: {revs}.", "",
                      "#### Mean ranks", "", *lines, "",
                      f"#### Median regret @ {at} [rank @ {bs[-1]}]", "", *table]) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="The discrete-space suite at 1/4, 1/2 and all of the trials.")
    p.add_argument("--samplers", default=DEFAULT_SAMPLERS, help=f"as in quality.py (default {DEFAULT_SAMPLERS})")
    p.add_argument("--problems", default=None, help=f"default all: {','.join(_problems.DISCRETE_PROBLEMS)}")
    p.add_argument("--seeds", default="0-9", help="default 0-9")
    p.add_argument("--trials", type=int, default=100, help="trials per study (default 100; a multiple of 4)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "quality_discrete.json")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--report-only", action="store_true", help="do not run anything; report the cache")
    p.add_argument("--write-readme", action="store_true", help="write the tables into README.md")
    args = p.parse_args(argv)
    if args.trials < 4 or args.trials % 4:
        p.error("--trials must be a positive multiple of 4")
    specs = [s.strip() for s in args.samplers.split(",") if s.strip()]
    try:
        for s in specs:
            quality.parse_sampler(s)
        names = [pr.name for pr in _problems.discrete_problems(
            None if args.problems is None else args.problems.split(","))]
    except ValueError as e:
        p.error(str(e))
    seeds = quality._int_list(args.seeds)
    data = (quality.load_results(args.out) if args.report_only else
            quality.run_all(specs, names, seeds, args.trials, args.out, workers=args.workers))
    result = analyse(data, specs, names, args.trials, seeds)
    if not result["problems"]:
        print("No problem has results for every sampler yet.", file=sys.stderr)
        return 1
    command = shlex.join(["python", "benchmarks/quality_discrete.py", *(sys.argv[1:] if argv is None else argv)])
    body = report(result, command)
    print(body)
    if args.write_readme:
        _common.write_section(_common.README, "quality-discrete", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
