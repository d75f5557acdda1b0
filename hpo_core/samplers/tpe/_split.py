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
from hpo_core.samplers.tpe._observations import _COMPLETE, good_rows_single_objective, take_smallest

__all__ = ["split_below_above"]

# Fronts peeled with is_pareto_front before one full non-dominated sort (m >= 3).
_MAX_PEELS = 4
# Stand-in for a zero coordinate of the HSSP reference point (Optuna's EPS).
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

    For m = 1 this is the sampler's single-objective split
    (:func:`hpo_core.samplers.tpe._observations.good_rows_single_objective`, every row
    COMPLETE).

    Cost: m = 1, O(n) (a partition, no sort). m >= 2: the non-dominated fronts up to the
    boundary (``kernels.is_pareto_front`` peels for m >= 3, else one
    ``kernels.nondominated_rank``), then greedy HSSP on the boundary rank only: O(k s)
    for m = 2, lazily re-evaluated ``kernels.hypervolume`` calls for m >= 3 (s the
    boundary rank's size). The reference point of the HSSP is Optuna 5's, computed on the
    boundary rank (see ``_reference_point``).

    Raises:
        TypeError: ``n_below`` is not an int.
        ValueError: ``n_below`` is negative or the shapes do not match.
    """
    values = _check_values(values)
    n, m = values.shape
    checked = check_int("n_below", n_below, low=0)
    assert checked is not None
    k = min(checked, n)
    if violations is not None:
        violations = np.asarray(violations, dtype=np.float64)
        if violations.shape != (n,):
            raise ValueError(format_error("violations", f"an array of shape ({n},)", violations.shape))
    if m == 1:
        # The sampler's single-objective order, every row COMPLETE: one implementation.
        rows = good_rows_single_objective(
            np.full(n, _COMPLETE, dtype=np.int8), values[:, 0], k,
            violation=violations, last_step=None, last_value=None,
        )
        mask = np.zeros(n, dtype=np.bool_)
        mask[rows] = True
        return mask
    feasible = np.ones(n, dtype=np.bool_) if violations is None else violations <= 0.0  # NaN: infeasible
    mask = np.zeros(n, dtype=np.bool_)
    if k == 0:
        return mask
    feasible_idx = np.flatnonzero(feasible)
    k_feasible = min(k, feasible_idx.size)
    if k_feasible == feasible_idx.size:
        mask[feasible_idx] = True
    else:
        mask[feasible_idx[_select_multi_objective(values[feasible_idx], k_feasible)]] = True
    if k > k_feasible:
        assert violations is not None
        infeasible_idx = np.flatnonzero(~feasible)
        mask[take_smallest(infeasible_idx, violations[infeasible_idx], k - k_feasible)] = True
    return mask


def _select_multi_objective(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of k feasible points by non-domination rank, HSSP on the boundary rank.

    Assumes ``0 < k < len(values)`` and m >= 2.
    """
    values = np.where(np.isnan(values), np.inf, values)
    better, candidates = _boundary_rank(values, k)
    need = k - better.size
    if need < candidates.size:
        candidates = candidates[_solve_hssp(values[candidates], need)]
    return np.sort(np.concatenate((better, candidates)))


def _boundary_rank(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices of ranks below the boundary rank, indices of the boundary rank).

    The boundary rank is the first whose cumulative size reaches k. For m >= 3 a full
    non-dominated sort costs up to O(n^2) while the first front costs O(n log n + n f),
    so up to ``_MAX_PEELS`` fronts are peeled one by one (the common case: k is a few
    dozen and the first front holds them); the rest is ranked in one call.
    """
    remaining = np.arange(len(values))
    better: list[np.ndarray] = []
    n_better = 0
    for _ in range(_MAX_PEELS if values.shape[1] >= 3 else 0):
        on_front = kernels.is_pareto_front(values[remaining])
        front = remaining[on_front]
        if n_better + front.size >= k:
            return np.concatenate([*better, np.empty(0, dtype=np.intp)]), front
        better.append(front)
        n_better += front.size
        remaining = remaining[~on_front]
    rank = kernels.nondominated_rank(values[remaining])
    cum = n_better + np.cumsum(np.bincount(rank))
    boundary = int(np.searchsorted(cum, k))  # first rank whose cumulative count reaches k
    better.append(remaining[rank < boundary])
    return np.concatenate(better), remaining[rank == boundary]


def _reference_point(values: np.ndarray) -> np.ndarray:
    """Optuna 5's reference point for HSSP: the worst point pushed out.

    ``r_j = max(1.1 w_j, 0.9 w_j)`` with ``w = max(values, axis=0)``, i.e. 10% of |w_j|
    beyond the worst value whatever its sign, and ``r_j = EPS`` where ``w_j = 0``
    (``optuna.samplers._tpe.sampler._get_reference_point``). Every row then strictly
    dominates r, so every distinct non-dominated row has a positive contribution.
    """
    worst = values.max(axis=0)
    with np.errstate(over="ignore"):  # |w_j| near the float max: r_j = inf, handled by callers
        ref = np.maximum(1.1 * worst, 0.9 * worst)
    ref[ref == 0.0] = _EPS
    return ref


def _solve_hssp(points: np.ndarray, k: int) -> np.ndarray:
    """Indices of k of the mutually non-dominated points, chosen greedily for HV.

    Greedy hypervolume subset selection (a (1 - 1/e)-approximation; Guerreiro et al.,
    "Greedy Hypervolume Subset Selection in Low Dimensions", Evol. Comput. 24(3), 2016):
    repeatedly add the point with the largest HV gain w.r.t. :func:`_reference_point`,
    ties to the earliest in lexicographic order. As Optuna 5's ``_solve_hssp``, the greedy
    runs on the distinct points (each stands for its first copy by index); when there are
    fewer than k of them, every distinct point is taken and then the other copies in
    index order. When some coordinate is infinite the HV is not finite and the first k
    distinct points in lexicographic order are taken instead (as Optuna does).
    Assumes ``0 < k < len(points)`` and m >= 2.
    """
    order = np.lexsort(points.T[::-1])  # stable: equal rows keep index order
    sorted_points = points[order]
    is_first = np.ones(len(points), dtype=np.bool_)  # first copy of each distinct point
    is_first[1:] = np.any(sorted_points[1:] != sorted_points[:-1], axis=1)
    if is_first.sum() < k:
        chosen = np.zeros(len(points), dtype=np.bool_)
        chosen[order[is_first]] = True
        chosen[np.flatnonzero(~chosen)[: k - int(is_first.sum())]] = True
        return np.flatnonzero(chosen)
    order, sorted_points = order[is_first], sorted_points[is_first]
    ref = _reference_point(points)
    if not (np.isfinite(sorted_points).all() and np.isfinite(ref).all()):
        return np.sort(order[:k])
    if points.shape[1] == 2:
        chosen_sorted = _hssp_2d(sorted_points, ref, k)
    else:
        chosen_sorted = _hssp_lazy(sorted_points, ref, k)
    return np.sort(order[chosen_sorted])


def _hssp_2d(points: np.ndarray, ref: np.ndarray, k: int) -> np.ndarray:
    """Greedy HSSP for m = 2 on a lexicographically sorted front, O(k s).

    In this order x increases and y decreases, so the gain of candidate j is the box
    from (x_j, y_j) to (x of the nearest chosen point after j, y of the nearest chosen
    point before j), each defaulting to ref; choosing i shrinks the first corner of the
    candidates before i and the second of those after it.
    """
    s = len(points)
    x_right = np.full(s, ref[0])
    y_up = np.full(s, ref[1])
    gain = np.empty(s)
    is_chosen = np.zeros(s, dtype=np.bool_)
    chosen = np.empty(k, dtype=np.intp)
    for t in range(k):
        np.multiply(x_right - points[:, 0], y_up - points[:, 1], out=gain)
        gain[is_chosen] = -1.0
        i = int(np.argmax(gain))  # first maximum: earliest in the order
        chosen[t] = i
        is_chosen[i] = True
        np.minimum(x_right[:i], points[i, 0], out=x_right[:i])
        np.minimum(y_up[i + 1 :], points[i, 1], out=y_up[i + 1 :])
    return chosen


def _hssp_lazy(points: np.ndarray, ref: np.ndarray, k: int) -> np.ndarray:
    """Greedy HSSP for m >= 3 with lazy gain updates (submodularity), any order.

    The gain of j given the chosen set S, vol(p_j) - HV({max(p_j, q) : q in S}), never
    grows as S grows, so stale gains are upper bounds, and so is the gain given only the
    latest chosen point c, vol(p_j) - vol(max(p_j, c)), which is cheap for all j at once
    (Optuna's ``_lazy_contribs_update`` uses both bounds). The candidate with the largest
    bound is re-evaluated and chosen once its fresh gain is still the largest (Minoux's
    lazy greedy); ties go to the earlier point, exactly as in the plain greedy.
    """
    box = np.prod(ref - points, axis=1)
    bound = box.copy()
    fresh = np.ones(len(points), dtype=np.bool_)  # bound is the exact gain for the chosen set
    chosen: list[int] = []
    while len(chosen) < k:
        j = int(np.argmax(bound))  # first maximum: earliest in the order
        if fresh[j]:
            chosen.append(j)
            bound[j] = -np.inf
            pair = box - np.prod(ref - np.maximum(points, points[j]), axis=1)
            np.minimum(bound, pair, out=bound)
            fresh[:] = False
            continue
        selected = points[chosen]
        if np.all(selected <= points[j], axis=1).any():
            bound[j] = 0.0  # a copy is chosen: nothing left to add
        else:
            bound[j] = box[j] - kernels.hypervolume(np.maximum(selected, points[j]), ref)
        fresh[j] = True
    return np.asarray(chosen, dtype=np.intp)

