"""Samplers propose parameter values for new trials."""

from hpo_core.samplers._base import BaseSampler
from hpo_core.samplers._grid import GridSampler
from hpo_core.samplers._qmc import QMCSampler
from hpo_core.samplers._random import RandomSampler
from hpo_core.samplers.tpe import TPESampler

__all__ = ["BaseSampler", "GridSampler", "QMCSampler", "RandomSampler", "TPESampler"]
