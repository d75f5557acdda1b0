"""Gaussian-process Bayesian optimisation."""

from hpo_core.samplers.gp._sampler import GPSampler

__all__ = ["GPSampler"]
