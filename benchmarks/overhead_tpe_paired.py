"""TPE ask+tell overhead, paired within one process: hpo_core against rustuna (and an
earlier hpo_core tree) on a noisy machine.

``overhead_tpe.py`` times each library in its own cell, one after the other; on a shared
2-core VM whose speed drifts by 30 % within minutes, two such runs of the same code can
disagree by more than the difference being measured. Here every repetition builds a fresh
study per arm (the same ``N - window`` prefilled trials of ``overhead_tpe``'s space), times
``window`` ask+tell pairs, and rotates the order of the arms; the ratios are taken per
repetition, so a slow minute slows every arm of it alike.

Arms: ``hpo_core`` (the installed package), ``rustuna`` (where installed) and, with
``--baseline-tree PATH``, the ``hpo_core`` package of another checkout (a ``git worktree``
of an earlier commit), copied under the name ``hpo_core_baseline`` so that both load in
one process (the compiled extension is shared: this compares the Python around it).

Usage::

    python benchmarks/overhead_tpe_paired.py --size 100 --reps 24
    git worktree add /tmp/base HEAD~1
    python benchmarks/overhead_tpe_paired.py --size 100 --baseline-tree /tmp/base --space discrete
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import importlib.util
import logging
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import overhead_tpe as ot  # noqa: E402

BASELINE = "hpo_core_baseline"


def load_baseline(tree: Path, into: Path) -> str:
    """Copy ``tree/hpo_core`` to ``into/hpo_core_baseline`` with its imports renamed."""
    dst = into / BASELINE
    shutil.copytree(tree / "hpo_core", dst, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    pattern = re.compile(r"\bhpo_core(?=\.|\b)")
    for path in dst.rglob("*.py"):
        path.write_text(pattern.sub(BASELINE, path.read_text()))
    sys.path.insert(0, str(into))
    return BASELINE


def make_arm(module: str, size: int, window: int, prefill: list[dict[str, Any]], values: np.ndarray,
             ) -> tuple[Any, Callable[[Any], None]]:
    """A fresh TPE study (seed 0) of ``module`` holding ``size - window`` trials, and its step."""
    lib = importlib.import_module(module)
    if module == "rustuna":
        study = lib.create_study(sampler=lib.samplers.TPESampler(seed=0))
        dists = ot.distributions(lib.distributions)

        def step(s: Any) -> None:
            t = s.ask()
            s.tell(t.number, ot.objective(ot.suggest_all(t)))
    else:
        study = lib.create_study(sampler=importlib.import_module(module + ".samplers").TPESampler(seed=0))
        dists = ot.distributions(lib)

        def step(s: Any) -> None:
            t = s.ask()
            s.tell(t, ot.objective(ot.suggest_all(t)))
    for i in range(size - window):
        study.add_trial(lib.create_trial(params=prefill[i], distributions=dists, value=float(values[i])))
    return study, step


def run(args: argparse.Namespace) -> dict[str, np.ndarray]:
    """Median µs per ask+tell of each arm, one value per repetition."""
    ot.SPACE[:] = ot.SPACES[args.space]  # in place: other modules hold the list (overhead.py)
    prefill = ot.random_params(args.size, 1)
    values = np.random.default_rng(2).normal(size=args.size)
    arms = ["hpo_core"]
    if args.baseline_tree:
        into = tempfile.mkdtemp(prefix="hpo_core_baseline_")
        atexit.register(shutil.rmtree, into, True)
        arms.append(load_baseline(Path(args.baseline_tree), Path(into)))
    if importlib.util.find_spec("rustuna") is not None:
        arms.append("rustuna")
    out: dict[str, list[float]] = {a: [] for a in arms}
    for rep in range(args.reps):
        for module in arms[rep % len(arms):] + arms[: rep % len(arms)]:
            study, step = make_arm(module, args.size, args.window, prefill, values)
            step(study)  # the first ask of a study is not timed
            times = []
            for _ in range(args.window - 1):
                t = time.perf_counter_ns()
                step(study)
                times.append(time.perf_counter_ns() - t)
            out[module].append(float(np.median(times)) / 1e3)
    return {a: np.array(v) for a, v in out.items()}


def report(res: dict[str, np.ndarray], args: argparse.Namespace) -> str:
    def q(x: np.ndarray) -> str:
        return f"{np.median(x):.3f} ({np.percentile(x, 25):.3f}-{np.percentile(x, 75):.3f})"

    lines = [f"{args.space} space, N = {args.size}, window {args.window}, {args.reps} repetitions"]
    lines += [f"  {a}: median {np.median(v):.0f} µs per ask+tell" for a, v in res.items()]
    arms = list(res)
    for i, a in enumerate(arms):
        for b in arms[i + 1:]:
            r = res[a] / res[b]
            lines.append(f"  {a} / {b}: {q(r)} (median, quartiles), {a} faster in {int((r < 1).sum())}/{len(r)}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--space", choices=sorted(ot.SPACES), default="mixed")
    p.add_argument("--size", type=int, default=100, help="history size N at the last timed ask")
    p.add_argument("--window", type=int, default=20, help="ask+tell pairs per arm and repetition")
    p.add_argument("--reps", type=int, default=24)
    p.add_argument("--baseline-tree", help="a checkout whose hpo_core package is timed as a third arm")
    args = p.parse_args(argv)
    if args.window < 2 or args.size < args.window or args.reps < 1:
        p.error(f"need --window >= 2, --size >= --window and --reps >= 1, got {args.window}, {args.size}, {args.reps}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    print(report(run(args), args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
