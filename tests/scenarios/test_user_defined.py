"""Scenario: a user-defined sampler and a user-defined pruner, written against Optuna's
``BaseSampler``/``BasePruner`` method names, running unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import hpo_core as optuna
from hpo_core.distributions import FloatDistribution, IntDistribution
from hpo_core.search_space import IntersectionSearchSpace
from hpo_core.trial import TrialState


class LocalPerturbationSampler(optuna.samplers.BaseSampler):
    """Proposes the best trial's parameters plus Gaussian noise (a tenth of each range)
    for the parameters every finished trial shares; anything else is drawn at random."""

    def __init__(self, seed=None, scale=0.1):
        self._rng = np.random.default_rng(seed)
        self._scale = scale
        self._fallback = optuna.samplers.RandomSampler(seed=seed)
        self._search_space = IntersectionSearchSpace()
        self.relative_calls = 0

    def infer_relative_search_space(self, study, trial):
        space = self._search_space.calculate(study)
        return {name: d for name, d in space.items() if isinstance(d, (FloatDistribution, IntDistribution))}

    def sample_relative(self, study, trial, search_space):
        if not search_space:
            return {}
        self.relative_calls += 1
        best = study.best_trial
        params = {}
        for name, dist in search_space.items():
            center = best.params[name]
            if dist.log:
                lo, hi, center = np.log(dist.low), np.log(dist.high), np.log(center)
                value = float(np.exp(np.clip(center + self._rng.normal() * self._scale * (hi - lo), lo, hi)))
            else:
                value = float(np.clip(center + self._rng.normal() * self._scale * (dist.high - dist.low), dist.low, dist.high))
            if isinstance(dist, IntDistribution):
                value = int(round(value))
            params[name] = min(max(value, dist.low), dist.high)
        return params

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)


def sphere(trial):
    x = trial.suggest_float("x", -10, 10)
    n = trial.suggest_int("n", -10, 10)
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    if trial.suggest_categorical("use_extra", [False, True]):
        trial.suggest_float("extra", 0, 1)  # conditional: never in the intersection
    return (x - 3) ** 2 + (n + 2) ** 2 + (np.log10(lr) + 3) ** 2


def test_user_defined_sampler_samples_the_intersection_jointly() -> None:
    sampler = LocalPerturbationSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(sphere, n_trials=60)

    assert sampler.relative_calls == 59  # every trial after the first
    space = IntersectionSearchSpace().calculate(study)
    assert set(space) == {"lr", "n", "use_extra", "x"}
    assert space["n"] == IntDistribution(-10, 10)
    for t in study.trials:
        assert -10 <= t.params["x"] <= 10 and isinstance(t.params["n"], int)
        assert 1e-5 <= t.params["lr"] <= 1.0
    # Local search from the best point converges on this bowl.
    assert study.best_value < 1.5
    assert study.best_params["n"] == -2


def test_user_defined_sampler_with_the_in_memory_intersection_of_pruned_trials() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number % 2:
            trial.suggest_int("k", 1, 3)
            raise optuna.TrialPruned()
        return x

    study.optimize(objective, n_trials=6)
    assert set(IntersectionSearchSpace().calculate(study)) == {"x"}
    assert set(IntersectionSearchSpace(include_pruned=True).calculate(study)) == {"x"}


class BehindTheLeaderPruner(optuna.pruners.BasePruner):
    """After ``warmup_steps``, prunes a trial whose latest report is more than ``ratio``
    times the best that any COMPLETE trial had reported at the same step."""

    def __init__(self, warmup_steps=2, ratio=1.5):
        self._warmup_steps = warmup_steps
        self._ratio = ratio

    def prune(self, study, trial):
        step = trial.last_step
        if step is None or step < self._warmup_steps:
            return False
        score = trial.intermediate_values[step]
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        at_step = [t.intermediate_values[step] for t in finished if step in t.intermediate_values]
        if not at_step:
            return False
        return score > self._ratio * min(at_step)


def test_user_defined_pruner_reads_last_step_and_finished_trials() -> None:
    decisions = []

    def objective(trial):
        rate = trial.suggest_float("rate", 0.05, 1.0)
        assert trial.last_step is None
        loss = 1.0
        for step in range(8):
            loss *= 1.0 - rate  # faster decay for larger rates: they win
            trial.report(loss, step)
            assert trial.last_step == step
            if trial.should_prune():
                decisions.append(step)
                raise optuna.TrialPruned()
        return loss

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3), pruner=BehindTheLeaderPruner())
    study.optimize(objective, n_trials=25)

    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert len(pruned) >= 5
    assert all(step >= 2 for step in decisions)
    assert [t.last_step for t in pruned] == decisions
    best_rate = study.best_params["rate"]
    assert all(t.params["rate"] < best_rate for t in pruned)


def test_user_defined_pruner_on_a_running_ask_and_tell_trial() -> None:
    study = optuna.create_study(pruner=BehindTheLeaderPruner(warmup_steps=0, ratio=1.0))
    leader = study.ask()
    for step in range(3):
        leader.report(1.0, step)
    study.tell(leader, 1.0)

    follower = study.ask()
    follower.report(0.5, 0)
    assert not follower.should_prune()
    follower.report(2.0, 1)
    assert follower.should_prune()
    study.tell(follower, state=TrialState.PRUNED)
    assert study.trials[1].state == TrialState.PRUNED
    assert study.trials[1].intermediate_values == pytest.approx({0: 0.5, 1: 2.0})
