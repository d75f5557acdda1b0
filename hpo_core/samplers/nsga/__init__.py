"""NSGA-II and NSGA-III samplers, their crossovers and mutations."""

from hpo_core.samplers.nsga._crossovers import (
    BaseCrossover,
    BLXAlphaCrossover,
    SBXCrossover,
    SPXCrossover,
    UNDXCrossover,
    UniformCrossover,
    VSBXCrossover,
)
from hpo_core.samplers.nsga._mutations import BaseMutation, PolynomialMutation
from hpo_core.samplers.nsga._sampler import NSGAIIISampler, NSGAIISampler

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "BaseMutation",
    "NSGAIIISampler",
    "NSGAIISampler",
    "PolynomialMutation",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]
