"""The group-decomposed search space against Optuna's on the same conditional trials."""

from __future__ import annotations

import random
from typing import Any

import pytest

import hpo_core
from hpo_core.distributions import distribution_to_json
from hpo_core.search_space import _GroupDecomposedSearchSpace, _SearchSpaceGroup


def objective(trial: Any) -> float:
    kind = trial.suggest_categorical("kind", ["svm", "tree", "none"])
    if kind == "svm":
        return trial.suggest_float("C", 1e-3, 1e3, log=True) + trial.suggest_float("gamma", 1e-4, 1, log=True)
    if kind == "tree":
        depth = trial.suggest_int("depth", 1, 8)
        if depth > 4:
            return depth + trial.suggest_float("min_leaf", 0.0, 0.5)
        return float(depth)
    return 0.0


@pytest.mark.parametrize("include_pruned", [False, True])
def test_same_groups_as_optuna(include_pruned: bool) -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def pruning(trial: Any) -> float:
        v = objective(trial)
        if trial.number % 5 == 4:
            raise (hpo_core.TrialPruned if isinstance(trial, hpo_core.Trial) else optuna.TrialPruned)()
        return v

    ours = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=3))
    theirs = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    ours_space, theirs_space = (
        _GroupDecomposedSearchSpace(include_pruned),
        optuna.search_space._GroupDecomposedSearchSpace(include_pruned),
    )
    for n in (1, 4, 12, 30):
        ours.optimize(pruning, n_trials=n)
        for t in ours.trials[len(theirs.trials) :]:
            theirs.add_trial(
                optuna.trial.create_trial(
                    params=t.params,
                    distributions={
                        k: optuna.distributions.json_to_distribution(distribution_to_json(d))
                        for k, d in t.distributions.items()
                    },
                    value=t.value,
                    state=optuna.trial.TrialState[t.state.name],
                    intermediate_values={},
                )
            )
        a, b = ours_space.calculate(ours), theirs_space.calculate(theirs)
        assert [sorted(s) for s in sorted(a.search_spaces, key=sorted)] == [
            sorted(s) for s in sorted(b.search_spaces, key=sorted)
        ]


def test_groups_are_disjoint_and_a_copy() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    study = hpo_core.create_study(storage=storage, sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=40)
    space = _GroupDecomposedSearchSpace()
    g = space.calculate(study)
    names = [k for s in g.search_spaces for k in s]
    assert len(names) == len(set(names)) == 5
    g.search_spaces.clear()
    assert len(space.calculate(study).search_spaces) > 0
    with pytest.raises(ValueError, match="multiple studies"):
        space.calculate(hpo_core.create_study(storage=storage))


def test_search_space_group_splits() -> None:
    d = hpo_core.distributions.FloatDistribution(0, 1)
    g = _SearchSpaceGroup()
    for keys in random.Random(0).sample([("a", "b", "c"), ("a", "b"), ("c", "d")], 3):
        g.add_distributions({k: d for k in keys})
    assert sorted(sorted(s) for s in g.search_spaces) == [["a", "b"], ["c"], ["d"]]
