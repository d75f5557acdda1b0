"""Paired Wilcoxon signed-rank test against the best trial (Optuna's ``WilcoxonPruner``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from math import isfinite
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from hpo_core._validation import check_int, check_real
from hpo_core.exceptions import HpoWarning
from hpo_core.kernels._dispatch_stats import resolve_paired_signed_rank_rows
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._signed_rank import (
    _EXACT_MAX_N,
    needs_permutation,
    pvalue_from_statistic,
    signed_rank_pvalue,
    uses_exact,
)
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
    (``scipy.stats.wilcoxon``'s p-value with ``zero_method="zsplit"``, one-sided, without
    SciPy's per-call overhead: the pairing and the statistic in one compiled kernel,
    ``kernels.paired_signed_rank_rows``, the p-value in ``_signed_rank.py``) runs once there are at
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
        self._min_pairs = max(2, self._n_startup_steps)  # the test runs from this many pairs
        # The best trial's reports, read once: (history, rollbacks, row) -> _BestReports.
        self._best: tuple[Any, int, int, _BestReports] | None = None
        # (the step index's row arrays, kernels.paired_signed_rank_rows resolved for them):
        # resolved again when the index replaces its arrays (it grows by doubling).
        self._kernel: tuple[tuple[np.ndarray, ...], Callable[..., tuple[int, int, float, float, int, int, float]]] \
            | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_best"] = None  # holds a history: rebuilt on use
        state["_kernel"] = None  # holds arrays and a compiled function: resolved again on use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A pruner pickled before _kernel and _min_pairs existed gets them here.
        self.__dict__.update({"_kernel": None, "_min_pairs": max(2, state["_n_startup_steps"]), **state})

    def prune(self, study: Study, trial: Trial) -> bool:
        history = study.view.history
        # The cached best trial's reports while it is still the best and no trial set
        # constraints (the usual call), else the full lookup.
        cached = self._best
        if (cached is not None and cached[2] == history.best_row and cached[0] is history
                and cached[1] == history.rollbacks and history.numeric_column("constraints") is None):
            best: _BestReports | None = cached[3]
        else:
            best = self._best_reports(history, study.view.signs.item(0) < 0)
        if best is None or not best.usable:
            return _never_without_best(history, trial, best)
        maximize = best.maximize
        # One compiled call over the step index's arrays: the trial's report count, the
        # sum of its reports (left to right, as Optuna's Python sum), the pairing with the
        # best trial's steps and the signed-rank statistic; no array is built in Python.
        # The kernel is resolved for the index's arrays and called directly (the
        # dispatcher's frames and Numba's typing of the arguments cost ~2 us cold).
        arrays = history.steps.row_arrays()
        kernel = self._kernel
        if kernel is None or kernel[0] is not arrays:
            kernel = self._kernel = (arrays, resolve_paired_signed_rank_rows(*arrays))
        n_steps, n_pairs, total, t_plus, tie_term, n_zero, p_normal = kernel[1](
            *arrays, trial.number, best.row, 0, not maximize
        )
        # The usual call pairs every report and sums to a finite value; otherwise Optuna's
        # warnings, in its order. A finite sum means finite reports (NaN and infinities
        # propagate); only an infinite or NaN sum (or an overflow) needs the element-wise check.
        if n_pairs < n_steps or not isfinite(total):
            if not isfinite(total) and not np.isfinite(history.steps.row_view(trial.number)[1]).all():
                _warn(f"the reports of trial {trial.number} include NaN or infinity: it is not pruned.")
                return False
            if n_pairs < n_steps:
                _warn(f"trial {trial.number} reported steps that the best trial ({best.row}) did not: they are "
                      "ignored.")
        if n_pairs < self._min_pairs:  # no report (n_steps == 0) included
            return False
        mean = total / n_steps
        if best.mean <= mean if maximize else best.mean >= mean:  # the average is the best's
            return False
        if n_pairs > _EXACT_MAX_N:  # SciPy's normal approximation, computed in the kernel call
            return p_normal < self._p_threshold
        alternative = "less" if maximize else "greater"
        if needs_permutation(n_pairs, tie_term, n_zero > 0):  # n <= 13: from the differences
            steps, values = history.steps.row_view(trial.number)
            _, mine, theirs = np.intersect1d(steps, best.steps, assume_unique=True, return_indices=True)
            p = signed_rank_pvalue(values[mine, 0] - best.values[theirs], alternative)
        elif uses_exact(n_pairs, tie_term, n_zero > 0):
            p = pvalue_from_statistic(n_pairs, t_plus, tie_term, n_zero > 0, alternative)
        else:  # the normal approximation, computed in the kernel call
            p = p_normal
        return p < self._p_threshold

    def _best_reports(self, history: History, maximize: bool) -> _BestReports | None:
        """The reports of the best (feasible) trial, None if there is none, cached: a
        COMPLETE trial's reports never change (the storages refuse a report to a finished
        trial), so they are read once per best trial (per history, until a rollback)."""
        row = _best_feasible_row(history, maximize)
        if row < 0:
            return None
        cached = self._best
        if cached is not None and cached[0] is history and cached[1] == history.rollbacks and cached[2] == row:
            return cached[3]
        steps, values = history.steps.of_row(row)
        values = values[:, 0]
        finite = bool(np.isfinite(values).all())
        best = _BestReports(row, steps, values, finite, sum(values.tolist()) / len(values) if len(values) else math.nan,
                            maximize, finite and len(values) > 0)
        self._best = (history, history.rollbacks, row, best)
        return best


class _BestReports(NamedTuple):
    """The best trial's row, ``steps (L,)``, ``values (L,)``, whether all are finite, their
    mean (Python's sum, left to right), the study's direction and whether a test against
    them can run (finite and ``L > 0``)."""

    row: int
    steps: np.ndarray
    values: np.ndarray
    finite: bool
    mean: float
    maximize: bool
    usable: bool


def _never_without_best(history: History, trial: Trial, best: _BestReports | None) -> bool:
    """The decision (never to prune) without a usable best trial, with Optuna's warnings in
    its order: the trial's own NaN or infinite reports first, then the best trial's."""
    steps, values = history.steps.row_view(trial.number)
    if len(steps) == 0:
        return False
    if not math.isfinite(sum(values[:, 0].tolist())) and not np.isfinite(values).all():
        _warn(f"the reports of trial {trial.number} include NaN or infinity: it is not pruned.")
        return False
    if best is None:
        return False
    if len(best.steps) == 0:
        _warn(f"the best trial ({best.row}) reported no values: no trial is pruned.")
    else:
        _warn(f"the reports of the best trial ({best.row}) include NaN or infinity: trial {trial.number} is not "
              "pruned.")
    return False


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
