"""SuccessiveHalvingPruner against Optuna 5.0's, on the same learning curves, one trial
at a time and interleaved as with several workers; the ``completed_rung_{r}`` attributes
of every trial match too (``decisions_of_both`` compares them)."""

from __future__ import annotations

import math
from typing import Any

import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, interleaved, run_study, sequential  # noqa: E402
from test_percentile import random_curves  # noqa: E402

import hpo_core  # noqa: E402
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


def _auto_curves(last_step: int) -> list:
    # Trial 0 is pruned (it does not set "auto"), trial 1 completes with `last_step` as its
    # last step (the first to complete when run one after the other), the others report
    # steps 0..11.
    long = [(s, float(s % 7)) for s in sorted({*range(0, last_step, 5), last_step})]
    return [([(1, 1.0), (2, 2.0)], "pruned"), (long, 0.0)] + [([(s, float(v)) for s in range(12)], 1.0) for v in
                                                             (3, 1, 4, 1, 5, 9, 2, 6)]


def _optuna_with_rule(reduction_factor: int) -> Any:
    """Optuna 5.0's SuccessiveHalvingPruner whose "auto" is hpo_core's rule, set where
    Optuna sets its own (at the first decision after a trial completed)."""
    import optuna

    class RuleSH(optuna.pruners.SuccessiveHalvingPruner):
        def prune(self, study: Any, trial: Any) -> bool:
            if self._min_resource is None:
                done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                steps = [t.last_step for t in done if t.last_step is not None]
                if not steps:
                    return False
                self._min_resource = max(1, (max(steps) + 1) // self._reduction_factor)
            return super().prune(study, trial)

    return RuleSH(reduction_factor=reduction_factor)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("order", ["sequential", "interleaved"])
@pytest.mark.parametrize(("last_step", "reduction_factor"), [(11, 4), (7, 2), (250, 4), (3, 4)])
def test_successive_halving_auto_min_resource_is_the_documented_rule(
    direction: str, order: str, last_step: int, reduction_factor: int
) -> None:
    # No pruning before a trial completes; then min_resource = max(1, (s + 1) // rf) with s
    # the last step of the first trial to complete (run one after the other: 3, 4, 62, 1,
    # where s // rf would give 2, 3, 62, 0).
    # Everything else is Optuna's machinery, so decisions and rung attributes match.
    curves = _auto_curves(last_step)
    events = sequential(curves) if order == "sequential" else interleaved(curves, 3, 0)
    ours, theirs = decisions_of_both(
        lambda p: p.SuccessiveHalvingPruner(reduction_factor=reduction_factor) if p is hpo_core.pruners
        else _optuna_with_rule(reduction_factor), events, direction)
    assert ours == theirs
    assert not any(d for i, _, d in ours if i == 0)
    if last_step < 100:
        assert any(d for _, _, d in ours)


def test_successive_halving_auto_min_resource_differs_from_optuna() -> None:
    # Optuna 5.0: min_resource = max(1, 250 // 100) = 2, rungs end at steps 2 and 8;
    # hpo_core: (250 + 1) // 4 = 62, no rung ends within the other trials' 12 steps.
    import optuna

    events = sequential(_auto_curves(250))
    ours, our_attrs = run_study(hpo_core, SuccessiveHalvingPruner(), events, "minimize")
    theirs, their_attrs = run_study(optuna, optuna.pruners.SuccessiveHalvingPruner(), events, "minimize")
    assert not any(d for _, _, d in ours) and not any(our_attrs)
    assert any(d for _, _, d in theirs) and any("completed_rung_1" in a for a in their_attrs)


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
