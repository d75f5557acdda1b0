"""Studies for the importance tests, and their copies as Optuna studies."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import hpo_core
from hpo_core.distributions import distribution_to_json


def mixed_study(seed: int, n_trials: int = 120, *, conditional: bool = True) -> hpo_core.Study:
    """Floats (linear, log, stepped), ints (linear, log), a categorical and, when
    ``conditional``, a parameter that exists only for one choice."""
    rng = np.random.default_rng(seed)

    def objective(t: hpo_core.Trial) -> float:
        x = t.suggest_float("x", -5, 5)
        lr = t.suggest_float("lr", 1e-5, 1e-1, log=True)
        n = t.suggest_int("n", 1, 100)
        k = t.suggest_int("k", 1, 1024, log=True)
        s = t.suggest_float("s", 0, 1, step=0.1)
        c = t.suggest_categorical("c", ["a", "b", "c"])
        v = x**2 + 0.3 * math.log10(lr) ** 2 + 0.01 * n + 0.1 * math.log2(k) + s + {"a": 0, "b": 1, "c": 3}[c]
        if conditional and c == "b":
            v += t.suggest_float("d", 0, 10)
        return v + 0.01 * float(rng.normal())

    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    return study


def two_objective_study(seed: int, n_trials: int = 150) -> hpo_core.Study:
    def objective(t: hpo_core.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", -5, 5)
        y = t.suggest_float("y", -5, 5)
        c = t.suggest_categorical("c", [1, 2])
        return x**2 + c, (y - 1) ** 2 + 0.1 * x

    study = hpo_core.create_study(directions=["minimize", "maximize"],
                                  sampler=hpo_core.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    return study


def to_optuna(study: hpo_core.Study) -> Any:
    """The same trials (COMPLETE ones, and others with their state) in an Optuna study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    directions = [d.name.lower() for d in study.directions]
    copy = optuna.create_study(directions=directions)
    for t in study.trials:
        dists = {k: optuna.distributions.json_to_distribution(distribution_to_json(d))
                 for k, d in t.distributions.items()}
        state = optuna.trial.TrialState[t.state.name]
        copy.add_trial(optuna.trial.create_trial(
            params=t.params, distributions=dists, state=state,
            values=t.values if state == optuna.trial.TrialState.COMPLETE else None))
    return copy
