"""CMA-ES sampling on the ``cmaes`` package (see :class:`CmaEsSampler`)."""

from hpo_core.samplers.cmaes._sampler import CmaEsSampler

__all__ = ["CmaEsSampler"]
