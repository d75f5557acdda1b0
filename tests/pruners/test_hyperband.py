"""HyperbandPruner against Optuna 5.0's, on the same learning curves (the same study
name, which fixes each trial's bracket), one trial at a time and interleaved; the
``completed_rung_{r}`` attributes match too."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's pruners")

from _pruner_parity import decisions_of_both, interleaved, run_study, sequential  # noqa: E402
from test_percentile import random_curves  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.pruners import HyperbandPruner  # noqa: E402

KWARGS = [
    {"min_resource": 1, "max_resource": 9, "reduction_factor": 3},
    {"min_resource": 1, "max_resource": 8, "reduction_factor": 2},
    {"min_resource": 2, "max_resource": 8, "reduction_factor": 2, "bootstrap_count": 1},
    {"min_resource": 1, "max_resource": 243, "reduction_factor": 3},  # log_3(243) rounds down
    {"min_resource": 1},  # Optuna's defaults
    {"min_resource": 1, "reduction_factor": 2},
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


def _optuna_with_rule(**kwargs: Any) -> Any:
    """Optuna 5.0's HyperbandPruner with min_resource = max(1, max_resource // rf), set
    with its brackets (max_resource read as Optuna reads it)."""
    import optuna

    class RuleHyperband(optuna.pruners.HyperbandPruner):
        def _try_initialization(self, study: Any) -> None:
            if self._max_resource == "auto":
                done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                steps = [t.last_step for t in done if t.last_step is not None]
                if not steps:
                    return
                self._max_resource = max(steps) + 1
            self._min_resource = max(1, self._max_resource // self._reduction_factor)
            super()._try_initialization(study)

    return RuleHyperband(**kwargs)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "kwargs", [{}, {"reduction_factor": 2}, {"max_resource": 9}, {"max_resource": 40, "reduction_factor": 2}]
)
def test_hyperband_auto_min_resource_is_the_documented_rule(direction: str, seed: int, kwargs: dict) -> None:
    # min_resource = max(1, max_resource // reduction_factor) (9 // 3 = 3 with every step
    # reported); the rest is Optuna's machinery, so decisions and rung attributes match.
    events = sequential(random_curves(seed, n_trials=30))
    ours, theirs = decisions_of_both(
        lambda p: p.HyperbandPruner(**kwargs) if p is hpo_core.pruners else _optuna_with_rule(**kwargs), events,
        direction)
    assert ours == theirs


def test_hyperband_auto_min_resource_differs_from_optuna() -> None:
    # max_resource 9, reduction factor 3: "auto" gives min_resource 3 (two brackets, first
    # rungs at steps 3 and 9); Optuna's default min_resource=1 three brackets (1, 3, 9).
    import optuna

    events = sequential(random_curves(0, n_trials=30))
    ours, our_attrs = run_study(hpo_core, HyperbandPruner(max_resource=9), events, "minimize")
    theirs, their_attrs = run_study(optuna, optuna.pruners.HyperbandPruner(max_resource=9), events, "minimize")
    assert ours != theirs
    assert not any(d for _, step, d in ours if step < 3)
    assert any(d for _, step, d in theirs if step < 3)
    # min_resource=1 gives Optuna's brackets and decisions.
    assert run_study(hpo_core, HyperbandPruner(min_resource=1, max_resource=9), events, "minimize") == (
        theirs, their_attrs)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"min_resource": 0}, ValueError, "min_resource"),
        ({"min_resource": "min"}, ValueError, "min_resource"),
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
