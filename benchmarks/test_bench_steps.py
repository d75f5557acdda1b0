"""Micro-benchmarks of ``StepIndex`` (pytest-benchmark); ``benchmarks/steps.py`` prints the same.

Run with ``python -m pytest benchmarks/test_bench_steps.py --benchmark-columns=median``
(``testpaths`` excludes benchmarks from the default run). 10,000 trials that reported 100
steps each, added in study order; the target for reading one step's values of the
COMPLETE trials is 50 us.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpo_core._step_index import StepIndex
from hpo_core.trial import TrialState

N_TRIALS, N_STEPS = 10_000, 100
COMPLETE = int(TrialState.COMPLETE)


def _build(steps: np.ndarray) -> StepIndex:
    """``steps (n_trials, n_steps)``, added step-major as a study running its trials would."""
    index = StepIndex()
    rows = range(steps.shape[0])
    for step_row in steps.T.tolist():
        for row, step in zip(rows, step_row):
            index.add(row, step, 0.5)
    return index


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    shared = np.broadcast_to(np.arange(N_STEPS, dtype=np.int64) << 33, (N_TRIALS, N_STEPS))
    own = np.cumsum(rng.integers(1, 1000, (N_TRIALS, N_STEPS)), axis=1)
    states = rng.choice(np.array([COMPLETE, int(TrialState.PRUNED), int(TrialState.RUNNING)], np.int8),
                        N_TRIALS, p=[0.9, 0.05, 0.05])
    return {"shared": _build(shared), "own": _build(own), "states": states, "step": int(shared[0, 50]),
            "own_step": int(np.median(own[:, 50])), "rows": np.arange(N_TRIALS, dtype=np.int64)}


def test_bench_at_step_complete(benchmark: Any, data: dict[str, Any]) -> None:
    index, states, step = data["shared"], data["states"], data["step"]

    def read() -> tuple[np.ndarray, np.ndarray]:
        rows, values = index.at_step(step)
        keep = np.flatnonzero(states[rows] == COMPLETE)
        return rows.take(keep), values.take(keep, axis=0)

    rows, _ = benchmark(read)
    assert len(rows) == int((data["states"] == COMPLETE).sum())


def test_bench_last_at_or_before_shared_schedule(benchmark: Any, data: dict[str, Any]) -> None:
    steps, _ = benchmark(data["shared"].last_at_or_before, data["step"] + 1, data["rows"])
    assert (steps == data["step"]).all()


def test_bench_last_at_or_before_own_schedules(benchmark: Any, data: dict[str, Any]) -> None:
    steps, _ = benchmark(data["own"].last_at_or_before, data["own_step"], data["rows"])
    assert (steps <= data["own_step"]).all()


def test_bench_add(benchmark: Any) -> None:
    """100,000 adds (1,000 trials x 100 steps) per round; divide the time by 1e5 per add."""
    steps = np.broadcast_to(np.arange(N_STEPS, dtype=np.int64), (1_000, N_STEPS))
    index = benchmark.pedantic(_build, args=(steps,), rounds=5, iterations=1, warmup_rounds=1)
    assert index.n_reports == steps.size
