"""Automatic termination of a study (Optuna 5.0's ``optuna.terminator``): stop when the
room left for improvement falls below the statistical error of the objective.

The GP evaluators (:class:`RegretBoundEvaluator`, :class:`EMMREvaluator`) run on
GPSampler's GP (``hpo_core.samplers.gp``: its model and acquisition search, under
Optuna's hyperparameter prior), no torch. Same names, arguments and defaults as Optuna's;
the differences (the UCB search) are stated in each class. As in Optuna 5.0, where the
module is deprecated, ``Terminator``, ``TerminatorCallback`` and
``report_cross_validation_scores`` warn a ``FutureWarning``.

Example:
    >>> import hpo_core
    >>> from hpo_core.terminator import Terminator, TerminatorCallback
    >>> callback = TerminatorCallback(Terminator())  # with report_cross_validation_scores
"""

from __future__ import annotations

from hpo_core.terminator._emmr import EMMREvaluator
from hpo_core.terminator._erroreval import (
    BaseErrorEvaluator,
    CrossValidationErrorEvaluator,
    MedianErrorEvaluator,
    StaticErrorEvaluator,
    report_cross_validation_scores,
)
from hpo_core.terminator._improvement import (
    BaseImprovementEvaluator,
    BestValueStagnationEvaluator,
    RegretBoundEvaluator,
)
from hpo_core.terminator._terminator import BaseTerminator, Terminator, TerminatorCallback

__all__ = [
    "BaseErrorEvaluator",
    "BaseImprovementEvaluator",
    "BaseTerminator",
    "BestValueStagnationEvaluator",
    "CrossValidationErrorEvaluator",
    "EMMREvaluator",
    "MedianErrorEvaluator",
    "RegretBoundEvaluator",
    "StaticErrorEvaluator",
    "Terminator",
    "TerminatorCallback",
    "report_cross_validation_scores",
]
