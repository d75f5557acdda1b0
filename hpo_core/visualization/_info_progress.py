"""Arrays of the two progress plots: the terminator's improvement per trial, and the
hypervolume of a multi-objective study per trial (Optuna 5.0's
``plot_terminator_improvement`` and ``plot_hypervolume_history``).

The hypervolume history reads the history's columns (values, states, the constraint
column) and never builds a trial; the terminator's evaluators take lists of
:class:`~hpo_core.FrozenTrial` (their public API, as Optuna's), built once per plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_core import kernels
from hpo_core._validation import check_bool, check_int, format_error
from hpo_core.trial import StudyDirection, TrialState
from hpo_core.visualization import _data as D
from hpo_core.visualization._info import MAX_POINTS

#: Optuna's y-axis padding and the opacity of the improvements before ``min_n_trials``.
PADDING_RATIO_Y = 0.05
OPACITY = 0.25
#: Rows of the hypervolume scan screened against the running front at once.
_CHUNK = 1024


@dataclass
class ImprovementInfo:
    """The improvement (and error) after each trial from the first COMPLETE one on."""

    trial_numbers: list[int]
    improvements: list[float]
    errors: list[float] | None
    min_n_trials: int

    def y_range(self) -> tuple[float, float]:
        """Optuna's range: the improvements from ``min_n_trials`` on (all when fewer) and
        the errors, padded by 5 %."""
        lo = min(self.improvements)
        hi = max(
            self.improvements[self.min_n_trials :]
            if len(self.trial_numbers) > self.min_n_trials
            else self.improvements
        )
        if self.errors is not None:
            lo, hi = min(lo, min(self.errors)), max(hi, max(self.errors))
        pad = (hi - lo) * PADDING_RATIO_Y
        return lo - pad, hi + pad


def improvement_info(
    study: Any, plot_error: Any, improvement_evaluator: Any, error_evaluator: Any, min_n_trials: Any
) -> ImprovementInfo:
    """Evaluate the improvement (and with ``plot_error`` the error) on the COMPLETE
    trials up to each trial, as Optuna's: one evaluation per trial from the first
    COMPLETE one (a trial that completed nothing new repeats the previous values)."""
    from hpo_core.terminator import BaseErrorEvaluator, BaseImprovementEvaluator, RegretBoundEvaluator
    from hpo_core.terminator._terminator import default_error_evaluator

    D.history_of(study)
    check_bool("plot_error", plot_error)
    min_n = int(check_int("min_n_trials", min_n_trials, low=0) or 0)
    if improvement_evaluator is not None and not isinstance(improvement_evaluator, BaseImprovementEvaluator):
        raise TypeError(
            format_error("improvement_evaluator", "a BaseImprovementEvaluator or None", improvement_evaluator)
        )
    if error_evaluator is not None and not isinstance(error_evaluator, BaseErrorEvaluator):
        raise TypeError(format_error("error_evaluator", "a BaseErrorEvaluator or None", error_evaluator))
    if len(study.directions) > 1:
        raise ValueError("This function does not support multi-objective optimization study.")
    improvement_evaluator = improvement_evaluator or RegretBoundEvaluator()
    error_evaluator = error_evaluator or default_error_evaluator(improvement_evaluator)
    numbers: list[int] = []
    improvements: list[float] = []
    errors: list[float] = []
    done: list[Any] = []
    changed = False
    improvement = error = 0.0
    import tqdm

    for trial in tqdm.tqdm(study.trials):  # Optuna's progress bar over the trials (stderr)
        if trial.state == TrialState.COMPLETE:
            done.append(trial)
            changed = True
        if not done:
            continue
        numbers.append(trial.number)
        if changed:
            improvement = improvement_evaluator.evaluate(trials=list(done), study_direction=study.direction)
            if plot_error:
                error = error_evaluator.evaluate(trials=list(done), study_direction=study.direction)
            changed = False
        improvements.append(float(improvement))
        if plot_error:
            errors.append(float(error))
    return ImprovementInfo(numbers, improvements, errors if plot_error and numbers else None, min_n)


def _weakly_dominated(front: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(q,) bool: each row of Q (q, m) has a point of ``front`` (k >= 1, m) at or below it
    in every objective. Two objectives: ``front`` sorted by the first (so the second
    decreases), the candidate is the last point at or left of q: O(q log k). More: one
    (q, k) comparison per objective (a 3-D broadcast reduced over its last axis was 3x
    slower)."""
    if front.shape[1] == 2:
        j = np.searchsorted(front[:, 0], Q[:, 0], side="right") - 1
        return (j >= 0) & (front[np.maximum(j, 0), 1] <= Q[:, 1])
    out = front[:, 0][None, :] <= Q[:, 0][:, None]
    for c in range(1, front.shape[1]):
        out &= front[:, c][None, :] <= Q[:, c][:, None]
    return np.asarray(out.any(axis=1))


@dataclass
class HypervolumeInfo:
    """The hypervolume after each COMPLETE trial; ``is_reduced``: only the trials where
    it changed (and the first and last) are kept, to be drawn as a step line."""

    trial_numbers: np.ndarray
    values: np.ndarray
    n_complete: int
    n_changes: int
    is_reduced: bool


def hypervolume_info(study: Any, reference_point: Any) -> HypervolumeInfo:
    """The hypervolume of the feasible COMPLETE trials up to each COMPLETE trial (Optuna's
    rule: an infeasible trial, one weakly dominated by an earlier point, and one not
    strictly better than ``reference_point`` in every objective leave it unchanged).

    One scan of the values column: each chunk of rows is screened at once against the
    running front (weakly dominated rows drop out), the survivors update the front one
    by one, and the hypervolume is recomputed (``kernels.hypervolume``) only where the
    front changed; between changes it is carried forward.
    """
    h = D.history_of(study)
    m = len(study.directions)
    if m < 2:
        raise ValueError(
            "Study must be multi-objective. For single-objective optimization, please use "
            "plot_optimization_history instead."
        )
    try:
        ref = np.asarray(reference_point, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(format_error("reference_point", "a sequence of numbers", reference_point)) from e
    if ref.shape != (m,):
        raise ValueError("The dimension of the reference point must be the same as the number of objectives.")
    rows = D.complete_rows(h)
    if not len(rows):
        D.warn_empty("Your study does not have any completed trials.")
    signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions])
    P = h.values[rows, :m] * signs  # minimised
    r = signs * ref
    ok = D.feasible(h, rows) & (P <= r).all(axis=1)  # Optuna: a point with some p_j > r_j adds nothing
    change = np.zeros(len(rows), dtype=bool)
    hv_at_change: list[float] = []
    front = np.empty((0, m))
    for lo in range(0, len(rows), _CHUNK):
        idx = lo + np.flatnonzero(ok[lo : lo + _CHUNK])
        if len(front) and len(idx):
            idx = idx[~_weakly_dominated(front, P[idx])]
        for i in idx.tolist():
            p = P[i]
            if len(front) and _weakly_dominated(front, p[None, :])[0]:
                continue  # dominated by a survivor earlier in this chunk
            front = np.concatenate((front[(front < p).any(axis=1)], p[None, :]))
            if m == 2:  # kept sorted by the first objective for _weakly_dominated
                front = front[np.argsort(front[:, 0], kind="stable")]
            change[i] = True
            hv_at_change.append(kernels.hypervolume(front, r))
    values = np.zeros(len(rows))
    if change.any():
        # Carry the hypervolume forward from each change to the next.
        which = np.cumsum(change) - 1
        table = np.asarray(hv_at_change)
        values = np.where(which >= 0, table[np.maximum(which, 0)], 0.0)
    if len(rows) and not change.any():
        D.warn_empty("Your study does not have any feasible trials.")
    numbers = rows.astype(np.int64)
    if len(rows) <= MAX_POINTS:
        return HypervolumeInfo(numbers, values, len(rows), int(change.sum()), False)
    keep = change.copy()
    keep[0] = keep[-1] = True
    return HypervolumeInfo(numbers[keep], values[keep], len(rows), int(change.sum()), True)
