"""BaseGASampler: generations and cached parents, as Optuna's for the same subclass."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import hpo_core
from hpo_core.samplers import BaseGASampler


def make(base: type, name: str = "Halves") -> type:
    """The same user-defined GA sampler written against either library's base class."""

    def select_parent(self: Any, study: Any, generation: int) -> list[Any]:
        pop = self.get_population(study, generation - 1)
        return sorted(pop, key=lambda t: (t.value, t.number))[: max(1, len(pop) // 2)]

    def sample_independent(self: Any, study: Any, trial: Any, param_name: str, dist: Any) -> Any:
        generation = self.get_trial_generation(study, trial)
        parents = self.get_parent_population(study, generation)
        if parents:  # a deterministic "mutation" of a parent
            p = parents[trial.number % len(parents)].params[param_name]
            return min(dist.high, max(dist.low, p * 0.5 + 0.01 * (trial.number % 3)))
        return dist.low + (dist.high - dist.low) * ((trial.number * 0.618) % 1.0)

    methods = {
        "select_parent": select_parent,
        "sample_independent": sample_independent,
        "infer_relative_search_space": lambda self, study, trial: {},  # Optuna's abstract methods
        "sample_relative": lambda self, study, trial, space: {},
    }
    return type(name, (base,), methods)


def run(lib: Any, base: type, n: int, storage: Any = None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = lib.create_study(sampler=make(base)(population_size=5), storage=storage)
    study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 0.3) ** 2, n_trials=n)
    return study


def test_generations_and_parents_match_optuna() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    ours = run(hpo_core, BaseGASampler, 23)
    theirs = run(optuna, optuna.samplers.BaseGASampler, 23)
    assert [t.system_attrs["Halves:generation"] for t in ours.trials] == [
        t.system_attrs["Halves:generation"] for t in theirs.trials
    ]
    assert [t.params["x"] for t in ours.trials] == pytest.approx([t.params["x"] for t in theirs.trials])
    cached = {k: v for k, v in ours.system_attrs.items() if k.startswith("Halves:parent:")}
    theirs_attrs = theirs._storage.get_study_system_attrs(theirs._study_id)
    assert sorted(cached) == sorted(k for k in theirs_attrs if k.startswith("Halves:parent:"))
    assert cached and all(len(v) >= 1 for v in cached.values())


def test_parents_are_read_back_from_the_study(tmp_path: Path) -> None:
    """A second sampler object (another worker) on the same SQLite file reuses the
    first one's parent choice instead of selecting again."""
    url = f"sqlite:///{tmp_path / 'ga.db'}"
    study = run(hpo_core, BaseGASampler, 12, storage=url)
    again = hpo_core.load_study(study_name=study.study_name, storage=url)
    sampler = make(BaseGASampler)(population_size=5)
    calls = []
    original = sampler.select_parent
    sampler.select_parent = lambda s, g: calls.append(g) or original(s, g)  # type: ignore[method-assign]
    first = sampler.get_parent_population(again, 1)
    assert calls == [] and [t.trial_id for t in first] == again.system_attrs["Halves:parent:1"]
    assert sampler.get_parent_population(again, 0) == []


def test_population_size_must_be_set() -> None:
    study = hpo_core.create_study(sampler=make(BaseGASampler)(population_size=None))
    with pytest.raises(ValueError, match="population_size"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1, catch=())


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8"])
def test_bad_population_size_is_named(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="population_size"):
        make(BaseGASampler)(population_size=bad)
    sampler = make(BaseGASampler)(population_size=4)
    with pytest.raises((TypeError, ValueError), match="population_size"):
        sampler.population_size = bad
