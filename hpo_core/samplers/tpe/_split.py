"""The TPE good/bad ("below"/"above") split of trials, single- and multi-objective.

Notation:
    n            number of trials to split; ``values: (n, m)``, ``violations: (n,)``.
    m            number of objectives, all minimised (the caller flips maximised ones).
    k            ``min(n_below, n)``, the size of the below group.
    v_i          total constraint violation of trial i: 0 feasible, > 0 infeasible,
                 NaN unknown (treated as infeasible and ranked after every number).
    r            reference point of a hypervolume (HV) computation, shape (m,).

Order of preference (the below group is the first k trials in this order):

1. feasible trials, by objective value (m = 1; ties by index) or by non-domination rank
   (m >= 2); on the rank that crosses k, greedy hypervolume subset selection (HSSP);
2. infeasible trials by violation ascending, NaN last, ties by index.

This is the order of Optuna's ``_split_trials`` for COMPLETE and infeasible trials
(Optuna 5.0, ``samplers/_tpe/sampler.py``); pruned and running trials reach this module
as rows of the caller's choosing (e.g. +inf values), so no separate rule is needed here.
NaN objective values rank after +inf (m = 1) or are treated as +inf (m >= 2).
"""

from __future__ import annotations

import numpy as np

from hpo_core import kernels
from hpo_core._validation import check_int, format_error

__all__ = ["split_below_above", "weights_below_multi_objective"]

# Floor of the MOTPE weights and stand-in for a zero reference coordinate (Optuna's EPS).
_EPS = 1e-12


def _check_values(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(format_error("values", "a 2-D array of shape (n, m)", values.shape))
    return values


def split_below_above(
    values: np.ndarray, n_below: int, *, violations: np.ndarray | None = None
) -> np.ndarray:
    """Mark the ``n_below`` best trials (the "below" group of TPE).

    Args:
        values: Objective values, shape (n, m), every objective minimised. +inf (e.g. a
            placeholder for running or pruned trials) is allowed; NaN ranks last.
        n_below: Size of the below group; more than n selects every trial.
        violations: Total constraint violation per trial, shape (n,): 0 (or less) is
            feasible, > 0 infeasible, NaN infeasible and ranked last. None means every
            trial is feasible.

    Returns:
        Boolean mask, shape (n,), with exactly ``min(n_below, n)`` True entries. The
        result depends only on the arguments (ties are broken by index).

    Raises:
        TypeError: ``n_below`` is not an int.
        ValueError: ``n_below`` is negative or the shapes do not match.
    """
    values = _check_values(values)
    n, m = values.shape
    checked = check_int("n_below", n_below, low=0)
    assert checked is not None
    k = min(checked, n)
    if violations is None:
        feasible = np.ones(n, dtype=np.bool_)
    else:
        violations = np.asarray(violations, dtype=np.float64)
        if violations.shape != (n,):
            raise ValueError(format_error("violations", f"an array of shape ({n},)", violations.shape))
        feasible = violations <= 0.0  # NaN compares False: infeasible
    mask = np.zeros(n, dtype=np.bool_)
    if k == 0:
        return mask
    feasible_idx = np.flatnonzero(feasible)
    k_feasible = min(k, feasible_idx.size)
    if k_feasible == feasible_idx.size:
        mask[feasible_idx] = True
    elif m == 1:
        mask[feasible_idx[_k_smallest(values[feasible_idx, 0], k_feasible)]] = True
    else:
        mask[feasible_idx[_select_multi_objective(values[feasible_idx], k_feasible)]] = True
    if k > k_feasible:
        assert violations is not None
        infeasible_idx = np.flatnonzero(~feasible)
        mask[infeasible_idx[_k_smallest(violations[infeasible_idx], k - k_feasible)]] = True
    return mask


def _k_smallest(keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest keys, ties by index, NaN after every number; O(n).

    Same set as ``np.argsort(keys, kind="stable")[:k]`` without the O(n log n) sort:
    the k-th smallest key is found by ``np.partition``, then every smaller key and the
    first equal ones in index order are taken. Assumes ``0 < k < len(keys)``.
    """
    kth = np.partition(keys, k - 1)[k - 1]  # partition sorts NaN last, like argsort
    if np.isnan(kth):
        chosen = ~np.isnan(keys)
        ties = np.flatnonzero(~chosen)
    else:
        chosen = keys < kth
        ties = np.flatnonzero(keys == kth)
    chosen[ties[: k - int(chosen.sum())]] = True
    return np.flatnonzero(chosen)


def _select_multi_objective(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of k feasible points by non-domination rank, HSSP on the boundary rank.

    Assumes ``0 < k < len(values)`` and m >= 2.
    """
    values = np.where(np.isnan(values), np.inf, values)
    rank = kernels.nondominated_rank(values)
    cum = np.cumsum(np.bincount(rank))
    boundary = int(np.searchsorted(cum, k))  # first rank whose cumulative count reaches k
    chosen = rank < boundary
    need = k - int(chosen.sum())
    candidates = np.flatnonzero(rank == boundary)
    if need == candidates.size:
        chosen[candidates] = True
    else:
        chosen[candidates[_solve_hssp(values[candidates], need)]] = True
    return np.flatnonzero(chosen)


def _solve_hssp(points: np.ndarray, k: int) -> np.ndarray:
    """Indices of k mutually non-dominated points chosen greedily to maximise the HV.

    Placeholder until the hypervolume kernels land: lexicographic order, ties by index.
    """
    order = np.lexsort(points.T[::-1])
    return np.sort(order[:k])


def weights_below_multi_objective(values_below: np.ndarray) -> np.ndarray:
    """Weights of the below trials from their exclusive hypervolume contributions.

    Placeholder until the hypervolume kernels land: all ones.

    Args:
        values_below: Objective values of the below group, shape (n_below, m), minimised.

    Returns:
        Positive weights, shape (n_below,).
    """
    values_below = _check_values(values_below)
    return np.ones(values_below.shape[0])
