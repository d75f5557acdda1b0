"""Error evaluators: the statistical error the room for improvement is compared with
(Optuna 5.0's ``optuna.terminator.erroreval`` and ``median_erroreval``)."""

from __future__ import annotations

import abc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hpo_core._deprecation import warn_deprecated as _warn_deprecated
from hpo_core._validation import check_int, check_real, format_error
from hpo_core.terminator._arrays import complete
from hpo_core.trial import FrozenTrial, StudyDirection

if TYPE_CHECKING:
    from hpo_core.terminator._improvement import BaseImprovementEvaluator
    from hpo_core.trial import Trial

__all__ = [
    "BaseErrorEvaluator",
    "CrossValidationErrorEvaluator",
    "MedianErrorEvaluator",
    "StaticErrorEvaluator",
    "report_cross_validation_scores",
]

#: The trial system attribute holding the scores (Optuna's key, so studies move both ways).
_CROSS_VALIDATION_SCORES_KEY = "terminator:cv_scores"


def warn_module_deprecated() -> None:
    """Optuna 5.0's FutureWarning: ``optuna.terminator`` is deprecated there (removal in
    6.0), and ``Terminator``, ``TerminatorCallback`` and ``report_cross_validation_scores``
    say so; so do ours, with the same text, so that code moving between the two warns alike."""
    _warn_deprecated("`optuna.terminator` module", "4.9.0", stacklevel=3)


class BaseErrorEvaluator(metaclass=abc.ABCMeta):
    """Base class for error evaluators."""

    @abc.abstractmethod
    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        pass


class CrossValidationErrorEvaluator(BaseErrorEvaluator):
    """The statistical error of an objective that is a mean of k cross-validation scores:
    the scaled standard deviation ``sqrt((1/k + 1/(k - 1)) var(scores))`` of the best
    COMPLETE trial's scores (reported by :func:`report_cross_validation_scores`).

    Raises:
        ValueError: ``evaluate`` when the best trial has no reported scores.
    """

    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        done = complete(trials)
        if not done:
            raise ValueError(
                format_error(
                    "trials",
                    "a list with at least one COMPLETE trial",
                    [],
                    owner="CrossValidationErrorEvaluator",
                )
            )
        values = np.array([t.value for t in done], dtype=np.float64)
        best = done[
            int(np.argmax(values) if study_direction == StudyDirection.MAXIMIZE else np.argmin(values))
        ]
        scores = best.system_attrs.get(_CROSS_VALIDATION_SCORES_KEY)
        if scores is None:
            raise ValueError(
                "Cross-validation scores have not been reported. Please call "
                "`report_cross_validation_scores(trial, scores)` during a trial and pass the "
                "list of scores as `scores`."
            )
        k = len(scores)
        # Nadeau and Bengio's correction of the variance of a k-fold mean (1/k + 1/(k - 1)).
        return float(np.sqrt((1.0 / k + 1.0 / (k - 1)) * np.var(scores)))


def report_cross_validation_scores(trial: Trial, scores: Sequence[float] | Any) -> None:
    """Store a trial's cross-validation scores (more than one) for
    :class:`CrossValidationErrorEvaluator`, as the system attribute Optuna uses.

    Args:
        trial: The running trial.
        scores: The k > 1 scores, e.g. ``sklearn.model_selection.cross_val_score``'s
            array (stored as a list of floats).

    Raises:
        ValueError: fewer than two scores.
    """
    warn_module_deprecated()
    values = [float(s) for s in scores]
    if len(values) <= 1:
        raise ValueError(format_error("scores", "a sequence of more than one score", scores))
    trial.set_system_attr(_CROSS_VALIDATION_SCORES_KEY, values)


class StaticErrorEvaluator(BaseErrorEvaluator):
    """An error evaluator that always returns ``constant`` (a fixed threshold on the
    improvement).

    Args:
        constant: The value returned.
    """

    def __init__(self, constant: float) -> None:
        self._constant = cast(
            float, check_real("constant", constant, allow_inf=True, owner="StaticErrorEvaluator")
        )

    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        return self._constant


class MedianErrorEvaluator(BaseErrorEvaluator):
    """A threshold at ``threshold_ratio`` times the median of the paired improvement
    evaluator's values over the first trials (Ishibashi et al. 2023's heuristic).

    Once ``warm_up_trials + n_initial_trials`` trials are COMPLETE, the paired evaluator
    is run on the i trials that follow the warm-up ones (often random, left out), for
    i = 1..``n_initial_trials`` (in trial-number order), and the threshold is the
    median (the upper one of an even count) times ``threshold_ratio``, computed once and
    kept. Before that the error is ``-sys.float_info.min`` (never terminate).

    Args:
        paired_improvement_evaluator: The improvement evaluator used with this one.
        warm_up_trials: Initial trials skipped.
        n_initial_trials: Trials whose improvements make the median.
        threshold_ratio: The threshold as a fraction of that median.

    Raises:
        ValueError: ``warm_up_trials`` is negative, ``n_initial_trials`` is not positive or
            ``threshold_ratio`` is not a finite positive number.
    """

    def __init__(
        self,
        paired_improvement_evaluator: BaseImprovementEvaluator,
        warm_up_trials: int = 10,
        n_initial_trials: int = 20,
        threshold_ratio: float = 0.01,
    ) -> None:
        owner = "MedianErrorEvaluator"
        self._paired_improvement_evaluator = paired_improvement_evaluator
        self._warm_up_trials = cast(int, check_int("warm_up_trials", warm_up_trials, low=0, owner=owner))
        self._n_initial_trials = cast(
            int, check_int("n_initial_trials", n_initial_trials, low=1, owner=owner)
        )
        self._threshold_ratio = cast(
            float, check_real("threshold_ratio", threshold_ratio, low=0.0, low_open=True, owner=owner)
        )
        self._threshold: float | None = None

    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        if self._threshold is not None:
            return self._threshold
        done = complete(trials)
        if len(done) < self._warm_up_trials + self._n_initial_trials:
            return -sys.float_info.min  # never terminate: an improvement is non-negative
        done.sort(key=lambda t: t.number)
        start = self._warm_up_trials
        criteria = sorted(
            self._paired_improvement_evaluator.evaluate(done[start : start + i], study_direction)
            for i in range(1, self._n_initial_trials + 1)
        )
        self._threshold = min(sys.float_info.max, criteria[len(criteria) // 2] * self._threshold_ratio)
        return self._threshold
