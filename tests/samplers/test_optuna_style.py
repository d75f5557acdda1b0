"""A sampler written against Optuna's BaseSampler methods keeps working."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import FloatDistribution, IntDistribution, TrialState
from hpo_core.samplers import BaseSampler


class OptunaStyleSampler(BaseSampler):
    """Implements only Optuna's five methods, with dicts, as an Optuna sampler would."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.calls: dict[str, int] = {"before": 0, "after": 0, "relative": 0, "independent": 0}
        self.seen_complete: list[int] = []

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {"x": FloatDistribution(-1.0, 1.0)}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        self.calls["relative"] += 1
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        self.seen_complete.append(len(complete))
        # Always the same value: a test can tell it came from here.
        return {"x": 0.25} if "x" in search_space else {}

    def sample_independent(self, study: Any, trial: Any, name: str, distribution: Any) -> Any:
        self.calls["independent"] += 1
        if isinstance(distribution, IntDistribution):
            return int(self.rng.integers(distribution.low, distribution.high + 1))
        return float(self.rng.uniform(distribution.low, distribution.high))

    def before_trial(self, study: Any, trial: Any) -> None:
        self.calls["before"] += 1

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self.calls["after"] += 1


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_optuna_style_sampler_runs_define_by_run(storage: str, tmp_path: Any) -> None:
    sampler = OptunaStyleSampler()
    url = None if storage == "memory" else f"sqlite:///{tmp_path / 's.db'}"
    study = hpo_core.create_study(sampler=sampler, storage=url)

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        n = trial.suggest_int("n", 1, 4)
        return x * n

    study.optimize(objective, n_trials=5)
    assert [t.params["x"] for t in study.trials] == [0.25] * 5  # from sample_relative
    assert all(1 <= t.params["n"] <= 4 for t in study.trials)  # from sample_independent
    assert sampler.calls == {"before": 5, "after": 5, "relative": 5, "independent": 5}
    assert sampler.seen_complete == [0, 1, 2, 3, 4]


def test_optuna_style_sampler_serves_fixed_distributions() -> None:
    sampler = OptunaStyleSampler()
    study = hpo_core.create_study(sampler=sampler)
    trial = study.ask({"x": FloatDistribution(-1.0, 1.0), "y": FloatDistribution(0.0, 1.0)})
    assert trial.params["x"] == 0.25 and 0.0 <= trial.params["y"] <= 1.0
    assert sampler.calls["relative"] == 1 and sampler.calls["independent"] == 1


def test_our_sampler_answers_optunas_sample_relative() -> None:
    sampler = hpo_core.samplers.RandomSampler(seed=1)
    study = hpo_core.create_study(sampler=sampler)
    trial = study.ask()
    out = sampler.sample_relative(study, trial, {"a": IntDistribution(0, 3), "b": FloatDistribution(2.0, 3.0)})
    assert set(out) == {"a", "b"} and isinstance(out["a"], int) and 2.0 <= out["b"] <= 3.0
