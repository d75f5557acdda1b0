"""NSGAIISampler(seed=s) and NSGAIIISampler(seed=s) propose Optuna 5.0's trials for the
same seed, parameter for parameter (exact equality), and the random draws of the first
generation and of mutated parameters are Optuna's RandomSampler's."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.samplers._optuna_stream import OptunaRandom

optuna = pytest.importorskip("optuna")


def _zdt1(trial: Any) -> tuple[float, float]:
    # 12 parameters: sorted by name (x0, x1, x10, x11, x2, ...) they differ from the
    # order they are suggested in, which Optuna's draws follow in turn.
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(12)]
    g = 1.0 + 9.0 * sum(x[1:]) / 11.0
    return x[0], g * (1.0 - math.sqrt(x[0] / g))


def _dtlz2(trial: Any) -> tuple[float, float, float]:
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(7)]
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return (1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)


def _mixed_space(lib: Any) -> dict[str, Any]:
    module = optuna.distributions if lib is optuna else hpo_core
    return {
        "f": module.FloatDistribution(-5.0, 5.0),
        "f_log": module.FloatDistribution(1e-5, 1.0, log=True),
        "f_step": module.FloatDistribution(0.0, 1.0, step=0.05),
        "i": module.IntDistribution(0, 100),
        "i_log": module.IntDistribution(1, 1024, log=True),
        "i_step": module.IntDistribution(0, 100, step=5),
        "c": module.CategoricalDistribution(("a", "b", "c")),
        "a_float": module.FloatDistribution(0.0, 1.0),
    }


def _mixed_values(p: dict[str, Any]) -> tuple[float, float]:
    v = (p["f"] ** 2 + math.log(p["f_log"]) + p["f_step"] + p["i"] / 10 + math.log(p["i_log"])
         + {"a": 0.0, "b": 1.0, "c": 2.0}[p["c"]])
    return v, p["a_float"] - v + p["i_step"] / 100.0


def _constraints(t: Any) -> tuple[float, float]:
    return t.params["a_float"] - 0.6, t.params["i_step"] / 100.0 - 0.7


def _sampler(lib: Any, name: str, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental / deprecated arguments
        return getattr(lib.samplers, name)(**kwargs)


def _optimize(lib: Any, name: str, objective: Callable[[Any], tuple[float, ...]], n_objectives: int,
              n_trials: int, **kwargs: Any) -> list[dict[str, Any]]:
    study = lib.create_study(directions=["minimize"] * n_objectives, sampler=_sampler(lib, name, **kwargs))
    study.optimize(objective, n_trials=n_trials)
    return [t.params for t in study.trials]


def _ask_tell(lib: Any, name: str, n_trials: int, **kwargs: Any) -> list[dict[str, Any]]:
    study = lib.create_study(directions=["minimize"] * 2, sampler=_sampler(lib, name, **kwargs))
    space = _mixed_space(lib)
    if lib is hpo_core:
        space = hpo_core.SearchSpace(space)
    for _ in range(n_trials):
        t = study.ask(space)
        study.tell(t, _mixed_values(t.params))
    return [t.params for t in study.trials]


def _assert_same_trials(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    assert len(ours) == len(theirs)
    for number, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"trial {number}: hpo_core {a} != Optuna {b}"


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", ["NSGAIISampler", "NSGAIIISampler"])
def test_nsga_same_trials_as_optuna_zdt1(name: str, seed: int) -> None:
    kwargs = {"seed": seed, "population_size": 10}
    _assert_same_trials(_optimize(hpo_core, name, _zdt1, 2, 60, **kwargs),
                        _optimize(optuna, name, _zdt1, 2, 60, **kwargs))


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("name", ["NSGAIISampler", "NSGAIIISampler"])
def test_nsga_same_trials_as_optuna_dtlz2(name: str, seed: int) -> None:
    kwargs = {"seed": seed, "population_size": 16}
    _assert_same_trials(_optimize(hpo_core, name, _dtlz2, 3, 80, **kwargs),
                        _optimize(optuna, name, _dtlz2, 3, 80, **kwargs))


@pytest.mark.parametrize("constrained", [False, True])
@pytest.mark.parametrize("name", ["NSGAIISampler", "NSGAIIISampler"])
def test_nsga_same_trials_as_optuna_mixed_space_ask_tell(name: str, constrained: bool) -> None:
    kwargs: dict[str, Any] = {"seed": 5, "population_size": 12}
    if constrained:
        kwargs["constraints_func"] = _constraints
    _assert_same_trials(_ask_tell(hpo_core, name, 72, **kwargs), _ask_tell(optuna, name, 72, **kwargs))


def test_nsga_same_trials_as_optuna_with_crossover_prob_and_mutation_prob() -> None:
    kwargs = {"seed": 7, "population_size": 10, "crossover_prob": 0.5, "mutation_prob": 0.3,
              "swapping_prob": 0.3}
    _assert_same_trials(_optimize(hpo_core, "NSGAIISampler", _zdt1, 2, 60, **kwargs),
                        _optimize(optuna, "NSGAIISampler", _zdt1, 2, 60, **kwargs))


def test_nsga_random_draws_are_optunas_random_sampler() -> None:
    ours = OptunaRandom(11)
    theirs = optuna.samplers.RandomSampler(seed=11)
    study = optuna.create_study()
    trial = study.ask()
    ours_space, theirs_space = _mixed_space(hpo_core), _mixed_space(optuna)
    for _ in range(300):
        for name in ours_space:
            a = ours.external(ours_space[name])
            b = theirs.sample_independent(study, trial, name, theirs_space[name])
            assert a == b and type(a) is type(b), name
    assert np.array_equal(ours.stream.sync().get_state()[1], theirs._rng.rng.get_state()[1])


@pytest.mark.parametrize("operator", ["BLXAlphaCrossover", "SBXCrossover", "SPXCrossover", "UNDXCrossover",
                                      "VSBXCrossover", "PolynomialMutation"])
def test_nsga_same_trials_as_optuna_with_other_operators(operator: str) -> None:
    def kwargs(lib: Any) -> dict[str, Any]:
        op = getattr(lib.samplers.nsgaii, operator)()
        return {"seed": 3, "population_size": 12, ("mutation" if operator == "PolynomialMutation" else "crossover"): op}

    _assert_same_trials(_ask_tell(hpo_core, "NSGAIISampler", 72, **kwargs(hpo_core)),
                        _ask_tell(optuna, "NSGAIISampler", 72, **kwargs(optuna)))


def test_nsga_legacy_stream_draws_what_random_state_draws() -> None:
    import pickle
    import random

    from hpo_core.samplers._optuna_stream import LegacyStream

    ops = random.Random(1)
    for seed in range(3):
        ref = np.random.RandomState(seed)
        stream = LegacyStream(np.random.RandomState(seed))
        for _ in range(3000):  # some 20,000 words: several blocks
            op = ops.randrange(6)
            if op == 0:
                assert stream.rand() == ref.rand()
            elif op == 1:
                n = ops.randrange(0, 12)
                assert stream.rand_list(n) == ref.rand(n).tolist()
            elif op == 2:
                n = ops.choice([1, 2, 3, 5, 8, 17, 100, 2**20 + 3])
                assert stream.choice(n) == ref.choice(n)
            elif op == 3:
                low, high = ops.uniform(-5, 0), ops.uniform(0, 5)
                assert stream.uniform(low, high) == ref.uniform(low, high)
            elif op == 4 and ops.random() < 0.1:  # other code draws from the generator
                rng = stream.sync()
                a, b = list(range(9)), list(range(9))
                rng.shuffle(a)
                ref.shuffle(b)
                assert a == b and rng.normal() == ref.normal()
            elif op == 5 and ops.random() < 0.05:
                stream = pickle.loads(pickle.dumps(stream))
        assert np.array_equal(stream.sync().get_state()[1], ref.get_state()[1])


def _conditional(trial: Any) -> tuple[float, float]:
    # z only when x > 0.5, between x and w: Optuna draws a mutated w after z.
    x = trial.suggest_float("x", 0.0, 1.0)
    z = trial.suggest_float("z", 0.0, 1.0) if x > 0.5 else 0.3
    w = trial.suggest_float("w", 0.0, 1.0)
    return x + z, 1.0 - x + w


def _disjoint(trial: Any) -> tuple[float, float]:
    # Two kinds of trial without a common float: the joint space is {c} at most.
    trial.suggest_categorical("c", ["a", "b"])
    if trial.number % 3:
        x = trial.suggest_float("x", 0.0, 1.0)
        return x, 1.0 - x
    y = trial.suggest_float("y", 0.0, 1.0)
    return y, y * y


@pytest.mark.parametrize("name", ["NSGAIISampler", "NSGAIIISampler"])
@pytest.mark.parametrize("objective", [_conditional, _disjoint])
def test_nsga_same_trials_as_optuna_define_by_run_conditional(name: str, objective: Any) -> None:
    kwargs = {"seed": 1, "population_size": 8}
    _assert_same_trials(_optimize(hpo_core, name, objective, 2, 56, **kwargs),
                        _optimize(optuna, name, objective, 2, 56, **kwargs))


@pytest.mark.parametrize("name", ["NSGAIISampler", "NSGAIIISampler"])
def test_nsga_same_trials_as_optuna_with_enqueued_trial(name: str) -> None:
    # A trial whose parameters are all given never samples: in Optuna it gets no
    # generation and breeds no child, and the later trials depend on both.
    def run(lib: Any) -> list[dict[str, Any]]:
        study = lib.create_study(directions=["minimize"] * 2, sampler=_sampler(lib, name, seed=0, population_size=10))
        study.optimize(_zdt1, n_trials=25)
        study.enqueue_trial({f"x{i}": 0.05 * i for i in range(12)})
        study.optimize(_zdt1, n_trials=30)
        return [t.params for t in study.trials]

    _assert_same_trials(run(hpo_core), run(optuna))


def test_nsga_same_trials_as_optuna_with_custom_strategies() -> None:
    def elite(study: Any, population: list[Any]) -> list[Any]:
        return sorted(population, key=lambda t: t.values[0])[:4]

    def child(study: Any, space: dict[str, Any], parents: list[Any]) -> dict[str, Any]:
        return {"x": parents[0].params["x"]}  # y is left to the random draws

    def objective(trial: Any) -> tuple[float, float]:
        return trial.suggest_float("x", 0.0, 1.0), trial.suggest_float("y", 0.0, 1.0)

    kwargs = {"seed": 0, "population_size": 4, "elite_population_selection_strategy": elite,
              "child_generation_strategy": child}
    _assert_same_trials(_optimize(hpo_core, "NSGAIISampler", objective, 2, 20, **kwargs),
                        _optimize(optuna, "NSGAIISampler", objective, 2, 20, **kwargs))


@pytest.mark.parametrize("case", ["all_given", "some_given", "reordered_space"])
def test_nsga_same_trials_as_optuna_ask_tell_with_queue_and_order(case: str) -> None:
    # ask(space) claiming an enqueued trial samples parameter by parameter (a given value
    # is not drawn; no child where all are given); a space asked in another order is
    # drawn in that order.
    all_given = {"f": 1.0, "f_log": 0.01, "f_step": 0.5, "i": 3, "i_log": 4, "i_step": 10, "c": "b", "a_float": 0.5}

    def run(lib: Any) -> list[dict[str, Any]]:
        study = lib.create_study(directions=["minimize"] * 2, sampler=_sampler(lib, "NSGAIISampler", seed=2,
                                                                                population_size=10))
        space = _mixed_space(lib)
        spaces = [space, dict(reversed(list(space.items())))] if case == "reordered_space" else [space]
        if lib is hpo_core:
            spaces = [hpo_core.SearchSpace(s) for s in spaces]
        for i in range(70):
            if case != "reordered_space" and i in (25, 43):
                study.enqueue_trial(all_given if case == "all_given" else {"f": 1.0, "c": "b", "i_log": 8})
            t = study.ask(spaces[i % len(spaces)])
            study.tell(t, _mixed_values(t.params))
        return [t.params for t in study.trials]

    _assert_same_trials(run(hpo_core), run(optuna))
