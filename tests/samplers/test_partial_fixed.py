"""PartialFixedSampler: fixed parameters stay fixed, the others follow the base sampler."""

from __future__ import annotations

import pytest

import hpo_core
from hpo_core.exceptions import HpoWarning
from hpo_core.samplers import PartialFixedSampler, RandomSampler, TPESampler


def _objective(trial: hpo_core.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    y = trial.suggest_int("y", -5, 5)
    c = trial.suggest_categorical("c", ["a", "b"])
    return (x - 1) ** 2 + y**2 + (c == "b")


def test_fixed_parameters_stay_fixed_and_the_rest_is_modelled() -> None:
    study = hpo_core.create_study(sampler=TPESampler(seed=0, n_startup_trials=5))
    study.optimize(_objective, n_trials=10)
    study.sampler = PartialFixedSampler({"y": 2, "c": "a"}, study.sampler)
    study.optimize(_objective, n_trials=30)
    later = study.trials[10:]
    assert {(t.params["y"], t.params["c"]) for t in later} == {(2, "a")}
    # TPE still models x jointly: its proposals close in on x = 1.
    xs = sorted(abs(t.params["x"] - 1) for t in later[-15:])
    assert xs[len(xs) // 2] < 1.5


def test_same_values_as_optuna_for_the_fixed_parameters() -> None:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its sampler is the reference")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs = optuna.create_study(sampler=optuna.samplers.PartialFixedSampler(
        {"y": -1}, optuna.samplers.RandomSampler(seed=0)))
    theirs.optimize(_objective, n_trials=5)
    ours = hpo_core.create_study(sampler=PartialFixedSampler({"y": -1}, RandomSampler(seed=0)))
    ours.optimize(_objective, n_trials=5)
    assert [t.params["y"] for t in ours.trials] == [t.params["y"] for t in theirs.trials] == [-1] * 5


def test_out_of_range_value_warns_and_is_used() -> None:
    study = hpo_core.create_study(sampler=PartialFixedSampler({"y": 9}, RandomSampler(seed=0)))
    with pytest.warns(HpoWarning, match="Fixed parameter 'y' with value 9 is out of range"):
        study.optimize(lambda t: float(t.suggest_int("y", 0, 3)), n_trials=1)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"fixed_params": [("y", 1)], "base_sampler": RandomSampler()}, "fixed_params"),
    ({"fixed_params": {"y": 1}, "base_sampler": "tpe"}, "base_sampler"),
])
def test_bad_arguments(kwargs: dict, name: str) -> None:
    with pytest.raises(TypeError, match=f"PartialFixedSampler: `{name}`"):
        PartialFixedSampler(**kwargs)
