"""Scenario: a first study, as an Optuna user writes it, with only the import changed."""

from __future__ import annotations

import pytest

import hpo_core as optuna


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


def test_first_study_finds_the_minimum_of_a_quadratic() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=60)

    assert len(study.trials) == 60
    assert abs(study.best_params["x"] - 2) < 0.3
    assert study.best_value == pytest.approx((study.best_params["x"] - 2) ** 2)
    assert study.best_value == min(t.value for t in study.trials)
    assert study.best_trial.params == study.best_params
    assert study.best_trial.state == optuna.trial.TrialState.COMPLETE


def test_first_study_default_sampler_is_tpe_and_direction_minimize() -> None:
    study = optuna.create_study()
    assert isinstance(study.sampler, optuna.samplers.TPESampler)
    assert isinstance(study.pruner, optuna.pruners.MedianPruner)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE


def test_first_study_optimize_again_continues_the_same_study() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    study.optimize(objective, n_trials=10)
    first_best = study.best_value
    study.optimize(objective, n_trials=15)

    assert [t.number for t in study.trials] == list(range(25))
    assert study.best_value <= first_best


def test_first_study_trials_dataframe_has_one_row_per_trial() -> None:
    pd = pytest.importorskip("pandas")
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=2))
    study.optimize(objective, n_trials=12)

    df = study.trials_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 12
    for column in ("number", "value", "datetime_start", "datetime_complete", "duration", "params_x", "state"):
        assert column in df.columns
    assert set(df["state"]) == {"COMPLETE"}
    best_row = df.loc[df["value"].idxmin()]
    assert best_row["number"] == study.best_trial.number
    assert best_row["params_x"] == pytest.approx(study.best_params["x"])

    narrow = study.trials_dataframe(attrs=("number", "value", "params"))
    assert list(narrow.columns) == ["number", "value", "params_x"]
