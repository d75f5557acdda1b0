"""Optuna's ``RandomSampler`` draws under their NSGA names; they live in
:mod:`hpo_core.samplers._optuna_stream`."""

from hpo_core.samplers._optuna_stream import OptunaRandom, code_of, untransform

__all__ = ["OptunaRandom", "code_of", "untransform"]
