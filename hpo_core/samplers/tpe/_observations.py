"""Which trials are "good" (below) and "bad" (above), from the history's columns.

Notation (``n`` rows of the history, trial numbers as row indices):
    states       (n,) int8 TrialState codes.
    score        (n,) float64 objective value of COMPLETE rows, minimised (sign applied).
    violation    (n,) float64 total constraint violation (0 feasible, > 0 or NaN
                 infeasible); None when the study has no constraints.
    last_step, last_value  (n,) last reported intermediate step / value of each row.

Order of goodness (Optuna 5, ``optuna/samplers/_tpe/sampler.py::_split_trials``):
feasible COMPLETE trials by value, then feasible PRUNED trials by (last step
descending, last value), then infeasible trials by violation. RUNNING trials (constant
liar) are always bad; FAIL and WAITING trials are ignored. Every function here is O(n)
NumPy work plus a partial sort; none loops in Python over rows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["good_rows_single_objective", "split_single_objective", "take_smallest"]

_COMPLETE, _PRUNED = 1, 2
rows_none = np.empty(0, dtype=np.intp)


def take_smallest(rows: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` rows with the smallest ``keys`` (ties: any), O(len) by partition."""
    if count <= 0:
        return rows[:0]
    if count >= len(rows):
        return rows
    return rows[np.argpartition(keys, count - 1)[:count]]


def split_single_objective(
    states: np.ndarray,
    score: np.ndarray,
    n_below: int,
    *,
    violation: np.ndarray | None,
    last_step: np.ndarray | None,
    last_value: np.ndarray | None,
    hint: float = np.inf,
) -> np.ndarray:
    """(n,) bool mask of the ``n_below`` best finished rows (fewer if fewer finished).

    Args:
        states, score, violation: see the module notation; score is NaN-free on
            COMPLETE rows.
        n_below: Size of the good group, >= 0.
        hint: A score at or above the ``n_below``-th best (e.g. the worst good score of
            the previous call: scores of finished trials never change). Only rows at or
            below it are ranked when there are at least ``n_below`` of them, so the
            partial sort touches a handful of rows instead of all; the result is the
            same set (up to ties).
        last_step, last_value: intermediate values of PRUNED rows (None: no PRUNED rows
            are ranked by them; they then rank in trial-number order).
    """
    below = np.zeros(len(states), dtype=np.bool_)
    below[good_rows_single_objective(
        states, score, n_below, violation=violation, last_step=last_step, last_value=last_value, hint=hint
    )] = True
    return below


def good_rows_single_objective(
    states: np.ndarray,
    score: np.ndarray,
    n_below: int,
    *,
    violation: np.ndarray | None,
    last_step: np.ndarray | None,
    last_value: np.ndarray | None,
    hint: float = np.inf,
) -> np.ndarray:
    """The rows of :func:`split_single_objective`'s mask, ascending.

    With a finite ``hint``, no constraints and at least ``n_below`` COMPLETE rows scoring
    at or below it (the usual case), this costs two passes over the n rows (a compare
    and its ``flatnonzero``); the ranking then touches only those few rows.
    """
    if violation is None and hint < np.inf and n_below > 0:
        rows = np.flatnonzero(score <= hint)  # NaN scores (unfinished rows) compare False
        rows = rows[states[rows] == _COMPLETE]
        if len(rows) >= n_below:
            return np.sort(take_smallest(rows, score[rows], n_below))
    below = np.zeros(len(states), dtype=np.bool_)
    complete = states == _COMPLETE
    pruned = states == _PRUNED
    if violation is not None:
        feasible = violation <= 0.0  # NaN (no constraint value) is infeasible
        infeasible = (complete | pruned) & ~feasible
        complete &= feasible
        pruned &= feasible
    rows = np.flatnonzero(complete & (score <= hint)) if hint < np.inf else rows_none
    if rows is rows_none or len(rows) < n_below:
        rows = np.flatnonzero(complete)
    chosen = take_smallest(rows, score[rows], n_below)
    below[chosen] = True
    left = n_below - len(chosen)
    if left > 0:
        rows = np.flatnonzero(pruned)
        if len(rows) and last_step is not None and last_value is not None:
            step, value = last_step[rows], last_value[rows]
            # Deeper first, then the better last value; NaN values last within a step.
            order = np.lexsort((np.where(np.isnan(value), np.inf, value), -step))
            rows = rows[order]
        below[rows[:left]] = True
        left -= min(left, len(rows))
    if left > 0 and violation is not None:
        rows = np.flatnonzero(infeasible)
        keys = np.where(np.isnan(violation[rows]), np.inf, violation[rows])
        below[take_smallest(rows, keys, left)] = True
    return np.flatnonzero(below)
