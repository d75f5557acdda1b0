"""PercentilePruner's per-step sorted values (``_step_values.py``): a long-lived pruner decides as a
fresh one (which computes every percentile) while trials that reported at a step
complete later, complete trials are added with reports at it, other workers report
through SQLite, and a sync batch is rolled back."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from _pruner_parity import interleaved
from test_percentile import random_curves
from test_rungs import _decide_both

import hpo_core
from hpo_core.pruners import MedianPruner, PatientPruner, PercentilePruner

MAKERS = {
    "median": lambda: MedianPruner(n_startup_trials=1),
    "percentile_n_min": lambda: PercentilePruner(25.0, n_startup_trials=1, n_min_trials=3),
    "patient": lambda: PatientPruner(MedianPruner(n_startup_trials=1), patience=1),
}


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_percentile_cache_interleaved_trials_decide_as_a_fresh_pruner(name: str, direction: str) -> None:
    def new_studies(make: Any) -> list[Any]:
        return [hpo_core.create_study(direction=direction, pruner=make())]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        decisions = _decide_both(MAKERS[name], new_studies, interleaved(random_curves(5, n_trials=30), 6, 5))
    assert any(decisions) and not all(decisions)


def test_percentile_cache_sees_reports_of_another_worker(tmp_path: Path) -> None:
    dbs = iter(range(2))

    def new_studies(make: Any) -> list[Any]:
        url = f"sqlite:///{tmp_path / f'median{next(dbs)}.db'}"
        first = hpo_core.create_study(storage=url, study_name="median", pruner=make())
        return [first, hpo_core.load_study(storage=url, study_name="median", pruner=make())]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        decisions = _decide_both(MAKERS["median"], new_studies, interleaved(random_curves(6, n_trials=20), 4, 6))
    assert any(decisions) and not all(decisions)


def _complete(value: float, step: int) -> Any:
    return hpo_core.create_trial(value=value, intermediate_values={step: value})


def test_percentile_cache_sees_added_complete_trials_and_rollbacks() -> None:
    pruner = MedianPruner(n_startup_trials=1)
    study = hpo_core.create_study(pruner=pruner)
    study.add_trial(_complete(1.0, 3))
    trial = study.ask()
    trial.report(2.0, 3)
    assert trial.should_prune()  # median 1.0
    for v in (3.0, 4.0):
        study.add_trial(_complete(v, 3))  # new COMPLETE rows at the step: median 3.0
    assert not trial.should_prune()
    other = study.ask()
    other.report(0.0, 3)
    assert not other.should_prune()
    study.tell(other, 0.0)  # a row that was running at the step completes: median 2.0
    assert not trial.should_prune()
    study.add_trial(_complete(0.5, 3))  # median 1.0 (0, 0.5, 1, 3, 4)
    assert trial.should_prune()
    # A rolled-back batch clears the cache (the history may differ from what it saw).
    history = study.view.history
    before = history.rollbacks
    history.begin()
    history.rollback()
    assert history.rollbacks == before + 1
    assert trial.should_prune() == MedianPruner(n_startup_trials=1).prune(study, trial)
    assert pruner._values._rollbacks == before + 1
