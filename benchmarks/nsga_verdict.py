"""Is hpo_core's NSGA-II (NSGA-III) worse than Optuna's? Pooled seeds from ``nsga.py quality``.

Reads the JSON files that ``python benchmarks/nsga.py quality --json FILE`` writes (several
runs of different seeds are pooled per problem and sampler) and compares two samplers per
problem. The two libraries draw different random streams, so seed k of one has nothing to
do with seed k of the other: the comparison is unpaired. Per problem it gives

* ``P(a > b)``: the probability that a run of ``a`` has the larger hypervolume than a run
  of ``b`` (the Mann-Whitney U statistic over all n_a * n_b pairs of runs, ties half). The
  expected mean rank of ``a`` in a two-sampler ranking is ``2 - P(a > b)``: the "mean rank
  of the pair" of ``nsga.py`` averages the same thing over n seed pairs only;
* the Mann-Whitney z and two-sided p-value;

and over the problems the mean ``P(a > b)`` and Stouffer's combined z (the sum of the
per-problem z over sqrt(number of problems)) with its two-sided p-value.

Usage::

    python benchmarks/nsga_verdict.py hpo_nsga2 optuna_nsga2 benchmarks/results/nsga_quality.json ...
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu, norm


def pooled(paths: list[Path]) -> dict[str, dict[str, list[float]]]:
    hv: dict[str, dict[str, list[float]]] = {}
    for path in paths:
        for problem, by_sampler in json.loads(path.read_text())["hv"].items():
            for sampler, values in by_sampler.items():
                hv.setdefault(problem, {}).setdefault(sampler, []).extend(values)
    return hv


def verdict(hv: dict[str, dict[str, list[float]]], a: str, b: str) -> str:
    lines = [
        f"| problem | runs {a} / {b} | median {a} | median {b} | P({a} > {b}) | z | p |",
        "|---|---|---|---|---|---|---|",
    ]
    zs, aucs = [], []
    for problem, by_sampler in hv.items():
        if a not in by_sampler or b not in by_sampler:
            continue
        x, y = np.array(by_sampler[a]), np.array(by_sampler[b])
        u = float(mannwhitneyu(x, y, method="asymptotic").statistic)
        n1, n2 = len(x), len(y)
        auc = u / (n1 * n2)
        z = (u - n1 * n2 / 2) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
        zs.append(z)
        aucs.append(auc)
        lines.append(
            f"| {problem.upper()} | {n1} / {n2} | {np.median(x):.6g} | {np.median(y):.6g} | {auc:.3f} | "
            f"{z:+.2f} | {2 * norm.sf(abs(z)):.3f} |"
        )
    big_z = sum(zs) / math.sqrt(len(zs))
    lines.append(
        f"| all ({len(zs)} problems) | | | | {np.mean(aucs):.3f} | {big_z:+.2f} (Stouffer) | "
        f"{2 * norm.sf(abs(big_z)):.3f} |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    print(verdict(pooled(args.files), args.a, args.b))


if __name__ == "__main__":
    main()
