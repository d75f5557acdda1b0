"""MedianPruner and PercentilePruner against Optuna 5.0's, on the same learning curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, sequential  # noqa: E402

from hpo_core.pruners import MedianPruner, PercentilePruner  # noqa: E402

NAN, INF = math.nan, math.inf


def random_curves(seed: int, n_trials: int = 14, n_steps: int = 9) -> list:
    """Curves with ties (values rounded to a 0.5 grid), NaN and +-inf reports, missing
    steps, trials that end PRUNED or FAIL, and finals that differ from the last report."""
    rng = np.random.default_rng(seed)
    curves = []
    for _ in range(n_trials):
        reports = []
        for step in range(n_steps):
            u = rng.random()
            if u < 0.2:
                continue  # a missing step
            value = float(np.round(rng.normal(5.0 - 0.3 * step, 2.0) * 2) / 2)
            if u < 0.27:
                value = NAN
            elif u < 0.3:
                value = INF if rng.random() < 0.5 else -INF
            reports.append((step, value))
        end = rng.random()
        final = "pruned" if end < 0.15 else "fail" if end < 0.25 else float(rng.normal())
        curves.append((reports, final))
    return curves


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"n_startup_trials": 0},
        {"n_startup_trials": 2, "n_warmup_steps": 3},
        {"n_startup_trials": 1, "interval_steps": 3},
        {"n_startup_trials": 1, "n_warmup_steps": 2, "interval_steps": 2},
        {"n_startup_trials": 1, "n_min_trials": 4},
    ],
)
def test_median_pruner_matches_optuna(direction: str, seed: int, kwargs: dict) -> None:
    events = sequential(random_curves(seed))
    ours, theirs = decisions_of_both(lambda p: p.MedianPruner(**kwargs), events, direction)
    assert ours == theirs
    assert len(ours) > 50


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("percentile", [0.0, 10.0, 25.0, 75.0, 100.0])
def test_percentile_pruner_matches_optuna(direction: str, seed: int, percentile: float) -> None:
    events = sequential(random_curves(seed))
    ours, theirs = decisions_of_both(
        lambda p: p.PercentilePruner(percentile, n_startup_trials=2, interval_steps=2), events, direction
    )
    assert ours == theirs


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_median_pruner_hand_built_curves(direction: str) -> None:
    sign = 1.0 if direction == "minimize" else -1.0
    good = [(s, sign * (10.0 - s)) for s in range(5)]
    bad = [(s, sign * (20.0 - s)) for s in range(5)]
    tie = [(s, sign * (10.0 - s)) for s in range(5)]
    all_nan = [(0, NAN), (1, NAN)]
    some_nan = [(0, NAN), (1, sign * 9.0), (2, NAN)]
    curves = [(good, 1.0), (good, 1.0), (bad, 2.0), (tie, 1.0), (all_nan, 1.0), (some_nan, 1.0),
              ([(0, sign * INF)], 1.0), ([(3, sign * 30.0)], 1.0), ([(9, 1.0)], 1.0)]
    ours, theirs = decisions_of_both(lambda p: p.MedianPruner(n_startup_trials=2), sequential(curves), direction)
    assert ours == theirs
    by_trial = {i: [d for j, _, d in ours if j == i] for i in range(len(curves))}
    assert by_trial[0] == by_trial[1] == [False] * 5  # startup: fewer than 2 completed
    assert by_trial[2] == [True] * 5
    assert by_trial[3] == [False] * 5  # a tie with the median is kept
    assert by_trial[4] == [True, True]  # only NaN reports
    assert by_trial[8] == [False]  # no completed trial reported at step 9


def test_median_pruner_interleaved_trials() -> None:
    # Two running trials; completed trials appear between their reports.
    events = [(0, 0, 1.0), (1, 0, 5.0), (0, 1, 1.0), (0, "tell", 1.0), (1, 1, 5.0), (2, 0, 0.5),
              (2, 1, 0.4), (2, "tell", 0.4), (1, 2, 4.0), (3, 0, 9.0), (3, 1, 0.1), (3, "tell", 0.1),
              (1, 3, 3.0), (1, "tell", 3.0), (4, 1, 2.0), (4, 3, 2.0)]
    ours, theirs = decisions_of_both(lambda p: p.MedianPruner(n_startup_trials=1), events)
    assert ours == theirs
    assert any(d for _, _, d in ours) and not all(d for _, _, d in ours)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"percentile": -1.0}, "percentile"),
        ({"percentile": 100.5}, "percentile"),
        ({"percentile": NAN}, "percentile"),
        ({"percentile": 50.0, "n_startup_trials": -1}, "n_startup_trials"),
        ({"percentile": 50.0, "n_warmup_steps": -1}, "n_warmup_steps"),
        ({"percentile": 50.0, "interval_steps": 0}, "interval_steps"),
        ({"percentile": 50.0, "n_min_trials": 0}, "n_min_trials"),
    ],
)
def test_percentile_pruner_rejects_bad_values(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        PercentilePruner(**kwargs)


def test_median_pruner_rejects_bad_types() -> None:
    with pytest.raises(TypeError, match="n_warmup_steps"):
        MedianPruner(n_warmup_steps=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="interval_steps"):
        MedianPruner(interval_steps=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="percentile"):
        PercentilePruner("50")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_startup_trials"):
        MedianPruner(n_startup_trials=-3)


def test_median_pruner_reused_by_another_study_decides_afresh() -> None:
    # The per-step cache belongs to one history: a second study with the same trial
    # numbers but other values must not reuse it.
    import hpo_core

    pruner = MedianPruner(n_startup_trials=1)
    decisions = []
    for done, probe in ((1.0, 2.0), (3.0, 2.0)):
        study = hpo_core.create_study(pruner=pruner)
        trial = study.ask()
        trial.report(done, 0)
        study.tell(trial, done)
        for _ in range(2):  # the second probe hits the cache
            trial = study.ask()
            trial.report(probe, 0)
            decisions.append(trial.should_prune())
            study.tell(trial, state=hpo_core.TrialState.PRUNED)
    assert decisions == [True, True, False, False]
