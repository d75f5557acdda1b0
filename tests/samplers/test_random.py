from __future__ import annotations

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import FloatDistribution, IntDistribution, SearchSpace
from hpo_core.samplers import RandomSampler
from hpo_core.testing import SamplerContract


class TestRandomSamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> RandomSampler:
        return RandomSampler(seed=seed)


def test_random_seed_rejected_when_negative() -> None:
    with pytest.raises(ValueError, match="`seed`"):
        RandomSampler(seed=-1)


def test_random_seed_rejected_when_not_int() -> None:
    with pytest.raises(TypeError, match="`seed`"):
        RandomSampler(seed="1")  # type: ignore[arg-type]


def test_random_log_int_is_uniform_in_log_space() -> None:
    study = hpo_core.create_study(sampler=RandomSampler(seed=0))
    space = SearchSpace({"n": IntDistribution(1, 1024, log=True)})
    batch = study.ask_array(space, 20000)
    logs = np.log2(batch.params[:, 0])
    # About half of the mass lies below sqrt(1024) = 32 on a log scale.
    assert 0.45 < np.mean(logs < 5) < 0.55


def test_random_float_uniform_moments() -> None:
    study = hpo_core.create_study(sampler=RandomSampler(seed=1))
    space = SearchSpace({"x": FloatDistribution(-1.0, 3.0)})
    x = study.ask_array(space, 50000).params[:, 0]
    assert abs(x.mean() - 1.0) < 0.03 and abs(x.var() - 16 / 12) < 0.03
