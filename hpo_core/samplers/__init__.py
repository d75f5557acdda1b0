"""Samplers propose parameter values for new trials.

``GPSampler``, ``AutoSampler`` (which holds a GPSampler) and ``CmaEsSampler`` (the
``cmaes`` package) are imported on first use (they pull in SciPy's optimisers), so that
``import hpo_core`` stays fast for studies that never use them.
"""

from typing import Any

from hpo_core.samplers._base import BaseSampler, visible_rows
from hpo_core.samplers._brute_force import BruteForceSampler
from hpo_core.samplers._ga_base import BaseGASampler
from hpo_core.samplers._grid import GridSampler
from hpo_core.samplers._partial_fixed import PartialFixedSampler
from hpo_core.samplers._qmc import QMCSampler
from hpo_core.samplers._random import RandomSampler
from hpo_core.samplers.tpe import TPESampler

__all__ = [
    "AutoSampler", "BaseGASampler", "BaseSampler", "BruteForceSampler", "CmaEsSampler", "GPSampler", "GridSampler", "NSGAIIISampler", "NSGAIISampler",
    "PartialFixedSampler", "QMCSampler", "RandomSampler", "TPESampler", "visible_rows",
]


def __getattr__(name: str) -> Any:
    if name == "GPSampler":
        from hpo_core.samplers.gp import GPSampler

        return GPSampler
    if name == "CmaEsSampler":
        from hpo_core.samplers.cmaes import CmaEsSampler

        return CmaEsSampler
    if name in ("NSGAIISampler", "NSGAIIISampler"):
        from hpo_core.samplers import nsga

        return getattr(nsga, name)
    if name == "AutoSampler":
        from hpo_core.samplers._auto import AutoSampler

        return AutoSampler
    if name == "nsgaii":  # Optuna's module of the NSGA operators, as an attribute
        import importlib

        return importlib.import_module("hpo_core.samplers.nsgaii")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
