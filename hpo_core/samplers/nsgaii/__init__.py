"""The operators of :class:`~hpo_core.samplers.NSGAIISampler` and
:class:`~hpo_core.samplers.NSGAIIISampler`, under Optuna's module name
(``optuna.samplers.nsgaii``)."""

from hpo_core.samplers.nsga import (
    BaseCrossover,
    BaseMutation,
    BLXAlphaCrossover,
    PolynomialMutation,
    SBXCrossover,
    SPXCrossover,
    UNDXCrossover,
    UniformCrossover,
    VSBXCrossover,
)

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "BaseMutation",
    "PolynomialMutation",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]
