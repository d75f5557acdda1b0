"""Pruners stop unpromising trials early."""

from hpo_core.pruners._base import BasePruner, NopPruner

__all__ = ["BasePruner", "NopPruner"]
