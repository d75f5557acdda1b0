"""The terminator and its optimize callback (Optuna 5.0's ``Terminator`` and
``TerminatorCallback``)."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, cast

from hpo_core._validation import check_int, format_error
from hpo_core.logging import get_logger
from hpo_core.terminator._erroreval import (
    BaseErrorEvaluator,
    CrossValidationErrorEvaluator,
    StaticErrorEvaluator,
    warn_module_deprecated,
)
from hpo_core.terminator._improvement import (
    DEFAULT_MIN_N_TRIALS,
    BaseImprovementEvaluator,
    BestValueStagnationEvaluator,
    RegretBoundEvaluator,
)
from hpo_core.trial import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial

__all__ = ["BaseTerminator", "Terminator", "TerminatorCallback"]

_logger = get_logger(__name__)


class BaseTerminator(metaclass=abc.ABCMeta):
    """Base class for terminators."""

    @abc.abstractmethod
    def should_terminate(self, study: Study) -> bool:
        pass


def default_error_evaluator(improvement_evaluator: BaseImprovementEvaluator) -> BaseErrorEvaluator:
    """Optuna's default error for an improvement evaluator: 0 for the stagnation count,
    the cross-validation error otherwise."""
    if isinstance(improvement_evaluator, BestValueStagnationEvaluator):
        return StaticErrorEvaluator(constant=0)
    return CrossValidationErrorEvaluator()


class Terminator(BaseTerminator):
    """Stop a study when the room left for improvement falls below the statistical error
    (Makarova et al., "Automatic Termination for Hyperparameter Optimization", AutoML
    2022).

    ``should_terminate(study)`` is False until ``min_n_trials`` trials are COMPLETE
    (counted from the study's columnar history); then it is
    ``improvement_evaluator.evaluate(study.trials, ...) < error_evaluator.evaluate(...)``.

    As in Optuna 5.0 (where ``optuna.terminator`` is deprecated since 4.9), constructing
    it warns a ``FutureWarning`` with Optuna's text.

    Args:
        improvement_evaluator: The room left; None for :class:`RegretBoundEvaluator`.
        error_evaluator: The error; None for ``StaticErrorEvaluator(constant=0)`` with
            a :class:`BestValueStagnationEvaluator`, else
            :class:`CrossValidationErrorEvaluator` (the objective then calls
            :func:`report_cross_validation_scores`).
        min_n_trials: COMPLETE trials before termination is considered.

    Raises:
        ValueError: ``min_n_trials`` is not positive.

    Example:
        >>> import hpo_core
        >>> from hpo_core.terminator import BestValueStagnationEvaluator, Terminator
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> terminator = Terminator(BestValueStagnationEvaluator(max_stagnation_trials=5), min_n_trials=5)
        >>> for _ in range(1000):
        ...     trial = study.ask()
        ...     study.tell(trial, trial.suggest_float("x", -1, 1) ** 2)
        ...     if terminator.should_terminate(study):
        ...         break
        >>> len(study.trials) < 1000
        True
    """

    def __init__(
        self,
        improvement_evaluator: BaseImprovementEvaluator | None = None,
        error_evaluator: BaseErrorEvaluator | None = None,
        min_n_trials: int = DEFAULT_MIN_N_TRIALS,
    ) -> None:
        warn_module_deprecated()
        for name, value, kind in (
            ("improvement_evaluator", improvement_evaluator, BaseImprovementEvaluator),
            ("error_evaluator", error_evaluator, BaseErrorEvaluator),
        ):
            if value is not None and not isinstance(value, kind):
                raise TypeError(format_error(name, f"a {kind.__name__} or None", value, owner="Terminator"))
        self._min_n_trials = cast(int, check_int("min_n_trials", min_n_trials, low=1, owner="Terminator"))
        self._improvement_evaluator = improvement_evaluator or RegretBoundEvaluator()
        self._error_evaluator = error_evaluator or default_error_evaluator(self._improvement_evaluator)

    def should_terminate(self, study: Study) -> bool:
        """Whether the study should stop: the improvement is below the error."""
        h = study.view.sync()
        if h.count(int(TrialState.COMPLETE)) < self._min_n_trials:
            return False
        trials = study.trials
        improvement = self._improvement_evaluator.evaluate(trials=trials, study_direction=study.direction)
        error = self._error_evaluator.evaluate(trials=trials, study_direction=study.direction)
        return bool(improvement < error)


class TerminatorCallback:
    """An ``optimize`` callback that stops the study when ``terminator`` says so (after
    a finished trial; the log line is Optuna's).

    Args:
        terminator: None for a default :class:`Terminator`.

    Example:
        >>> import hpo_core
        >>> from hpo_core.terminator import BestValueStagnationEvaluator, Terminator, TerminatorCallback
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> stop = TerminatorCallback(Terminator(BestValueStagnationEvaluator(5), min_n_trials=5))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=1000, callbacks=[stop])
        >>> len(study.trials) < 1000
        True
    """

    def __init__(self, terminator: BaseTerminator | None = None) -> None:
        warn_module_deprecated()
        if terminator is not None and not isinstance(terminator, BaseTerminator):
            raise TypeError(
                format_error("terminator", "a BaseTerminator or None", terminator, owner="TerminatorCallback")
            )
        self._terminator = terminator or Terminator()

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        if self._terminator.should_terminate(study=study):
            _logger.info("The study has been stopped by the terminator.")
            study.stop()
