"""ask+tell time of TPE on a conditional space, with and without ``group=True`` (issue 11).

The space is ``syn_conditional``'s shape: ``branch`` {a, b, c, d} and a float ``u`` in every
trial, then 2, 2, 3 or 0 parameters of the branch (ints, a log int, categoricals). A study
is prefilled with N random trials (``add_trial``), then 3 untimed and ``--window`` timed
ask+tell pairs run define-by-run. Paths: hpo_core's TPESampler at its defaults
(``hpo_default``: a joint model over ``branch`` and ``u``, each other parameter on its own),
with ``group=True`` (``hpo_group``: one joint model per group of co-occurring parameters,
every group each trial), and rustuna 0.2's TPESampler at its defaults (the anchor).

Usage::

    python benchmarks/tpe_group_overhead.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

BRANCHES: dict[str, list[tuple[str, str, Any, Any]]] = {
    "a": [("a1", "int", 0, 20), ("a2", "int", 0, 20)],
    "b": [("b1", "cat", list("abcdefgh"), None), ("b2", "logint", 1, 1024)],
    "c": [("c1", "cat", ["x", "y", "z"], None), ("c2", "cat", ["p", "q"], None), ("c3", "int", 0, 100)],
    "d": [],
}
PATHS = ("hpo_default", "hpo_group", "rustuna")


def distributions(module: Any, branch: str) -> dict[str, Any]:
    """The distributions of a trial in ``branch`` (``module``: hpo_core or rustuna.distributions)."""
    out = {"branch": module.CategoricalDistribution(list(BRANCHES)), "u": module.FloatDistribution(0.0, 1.0)}
    for name, kind, low, high in BRANCHES[branch]:
        if kind == "cat":
            out[name] = module.CategoricalDistribution(low)
        else:
            out[name] = module.IntDistribution(low, high, log=kind == "logint")
    return out


def objective(trial: Any) -> float:
    """Define-by-run: the branch, ``u``, then the branch's parameters; a cheap value."""
    branch = trial.suggest_categorical("branch", list(BRANCHES))
    value = trial.suggest_float("u", 0.0, 1.0)
    for name, kind, low, high in BRANCHES[branch]:
        if kind == "int":
            value += trial.suggest_int(name, low, high) / 100
        elif kind == "logint":
            value += float(np.log2(trial.suggest_int(name, low, high, log=True))) / 10
        else:
            value += trial.suggest_categorical(name, low) == low[0]
    return float(value)


def prefill(study: Any, module: Any, create: Callable[..., Any], n: int, rng: np.random.Generator) -> None:
    for _ in range(n):
        branch = list(BRANCHES)[rng.integers(len(BRANCHES))]
        params: dict[str, Any] = {"branch": branch, "u": float(rng.random())}
        for name, kind, low, high in BRANCHES[branch]:
            params[name] = low[rng.integers(len(low))] if kind == "cat" else int(rng.integers(low, high + 1))
        study.add_trial(create(params=params, distributions=distributions(module, branch), value=float(rng.random())))


def median_us(path: str, n: int, window: int) -> float:
    """Median µs of ``window`` ask+tell pairs of ``path`` after ``n`` prefilled trials."""
    rng = np.random.default_rng(0)
    if path.startswith("hpo_"):
        import hpo_core

        study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=0, group=path == "hpo_group"))
        prefill(study, hpo_core, hpo_core.create_trial, n, rng)

        def step() -> None:
            trial = study.ask()
            study.tell(trial, objective(trial))
    else:
        import rustuna

        study = rustuna.create_study(sampler=rustuna.samplers.TPESampler(seed=0))
        prefill(study, rustuna.distributions, rustuna.create_trial, n, rng)

        def step() -> None:
            trial = study.ask()
            study.tell(trial.number, objective(trial))

    for _ in range(3):
        step()
    times = []
    for _ in range(window):
        t0 = time.perf_counter_ns()
        step()
        times.append(time.perf_counter_ns() - t0)
    return float(np.median(times)) / 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000", help="prefilled trials N (comma-separated)")
    p.add_argument("--window", type=int, default=25, help="timed ask+tell pairs per cell")
    args = p.parse_args()
    print(f"| N | {' / '.join(PATHS)} (µs, median) | group / default | group / rustuna |")
    print("|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        t = {path: median_us(path, n, args.window) for path in PATHS}
        cells = " / ".join(f"{t[path]:,.0f}" for path in PATHS)
        print(f"| {n:,} | {cells} | {t['hpo_group'] / t['hpo_default']:.2f} | {t['hpo_group'] / t['rustuna']:.2f} |")


if __name__ == "__main__":
    main()
