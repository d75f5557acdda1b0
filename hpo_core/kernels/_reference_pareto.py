"""NumPy reference: non-dominated sorting, the Pareto front and the hypervolume.

Notation:
    n, m         numbers of points and of objectives; ``values, points: (n, m)``, all
                 minimised, NaN-free.
    dominates    q dominates p when ``q <= p`` in every objective and ``q < p`` in at
                 least one.
    r, HV(S)     the reference point ``ref: (m,)``; HV(S) is the Lebesgue measure of the
                 union of the boxes [p, r] over p in S. A point that does not strictly
                 dominate r (p_j >= r_j for some j) has an empty box and is dropped first.

All kernels are pure and trust their input; inputs are converted to C-contiguous float64.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

__all__ = ["hypervolume", "hypervolume_mc", "is_pareto_front", "nondominated_rank"]


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _unique_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in lexicographic order and the inverse map, shape (n,)."""
    uniq, inverse = np.unique(values, axis=0, return_inverse=True)
    return uniq, inverse.reshape(-1)


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Rank 0 is the Pareto front, rank 1 the front once rank 0 is removed, and so on;
    equivalently ``rank(p) = 1 + max(rank(q) for q dominating p)`` (0 when none does).
    q dominates p when ``q <= p`` in every objective and ``q < p`` in at least one.

    Args:
        values: Objective values, shape (n, m), NaN-free, all to be minimised.

    Returns:
        Ranks, int64, shape (n,). Duplicated points share a rank.
        O(n log n) for m <= 2; O(n^2 m) in the worst case otherwise.
    """
    values = _f64(values)
    n, m = values.shape
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.int64)
    # Deduplicating first means no two remaining points are equal, and the lexicographic
    # order of np.unique puts every dominator before the points it dominates.
    uniq, inverse = _unique_rows(values)
    if m == 1:
        return inverse.astype(np.int64)
    rank = np.zeros(len(uniq), dtype=np.int64)
    if m == 2:
        # Sweep in (f1, f2) order. Earlier points have f1 <= p's, so front r dominates p
        # iff its latest member has f2 <= p's; those f2 values do not decrease with r,
        # so the rank is found by bisection (Jensen 2003, O(n log n)).
        last_f2: list[float] = []
        for i, f2 in enumerate(uniq[:, 1].tolist()):
            r = bisect.bisect_right(last_f2, f2)
            if r == len(last_f2):
                last_f2.append(f2)
            else:
                last_f2[r] = f2
            rank[i] = r
        return rank[inverse]
    for i in range(1, len(uniq)):
        dominators = np.all(uniq[:i] <= uniq[i], axis=1)  # distinct: one is strict
        if dominators.any():
            rank[i] = rank[:i][dominators].max() + 1
    return rank[inverse]


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Same as ``nondominated_rank(values) == 0`` but cheaper.

    Args:
        values: Objective values, shape (n, m), NaN-free, all to be minimised.

    Returns:
        Booleans, shape (n,). Duplicates of a front point are on the front.
        O(n log n) for m <= 2; O(n f m) otherwise, f the front size.
    """
    values = _f64(values)
    n, m = values.shape
    if n == 0 or m == 0:
        return np.ones(n, dtype=np.bool_)
    uniq, inverse = _unique_rows(values)
    if m == 1:
        return inverse == 0
    if m == 2:
        # Distinct points in (f1, f2) order: p is dominated iff an earlier point has
        # f2 <= p's, i.e. iff p's f2 is not a new strict running minimum.
        prev_min = np.minimum.accumulate(np.concatenate(([np.inf], uniq[:-1, 1])))
        return (uniq[:, 1] < prev_min)[inverse]
    on_front = np.zeros(len(uniq), dtype=np.bool_)
    front: list[np.ndarray] = []
    for i, p in enumerate(uniq):
        # Checking front members suffices: a dominated point is dominated by some
        # front member (transitivity), and front members come earlier in this order.
        if not front or not np.all(np.asarray(front) <= p, axis=1).any():
            on_front[i] = True
            front.append(p)
    return on_front[inverse]


# --- hypervolume ---------------------------------------------------------------------


def _hv_inputs(points: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points whose box [p, r] is non-empty, and r, as float64."""
    points, ref = _f64(points), _f64(ref)
    return points[np.all(points < ref, axis=1)], ref


def _hv_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points (n, 2) inside the box of ref: a sweep in (f1, f2) order, O(n log n)."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    x, y = points[order, 0], points[order, 1]
    # A point whose f2 is a new running minimum adds the strip [y, previous minimum) x [x, r1).
    prev_min = np.minimum.accumulate(np.concatenate(([ref[1]], y[:-1])))
    return float(np.sum((ref[0] - x) * np.maximum(prev_min - y, 0.0)))


def _hv_3d(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points (n, 3) inside the box of ref: slabs between sorted f3 values, O(n^2 log n)."""
    order = np.argsort(points[:, 2], kind="stable")
    z = np.append(points[order, 2], ref[2])
    return float(sum(_hv_2d(points[order[: i + 1], :2], ref[:2]) * (z[i + 1] - z[i]) for i in range(len(order))))


def _hv_wfg(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points (n, m) inside the box of ref by the WFG recursion (While et al. 2012).

    HV(p_1..p_n) = sum_i [vol(p_i) - HV(limit_i)], limit_i = {max(p_i, p_j) : j > i}
    (eq. (2)-(4) of "A Fast Way of Calculating Exact Hypervolumes", IEEE TEC 16(1)); the
    sum telescopes, and each limit set is reduced to its distinct non-dominated rows.
    """
    n, m = points.shape
    if n == 0:
        return 0.0
    if m == 2:
        return _hv_2d(points, ref)
    if m == 3:
        return _hv_3d(points, ref)
    # Worst-first in f1 keeps the limit sets small (WFG sorts for the same reason).
    points = points[np.argsort(-points[:, 0], kind="stable")]
    total = 0.0
    for i in range(n):
        limit = np.unique(np.maximum(points[i + 1 :], points[i]), axis=0)
        total += float(np.prod(ref - points[i])) - _hv_wfg(limit[is_pareto_front(limit)], ref)
    return total


def _hv_any(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points that all strictly dominate ref; +inf when a box is unbounded."""
    n, m = points.shape
    if n == 0:
        return 0.0
    if not (np.isfinite(ref).all() and np.isfinite(points).all()):
        return math.inf  # some p_j = -inf or r_j = +inf: that box has infinite volume
    if m == 1:
        return float(ref[0] - points[:, 0].min())
    return _hv_wfg(points, ref)


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation.

    Args:
        points: Objective values, shape (n, m), NaN-free, all minimised. Points that do
            not strictly dominate ``ref`` (some ``p_j >= r_j``) add nothing.
        ref: Reference point, shape (m,), NaN-free.

    Returns:
        The volume of the union of the boxes [p, ref]; 0.0 when no point dominates ref,
        +inf when a box is unbounded (``p_j = -inf`` or ``r_j = +inf``). Exact up to
        rounding: relative error about n * 1e-16 for finite inputs. m = 2: O(n log n);
        m = 3: O(n^2 log n); m >= 4: the WFG recursion, exponential in m in the worst case.
    """
    points, ref = _hv_inputs(points, ref)
    return _hv_any(points, ref)


def hypervolume_mc(points: np.ndarray, ref: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Monte-Carlo estimate of the hypervolume (minimisation) and its standard error.

    The samples ``x = lo + u (ref - lo)`` fill the bounding box [lo, ref] of the points
    that strictly dominate ref (``lo`` their componentwise minimum); the estimate is the
    box's volume times the fraction of samples some point dominates (``p <= x``).

    Args:
        points: Objective values, shape (n, m), NaN-free, all minimised.
        ref: Reference point, shape (m,), finite.
        u: Samples in [0, 1)^m, shape (N, m), N >= 1: uniform draws, or a scrambled Sobol
            set for a smaller error at the same N (``scipy.stats.qmc.Sobol``).

    Returns:
        ``(estimate, standard_error)``: the standard error is the binomial one,
        ``vol * sqrt(f (1 - f) / N)`` for a dominated fraction f (for Sobol samples the
        actual error is usually smaller). ``(0.0, 0.0)`` when no point dominates ref.
        O(N n m) at worst; any m.
    """
    points, ref, u = _f64(points), _f64(ref), _f64(u)
    points = points[np.all(points < ref, axis=1)]
    if len(points) == 0:
        return 0.0, 0.0
    if not np.isfinite(points).all():
        return math.inf, 0.0
    lo = points.min(axis=0)
    volume = float(np.prod(ref - lo))
    dominated = 0
    for chunk in range(0, len(u), 4096):
        x = lo + u[chunk : chunk + 4096] * (ref - lo)
        dominated += int(np.any(np.all(points[None, :, :] <= x[:, None, :], axis=2), axis=1).sum())
    f = dominated / len(u)
    return volume * f, volume * math.sqrt(f * (1.0 - f) / len(u))
