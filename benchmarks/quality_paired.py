"""Per-task, per-seed comparison of two samplers in a ``quality.py`` results file.

``quality.py`` ranks samplers by the median over seeds, which says nothing about how
sure the ranking is. This script reads the same cache (no runs) and, per problem and
budget, compares the best-found loss of sampler A and sampler B seed by seed:

- the seeds where each is better (lower loss) and the exact ties;
- the median best loss of each and the median of the differences A - B;
- the two-sided Wilcoxon signed-rank test on the differences A - B (scipy's default
  ``method="auto"``; exact zero differences are dropped, ``zero_method="wilcox"``);
  without scipy, the two-sided sign test on the wins (exact binomial);
- the same Wilcoxon p-values Holm-adjusted over the problems at each budget, since
  "worse on any task" is several tests at once;
- the two-sided Mann-Whitney U test (scipy), which ignores the pairing: on tasks whose
  objective does not depend on the seed (the model-tuning tasks), seed s of A and seed
  s of B share nothing but the number, so the pairing is nominal.

Usage::

    python benchmarks/quality_paired.py --results benchmarks/results/quality_sklearn.json \\
        --samplers hpo_tpe,optuna_tpe --trials 100 --budgets 100,50
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402

HAVE_SCIPY = importlib.util.find_spec("scipy") is not None


def paired_losses(data: dict[str, Any], a: str, b: str, problem: str, n_trials: int, budget: int,
                  seeds: Sequence[int] | None = None) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Seeds both samplers finished on ``problem`` and their best losses after ``budget`` trials.

    Only runs of ``n_trials`` trials are read; ``budget`` must be one of their checkpoints.
    """
    per: dict[str, dict[int, float]] = {a: {}, b: {}}
    for rec in data["runs"].values():
        if rec["problem"] == problem and rec["sampler"] in per and rec["n_trials"] == n_trials:
            per[rec["sampler"]][rec["seed"]] = float(rec["best"][str(budget)])
    common = sorted(set(per[a]) & set(per[b]) & (set(seeds) if seeds is not None else set(per[a])))
    return common, np.array([per[a][s] for s in common]), np.array([per[b][s] for s in common])


def sign_test(wins_a: int, wins_b: int) -> float:
    """Two-sided exact sign test: P(a split at least this uneven | each side 1/2)."""
    n = wins_a + wins_b
    if n == 0:
        return 1.0
    k = min(wins_a, wins_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def _wilcoxon_method(d: np.ndarray) -> str:
    """The p-value scipy's ``wilcoxon(method="auto")`` computes for ``d`` (its own rule)."""
    nonzero = d[d != 0]
    if len(nonzero) == len(d) and len(np.unique(np.abs(d))) == len(d) and len(d) <= 50:
        return "exact"
    return "permutation" if len(d) <= 13 else "normal approx."


def compare(xa: np.ndarray, xb: np.ndarray) -> dict[str, Any]:
    """Wins, medians and p-values of the paired losses ``xa`` and ``xb`` (smaller is better)."""
    d = xa - xb
    wins_a, wins_b = int(np.sum(d < 0)), int(np.sum(d > 0))
    row: dict[str, Any] = {
        "n": len(d), "wins_a": wins_a, "wins_b": wins_b, "ties": len(d) - wins_a - wins_b,
        "median_a": float(np.median(xa)), "median_b": float(np.median(xb)),
        "median_diff": float(np.median(d)), "sign_p": sign_test(wins_a, wins_b),
        "wilcoxon_p": None, "wilcoxon_method": None, "mannwhitney_p": None,
    }
    if not HAVE_SCIPY:
        return row
    from scipy.stats import mannwhitneyu, wilcoxon

    if wins_a + wins_b == 0:  # every difference is zero: no evidence either way
        row["wilcoxon_p"], row["wilcoxon_method"] = 1.0, "all tied"
    else:
        row["wilcoxon_p"] = float(wilcoxon(xa, xb, zero_method="wilcox").pvalue)
        row["wilcoxon_method"] = _wilcoxon_method(d)
    row["mannwhitney_p"] = float(mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
    return row


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as ``pvalues``)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def analyse(data: dict[str, Any], a: str, b: str, n_trials: int, budgets: Sequence[int],
            seeds: Sequence[int] | None = None,
            problems: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per (budget, problem) with ``compare``'s fields, the problem, budget and seeds."""
    names = sorted({r["problem"] for r in data["runs"].values()} if problems is None else problems)
    rows = []
    for budget in budgets:
        block = []
        for name in names:
            used, xa, xb = paired_losses(data, a, b, name, n_trials, budget, seeds)
            if used:
                block.append({"problem": name, "budget": budget, "seeds": used, **compare(xa, xb)})
        key = "wilcoxon_p" if HAVE_SCIPY else "sign_p"
        for row, p in zip(block, holm([r[key] for r in block])):
            row["holm_p"] = p
        rows += block
    return rows


def _p(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}" if x >= 0.001 else f"{x:.1e}"


def table(rows: Sequence[dict[str, Any]], a: str, b: str) -> str:
    """Markdown: one row per (budget, problem)."""
    test = "Wilcoxon" if HAVE_SCIPY else "sign test"
    head = (f"| problem | trials | seeds | `{a}` better | `{b}` better | ties | median `{a}` "
            f"| median `{b}` | median of `{a}` - `{b}` | {test} p | {test} p, Holm | Mann-Whitney p |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        p = r["wilcoxon_p"] if HAVE_SCIPY else r["sign_p"]
        method = f" ({r['wilcoxon_method']})" if HAVE_SCIPY and r["wilcoxon_method"] != "exact" else ""
        lines.append(
            f"| {r['problem']} | {r['budget']} | {r['n']} | {r['wins_a']} | {r['wins_b']} | {r['ties']} "
            f"| {r['median_a']:.5g} | {r['median_b']:.5g} "
            f"| {r['median_diff']:+.3g} | {_p(p)}{method} | {_p(r['holm_p'])} | {_p(r['mannwhitney_p'])} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Per-seed comparison of two samplers in a quality.py "
                                "results file: wins, medians, Wilcoxon signed-rank p-values.")
    p.add_argument("--results", type=Path,
                   default=Path(__file__).parent / "results" / "quality_sklearn.json",
                   help="quality.py results JSON (default benchmarks/results/quality_sklearn.json)")
    p.add_argument("--samplers", default="hpo_tpe,optuna_tpe",
                   help="the two samplers A,B as in quality.py --samplers (default hpo_tpe,optuna_tpe)")
    p.add_argument("--trials", type=int, default=100,
                   help="trials per study of the runs to read (default 100)")
    p.add_argument("--budgets", default=None,
                   help="trial counts to compare at, checkpoints of --trials "
                   "(default: --trials and half of it)")
    p.add_argument("--seeds", default=None, help="seeds, e.g. 0-29 (default: every seed both finished)")
    p.add_argument("--problems", default=None, help="comma-separated (default: every problem in the file)")
    args = p.parse_args(argv)
    specs = [s.strip() for s in args.samplers.split(",") if s.strip()]
    if len(specs) != 2 or specs[0] == specs[1]:
        p.error(f"--samplers must name two different samplers, but got {args.samplers!r}")
    args.a, args.b = specs
    try:
        args.budget_list = (quality._int_list(args.budgets) if args.budgets
                            else [args.trials, quality._half(args.trials)])
        args.seed_list = quality._int_list(args.seeds) if args.seeds else None
    except ValueError as e:
        p.error(str(e))
    bad = [n for n in args.budget_list if n not in quality.checkpoints(args.trials)]
    if bad:
        p.error(f"--budgets {bad} are not checkpoints of {args.trials} trials "
                f"({', '.join(map(str, quality.checkpoints(args.trials)))})")
    args.problem_list = args.problems.split(",") if args.problems else None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = quality.load_results(args.results)
    rows = analyse(data, args.a, args.b, args.trials, args.budget_list, args.seed_list, args.problem_list)
    if not rows:
        print(f"No problem has runs of both {args.a} and {args.b} at {args.trials} trials "
              f"in {args.results}.", file=sys.stderr)
        return 1
    print(table(rows, args.a, args.b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
