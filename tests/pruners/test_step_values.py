"""The per-step sorted COMPLETE values of the percentile-style pruners (``_step_values.py``):
NumPy's percentile rule to the bit, and a long-lived pruner whose steps are evicted
(limits far below the study) or updated in bulk deciding as a fresh pruner."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from _pruner_parity import interleaved
from test_percentile import random_curves
from test_rungs import _decide_both

import hpo_core
from hpo_core.pruners import MedianPruner, PercentilePruner
from hpo_core.pruners._step_values import StepValues, median_of_sorted, percentile_of_sorted


@pytest.mark.parametrize("seed", range(2))
def test_percentile_of_sorted_is_nanpercentile_to_the_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = np.array([0.0, -0.0, 1.0, 1.0, 2.5, -1.0, np.inf, -np.inf, np.nan, 0.5, 1e308, -1e308])
    for i in range(3000):
        x = rng.choice(pool, size=int(rng.integers(1, 14))) if i % 2 else rng.normal(size=int(rng.integers(1, 40)))
        finite = sorted(float(v) for v in x if v == v)
        if not finite:
            continue
        for q in (0.0, 0.1, 10.0, 25.0, 33.3, 50.0, 75.0, 90.0, 99.9, 100.0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                expected = float(np.nanpercentile(x, q))
            got = percentile_of_sorted(finite, q)
            assert got == expected or (np.isnan(got) and np.isnan(expected)), (x, q)


def test_median_of_sorted_is_median_to_the_bit() -> None:
    rng = np.random.default_rng(5)
    pool = np.array([0.0, -0.0, 1.0, 2.5, -1.0, np.inf, -np.inf, 0.1, 0.7, 1e308, -1e308])
    for i in range(3000):
        x = rng.choice(pool, size=int(rng.integers(1, 12))) if i % 2 else rng.normal(size=int(rng.integers(1, 30)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = float(np.median(x))
        got = median_of_sorted(sorted(x.tolist()))
        assert got == expected or (np.isnan(got) and np.isnan(expected)), x


def _with_limits(make: Any, **limits: int) -> Any:
    def build() -> Any:
        pruner = make()
        pruner._values = StepValues(**limits)
        return pruner
    return build


@pytest.mark.parametrize("limits", [{"max_steps": 2}, {"max_values": 5}, {"max_steps": 1, "max_values": 1}])
def test_step_values_evicted_steps_decide_as_a_fresh_pruner(limits: dict) -> None:
    make = _with_limits(lambda: PercentilePruner(40.0, n_startup_trials=1, n_min_trials=2), **limits)

    def new_studies(make: Any) -> list[Any]:
        return [hpo_core.create_study(pruner=make())]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        decisions = _decide_both(make, new_studies, interleaved(random_curves(7, n_trials=30), 6, 7))
    assert any(decisions) and not all(decisions)


def test_step_values_bulk_and_single_updates_agree() -> None:
    # Many trials added complete at once (the vectorised path), then one at a time.
    rng = np.random.default_rng(3)
    study = hpo_core.create_study(pruner=MedianPruner(n_startup_trials=1))
    for v in rng.normal(size=40):
        study.add_trial(hpo_core.create_trial(value=float(v), intermediate_values={0: float(v), 1: float(-v)}))
    pruner = study.pruner
    for v in rng.normal(size=30):
        trial = study.ask()
        trial.report(float(v), 0)
        assert trial.should_prune() == MedianPruner(n_startup_trials=1).prune(study, trial)
        study.tell(trial, float(v))
        history = study.view.history
        for step in (0, 1):
            rows, at = history.steps.at_step(step)
            complete = at[history.states[rows] == int(hpo_core.TrialState.COMPLETE), 0]
            expected = float(np.percentile(complete, 50.0))
            assert pruner._values.percentile(history, step, 50.0, 1) == expected
