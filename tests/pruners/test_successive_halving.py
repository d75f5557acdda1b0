"""SuccessiveHalvingPruner against Optuna 5.0's, on the same learning curves, one trial
at a time and interleaved as with several workers; the ``completed_rung_{r}`` attributes
of every trial match too (``decisions_of_both`` compares them)."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, interleaved, sequential  # noqa: E402
from test_percentile import random_curves  # noqa: E402

from hpo_core.pruners import SuccessiveHalvingPruner  # noqa: E402

NAN, INF = math.nan, math.inf

KWARGS = [
    {"min_resource": 1, "reduction_factor": 2},
    {"min_resource": 1, "reduction_factor": 3, "min_early_stopping_rate": 1},
    {"min_resource": 2, "reduction_factor": 2},
    {"min_resource": 1, "reduction_factor": 2, "bootstrap_count": 2},
    {"min_resource": 1},
]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kwargs", KWARGS)
def test_successive_halving_matches_optuna(direction: str, seed: int, kwargs: dict) -> None:
    events = sequential(random_curves(seed))
    ours, theirs = decisions_of_both(lambda p: p.SuccessiveHalvingPruner(**kwargs), events, direction)
    assert ours == theirs


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kwargs", KWARGS[:4])
def test_successive_halving_interleaved_workers_match_optuna(direction: str, seed: int, kwargs: dict) -> None:
    events = interleaved(random_curves(seed, n_trials=20), n_workers=4, seed=seed)
    assert events != sequential(random_curves(seed, n_trials=20))
    ours, theirs = decisions_of_both(lambda p: p.SuccessiveHalvingPruner(**kwargs), events, direction)
    assert ours == theirs
    assert any(d for _, _, d in ours) and not all(d for _, _, d in ours)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_successive_halving_auto_min_resource_matches_optuna(direction: str) -> None:
    # No pruning before a trial completes; then min_resource = max(1, 250 // 100) = 2.
    long = [(s, float(s % 7)) for s in range(0, 251, 5)]
    curves = [([(1, 1.0), (2, 2.0)], 1.0), (long, 0.0)] + [([(s, float(v)) for s in range(12)], 1.0) for v in
                                                         (3, 1, 4, 1, 5, 9, 2, 6)]
    ours, theirs = decisions_of_both(lambda p: p.SuccessiveHalvingPruner(), interleaved(curves, 3, 0), direction)
    assert ours == theirs
    assert not any(d for i, _, d in ours if i == 0)


def test_successive_halving_hand_built_rungs() -> None:
    # min_resource 1, factor 2: rungs end at steps 1, 2, 4; NaN and inf at a rung's end.
    curves = [([(1, 1.0), (2, 1.0), (4, 1.0)], 1.0),
              ([(1, 2.0), (2, 0.5), (4, 0.5)], 0.5),
              ([(0, 9.0), (3, 0.1)], 0.1),  # reaches rung 0's end at step 3, then rung 1
              ([(1, NAN)], "fail"),
              ([(1, -INF), (2, INF)], "pruned"),
              ([(1, 1.0)], 1.0)]  # 5 values at rung 0: only the best 2 go on
    pruner = lambda p: p.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)  # noqa: E731
    ours, theirs = decisions_of_both(pruner, sequential(curves))
    assert ours == theirs
    assert [d for _, _, d in ours] == [False, False, False, True, False, False, False, False, True, False, True, True]
    # Trial 4 recorded -inf at rung 0 (kept) and inf at rung 1 (pruned): Optuna's keys.


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"min_resource": "1"}, ValueError, "min_resource"),
        ({"min_resource": 0}, ValueError, "min_resource"),
        ({"min_resource": 1.5}, TypeError, "min_resource"),
        ({"reduction_factor": 1}, ValueError, "reduction_factor"),
        ({"min_early_stopping_rate": -1}, ValueError, "min_early_stopping_rate"),
        ({"min_resource": 1, "bootstrap_count": -1}, ValueError, "bootstrap_count"),
        ({"bootstrap_count": 1}, ValueError, "bootstrap_count"),
    ],
)
def test_successive_halving_rejects_bad_arguments(kwargs: dict, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        SuccessiveHalvingPruner(**kwargs)
