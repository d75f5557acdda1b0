"""CmaEsSampler(seed=s) proposes Optuna 5.0's CmaEsSampler(seed=s)'s trials, bit for bit:
the startup trials (Optuna's RandomSampler stream), the optimizer's seeds and per-ask
reseeding, the transform to [0, 1] and back, and the tell, generation after generation."""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.samplers._optuna_stream import sample_optuna_random

pytest.importorskip("cmaes", reason="CmaEsSampler needs `pip install 'hpo_core[cmaes]'`")
optuna = pytest.importorskip("optuna", reason="the parity tests run Optuna itself")

hpo_core.logging.set_verbosity(logging.WARNING)
optuna.logging.set_verbosity(optuna.logging.WARNING)


def _floats(t: Any) -> float:
    return float(sum((t.suggest_float(f"x{i}", -5, 5) - 0.7 * i) ** 2 for i in range(5)))


def _mixed(t: Any) -> float:
    # Suggested out of name order: the optimizer's coordinates follow sorted names.
    b = t.suggest_float("b", -3, 2)
    a = t.suggest_float("a", 1e-3, 10, log=True)
    c = t.suggest_int("c", -10, 10)
    z = t.suggest_int("z", 1, 200, log=True)
    e = t.suggest_int("e", 0, 30, step=3)
    d = t.suggest_float("d", 0, 1, step=0.1)
    return (b - 0.4) ** 2 + math.log(a) ** 2 + (c - 3) ** 2 / 10 + math.log(z / 7) ** 2 + (e - 12) ** 2 / 50 + d


def _logs(t: Any) -> float:
    x = t.suggest_float("x", 1e-4, 1, log=True)
    n = t.suggest_int("n", 2, 64, log=True)
    return math.log(x / 0.01) ** 2 + math.log(n / 9) ** 2


def _params(lib: Any, objective: Any, n_trials: int, direction: str = "minimize", **kwargs: Any) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental and deprecation warnings
        study = lib.create_study(direction=direction, sampler=lib.samplers.CmaEsSampler(**kwargs))
        study.optimize(objective, n_trials=n_trials)
    return [t.params for t in study.trials]


def _assert_same_trials(objective: Any, n_trials: int, direction: str = "minimize", **kwargs: Any) -> None:
    theirs = _params(optuna, objective, n_trials, direction, **kwargs)
    ours = _params(hpo_core, objective, n_trials, direction, **kwargs)
    for number, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"trial {number}: {a} != Optuna's {b}"
    assert len(ours) == len(theirs) == n_trials


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("objective, n_trials", [(_floats, 60), (_mixed, 60), (_logs, 40)],
                         ids=["float", "mixed", "log"])
def test_cmaes_same_trials_as_optuna(seed: int, objective: Any, n_trials: int) -> None:
    # 60 trials: the startup trial and at least 5 generations of 9 (d = 5, 6) or 6 (d = 2).
    _assert_same_trials(objective, n_trials, seed=seed)


@pytest.mark.parametrize("kwargs", [
    {"use_separable_cma": True},
    {"with_margin": True},
    {"lr_adapt": True},
    {"popsize": 5, "n_startup_trials": 4},
    {"sigma0": 0.3, "x0": {"a": 0.5, "b": 1.0, "c": 2, "d": 0.3, "e": 9, "z": 20}},
    {"consider_pruned_trials": True},
], ids=["sep", "margin", "lr_adapt", "popsize_startup", "x0_sigma0", "consider_pruned"])
def test_cmaes_same_trials_as_optuna_with_options(kwargs: dict[str, Any]) -> None:
    _assert_same_trials(_mixed, 50, seed=3, **kwargs)


def test_cmaes_same_trials_as_optuna_maximize_ask_tell() -> None:
    # The ask(fixed_distributions) path, in a dict order that is not the names' order.
    names = [f"x{i}" for i in range(7, -1, -1)]
    proposals = []
    for lib in (optuna, hpo_core):
        space = {n: lib.distributions.FloatDistribution(0.0, 1.0) for n in names}
        study = lib.create_study(direction="maximize", sampler=lib.samplers.CmaEsSampler(seed=5))
        out = []
        for _ in range(60):
            trial = study.ask(space)
            out.append(trial.params)
            study.tell(trial, -sum((v - 0.3) ** 2 for v in trial.params.values()))
        proposals.append(out)
    assert proposals[0] == proposals[1]


@pytest.mark.parametrize("consider_pruned_trials", [True, False])
def test_cmaes_same_trials_as_optuna_under_hyperband(consider_pruned_trials: bool) -> None:
    # HyperbandPruner's default sampler_scope="study": one run over every bracket, as Optuna
    # 5.0's CmaEsSampler reads its bracket study's unfiltered _get_trials; the pruning
    # decisions are Optuna's too, so the trials and their states agree.
    def run(lib: Any) -> list[tuple[dict, str]]:
        def objective(trial: Any) -> float:
            x, y = trial.suggest_float("x", -3, 3), trial.suggest_float("y", -3, 3)
            for step in range(9):
                trial.report((x**2 + y**2) * (9 - step) + step * 0.01, step)
                if trial.should_prune():
                    raise lib.TrialPruned()
            return x**2 + y**2

        sampler = lib.samplers.CmaEsSampler(seed=0, popsize=4, consider_pruned_trials=consider_pruned_trials)
        pruner = lib.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)
        study = lib.create_study(study_name="hyperband", sampler=sampler, pruner=pruner)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study.optimize(objective, n_trials=120)
        return [(t.params, t.state.name) for t in study.trials]

    ours, theirs = run(hpo_core), run(optuna)
    assert sum(state == "PRUNED" for _, state in theirs) > 10
    assert ours == theirs


def test_sample_optuna_random_matches_optuna_random_sampler() -> None:
    kinds = [
        ("float", {"low": -3.0, "high": 5.5}), ("float", {"low": 1e-5, "high": 10.0, "log": True}),
        ("float", {"low": 0.0, "high": 1.0, "step": 0.1}), ("int", {"low": -5, "high": 7}),
        ("int", {"low": 1, "high": 1000, "log": True}), ("int", {"low": 0, "high": 21, "step": 3}),
        ("cat", {"choices": ["a", "b", 3, None]}),
    ]
    ours_cls = {"float": FloatDistribution, "int": IntDistribution, "cat": CategoricalDistribution}
    theirs_cls = {"float": optuna.distributions.FloatDistribution, "int": optuna.distributions.IntDistribution,
                  "cat": optuna.distributions.CategoricalDistribution}
    for seed in range(3):
        rng = np.random.RandomState(seed)
        reference = optuna.samplers.RandomSampler(seed=seed)
        for _ in range(40):
            for kind, kw in kinds:
                ours = sample_optuna_random(rng, ours_cls[kind](**kw))
                theirs = reference.sample_independent(None, None, "p", theirs_cls[kind](**kw))
                assert ours == theirs and type(ours) is type(theirs), (kind, kw, ours, theirs)
