"""NSGAIISampler and NSGAIIISampler: generations, variation, constraints, arguments."""

from __future__ import annotations

import math
import pickle
import warnings
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution, SearchSpace
from hpo_core.exceptions import ExperimentalWarning
from hpo_core.samplers import NSGAIIISampler, NSGAIISampler
from hpo_core.samplers.nsga import _selection
from hpo_core.samplers.nsgaii import BLXAlphaCrossover, PolynomialMutation, SBXCrossover, UNDXCrossover
from hpo_core.trial import FrozenTrial, TrialState

SAMPLERS = [NSGAIISampler, NSGAIIISampler]


def _mixed(trial: Any) -> tuple[float, float]:
    x = trial.suggest_float("x", -2.0, 2.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    n = trial.suggest_int("n", 0, 10)
    k = trial.suggest_int("k", 1, 64, log=True)
    s = trial.suggest_int("s", 0, 20, step=5)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    bonus = {"a": 0.0, "b": 0.3, "c": 0.6}[c]
    return x**2 + q + bonus + n / 10, (x - 1) ** 2 + math.log(lr) / 10 + k / 64 + s / 20


def _study(sampler: Any, m: int = 2, **kw: Any) -> hpo_core.Study:
    return hpo_core.create_study(directions=["minimize"] * m, sampler=sampler, **kw)


@pytest.mark.parametrize("cls", SAMPLERS)
def test_nsga_reproducible_with_seed(cls: Any) -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = _study(cls(population_size=6, seed=seed))
        study.optimize(_mixed, n_trials=40)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


@pytest.mark.parametrize("cls", SAMPLERS)
def test_nsga_generations_and_stored_parents(cls: Any) -> None:
    pop = 5
    study = _study(cls(population_size=pop, seed=0))
    study.optimize(_mixed, n_trials=8 * pop)
    gens = [t.system_attrs["generation"] for t in study.trials]
    assert gens == [i // pop for i in range(8 * pop)]  # one worker: each generation fills in turn
    col = study.view.sync().numeric_column("generation")
    assert col is not None
    np.testing.assert_array_equal(col[:, 0], gens)  # the typed column
    attrs = study.system_attrs
    name = cls.__name__
    assert attrs[f"{name}:parent:1"] is None or sorted(attrs[f"{name}:parent:1"]) == list(range(pop))
    # Parents of generation 7 = elite of generation 6 and of generation 6's parents.
    p6, p7 = attrs[f"{name}:parent:6"], attrs[f"{name}:parent:7"]
    assert len(p7) == pop and set(p7) <= set(p6) | set(range(6 * pop, 7 * pop))
    if cls is NSGAIISampler:
        pool = np.array(list(range(6 * pop, 7 * pop)) + sorted(p6))
        values = np.array([study.trials[i].values for i in pool])
        assert pool[_selection.select_nsga2(values, values, None, pop)].tolist() == p7
    # Only the last two generations' parent lists are kept.
    kept = [g for g in range(1, 8) if attrs.get(f"{name}:parent:{g}") is not None]
    assert kept == [6, 7]


def test_nsga_generation_counts_only_complete_trials() -> None:
    study = _study(NSGAIISampler(population_size=3, seed=0))
    for i in range(9):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        if i % 3 == 2:
            study.tell(t, state=TrialState.FAIL)
        else:
            study.tell(t, [float(i), -float(i)])
    gens = [t.system_attrs["generation"] for t in study.trials]
    # Generation 0 is full once three trials of it are COMPLETE (the FAIL ones do not count).
    assert gens[:5] == [0, 0, 0, 0, 1]  # trials 0, 1, 3 complete generation 0


def test_nsga_children_are_made_of_parent_genes() -> None:
    sampler = NSGAIISampler(population_size=6, seed=1, crossover_prob=1.0, mutation_prob=0.0)
    study = _study(sampler)
    study.optimize(_mixed, n_trials=60)
    trials = study.trials
    attrs = study.system_attrs
    for t in trials[12:]:
        g = t.system_attrs["generation"]
        parents = attrs.get(f"NSGAIISampler:parent:{g}")
        if parents is None:
            continue
        for name, value in t.params.items():
            assert value in {trials[p].params[name] for p in parents}, (t.number, name)


@pytest.mark.parametrize("crossover", [SBXCrossover(), BLXAlphaCrossover(), UNDXCrossover()])
def test_nsga_int_log_step_and_categorical_values_inside(crossover: Any) -> None:
    study = _study(NSGAIISampler(population_size=6, seed=0, crossover=crossover, mutation=PolynomialMutation()))
    study.optimize(_mixed, n_trials=60)
    for t in study.trials:
        for name, value in t.params.items():
            dist = t.distributions[name]
            assert dist.contains(dist.to_internal_repr(value)), (name, value)
        assert isinstance(t.params["n"], int) and isinstance(t.params["k"], int) and t.params["s"] % 5 == 0
        assert t.params["q"] in (0.0, 0.25, 0.5, 0.75, 1.0) and t.params["c"] in ("a", "b", "c")


def test_nsga_ask_with_a_space_single_values_and_missing_parameters() -> None:
    study = _study(NSGAIISampler(population_size=4, seed=0))
    space = SearchSpace({"x": FloatDistribution(0, 1), "one": FloatDistribution(2.0, 2.0),
                         "c": CategoricalDistribution([1, 2, 3]), "i": IntDistribution(-3, 3)})
    for _ in range(20):
        t = study.ask(space)
        assert t.params["one"] == 2.0
        study.tell(t, [t.params["x"], 1 - t.params["x"]])
    wider = SearchSpace({**dict(space.items()), "new": FloatDistribution(5, 6)})  # no parent has "new"
    news = []
    for _ in range(8):
        t = study.ask(wider)
        news.append(t.params["new"])
        study.tell(t, [t.params["x"], 1 - t.params["x"]])
    assert all(5 <= v <= 6 for v in news) and len(set(news)) == len(news)


def test_nsga_constraints_stored_and_feasible_parents_preferred() -> None:
    def constraints(t: FrozenTrial) -> list[float]:
        return [0.5 - t.params["x"]]  # feasible iff x >= 0.5

    sampler = NSGAIISampler(population_size=8, seed=0, constraints_func=constraints)
    study = _study(sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1 - t.suggest_float("y", 0, 1)), n_trials=80)
    for t in study.trials:
        assert t.system_attrs["constraints"] == [0.5 - t.params["x"]]
    parents = study.system_attrs["NSGAIISampler:parent:9"]
    assert all(study.trials[p].params["x"] >= 0.5 for p in parents)  # enough feasible trials by now
    late = np.array([t.params["x"] for t in study.trials[40:]])
    # Minimising f0 = x pushes x down; without the constraint most children fall below 0.5.
    free = _study(NSGAIISampler(population_size=8, seed=0))
    free.optimize(lambda t: (t.suggest_float("x", 0, 1), 1 - t.suggest_float("y", 0, 1)), n_trials=80)
    late_free = np.array([t.params["x"] for t in free.trials[40:]])
    assert np.mean(late >= 0.5) > 0.55 > np.mean(late_free >= 0.5)


def test_nsga_constraints_func_errors() -> None:
    study = _study(NSGAIISampler(seed=0, constraints_func=lambda t: [float("nan")]))
    t = study.ask()
    t.suggest_float("x", 0, 1)
    with pytest.raises(ValueError, match="constraints_func"):
        study.tell(t, [0.0, 0.0])
    study = _study(NSGAIISampler(seed=0, constraints_func=lambda t: "bad"))
    t = study.ask()
    t.suggest_float("x", 0, 1)
    with pytest.raises(TypeError, match="constraints_func"):
        study.tell(t, [0.0, 0.0])


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"population_size": 1}, ValueError, "population_size"),
    ({"population_size": 2.5}, TypeError, "population_size"),
    ({"population_size": 2, "crossover": UNDXCrossover()}, ValueError, "population_size"),
    ({"crossover": "sbx"}, TypeError, "crossover"),
    ({"mutation": "polynomial"}, TypeError, "mutation"),
    ({"mutation_prob": 1.5}, ValueError, "mutation_prob"),
    ({"crossover_prob": -0.1}, ValueError, "crossover_prob"),
    ({"swapping_prob": 2.0}, ValueError, "swapping_prob"),
    ({"seed": -1}, ValueError, "seed"),
    ({"constraints_func": 3}, TypeError, "constraints_func"),
    ({"elite_population_selection_strategy": 3}, TypeError, "elite_population_selection_strategy"),
    ({"child_generation_strategy": 3}, TypeError, "child_generation_strategy"),
    ({"after_trial_strategy": 3}, TypeError, "after_trial_strategy"),
])
@pytest.mark.parametrize("cls", SAMPLERS)
def test_nsga_bad_arguments_named(cls: Any, kwargs: dict[str, Any], error: type[Exception], name: str) -> None:
    with pytest.raises(error, match=f"{cls.__name__}: `{name}`"):
        cls(**kwargs)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"dividing_parameter": 0}, "dividing_parameter"),
    ({"reference_points": np.zeros(3)}, "reference_points"),
    ({"reference_points": np.zeros((2, 2))}, "reference_points"),
    ({"reference_points": [[1.0, np.nan]]}, "reference_points"),
])
def test_nsga3_bad_reference_arguments_named(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        NSGAIIISampler(**kwargs)


@pytest.mark.filterwarnings("ignore::hpo_core.exceptions.FailedTrialWarning")
def test_nsga3_reference_points_must_match_the_objectives() -> None:
    study = _study(NSGAIIISampler(population_size=4, seed=0, reference_points=np.eye(3)), m=2)
    with pytest.raises(ValueError, match="reference_points"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=12)


def test_nsga3_custom_reference_points_steer_the_front() -> None:
    # Both reference lines run along the f0 axis (f1 near 0): of the front f1 = 1 - f0,
    # the survivors closest to them are the trials with small f1, i.e. large x.
    ref = np.array([[1.0, 0.01], [1.0, 0.02]])
    study = _study(NSGAIIISampler(population_size=10, seed=0, reference_points=ref))
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1 - t.params["x"] + 0 * t.suggest_float("y", 0, 1)),
                   n_trials=100)
    assert np.median([t.params["x"] for t in study.trials[60:]]) > 0.5


def test_nsga_custom_strategies_are_called() -> None:
    calls: dict[str, int] = {"elite": 0, "child": 0, "after": 0}

    def elite(study: Any, population: list[FrozenTrial]) -> list[FrozenTrial]:
        calls["elite"] += 1
        assert all(isinstance(t, FrozenTrial) for t in population)
        return sorted(population, key=lambda t: t.values[0] if t.values else 0.0)[:4]

    def child(study: Any, space: dict[str, Any], parents: list[FrozenTrial]) -> dict[str, Any]:
        calls["child"] += 1
        assert len(parents) == 4 and set(space) == {"x", "y"}
        return {"x": parents[0].params["x"]}

    def after(study: Any, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        calls["after"] += 1
        assert isinstance(trial, FrozenTrial) and state == TrialState.COMPLETE

    with pytest.warns(ExperimentalWarning) as record:
        sampler = NSGAIISampler(population_size=4, seed=0, elite_population_selection_strategy=elite,
                                child_generation_strategy=child, after_trial_strategy=after)
    messages = " ".join(str(w.message) for w in record)
    for name in ("elite_population_selection_strategy", "child_generation_strategy", "after_trial_strategy"):
        assert name in messages
    study = _study(sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=20)
    assert calls["after"] == 20 and calls["child"] >= 12 and calls["elite"] >= 3
    # As in Optuna: the child of the ask that selects the parents sees them in the
    # strategy's order (best first), later children in trial order (all 4 are elite).
    best_x = min(t.params["x"] for t in study.trials[:4])
    assert study.trials[4].params["x"] == best_x
    assert all(t.params["x"] == study.trials[0].params["x"] for t in study.trials[5:8])


def test_nsga_pickled_sampler_resumes_from_the_study() -> None:
    study = _study(NSGAIISampler(population_size=5, seed=0))
    study.optimize(_mixed, n_trials=23)
    clone = pickle.loads(pickle.dumps(study.sampler))
    study.sampler = clone  # a new sampler object reads the generations again from the study
    study.optimize(_mixed, n_trials=17)
    gens = [t.system_attrs["generation"] for t in study.trials]
    assert gens == [i // 5 for i in range(40)]


def test_nsga_ask_reads_only_new_rows() -> None:
    sampler = NSGAIISampler(population_size=10, seed=0)
    study = _study(sampler)
    space = SearchSpace({"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)})
    for _ in range(300):
        t = study.ask(space)
        study.tell(t, [t.params["x"], t.params["y"]])
    gens = sampler._gens
    assert gens.cursor == 300 and len(gens.open) <= 1
    assert set(gens.by_gen) <= {28, 29, 30}  # older generations dropped
    assert set(sampler._parents) <= {28, 29, 30}


def test_nsga_reseed_and_threads_do_not_break() -> None:
    sampler = NSGAIISampler(population_size=8, seed=0)
    sampler.reseed_rng()
    study = _study(sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning in a plain run
        study.optimize(_mixed, n_trials=60, n_jobs=3)
    assert len(study.trials) == 60
    assert max(t.system_attrs["generation"] for t in study.trials) >= 5


def test_nsga_new_sampler_selects_missing_parents_from_the_history() -> None:
    study = _study(NSGAIISampler(population_size=5, seed=0))
    study.optimize(_mixed, n_trials=40)
    expected = study.system_attrs["NSGAIISampler:parent:7"]
    for g in range(1, 8):  # as if another sampler had run the study: no stored parents
        study.set_system_attr(f"NSGAIISampler:parent:{g}", None)
    study.sampler = NSGAIISampler(population_size=5, seed=1)
    study.optimize(_mixed, n_trials=1)
    attrs = study.system_attrs
    # Generations 1-8 selected again from the history, generation by generation: the
    # same parents as before for 7, and only the last two lists kept.
    assert [g for g in range(1, 9) if attrs.get(f"NSGAIISampler:parent:{g}") is not None] == [7, 8]
    assert attrs["NSGAIISampler:parent:7"] == expected


def test_nsga_optuna_ga_methods() -> None:
    sampler = NSGAIISampler(population_size=5, seed=0)
    study = _study(sampler)
    study.optimize(_mixed, n_trials=23)
    trials = study.trials
    assert sampler.population_size == 5
    assert sampler.get_trial_generation(study, trials[12]) == 2
    assert [t.number for t in sampler.get_population(study, 2)] == list(range(10, 15))
    assert sampler.get_parent_population(study, 0) == []
    parents = sampler.get_parent_population(study, 4)
    assert sorted(t.number for t in parents) == sorted(study.system_attrs["NSGAIISampler:parent:4"])
    assert {t.number for t in sampler.select_parent(study, 4)} == {t.number for t in parents}


def test_nsga_under_partial_fixed_sampler_breeds_children_from_parents() -> None:
    # The wrapper asks for the inferred space without the fixed parameter: the child bred
    # at the first suggest serves it (no second child, no fixed value drawn).
    sampler = hpo_core.samplers.PartialFixedSampler({"y": 0.25}, NSGAIISampler(seed=0, population_size=6))
    study = _study(sampler)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1) + t.suggest_float("z", 0, 1)),
                   n_trials=36)
    assert all(t.params["y"] == 0.25 for t in study.trials)
    seen: set[float] = set()
    inherited = 0
    for t in study.trials:
        if t.number >= 6:
            inherited += t.params["x"] in seen
        seen.add(t.params["x"])
    assert inherited >= 12  # of 30 children; about 20 expected (x mutates with probability 1/3)
