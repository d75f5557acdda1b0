"""ThresholdPruner and PatientPruner against Optuna 5.0's, on the same learning curves."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, sequential  # noqa: E402
from test_percentile import random_curves  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.pruners import MedianPruner, PatientPruner, ThresholdPruner  # noqa: E402

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "kwargs",
    [
        {"upper": 5.0},
        {"lower": 2.0},
        {"lower": 0.5, "upper": 4.5},
        {"lower": 3.0, "upper": 3.0},
        {"lower": -INF, "upper": INF},
        {"upper": 4.0, "n_warmup_steps": 3},
        {"upper": 4.0, "interval_steps": 3},
        {"lower": 1.0, "n_warmup_steps": 2, "interval_steps": 2},
    ],
)
def test_threshold_pruner_matches_optuna(direction: str, seed: int, kwargs: dict) -> None:
    events = sequential(random_curves(seed))
    ours, theirs = decisions_of_both(lambda p: p.ThresholdPruner(**kwargs), events, direction)
    assert ours == theirs


def test_threshold_pruner_hand_built_curve() -> None:
    curve = [(0, 0.5), (1, NAN), (2, 2.0), (4, 0.7), (5, -1.0), (6, INF), (7, 1.0)]
    ours, theirs = decisions_of_both(lambda p: p.ThresholdPruner(lower=0.0, upper=1.0), sequential([(curve, 1.0)]))
    assert ours == theirs
    assert [d for _, _, d in ours] == [False, True, True, False, True, True, False]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("patience", [0, 1, 3])
@pytest.mark.parametrize("min_delta", [0.0, 0.5])
def test_patient_pruner_matches_optuna(direction: str, seed: int, patience: int, min_delta: float) -> None:
    events = sequential(random_curves(seed))
    ours, theirs = decisions_of_both(lambda p: p.PatientPruner(None, patience, min_delta), events, direction)
    assert ours == theirs


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(3))
def test_patient_pruner_wrapping_median_matches_optuna(direction: str, seed: int) -> None:
    events = sequential(random_curves(seed))
    ours, theirs = decisions_of_both(
        lambda p: p.PatientPruner(p.MedianPruner(n_startup_trials=2), patience=1), events, direction
    )
    assert ours == theirs


WRAPPED = {
    "percentile_warmup_interval": lambda p: p.PercentilePruner(25.0, n_startup_trials=1, n_warmup_steps=2,
                                                              interval_steps=2),
    "median_min_trials": lambda p: p.MedianPruner(n_startup_trials=1, n_min_trials=3),
}


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("patience", [0, 2])
@pytest.mark.parametrize("wrapped", sorted(WRAPPED))
def test_patient_pruner_wrapping_percentile_matches_optuna(direction: str, seed: int, patience: int,
                                                           wrapped: str) -> None:
    # PatientPruner hands its reads to a wrapped median-style pruner (_prune_reports); a
    # subclass that overrides prune is asked through prune: both decide as Optuna.
    class Overridden(MedianPruner):
        def prune(self, study: object, trial: object) -> bool:
            return super().prune(study, trial)  # type: ignore[arg-type]

    events = sequential(random_curves(seed))
    make = WRAPPED[wrapped]
    ours, theirs = decisions_of_both(lambda p: p.PatientPruner(make(p), patience, 0.5), events, direction)
    assert ours == theirs
    if wrapped == "median_min_trials":
        generic = Overridden(n_startup_trials=1, n_min_trials=3)
        other, _ = decisions_of_both(
            lambda p: p.PatientPruner(generic if p is hpo_core.pruners else make(p), patience, 0.5), events, direction
        )
        assert other == ours


def test_patient_pruner_hand_built_curve() -> None:
    # Minimize: improves to 1.0, then stalls; a NaN-only window never prunes.
    curve = [(0, 3.0), (1, 1.0), (2, 1.2), (3, 1.1), (5, NAN), (6, NAN), (7, 0.5)]
    ours, theirs = decisions_of_both(lambda p: p.PatientPruner(None, patience=1), sequential([(curve, 1.0)]))
    assert ours == theirs
    assert [d for _, _, d in ours] == [False, False, False, True, True, False, False]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({}, TypeError, "lower"),
        ({"lower": 2.0, "upper": 1.0}, ValueError, "lower"),
        ({"lower": "a"}, TypeError, "lower"),
        ({"upper": NAN}, ValueError, "upper"),
        ({"upper": 1.0, "n_warmup_steps": -1}, ValueError, "n_warmup_steps"),
        ({"upper": 1.0, "interval_steps": 0}, ValueError, "interval_steps"),
    ],
)
def test_threshold_pruner_rejects_bad_arguments(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        ThresholdPruner(**kwargs)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((None, -1), ValueError, "patience"),
        ((None, 1.5), TypeError, "patience"),
        ((None, 1, -0.1), ValueError, "min_delta"),
        ((None, 1, INF), ValueError, "min_delta"),
        (("median", 1), TypeError, "wrapped_pruner"),
    ],
)
def test_patient_pruner_rejects_bad_arguments(args: tuple, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        PatientPruner(*args)


def test_patient_pruner_accepts_a_pruner() -> None:
    PatientPruner(MedianPruner(), patience=0)
