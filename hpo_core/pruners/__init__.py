"""Pruners stop unpromising trials early."""

from hpo_core.pruners._base import BasePruner, NopPruner
from hpo_core.pruners._percentile import MedianPruner, PercentilePruner

__all__ = ["BasePruner", "MedianPruner", "NopPruner", "PercentilePruner"]
