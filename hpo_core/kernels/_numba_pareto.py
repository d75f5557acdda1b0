"""Numba: non-dominated sorting, the Pareto front and the hypervolume.

Arguments, shapes and results are those of ``_reference_pareto`` (notation there); the
tests pin every kernel to it. Ranks by the sweeps of Jensen (2003) for two objectives
and ENS-BS (Zhang et al. 2015) above; the hypervolume by a dimension sweep over a sorted
2-D front for m = 3, and by slabs over the last objective above (down to m = 3).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["hypervolume", "hypervolume_mc", "is_pareto_front", "nondominated_rank"]

_jit = njit(cache=True, nogil=True, error_model="numpy")

_INF = math.inf


@_jit
def _lex_order(values):  # type: ignore[no-untyped-def]
    """Indices sorting the rows lexicographically (stable sorts, last column first)."""
    n, m = values.shape
    order = np.arange(n)
    keys = np.empty(n)
    for col in range(m - 1, -1, -1):
        for i in range(n):
            keys[i] = values[order[i], col]
        order = order[np.argsort(keys, kind="mergesort")]
    return order


@_jit
def _dominates(values, q, p):  # type: ignore[no-untyped-def]
    """Whether row q dominates row p (<= everywhere, < somewhere)."""
    strict = False
    for col in range(values.shape[1]):
        if values[q, col] > values[p, col]:
            return False
        if values[q, col] < values[p, col]:
            strict = True
    return strict


@_jit
def _rank_1d(values):  # type: ignore[no-untyped-def]
    n = values.shape[0]
    rank = np.zeros(n, dtype=np.int64)
    order = np.argsort(values[:, 0], kind="mergesort")
    r = 0
    for i in range(1, n):
        if values[order[i], 0] > values[order[i - 1], 0]:
            r += 1
        rank[order[i]] = r
    return rank


@_jit
def _rank_2d(values):  # type: ignore[no-untyped-def]
    # Jensen (2003) sweep in (f1, f2) order. Front r dominates p iff its latest member
    # does, i.e. iff that member's key (f2, f1) is lexicographically below p's; these
    # keys increase with r, so p's rank is a binary search over the fronts.
    n = values.shape[0]
    rank = np.zeros(n, dtype=np.int64)
    last1 = np.empty(n)
    last2 = np.empty(n)
    n_fronts = 0
    for p in _lex_order(values):
        p1, p2 = values[p, 0], values[p, 1]
        lo, hi = 0, n_fronts
        while lo < hi:
            mid = (lo + hi) // 2
            if last2[mid] < p2 or (last2[mid] == p2 and last1[mid] < p1):
                lo = mid + 1
            else:
                hi = mid
        rank[p] = lo
        last1[lo], last2[lo] = p1, p2
        n_fronts = max(n_fronts, lo + 1)
    return rank


@_jit
def _rank_nd(values):  # type: ignore[no-untyped-def]
    # ENS-BS (Zhang et al. 2015): in lexicographic order every dominator of p is already
    # ranked; if front r holds a dominator of p so does every front below r, so p's
    # rank is a binary search over fronts. Fronts are linked lists (head, nxt).
    n = values.shape[0]
    rank = np.zeros(n, dtype=np.int64)
    head = np.full(n, -1, dtype=np.intp)
    nxt = np.full(n, -1, dtype=np.intp)
    n_fronts = 0
    for p in _lex_order(values):
        lo, hi = 0, n_fronts
        while lo < hi:
            mid = (lo + hi) // 2
            q = head[mid]
            while q >= 0 and not _dominates(values, q, p):
                q = nxt[q]
            if q >= 0:
                lo = mid + 1
            else:
                hi = mid
        rank[p] = lo
        nxt[p] = head[lo]
        head[lo] = p
        n_fronts = max(n_fronts, lo + 1)
    return rank


@_jit
def _nondominated_rank(values):  # type: ignore[no-untyped-def]
    n, m = values.shape
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.int64)
    if m == 1:
        return _rank_1d(values)
    if m == 2:
        return _rank_2d(values)
    return _rank_nd(values)


@_jit
def _is_pareto_front(values):  # type: ignore[no-untyped-def]
    n, m = values.shape
    on_front = np.zeros(n, dtype=np.bool_)
    if n == 0 or m == 0:
        on_front[:] = True
        return on_front
    if m == 1:
        best = values[:, 0].min()
        for i in range(n):
            on_front[i] = values[i, 0] == best
        return on_front
    order = _lex_order(values)
    if m == 2:
        # Earlier points have f1 <= p's; one dominates p iff its key (f2, f1) is below
        # p's, so compare with the running minimum key.
        b1, b2 = _INF, _INF
        for p in order:
            p1, p2 = values[p, 0], values[p, 1]
            if not (b2 < p2 or (b2 == p2 and b1 < p1)):
                on_front[p] = True
                b1, b2 = p1, p2
        return on_front
    front = np.empty(n, dtype=np.intp)
    size = 0
    for p in order:
        # A dominated point is dominated by a front member, which comes earlier.
        dominated = False
        for f in range(size):
            if _dominates(values, front[f], p):
                dominated = True
                break
        if not dominated:
            on_front[p] = True
            front[size] = p
            size += 1
    return on_front


# --- hypervolume ---------------------------------------------------------------------


@_jit
def _hv_inside(points, ref):  # type: ignore[no-untyped-def]
    """The rows that strictly dominate ref (non-empty box), as a new array."""
    n, m = points.shape
    keep = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        keep[i] = True
        for j in range(m):
            if not points[i, j] < ref[j]:
                keep[i] = False
                break
    return points[keep]


@_jit
def _all_finite(a):  # type: ignore[no-untyped-def]
    for v in a.ravel():
        if not math.isfinite(v):
            return False
    return True


@_jit
def _hv_2d(q, ref):  # type: ignore[no-untyped-def]
    # Sweep in f1 order: a new running minimum of f2 adds a strip (see reference). Ties
    # in f1 need no f2 order: their strips have the same width and add up to one strip.
    total = 0.0
    y_min = ref[1]
    for p in np.argsort(q[:, 0]):
        if q[p, 1] < y_min:
            total += (ref[0] - q[p, 0]) * (y_min - q[p, 1])
            y_min = q[p, 1]
    return total


@_jit
def _hv_3d(q, ref):  # type: ignore[no-untyped-def]
    # Dimension sweep over f3: after inserting the points with f3 <= z_i, the slab
    # [z_i, z_{i+1}) adds area_2d * (z_{i+1} - z_i). The 2-D front is kept sorted by
    # x (increasing) with y strictly decreasing; O(n f) for a 2-D front of size f.
    n = q.shape[0]
    order = np.argsort(q[:, 2], kind="mergesort")
    fx = np.empty(n)
    fy = np.empty(n)
    f = 0
    total = 0.0
    area = 0.0
    for t in range(n):
        p = order[t]
        x, y = q[p, 0], q[p, 1]
        lo, hi = 0, f  # j = number of front points with fx < x
        while lo < hi:
            mid = (lo + hi) // 2
            if fx[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        j = lo
        dominated = (j > 0 and fy[j - 1] <= y) or (j < f and fx[j] == x and fy[j] <= y)
        if not dominated:
            end = j  # front points from j on with y >= y are dominated by (x, y)
            while end < f and fy[end] >= y:
                end += 1
            shift = 1 - (end - j)
            if shift > 0:
                for s in range(f - 1, end - 1, -1):
                    fx[s + shift], fy[s + shift] = fx[s], fy[s]
            elif shift < 0:
                for s in range(end, f):
                    fx[s + shift], fy[s + shift] = fx[s], fy[s]
            fx[j], fy[j] = x, y
            f += shift
            area = 0.0
            for s in range(f):
                x_next = fx[s + 1] if s + 1 < f else ref[0]
                area += (x_next - fx[s]) * (ref[1] - fy[s])
        z_next = q[order[t + 1], 2] if t + 1 < n else ref[2]
        total += area * (z_next - q[p, 2])
    return total


@_jit
def _hv_4d(q, ref):  # type: ignore[no-untyped-def]
    # Slabs over f4, each the 3-D volume of the points below it: O(n^2 f).
    n = q.shape[0]
    order = np.argsort(q[:, 3], kind="mergesort")
    ref3 = ref[:3].copy()
    total = 0.0
    for t in range(n):
        z_next = q[order[t + 1], 3] if t + 1 < n else ref[3]
        dz = z_next - q[order[t], 3]
        if dz > 0.0:
            prefix = np.empty((t + 1, 3))
            for s in range(t + 1):
                for c in range(3):
                    prefix[s, c] = q[order[s], c]
            total += _hv_3d(prefix, ref3) * dz
    return total


@_jit
def _hv_slices(q, ref):  # type: ignore[no-untyped-def]
    """HV of points (m >= 4) that all strictly dominate ref: m = 4 is ``_hv_4d``; above,
    slabs over the last objective (Hypervolume by Slicing Objectives, While et al. 2006),
    each the (m - 1)-D volume of the points below it, reduced to their front (a dominated
    point stays dominated as the slabs rise, so it is dropped for good)."""
    n, m = q.shape
    if m == 4:
        return _hv_4d(q, ref)
    order = np.argsort(q[:, m - 1], kind="mergesort")
    sub_ref = ref[: m - 1].copy()
    prefix = np.empty((n, m - 1))
    k = 0
    total = 0.0
    for t in range(n):
        for c in range(m - 1):
            prefix[k, c] = q[order[t], c]
        k += 1
        z_next = q[order[t + 1], m - 1] if t + 1 < n else ref[m - 1]
        dz = z_next - q[order[t], m - 1]
        if dz > 0.0:
            front = prefix[:k][_is_pareto_front(prefix[:k])]
            k = front.shape[0]
            prefix[:k] = front
            total += _hv_slices(front, sub_ref) * dz
    return total


@_jit
def _hv_low(q, ref):  # type: ignore[no-untyped-def]
    """HV of points that all strictly dominate ref."""
    n, m = q.shape
    if n == 0:
        return 0.0
    if not (_all_finite(q) and _all_finite(ref)):
        return _INF
    if m == 1:
        return ref[0] - q[:, 0].min()
    if m == 2:
        return _hv_2d(q, ref)
    if m == 3:
        return _hv_3d(q, ref)
    return _hv_slices(q, ref)


@_jit
def _hypervolume(points, ref):  # type: ignore[no-untyped-def]
    return _hv_low(_hv_inside(points, ref), ref)


@_jit
def _hypervolume_mc(points, ref, u):  # type: ignore[no-untyped-def]
    q = _hv_inside(points, ref)
    n, m = q.shape
    if n == 0:
        return 0.0, 0.0
    if not _all_finite(q):
        return _INF, 0.0
    lo = np.empty(m)
    for j in range(m):
        lo[j] = q[:, j].min()
    volume = 1.0
    for j in range(m):
        volume *= ref[j] - lo[j]
    # Points with the largest boxes first: a dominated sample then stops early.
    box = np.ones(n)
    for i in range(n):
        for j in range(m):
            box[i] *= ref[j] - q[i, j]
    q = q[np.argsort(-box, kind="mergesort")]
    x = np.empty(m)
    dominated = 0
    for s in range(u.shape[0]):
        for j in range(m):
            x[j] = lo[j] + u[s, j] * (ref[j] - lo[j])
        for i in range(n):
            inside = True
            for j in range(m):
                if q[i, j] > x[j]:
                    inside = False
                    break
            if inside:
                dominated += 1
                break
    f = dominated / u.shape[0]
    return volume * f, volume * math.sqrt(f * (1.0 - f) / u.shape[0])


# --- public wrappers: convert once, then call the compiled code --------------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Arguments, shapes and complexity as :func:`hpo_core.kernels._reference.nondominated_rank`.
    """
    return _nondominated_rank(_f64(values))  # type: ignore[no-any-return]


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Arguments, shapes and complexity as :func:`hpo_core.kernels._reference.is_pareto_front`.
    """
    return _is_pareto_front(_f64(values))  # type: ignore[no-any-return]


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation.

    Arguments and accuracy as :func:`hpo_core.kernels._reference.hypervolume`. m = 3:
    O(n f) dimension sweep, f the largest 2-D front; m = 4: slabs over f4, O(n^2 f);
    m >= 5: slabs over the last objective down to 4-D, O(n^(m - 2) f) at worst (every
    point on the front); a few seconds for 100 points at m = 6.
    """
    return float(_hypervolume(_f64(points), _f64(ref)))


def hypervolume_mc(points: np.ndarray, ref: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Monte-Carlo estimate of the hypervolume (minimisation) and its standard error.

    Arguments, results and cost as :func:`hpo_core.kernels._reference.hypervolume_mc`.
    """
    value, error = _hypervolume_mc(_f64(points), _f64(ref), _f64(u))
    return float(value), float(error)
