"""Pruners read the history through ``study.view``: on SQLite (a history synced from the
database, rung attributes written through it) they decide as in memory."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from _pruner_parity import interleaved, run_study
from test_percentile import random_curves

import hpo_core

PRUNERS = {
    "median": lambda: hpo_core.pruners.MedianPruner(n_startup_trials=2),
    "successive_halving": lambda: hpo_core.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    "hyperband": lambda: hpo_core.pruners.HyperbandPruner(min_resource=1, max_resource=9),
    "patient": lambda: hpo_core.pruners.PatientPruner(hpo_core.pruners.MedianPruner(n_startup_trials=1), 1),
}


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_pruner_on_sqlite_decides_as_in_memory(name: str, tmp_path: Path) -> None:
    events = interleaved(random_curves(1, n_trials=16), n_workers=4, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        in_memory = run_study(hpo_core, PRUNERS[name](), events, "minimize")
        on_sqlite = run_study(hpo_core, PRUNERS[name](), events, "minimize", f"sqlite:///{tmp_path / 'p.db'}")
    assert on_sqlite == in_memory
    assert any(d for _, _, d in on_sqlite[0])


def test_pruners_are_picklable() -> None:
    import pickle

    study = hpo_core.create_study(pruner=hpo_core.pruners.HyperbandPruner(min_resource=1, max_resource=9))
    for i in range(3):
        trial = study.ask()
        trial.report(float(i), 3)
        trial.should_prune()
        study.tell(trial, float(i))
    pruners: list[Any] = [f() for f in PRUNERS.values()] + [study.pruner, hpo_core.pruners.WilcoxonPruner(),
                                                           hpo_core.pruners.ThresholdPruner(upper=1.0)]
    for pruner in pruners:
        copy = pickle.loads(pickle.dumps(pruner))
        assert type(copy) is type(pruner) and vars(copy).keys() == vars(pruner).keys()
