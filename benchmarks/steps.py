"""Timings of ``StepIndex``: building it report by report, and the pruner's reads.

Target: reading the step-s values of 10,000 trials that reported 100 steps each in at
most 50 us. Timed, each as the median over ``--repeats`` calls (steps drawn from the
middle of the schedule):

* ``at_step(s)`` plus keeping the COMPLETE trials (``states[rows] == COMPLETE``; 90% of
  trials are COMPLETE, 5% PRUNED, 5% RUNNING), with ``take`` as ``at_step`` recommends
  and with boolean-mask indexing;
* ``last_at_or_before(s, rows)`` for all 10,000 rows, with a step schedule shared by the
  trials (steps are multiples of 2**33, so 64-bit) and with a schedule of its own per
  trial (random sample counts: the bisection path);
* building: ``n_trials * n_steps`` calls of ``add`` in study order (all trials at step
  0, then step 1, ...), per add, median over ``--builds`` builds; a pickle round trip.

Usage::

    python benchmarks/steps.py                     # 10,000 trials x 100 steps
    python benchmarks/steps.py --trials 1000 --steps 10 --repeats 200 --builds 1

Timings on a shared machine are noisy: compare medians from one run.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402  (machine description)

from hpo_core._step_index import StepIndex  # noqa: E402
from hpo_core.trial import TrialState  # noqa: E402

COMPLETE, PRUNED, RUNNING = int(TrialState.COMPLETE), int(TrialState.PRUNED), int(TrialState.RUNNING)


def median_us(fn: Callable[[int], object], repeats: int) -> float:
    """Median wall time of ``fn(i)`` for ``i in range(repeats)``, in microseconds."""
    times = np.empty(repeats)
    gc.disable()
    try:
        for i in range(repeats):
            t = time.perf_counter_ns()
            fn(i)
            times[i] = time.perf_counter_ns() - t
    finally:
        gc.enable()
    return float(np.median(times)) / 1e3


def build(steps: np.ndarray, values: np.ndarray) -> tuple[StepIndex, float]:
    """Add every report, step-major (``steps (n_trials, n_steps)``); seconds taken."""
    index = StepIndex()
    add = index.add
    rows = range(steps.shape[0])
    step_lists, value_lists = steps.T.tolist(), values.T.tolist()
    t = time.perf_counter()
    for step_row, value_row in zip(step_lists, value_lists):
        for row, step, value in zip(rows, step_row, value_row):
            add(row, step, value)
    return index, time.perf_counter() - t


def run(n_trials: int, n_steps: int, repeats: int, builds: int, seed: int = 0) -> dict[str, float]:
    """All timings (microseconds, or as named) for one configuration."""
    rng = np.random.default_rng(seed)
    shared = np.broadcast_to(np.arange(n_steps, dtype=np.int64) << 33, (n_trials, n_steps))
    own = np.cumsum(rng.integers(1, 1000, (n_trials, n_steps)), axis=1)  # per-trial sample counts
    values = rng.normal(size=(n_trials, n_steps))
    states = rng.choice(np.array([COMPLETE, PRUNED, RUNNING], np.int8), n_trials, p=[0.9, 0.05, 0.05])
    rows = np.arange(n_trials, dtype=np.int64)
    out: dict[str, float] = {}

    seconds = []
    for _ in range(builds):
        index, s = build(shared, values)
        seconds.append(s)
    n = n_trials * n_steps
    out["add_us"] = float(np.median(seconds)) / n * 1e6
    out["bytes_per_report"] = index.memory_bytes() / n
    t = time.perf_counter()
    pickle.loads(pickle.dumps(index))  # unpickling rebuilds from the log, vectorised
    out["pickle_ms"] = (time.perf_counter() - t) * 1e3

    mid = shared[0, n_steps // 4 : max(3 * n_steps // 4, n_steps // 4 + 1)].tolist()

    def at_step_complete(i: int) -> None:  # the recipe in StepIndex.at_step's docstring
        r, v = index.at_step(mid[i % len(mid)])
        keep = np.flatnonzero(states[r] == COMPLETE)
        r.take(keep), v.take(keep, axis=0)

    def at_step_complete_mask(i: int) -> None:  # boolean indexing: slower on 2-D values
        r, v = index.at_step(mid[i % len(mid)])
        keep = states[r] == COMPLETE
        r[keep], v[keep]

    out["at_step_us"] = median_us(lambda i: index.at_step(mid[i % len(mid)]), repeats)
    out["at_step_complete_us"] = median_us(at_step_complete, repeats)
    out["at_step_complete_mask_us"] = median_us(at_step_complete_mask, repeats)
    out["last_shared_us"] = median_us(lambda i: index.last_at_or_before(mid[i % len(mid)] + 1, rows), repeats)
    irregular, _ = build(own, values)
    bounds = rng.integers(int(own[:, 0].max()), int(own[:, -1].min()), repeats).tolist()
    out["last_own_us"] = median_us(lambda i: irregular.last_at_or_before(bounds[i], rows), repeats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2000, help="calls per read timing")
    parser.add_argument("--builds", type=int, default=3, help="builds for the per-add timing")
    args = parser.parse_args()
    print(_common.machine_info([]))
    r = run(args.trials, args.steps, args.repeats, args.builds)
    n = args.trials * args.steps
    print(f"\n{args.trials:,} trials x {args.steps} steps ({n:,} reports); medians")
    print(f"  add (study order, median of {args.builds} builds)  {r['add_us']:8.2f} us per add")
    print(f"  pickle round trip (once)                      {r['pickle_ms']:8.1f} ms")
    print(f"  memory_bytes / reports                        {r['bytes_per_report']:8.1f} B")
    print(f"  at_step(s)                                    {r['at_step_us']:8.1f} us")
    print(f"  at_step(s) + keep COMPLETE (take)             {r['at_step_complete_us']:8.1f} us   (target 50)")
    print(f"  at_step(s) + keep COMPLETE (boolean mask)     {r['at_step_complete_mask_us']:8.1f} us")
    print(f"  last_at_or_before(s, {args.trials:,} rows), shared   {r['last_shared_us']:8.1f} us")
    print(f"  last_at_or_before(s, {args.trials:,} rows), own      {r['last_own_us']:8.1f} us")


if __name__ == "__main__":
    main()
