"""Paired Wilcoxon signed-rank test against the best trial (Optuna's ``WilcoxonPruner``)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from hpo_core._validation import check_int, check_real
from hpo_core.exceptions import HpoWarning
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._signed_rank import signed_rank_pvalue
from hpo_core.pruners._steps import own_reports
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["WilcoxonPruner"]


class WilcoxonPruner(BasePruner):
    """Prunes a trial once a Wilcoxon signed-rank test says, at level ``p_threshold``, that
    it is worse than the best trial on the steps both reported.

    Meant for objectives that average a score over instances (cross-validation folds,
    problem instances, questions): the step is the instance id, in any order, and the
    trial's and the best trial's values at the same step are paired.
    The best trial is Optuna's ``Study.best_trial``: the best COMPLETE trial, or the best
    of those that satisfy their constraints when it does not. The test
    (``scipy.stats.wilcoxon``'s p-value with ``zero_method="zsplit"``, one-sided, computed
    in NumPy without SciPy's per-call overhead: ``_signed_rank.py``) runs once there are at
    least ``max(2, n_startup_steps)`` pairs; a trial whose mean report is at least as good
    as the best trial's mean is kept even when the test rejects. Trials with NaN or
    infinite reports, or a best trial with such reports or none, are never pruned (with
    an :class:`~hpo_core.exceptions.HpoWarning`). Reads the two trials' rows of the step
    index. The decisions are Optuna 5.0's, except that the means are summed in step
    order where Optuna sums in report order (a last-bit difference, seen only when the
    two means are equal to rounding).

    Args:
        p_threshold: in ``[0, 1]``; larger prunes more.
        n_startup_steps: ``>= 0``; no pruning with fewer paired steps (never below 2).

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(pruner=WilcoxonPruner(p_threshold=0.1))
        >>> best = study.ask()
        >>> for i in range(10):
        ...     best.report(0.1 * i, i)
        >>> study.tell(best, 0.45)
        >>> trial = study.ask()
        >>> decisions = []
        >>> for i in range(10):
        ...     trial.report(0.1 * i + 1.0, i)
        ...     decisions.append(trial.should_prune())
        >>> decisions.index(True)
        3
    """

    def __init__(self, *, p_threshold: float = 0.1, n_startup_steps: int = 2) -> None:
        owner = "WilcoxonPruner"
        self._p_threshold: float = check_real("p_threshold", p_threshold, low=0.0, high=1.0, owner=owner)  # type: ignore[assignment]
        self._n_startup_steps: int = check_int("n_startup_steps", n_startup_steps, low=0, owner=owner)  # type: ignore[assignment]

    def prune(self, study: Study, trial: Trial) -> bool:
        history, steps, values = own_reports(study, trial)
        if len(steps) == 0:
            return False
        if not np.isfinite(values).all():
            _warn(f"the reports of trial {trial.number} include NaN or infinity: it is not pruned.")
            return False
        maximize = bool(study.view.signs[0] < 0)
        best = _best_feasible_row(history, maximize)
        if best < 0:
            return False
        best_steps, best_values = history.steps.of_row(best)
        best_values = best_values[:, 0]
        if len(best_steps) == 0:
            _warn(f"the best trial ({best}) reported no values: no trial is pruned.")
            return False
        if not np.isfinite(best_values).all():
            _warn(f"the reports of the best trial ({best}) include NaN or infinity: trial {trial.number} is not pruned.")
            return False
        n_steps = len(steps)
        if n_steps <= len(best_steps) and np.array_equal(best_steps[:n_steps], steps):
            diff = values - best_values[:n_steps]  # the usual case: the best trial's first steps
        else:  # both ascending and unique: intersect1d's pairs are in step order
            _, mine, theirs = np.intersect1d(steps, best_steps, assume_unique=True, return_indices=True)
            if len(mine) < n_steps:
                _warn(f"trial {trial.number} reported steps that the best trial ({best}) did not: they are ignored.")
            diff = values[mine] - best_values[theirs]
        if len(diff) < max(2, self._n_startup_steps):
            return False
        # Python's sum, left to right, as Optuna (np.mean sums pairwise).
        mean, best_mean = sum(values.tolist()) / len(values), sum(best_values.tolist()) / len(best_values)
        average_is_best = best_mean <= mean if maximize else best_mean >= mean
        p = signed_rank_pvalue(diff, "less" if maximize else "greater")
        return bool(p < self._p_threshold) and not average_is_best


def _best_feasible_row(history: History, maximize: bool) -> int:
    """Optuna 5.0's ``Study.best_trial``: the best COMPLETE trial, or where it violates a
    constraint (a value > 0 in the ``constraints`` column), the first best of the trials
    that violate none; -1 if there is none. Vectorised over the typed column."""
    best = history.best_row
    constraints = history.numeric_column("constraints")
    if best < 0 or constraints is None or not (constraints[best] > 0).any():  # NaN (unset) > 0 is False
        return best
    rows = history.rows([int(TrialState.COMPLETE)])
    feasible = rows[~(constraints[rows] > 0).any(axis=1)]
    if len(feasible) == 0:
        return -1
    values = history.values[feasible, 0]
    return int(feasible[np.argmax(values) if maximize else np.argmin(values)])  # the first, as min()


def _warn(message: str) -> None:
    warnings.warn(f"WilcoxonPruner: {message}", HpoWarning, stacklevel=4)
