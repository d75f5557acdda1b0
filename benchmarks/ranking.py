"""Joint ranking of samplers per suite and budget, with paired tests seed by seed.

Reads one or more ``quality.py`` results files (no runs) and reports, for every suite
(the problems' group: ``bbob``, ``discrete``, ``sklearn``) and every budget (25, 50,
100, 200 trials by default):

- **Mean rank.** BBOB counts as one suite per dimension (``bbob_d5``, ``bbob_d10``). Per problem, each sampler's median over seeds of the best-found
  regret after ``budget`` trials; the samplers are ranked on it (regrets below 1e-8
  count as equal, ties share the average rank) and the ranks are averaged over the
  suite's problems. A sampler takes part at a budget when its runs reach it (the GPs
  are run to 100 trials only); a problem counts when every taking-part sampler has
  run it, on the seeds they all finished (BBOB's instance is the seed + 1, so a median
  over other seeds would be over other functions).
- **Paired tests** for the pairs in ``--pairs`` (``a/b``): per problem, the two-sided
  Wilcoxon signed-rank test on the per-seed regrets, Holm-adjusted over the suite's
  problems at that budget; the table counts the problems where ``a`` is significantly
  better or worse (adjusted p < 0.05), and the seeds each won.

Regret: ``best - f_opt`` where the problem's optimum is known (BBOB, the discrete
tables, the synthetic problems); otherwise ``best - reference`` where the reference is
the best value any run in the files found on that problem.

Usage::

    python benchmarks/ranking.py benchmarks/results/quality_rank_bbob.json \\
        benchmarks/results/quality_discrete.json benchmarks/results/quality_sklearn.json \\
        --samplers hpo_tpe,hpo_gp,hpo_auto,optuna_tpe,optuna_gp,optuna_cmaes,rustuna_tpe,hyperopt_tpe,hpo_random \\
        --write-readme
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
import quality_paired  # noqa: E402

BUDGETS = (25, 50, 100, 200)
DEFAULT_PAIRS = ("hpo_tpe/optuna_tpe", "hpo_tpe/rustuna_tpe", "hpo_gp/optuna_gp",
                 "hpo_auto/optuna_gp", "hpo_auto/hpo_tpe")
ALPHA = 0.05

# (sampler, problem, seed) -> the record whose run is the longest (it holds every budget).
Runs = dict[tuple[str, str, int], dict[str, Any]]


def collect(paths: Sequence[Path], specs: Sequence[str]) -> Runs:
    """The longest run of each (sampler, problem, seed) in ``paths``, for ``specs`` only."""
    runs: Runs = {}
    for path in paths:
        for rec in quality.load_results(path)["runs"].values():
            if rec["sampler"] not in specs:
                continue
            key = (rec["sampler"], rec["problem"], int(rec["seed"]))
            if key not in runs or runs[key]["n_trials"] < rec["n_trials"]:
                runs[key] = rec
    return runs


def references(runs: Runs) -> dict[str, float]:
    """Per problem: its known optimum, else the best value any run found."""
    best: dict[str, float] = {}
    for (_, problem, _), rec in runs.items():
        best[problem] = min(best.get(problem, np.inf), min(float(v) for v in rec["best"].values()))
    out = {}
    for problem, b in best.items():
        f_opt = _problems.problem_by_name(problem).f_opt
        out[problem] = float(f_opt) if f_opt is not None else b
    return out


def _at(rec: dict[str, Any], budget: int) -> float | None:
    value = rec["best"].get(str(budget))
    return None if value is None else float(value)


def suite(rec: dict[str, Any]) -> str:
    """The suite a run belongs to: its problem's group, BBOB split by dimension (``bbob_d5``)."""
    if rec["group"] == "bbob":
        return f"bbob_{rec['problem'].rsplit('_', 1)[1]}"
    return str(rec["group"])


def table_at(runs: Runs, refs: dict[str, float], group: str, budget: int,
             specs: Sequence[str]) -> dict[str, Any]:
    """Per problem of ``group``: the common seeds and each taking-part sampler's regrets."""
    per: dict[str, dict[str, dict[int, float]]] = {}
    for (spec, problem, seed), rec in runs.items():
        if suite(rec) != group:
            continue
        value = _at(rec, budget)
        if value is not None:
            regret = max(value - refs[problem], 0.0)
            per.setdefault(problem, {}).setdefault(spec, {})[seed] = regret
    taking = [s for s in specs if any(s in samplers for samplers in per.values())]
    problems: dict[str, dict[str, Any]] = {}
    for problem, samplers in sorted(per.items()):
        if not all(s in samplers for s in taking):
            continue
        seeds = sorted(set.intersection(*(set(samplers[s]) for s in taking)))
        if not seeds:
            continue
        regrets = {s: np.array([samplers[s][seed] for seed in seeds]) for s in taking}
        ranks = quality._rank([max(float(np.median(regrets[s])), quality.REGRET_FLOOR) for s in taking])
        problems[problem] = {"seeds": seeds, "regrets": regrets, "ranks": dict(zip(taking, ranks))}
    return {"samplers": taking, "problems": problems}


def paired(block: dict[str, Any], a: str, b: str) -> dict[str, Any] | None:
    """Problems where ``a`` is significantly better / worse than ``b`` (Holm), and seed wins."""
    if a not in block["samplers"] or b not in block["samplers"] or not block["problems"]:
        return None
    rows = []
    for problem, cell in block["problems"].items():
        xa = np.maximum(cell["regrets"][a], quality.REGRET_FLOOR)
        xb = np.maximum(cell["regrets"][b], quality.REGRET_FLOOR)
        rows.append({"problem": problem, **quality_paired.compare(xa, xb)})
    key = "wilcoxon_p" if quality_paired.HAVE_SCIPY else "sign_p"
    for row, p in zip(rows, quality_paired.holm([r[key] for r in rows])):
        row["holm_p"] = p
    sig = [r for r in rows if r["holm_p"] < ALPHA]
    return {
        "better": sorted(r["problem"] for r in sig if r["median_diff"] < 0 or r["wins_a"] > r["wins_b"]),
        "worse": sorted(r["problem"] for r in sig if not (r["median_diff"] < 0 or r["wins_a"] > r["wins_b"])),
        "n_problems": len(rows), "wins_a": sum(r["wins_a"] for r in rows),
        "wins_b": sum(r["wins_b"] for r in rows), "ties": sum(r["ties"] for r in rows),
        "rank_a": float(np.mean([c["ranks"][a] for c in block["problems"].values()])),
        "rank_b": float(np.mean([c["ranks"][b] for c in block["problems"].values()])),
    }


def analyse(runs: Runs, specs: Sequence[str], budgets: Sequence[int],
            pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    refs = references(runs)
    groups = sorted({suite(rec) for rec in runs.values()})
    out: dict[str, Any] = {"groups": {}}
    for group in groups:
        for budget in budgets:
            block = table_at(runs, refs, group, budget, specs)
            if not block["problems"]:
                continue
            seeds = [len(c["seeds"]) for c in block["problems"].values()]
            mean_rank = {s: float(np.mean([c["ranks"][s] for c in block["problems"].values()]))
                         for s in block["samplers"]}
            out["groups"].setdefault(group, {})[budget] = {
                "mean_rank": mean_rank, "n_problems": len(block["problems"]),
                "seeds": (min(seeds), max(seeds)),
                "pairs": {f"{a}/{b}": paired(block, a, b) for a, b in pairs},
            }
    revs = sorted({rec.get("git", "unknown") for (s, _, _), rec in runs.items() if s.startswith("hpo_")})
    out["git_revs"] = revs
    return out


def _seeds(lo_hi: tuple[int, int]) -> str:
    return str(lo_hi[0]) if lo_hi[0] == lo_hi[1] else f"{lo_hi[0]}-{lo_hi[1]}"


def report(result: dict[str, Any], specs: Sequence[str], command: str) -> str:
    lines = [f"Command: `{command}`", "",
             f"hpo_core runs from commit(s): {', '.join(result['git_revs']) or 'none'}", ""]
    for group, per_budget in result["groups"].items():
        budgets = sorted(per_budget)
        lines += [f"#### {group}: mean rank (problems; seeds per problem)", "",
                  "| sampler | " + " | ".join(
                      f"{b} ({per_budget[b]['n_problems']}; {_seeds(per_budget[b]['seeds'])})"
                      for b in budgets) + " |",
                  "|---|" + "---|" * len(budgets)]
        for s in specs:
            cells = []
            for b in budgets:
                ranks = per_budget[b]["mean_rank"]
                if s not in ranks:
                    cells.append("-")
                    continue
                best = min(ranks.values())
                cell = f"{ranks[s]:.2f}"
                cells.append(f"**{cell}**" if ranks[s] == best else cell)
            lines.append(f"| `{s}` | " + " | ".join(cells) + " |")
        lines += ["", f"#### {group}: paired per seed (Wilcoxon, Holm over problems, p < {ALPHA})", "",
                  "| pair a/b | budget | problems | a better | a worse | seed wins a/b/ties | mean rank a/b |",
                  "|---|---|---|---|---|---|---|"]
        for b in budgets:
            for name, row in per_budget[b]["pairs"].items():
                if row is None:
                    continue
                worse = ", ".join(row["worse"]) or "none"
                lines.append(
                    f"| `{name}` | {b} | {row['n_problems']} | {len(row['better'])} | "
                    f"{len(row['worse'])}{'' if not row['worse'] else f' ({worse})'} | "
                    f"{row['wins_a']}/{row['wins_b']}/{row['ties']} | "
                    f"{row['rank_a']:.2f}/{row['rank_b']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Joint ranking of samplers per suite and budget from "
                                "quality.py results files, with paired per-seed tests.")
    p.add_argument("results", type=Path, nargs="+", help="quality.py results JSON files")
    p.add_argument("--samplers", required=True, help="comma-separated specs, as in quality.py")
    p.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    p.add_argument("--pairs", default=",".join(DEFAULT_PAIRS),
                   help="comma-separated a/b pairs for the paired tests")
    p.add_argument("--write-readme", action="store_true",
                   help=f"write the tables into {_common.README.name} between the --marker markers")
    p.add_argument("--marker", default="quality-ranking",
                   help="README section name (default quality-ranking)")
    args = p.parse_args(argv)
    args.specs = [s.strip() for s in args.samplers.split(",") if s.strip()]
    args.budget_list = [int(b) for b in args.budgets.split(",")]
    args.pair_list = []
    for pair in args.pairs.split(","):
        a, sep, b = pair.partition("/")
        if not sep:
            p.error(f"--pairs takes a/b items, but got {pair!r}")
        args.pair_list.append((a, b))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/ranking.py", *(sys.argv[1:] if argv is None else argv)])
    runs = collect(args.results, args.specs)
    if not runs:
        print("No runs of these samplers in these files.", file=sys.stderr)
        return 1
    body = report(analyse(runs, args.specs, args.budget_list, args.pair_list), args.specs, command)
    print(body)
    if args.write_readme:
        _common.write_section(_common.README, args.marker, body)
        print(f"Updated {_common.README} ({args.marker})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
