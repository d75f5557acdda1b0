"""Prune only after a trial stops improving (Optuna's ``PatientPruner``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpo_core._validation import check_int, check_real, format_error
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._percentile import PercentilePruner
from hpo_core.pruners._steps import best_before_and_after, own_reports

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["PatientPruner"]


class PatientPruner(BasePruner):
    """Defers to ``wrapped_pruner`` only when the trial has not improved for ``patience``
    reports.

    With the trial's reports sorted by step, the last ``patience + 1`` are "recent" and
    the others "before". The trial has stalled when the best recent value (NaNs ignored)
    is worse than the best value before by more than ``min_delta``; then the wrapped
    pruner decides (None: prune). With ``patience + 1`` reports or fewer, or all-NaN
    reports on either side, it never prunes. Reads the trial's own reports only, and hands
    them to a wrapped :class:`MedianPruner` or :class:`PercentilePruner` (read and reduced
    once). The decisions are Optuna 5.0's.

    Args:
        wrapped_pruner: the pruner asked once the trial has stalled, or None to prune then.
        patience: number of reports without improvement to tolerate, ``>= 0``.
        min_delta: the smallest change that counts as an improvement, ``>= 0``.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(pruner=PatientPruner(None, patience=1))
        >>> trial = study.ask()
        >>> decisions = []
        >>> for step, loss in enumerate([3.0, 2.0, 2.5, 2.4]):
        ...     trial.report(loss, step)
        ...     decisions.append(trial.should_prune())
        >>> decisions
        [False, False, False, True]
    """

    def __init__(self, wrapped_pruner: BasePruner | None, patience: int, min_delta: float = 0.0) -> None:
        owner = "PatientPruner"
        if wrapped_pruner is not None and not isinstance(wrapped_pruner, BasePruner):
            raise TypeError(format_error("wrapped_pruner", "a BasePruner or None", wrapped_pruner, owner=owner))
        self._wrapped_pruner = wrapped_pruner
        self._patience: int = check_int("patience", patience, low=0, owner=owner)  # type: ignore[assignment]
        self._min_delta: float = check_real("min_delta", min_delta, low=0.0, owner=owner)  # type: ignore[assignment]

    def prune(self, study: Study, trial: Trial) -> bool:
        history, steps, values = own_reports(study, trial)
        recent = self._patience + 1
        if len(values) <= recent:
            return False
        maximize = study.view.signs.item(0) < 0
        before, after = best_before_and_after(values, len(values) - recent, maximize)
        # NaN on either side makes both comparisons False: no pruning, as Optuna.
        stalled = before - self._min_delta > after if maximize else before + self._min_delta < after
        if not stalled:
            return False
        wrapped = self._wrapped_pruner
        if wrapped is None:
            return True
        if isinstance(wrapped, PercentilePruner) and type(wrapped).prune is PercentilePruner.prune:
            # The median-style rules (prune not overridden) take the reports read here;
            # neither side is NaN, so the best of all reports is the better of the two.
            best = max(before, after) if maximize else min(before, after)
            return wrapped._prune_reports(study, history, steps, values, best)
        return wrapped.prune(study, trial)
