"""Scenario: multi-objective optimization (a model's size against its error), the
Pareto front in ``best_trials``, directions and metric names."""

from __future__ import annotations

import numpy as np
import pytest

import hpo_core as optuna
from hpo_core.study import StudyDirection


def objective(trial):
    """Made-up "FLOPS" (grows with the width and depth) against "accuracy" (grows with
    them too, then saturates): the two conflict, so the front has several trials."""
    n_layers = trial.suggest_int("n_layers", 1, 3)
    flops = 0.0
    capacity = 0.0
    for i in range(n_layers):
        units = trial.suggest_int(f"n_units_l{i}", 4, 128, log=True)
        flops += units * 100
        capacity += np.log2(units)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    accuracy = 1.0 - np.exp(-capacity / 6) - 0.1 * dropout
    return flops, accuracy


def _dominates(a, b, directions) -> bool:
    sign = [1 if d == StudyDirection.MINIMIZE else -1 for d in directions]
    a = [s * v for s, v in zip(sign, a)]
    b = [s * v for s, v in zip(sign, b)]
    return all(x <= y for x, y in zip(a, b)) and a != b


def test_multi_objective_best_trials_is_the_pareto_front() -> None:
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=30)

    assert study.directions == [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE]
    front = study.best_trials
    assert len(front) >= 2
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    front_numbers = {t.number for t in front}
    for t in complete:
        dominated = any(_dominates(o.values, t.values, study.directions) for o in complete)
        assert dominated == (t.number not in front_numbers)
    # Sorted by FLOPS, the front's accuracy only goes up.
    ordered = sorted(front, key=lambda t: t.values[0])
    accuracies = [t.values[1] for t in ordered]
    assert accuracies == sorted(accuracies)


def test_multi_objective_single_objective_accessors_raise() -> None:
    study = optuna.create_study(directions=["minimize", "maximize"])
    study.optimize(objective, n_trials=5)
    with pytest.raises(RuntimeError):
        study.best_trial
    with pytest.raises(RuntimeError):
        study.best_value
    with pytest.raises(RuntimeError):
        study.direction
    assert all(len(t.values) == 2 for t in study.trials)
    with pytest.raises(RuntimeError):
        study.trials[0].value


def test_multi_objective_metric_names_label_the_dataframe() -> None:
    pytest.importorskip("pandas")
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=optuna.samplers.RandomSampler(seed=1))
    study.set_metric_names(["FLOPS", "accuracy"])
    study.optimize(objective, n_trials=8)

    assert study.metric_names == ["FLOPS", "accuracy"]
    df = study.trials_dataframe()
    assert {"values_FLOPS", "values_accuracy"} <= set(df.columns)
    assert df["values_FLOPS"].tolist() == [t.values[0] for t in study.trials]
    unnamed = optuna.create_study(directions=["minimize", "maximize"])
    assert unnamed.metric_names is None


def test_multi_objective_reload_keeps_directions_and_metric_names(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 'mo.db'}"
    study = optuna.create_study(storage=storage, study_name="mo", directions=["minimize", "maximize"])
    study.set_metric_names(["FLOPS", "accuracy"])
    study.optimize(objective, n_trials=4)

    loaded = optuna.load_study(study_name="mo", storage=storage)
    assert loaded.directions == [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE]
    assert loaded.metric_names == ["FLOPS", "accuracy"]
    assert {t.number for t in loaded.best_trials} == {t.number for t in study.best_trials}


# --- constrained optimization ---------------------------------------------------------


def _constrained_objective(trial):
    x = trial.suggest_float("x", -15, 30)
    y = trial.suggest_float("y", -15, 30)
    # Constraints are stored by the objective and read back by ``constraints_func``;
    # a trial is feasible when every value is <= 0.
    trial.set_user_attr("constraint", ((x - 5) ** 2 + y**2 - 25, -((x - 8) ** 2) - (y + 3) ** 2 + 7.7))
    return 4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2


def _constraints(trial):
    return trial.user_attrs["constraint"]


def _feasible(trial) -> bool:
    return all(c <= 0 for c in trial.user_attrs["constraint"])


def test_multi_objective_constrained_front_has_feasible_trials_only() -> None:
    # Seed 1: with seed 0 neither this library nor Optuna 5.0 (the same trials for the same
    # seed) finds a feasible point in 40 trials, and the front of a study without one is empty.
    sampler = optuna.samplers.NSGAIISampler(population_size=10, constraints_func=_constraints, seed=1)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(_constrained_objective, n_trials=40)

    assert all(t.system_attrs["constraints"] == list(t.user_attrs["constraint"]) for t in study.trials)
    assert any(not _feasible(t) for t in study.trials)
    front = study.best_trials
    assert front and all(_feasible(t) for t in front)


def test_single_objective_constrained_best_trial_is_feasible() -> None:
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        trial.set_user_attr("constraint", (x - 0.5,))  # x <= 0.5
        return -x

    sampler = optuna.samplers.TPESampler(constraints_func=_constraints, seed=0, n_startup_trials=5)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=20)

    assert any(not _feasible(t) for t in study.trials)
    assert _feasible(study.best_trial)
    assert study.best_value == min(t.value for t in study.trials if _feasible(t))
    assert study.best_params["x"] > 0.3
