"""The sampler contract: subclass :class:`SamplerContract` and implement ``make_sampler``."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from hpo_core.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
)
from hpo_core.samplers import BaseSampler
from hpo_core.study import create_study
from hpo_core.trial import Trial

DISTRIBUTIONS = {
    "float": FloatDistribution(-3.0, 5.0),
    "float_log": FloatDistribution(1e-5, 1e2, log=True),
    "float_step": FloatDistribution(0.0, 1.0, step=0.25),
    "int": IntDistribution(-4, 9),
    "int_log": IntDistribution(1, 1000, log=True),
    "int_step": IntDistribution(0, 20, step=5),
    "cat": CategoricalDistribution(["a", 1, 2.5, None, True]),
    "single": FloatDistribution(2.0, 2.0),
}


def objective(trial: Trial) -> float:
    """Touches every distribution kind, with one conditional parameter."""
    value = 0.0
    for name, dist in DISTRIBUTIONS.items():
        v = trial._suggest(name, dist)
        value += float(v) if isinstance(v, (int, float)) else 0.5
    if trial.params["cat"] == "a":
        value += trial.suggest_float("cond", 0.0, 1.0)
    return value


class SamplerContract:
    """Behaviour every sampler must have. Subclasses implement :meth:`make_sampler`."""

    n_trials = 30

    def make_sampler(self, seed: int) -> BaseSampler:
        raise NotImplementedError

    def _params(self, sampler: BaseSampler, n: int | None = None) -> list[dict[str, Any]]:
        study = create_study(sampler=sampler)
        study.optimize(objective, n_trials=n or self.n_trials)
        return [t.params for t in study.trials]

    def test_sampler_values_inside_distributions(self, seed: int) -> None:
        study = create_study(sampler=self.make_sampler(seed))
        study.optimize(objective, n_trials=self.n_trials)
        for t in study.trials:
            for name, value in t.params.items():
                dist = t.distributions[name]
                assert dist.contains(dist.to_internal_repr(value)), (name, value, dist)
            assert ("cond" in t.params) == (t.params["cat"] == "a")

    def test_sampler_reproducible_with_seed(self, seed: int) -> None:
        assert self._params(self.make_sampler(seed)) == self._params(self.make_sampler(seed))

    def test_sampler_works_with_zero_trials(self, seed: int) -> None:
        study = create_study(sampler=self.make_sampler(seed))
        trial = study.ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        assert 0.0 <= x <= 1.0

    def test_sampler_fixed_space_and_batches_inside(self, seed: int) -> None:
        study = create_study(sampler=self.make_sampler(seed))
        space = SearchSpace({k: v for k, v in DISTRIBUTIONS.items()})
        trials = study.ask(space, n=8) + [study.ask(space) for _ in range(4)]
        for t in trials:
            for name, value in t.params.items():
                dist = space[name]
                assert dist.contains(dist.to_internal_repr(value)), (name, value)
            study.tell(t, 1.0)
        rows = {tuple(sorted(map(str, t.params.items()))) for t in trials}
        assert len(rows) > 1  # a batch is not one point repeated

    def test_sampler_pickle_round_trip_continues_stream(self, seed: int) -> None:
        sampler = self.make_sampler(seed)
        self._params(sampler, 5)
        clone = pickle.loads(pickle.dumps(sampler))
        a = self._params(sampler, 5)
        b = self._params(clone, 5)
        assert a == b

    def test_sampler_values_are_spread(self, seed: int) -> None:
        study = create_study(sampler=self.make_sampler(seed))
        space = SearchSpace({"u": FloatDistribution(0.0, 1.0)})
        xs = np.array([study.ask(space).params["u"] for _ in range(64)])
        # Every quarter of [0, 1] is visited (fails for a constant or stuck sampler).
        assert len(np.unique(np.floor(xs * 4))) == 4
