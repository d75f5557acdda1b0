"""Scenario: choosing a sampler and a pruner, as Optuna's tutorial teaches; the pruning
scenario trains a real scikit-learn ``SGDClassifier`` with ``partial_fit``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpo_core as optuna
from hpo_core.trial import TrialState


def branin(trial):
    x = trial.suggest_float("x", -5, 10)
    y = trial.suggest_float("y", 0, 15)
    return (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


BRANIN_MIN = 0.397887


SAMPLERS = {
    # name: (constructor, n_trials, how far above Branin's minimum the best may be)
    "tpe": (lambda: optuna.samplers.TPESampler(seed=0), 40, 3.0),
    "random": (lambda: optuna.samplers.RandomSampler(seed=0), 40, 10.0),
    "gp": (lambda: optuna.samplers.GPSampler(seed=0), 20, 3.0),
    "qmc": (lambda: optuna.samplers.QMCSampler(seed=0), 32, 10.0),
    "cmaes": (lambda: optuna.samplers.CmaEsSampler(seed=0), 40, 5.0),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_samplers_each_sampler_improves_on_branin(name: str) -> None:
    if name == "cmaes":
        pytest.importorskip("cmaes", reason="CmaEsSampler needs the cmaes package")
    make_sampler, n_trials, tolerance = SAMPLERS[name]
    study = optuna.create_study(sampler=make_sampler())
    study.optimize(branin, n_trials=n_trials)

    assert len(study.trials) == n_trials
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all(-5 <= t.params["x"] <= 10 and 0 <= t.params["y"] <= 15 for t in study.trials)
    assert study.best_value - BRANIN_MIN < tolerance
    # Seeded samplers repeat themselves.
    again = optuna.create_study(sampler=make_sampler())
    again.optimize(branin, n_trials=5)
    assert [t.params for t in again.trials] == [t.params for t in study.trials[:5]]


def test_samplers_qmc_points_spread_over_the_box() -> None:
    study = optuna.create_study(sampler=optuna.samplers.QMCSampler(qmc_type="sobol", seed=0))
    study.optimize(branin, n_trials=16)
    xs = np.array([t.params["x"] for t in study.trials])
    # A Sobol' sequence puts a point in every quarter of the x range within 16 draws.
    counts = np.histogram(xs, bins=4, range=(-5, 10))[0]
    assert (counts > 0).all()


def test_samplers_grid_sampler_visits_every_point_once_and_stops() -> None:
    search_space = {"x": [-50, 0, 50], "y": [-99, 0, 99]}
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(search_space, seed=0))

    def objective(trial):
        x = trial.suggest_float("x", -100, 100)
        y = trial.suggest_int("y", -100, 100)
        return x**2 + y**2

    study.optimize(objective, n_trials=100)  # stops when the grid is exhausted
    assert len(study.trials) == 9
    assert {(t.params["x"], t.params["y"]) for t in study.trials} == {
        (x, y) for x in search_space["x"] for y in search_space["y"]
    }
    assert study.best_params == {"x": 0, "y": 0}


def test_samplers_nsgaii_on_a_two_objective_problem() -> None:
    sampler = optuna.samplers.NSGAIISampler(population_size=10, seed=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def objective(trial):
        x = trial.suggest_float("x", 0, 5)
        y = trial.suggest_float("y", 0, 3)
        return 4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2

    study.optimize(objective, n_trials=40)
    front = study.best_trials
    assert len(front) >= 3
    for a in front:
        for b in front:
            assert not (all(u <= v for u, v in zip(b.values, a.values)) and b.values != a.values)


# --- pruning: a real incremental learner -----------------------------------------------


def _digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    return train_test_split(X, y[:600], test_size=0.3, random_state=0)


def test_pruners_median_pruner_stops_bad_sgd_classifiers_early() -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import SGDClassifier

    X_train, X_valid, y_train, y_valid = _digits_split()
    classes = np.unique(y_train)
    n_steps = 10

    def objective(trial):
        alpha = trial.suggest_float("alpha", 1e-5, 1e1, log=True)
        clf = SGDClassifier(alpha=alpha, random_state=0)
        for step in range(n_steps):
            clf.partial_fit(X_train, y_train, classes=classes)
            error = 1.0 - clf.score(X_valid, y_valid)
            trial.report(error, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return error

    study = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
    )
    study.optimize(objective, n_trials=20)

    pruned = study.get_trials(deepcopy=False, states=[TrialState.PRUNED])
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(pruned) >= 3
    assert len(pruned) + len(complete) == 20
    for t in pruned:
        assert 2 <= t.last_step < n_steps - 1
        assert max(t.intermediate_values) == t.last_step
    for t in complete:
        assert sorted(t.intermediate_values) == list(range(n_steps))
    # Pruning spends the budget on the good region: the best alpha is a small one.
    assert study.best_params["alpha"] < 1.0
    assert study.best_value < 0.2


def test_pruners_pruned_trial_value_is_its_last_report() -> None:
    def objective(trial):
        trial.suggest_float("x", 0, 1)
        trial.report(0.25, 0)
        trial.report(0.75, 3)
        raise optuna.TrialPruned()

    study = optuna.create_study()
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == TrialState.PRUNED
    assert study.trials[0].value == 0.75


def _learning_curve(trial, n_epochs: int) -> float:
    """A made-up learning curve whose final loss is set by ``lr``."""
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    floor = abs(math.log10(lr) + 2)  # best at lr = 1e-2
    loss = 0.0
    for epoch in range(n_epochs):
        loss = floor + 1.0 / (epoch + 1)
        trial.report(loss, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return loss


@pytest.mark.parametrize(
    "pruner",
    [
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3),
    ],
    ids=["successive_halving", "hyperband"],
)
def test_pruners_asynchronous_halving_prunes_and_keeps_the_best(pruner) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner)
    study.optimize(lambda t: _learning_curve(t, 27), n_trials=30)

    states = [t.state for t in study.trials]
    assert states.count(TrialState.PRUNED) >= 10
    assert states.count(TrialState.COMPLETE) >= 1
    # Pruned trials stopped at a rung, well before the last epoch.
    assert min(t.last_step for t in study.trials if t.state == TrialState.PRUNED) < 9
    assert abs(math.log10(study.best_params["lr"]) + 2) < 1.0
