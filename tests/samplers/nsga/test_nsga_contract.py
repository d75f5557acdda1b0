"""NSGAIISampler and NSGAIIISampler against the shared sampler contract."""

from __future__ import annotations

from hpo_core.samplers import NSGAIIISampler, NSGAIISampler
from hpo_core.samplers.nsgaii import PolynomialMutation, SBXCrossover, UNDXCrossover
from hpo_core.testing import SamplerContract


class TestNSGAIISamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> NSGAIISampler:
        return NSGAIISampler(population_size=4, seed=seed)


class TestNSGAIISBXMutationContract(SamplerContract):
    def make_sampler(self, seed: int) -> NSGAIISampler:
        return NSGAIISampler(population_size=4, seed=seed, crossover=SBXCrossover(), mutation=PolynomialMutation())


class TestNSGAIIUNDXContract(SamplerContract):
    def make_sampler(self, seed: int) -> NSGAIISampler:
        return NSGAIISampler(population_size=5, seed=seed, crossover=UNDXCrossover(), mutation_prob=0.5)


class TestNSGAIIISamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> NSGAIIISampler:
        return NSGAIIISampler(population_size=4, seed=seed)
