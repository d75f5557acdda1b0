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

__all__ = ["good_rows_single_objective", "take_smallest"]

_COMPLETE, _PRUNED = 1, 2
rows_none = np.empty(0, dtype=np.intp)


def take_smallest(rows: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` rows with the smallest ``keys``, ascending; ties by position, NaN last.

    The same rows as ``rows[np.argsort(keys, kind="stable")[:count]]`` (Optuna sorts
    stably, so a tie goes to the earlier trial) without the O(n log n) sort: the
    ``count``-th smallest key is found by ``np.partition``, then every smaller key and
    the first equal ones in order are taken; O(len(rows)). Assumes ``rows`` ascending
    and ``keys`` aligned with it.
    """
    if count <= 0:
        return rows[:0]
    if count >= len(rows):
        return rows
    if len(rows) <= 64:  # few rows (the usual good-group search): a sort costs fewer calls
        return rows[np.sort(np.argsort(keys, kind="stable")[:count])]
    kth = np.partition(keys, count - 1)[count - 1]  # partition sorts NaN last, like argsort
    if np.isnan(kth):
        chosen = ~np.isnan(keys)
        ties = np.flatnonzero(~chosen)
    else:
        chosen = keys < kth
        ties = np.flatnonzero(keys == kth)
    chosen[ties[: count - int(chosen.sum())]] = True
    return rows[chosen]


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
    """The ``n_below`` best finished rows (fewer if fewer finished), ascending.

    Ties go to the earlier row (trial number), as in Optuna's stable sort.

    Args:
        states, score, violation: See the module notation; score is NaN-free on
            COMPLETE rows (a NaN would rank after every number).
        n_below: Size of the good group, >= 0.
        last_step, last_value: Intermediate values of PRUNED rows (None: PRUNED rows are
            not ranked by them and come in trial-number order).
        hint: A score at or above the ``n_below``-th best (e.g. the worst good score of
            the previous call: scores of finished trials never change). Only rows at or
            below it are ranked when there are at least ``n_below`` of them; every row
            tied with the ``n_below``-th best is among them, so the result is the same.

    Returns:
        Row indices, ascending. With a finite ``hint``, no constraints and at least
        ``n_below`` COMPLETE rows scoring at or below it (the usual case), this costs two
        passes over the n rows (a compare and its ``flatnonzero``); the ranking then
        touches only those few rows.
    """
    if violation is None and hint < np.inf and n_below > 0:
        rows = np.flatnonzero(score <= hint)  # NaN scores (unfinished rows) compare False
        rows = rows[states[rows] == _COMPLETE]
        if len(rows) >= n_below:
            return take_smallest(rows, score[rows], n_below)
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
        below[take_smallest(rows, violation[rows], left)] = True  # NaN: after every number
    return np.flatnonzero(below)
