"""Pruners stop unpromising trials early."""

from hpo_core.pruners._base import BasePruner, NopPruner
from hpo_core.pruners._hyperband import HyperbandPruner
from hpo_core.pruners._multi_objective import (
    MultiObjectiveMedianPruner,
    MultiObjectiveSuccessiveHalvingPruner,
)
from hpo_core.pruners._patient import PatientPruner
from hpo_core.pruners._percentile import MedianPruner, PercentilePruner
from hpo_core.pruners._successive_halving import SuccessiveHalvingPruner
from hpo_core.pruners._threshold import ThresholdPruner
from hpo_core.pruners._wilcoxon import WilcoxonPruner

__all__ = [
    "BasePruner",
    "HyperbandPruner",
    "MedianPruner",
    "MultiObjectiveMedianPruner",
    "MultiObjectiveSuccessiveHalvingPruner",
    "NopPruner",
    "PatientPruner",
    "PercentilePruner",
    "SuccessiveHalvingPruner",
    "ThresholdPruner",
    "WilcoxonPruner",
]
