"""Studies the plot tests draw, and their copies in Optuna."""

from __future__ import annotations

from typing import Any

import numpy as np

import hpo_core
from hpo_core.distributions import distribution_to_json


def mixed_study(n_trials: int = 40, seed: int = 0) -> hpo_core.Study:
    """Float, log float, int and categorical parameters, one conditional, with reports."""

    def objective(t: hpo_core.Trial) -> float:
        x = t.suggest_float("x", -5.0, 5.0)
        lr = t.suggest_float("lr", 1e-5, 1.0, log=True)
        c = t.suggest_categorical("c", ["a", "b", "c"])
        n = t.suggest_int("n", 1, 8)
        if c == "a":
            t.suggest_int("depth", 1, 10)
        value = x**2 + np.log10(lr) ** 2 + (c == "b") + 0.1 * n
        for step in range(4):
            t.report(value + 3 - step, step)
        return float(value)

    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=seed), pruner=hpo_core.pruners.NopPruner())
    study.optimize(objective, n_trials=n_trials)
    return study


def multi_study(n_trials: int = 40, seed: int = 0) -> hpo_core.Study:
    def objective(t: hpo_core.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0.0, 1.0)
        y = t.suggest_float("y", 0.0, 1.0)
        return x, (1 - x) ** 2 + y

    study = hpo_core.create_study(directions=["minimize", "minimize"],
                                  sampler=hpo_core.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    return study


def large_study(n_trials: int, seed: int = 0, *, n_steps: int = 0, n_objectives: int = 1) -> hpo_core.Study:
    """``n_trials`` COMPLETE trials of 3 floats (one log) and a categorical, written in
    one batch; with ``n_steps``, each trial reports that many intermediate values."""
    from hpo_core.distributions import CategoricalDistribution, FloatDistribution

    rng = np.random.default_rng(seed)
    space = {"a": FloatDistribution(0.0, 1.0), "b": FloatDistribution(1e-4, 1.0, log=True),
             "c": FloatDistribution(-1.0, 1.0), "k": CategoricalDistribution(["p", "q", "r"])}
    dirs = ["minimize"] * n_objectives
    study = hpo_core.create_study(directions=dirs, sampler=hpo_core.samplers.RandomSampler(seed=seed))
    batch = study.ask_array(space, n_trials)
    X = batch.params  # internal values in the order of ``space``
    base = (X[:, 0] - 0.3) ** 2 + np.log10(X[:, 1]) ** 2 / 16 + 0.1 * rng.random(n_trials)
    if n_steps:
        storage = study._storage  # the public tell path reports through a Trial object
        for i, trial_id in enumerate(batch.trial_ids.tolist()):
            for s in range(n_steps):
                storage.set_trial_intermediate_value(trial_id, s, float(base[i] + (n_steps - s) / n_steps))
    values = base if n_objectives == 1 else np.stack([base, 1 - X[:, 0]], axis=1)
    study.tell_array(batch, values)
    return study


def to_optuna(study: hpo_core.Study) -> Any:
    """The same trials (states, values, parameters, intermediate values) in an Optuna study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    copy = optuna.create_study(directions=[d.name.lower() for d in study.directions])
    for t in study.trials:
        dists = {k: optuna.distributions.json_to_distribution(distribution_to_json(d))
                 for k, d in t.distributions.items()}
        state = optuna.trial.TrialState[t.state.name]
        copy.add_trial(optuna.trial.create_trial(
            params=t.params, distributions=dists, state=state, intermediate_values=t.intermediate_values,
            values=t.values if state == optuna.trial.TrialState.COMPLETE else None))
    return copy
