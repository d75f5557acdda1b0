"""HyperbandPruner against Optuna 5.0's, on the same learning curves (the same study
name, which fixes each trial's bracket), one trial at a time and interleaved; the
``completed_rung_{r}`` attributes match too."""

from __future__ import annotations

import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, interleaved, sequential  # noqa: E402
from test_percentile import random_curves  # noqa: E402

from hpo_core.pruners import HyperbandPruner  # noqa: E402

KWARGS = [
    {"min_resource": 1, "max_resource": 9, "reduction_factor": 3},
    {"min_resource": 1, "max_resource": 8, "reduction_factor": 2},
    {"min_resource": 2, "max_resource": 8, "reduction_factor": 2, "bootstrap_count": 1},
    {"min_resource": 1, "max_resource": 243, "reduction_factor": 3},  # log_3(243) rounds down
    {},
    {"reduction_factor": 2},
]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kwargs", KWARGS)
def test_hyperband_matches_optuna(direction: str, seed: int, kwargs: dict) -> None:
    events = sequential(random_curves(seed, n_trials=30))
    ours, theirs = decisions_of_both(lambda p: p.HyperbandPruner(**kwargs), events, direction)
    assert ours == theirs


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kwargs", KWARGS[:3])
def test_hyperband_interleaved_workers_match_optuna(seed: int, kwargs: dict) -> None:
    events = interleaved(random_curves(seed, n_trials=30), n_workers=4, seed=seed)
    ours, theirs = decisions_of_both(lambda p: p.HyperbandPruner(**kwargs), events)
    assert ours == theirs
    assert any(d for _, _, d in ours) and not all(d for _, _, d in ours)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"min_resource": 0}, ValueError, "min_resource"),
        ({"min_resource": 1.0}, TypeError, "min_resource"),
        ({"max_resource": "max"}, ValueError, "max_resource"),
        ({"max_resource": 0}, ValueError, "max_resource"),
        ({"max_resource": 2.5}, TypeError, "max_resource"),
        ({"reduction_factor": 1}, ValueError, "reduction_factor"),
        ({"max_resource": 9, "bootstrap_count": -1}, ValueError, "bootstrap_count"),
        ({"bootstrap_count": 1}, ValueError, "bootstrap_count"),
    ],
)
def test_hyperband_rejects_bad_arguments(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        HyperbandPruner(**kwargs)
