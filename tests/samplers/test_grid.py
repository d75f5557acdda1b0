from __future__ import annotations

import itertools
import threading

import pytest

import hpo_core
from hpo_core.samplers import GridSampler

GRID = {"x": [0, 1, 2], "y": ["a", "b"], "z": [0.5, 1.5]}


def objective(trial: hpo_core.Trial) -> float:
    x = trial.suggest_int("x", 0, 2)
    y = trial.suggest_categorical("y", ["a", "b"])
    z = trial.suggest_float("z", 0.0, 2.0)
    return x + z + (y == "b")


def test_grid_visits_every_point_once_and_stops() -> None:
    study = hpo_core.create_study(sampler=GridSampler(GRID, seed=0))
    study.optimize(objective, n_trials=100)
    points = [(t.params["x"], t.params["y"], t.params["z"]) for t in study.trials]
    assert len(points) == 12
    assert sorted(points) == sorted(itertools.product(*GRID.values()))


def test_grid_no_duplicates_across_threads() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    hpo_core.create_study(storage=storage, study_name="g")

    def work(seed: int) -> None:
        study = hpo_core.load_study(study_name="g", storage=storage, sampler=GridSampler(GRID, seed=seed))
        study.optimize(objective, n_trials=50)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trials = hpo_core.load_study(study_name="g", storage=storage).trials
    points = [(t.params["x"], t.params["y"], t.params["z"]) for t in trials]
    assert sorted(points) == sorted(itertools.product(*GRID.values()))


def test_grid_exhausted_ask_warns() -> None:
    study = hpo_core.create_study(sampler=GridSampler({"x": [1]}))
    study.tell(study.ask(), 1.0)
    with pytest.warns(hpo_core.exceptions.HpoWarning, match="grid points are taken"):
        study.ask()


@pytest.mark.parametrize("bad", [{}, {"x": []}, {"x": "abc"}])
def test_grid_rejects_bad_search_space(bad: dict) -> None:
    with pytest.raises(ValueError, match="search_space"):
        GridSampler(bad)


def test_grid_rejects_bad_value_type() -> None:
    with pytest.raises(TypeError, match="search_space"):
        GridSampler({"x": [object()]})
