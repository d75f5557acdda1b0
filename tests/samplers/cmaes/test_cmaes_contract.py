"""CmaEsSampler against the shared sampler contract (plain, with margin, separable)."""

from __future__ import annotations

import pytest

from hpo_core.samplers import CmaEsSampler
from hpo_core.testing import SamplerContract

pytest.importorskip("cmaes", reason="CmaEsSampler needs `pip install 'hpo_core[cmaes]'`")


class TestCmaEsSamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> CmaEsSampler:
        return CmaEsSampler(seed=seed, warn_independent_sampling=False)


class TestCmaEsWithMarginContract(SamplerContract):
    def make_sampler(self, seed: int) -> CmaEsSampler:
        return CmaEsSampler(seed=seed, with_margin=True, warn_independent_sampling=False)


class TestSepCmaEsContract(SamplerContract):
    def make_sampler(self, seed: int) -> CmaEsSampler:
        return CmaEsSampler(seed=seed, use_separable_cma=True, restart_strategy="ipop",
                            warn_independent_sampling=False)
