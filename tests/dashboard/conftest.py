"""Studies on a real SQLite file and a running dashboard server, shared by the
dashboard tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpo_core

pytest.importorskip(
    "plotly", reason="the dashboard serves plotly's bundled plotly.min.js: pip install 'hpo_core[dashboard]'"
)


def fill_single(storage: str, n_trials: int = 60) -> hpo_core.Study:
    """``single``: float, log float, int and categorical parameters, reports at 4 steps,
    every 7th trial PRUNED and every 11th FAIL."""
    study = hpo_core.create_study(
        study_name="single", storage=storage, sampler=hpo_core.samplers.RandomSampler(seed=0)
    )
    for i in range(n_trials):
        t = study.ask()
        x = t.suggest_float("x", -5.0, 5.0)
        lr = t.suggest_float("lr", 1e-5, 1.0, log=True)
        n = t.suggest_int("n", 1, 8)
        c = t.suggest_categorical("c", ["a", "b", "c"])
        value = x**2 + np.log10(lr) ** 2 + 0.1 * n + (c == "b")
        for step in range(4):
            t.report(float(value + 3 - step), step)
        if i % 7 == 3:
            study.tell(t, state=hpo_core.TrialState.PRUNED)
        elif i % 11 == 5:
            study.tell(t, state=hpo_core.TrialState.FAIL)
        else:
            study.tell(t, float(value))
    return study


def fill_multi(storage: str, n_trials: int = 40) -> hpo_core.Study:
    """``multi``: two minimized objectives, a Pareto front along x."""
    study = hpo_core.create_study(
        study_name="multi",
        storage=storage,
        directions=["minimize", "minimize"],
        sampler=hpo_core.samplers.RandomSampler(seed=1),
    )
    study.optimize(
        lambda t: (
            t.suggest_float("x", 0.0, 1.0),
            (1 - t.suggest_float("x", 0.0, 1.0)) ** 2 + t.suggest_float("y", 0.0, 1.0),
        ),
        n_trials=n_trials,
    )
    return study


@pytest.fixture
def storage_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    try:
        fill_single(url)
        fill_multi(url)
    finally:
        hpo_core.logging.set_verbosity(hpo_core.logging.INFO)
    return url


@pytest.fixture
def server(storage_url: str) -> Iterator[Any]:
    from hpo_core.dashboard import start_server

    srv = start_server(storage_url, port=0)
    try:
        yield srv
    finally:
        srv.stop()
