"""Numba: the box decomposition of the non-dominated region and LogEHVI over it.

Arguments, shapes and results are those of ``_reference_ehvi`` (notation there); the tests
pin both kernels to it. ``log_ehvi`` computes ``log h`` (and ``log Phi`` for the
derivatives) once per point at each distinct box edge of each objective rather than at
every box corner: a decomposition of c boxes has O(c) corners but each objective only
about c / 2 distinct edges, and those transcendental calls are most of the cost.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hpo_core.kernels._numba_gp import _log_ei_scalar
from hpo_core.kernels._numba_pareto import _hv_inside, _lex_order
from hpo_core.kernels._numba_truncnorm import _log_ndtr
from hpo_core.kernels._reference_ehvi import CLOSE

__all__ = ["log_ehvi", "nondominated_boxes"]

_jit = njit(cache=True, nogil=True, error_model="numpy")
_INF = math.inf


@_jit
def _boxes_2d(points, ref):  # type: ignore[no-untyped-def]
    n = points.shape[0]
    order = _lex_order(points)  # by x, then y
    lo = np.empty((n + 1, 2))
    hi = np.empty((n + 1, 2))
    c = 0
    y_min, x_prev = ref[1], -_INF
    for t in range(n):
        x, y = points[order[t], 0], points[order[t], 1]
        if y < y_min:
            if x > x_prev:
                lo[c, 0], lo[c, 1], hi[c, 0], hi[c, 1] = x_prev, -_INF, x, y_min
                c += 1
            x_prev, y_min = x, y
    if ref[0] > x_prev:
        lo[c, 0], lo[c, 1], hi[c, 0], hi[c, 1] = x_prev, -_INF, ref[0], y_min
        c += 1
    return lo[:c].copy(), hi[:c].copy()


@_jit
def _boxes_3d(points, ref):  # type: ignore[no-untyped-def]
    # Columns (cx, cy, cz)[0:f]: x_left, y_bound, z_open, in x order (reference: cols).
    n = points.shape[0]
    keyed = np.empty((n, 3))  # by z, then x, then y
    keyed[:, 0], keyed[:, 1], keyed[:, 2] = points[:, 2], points[:, 0], points[:, 1]
    order = _lex_order(keyed)
    cx, cy, cz = np.empty(n + 2), np.empty(n + 2), np.empty(n + 2)
    cx[0], cy[0], cz[0] = -_INF, ref[1], -_INF
    f = 1
    lo = np.empty((2 * n + 2, 3))
    hi = np.empty((2 * n + 2, 3))
    c = 0
    for t in range(n):
        x, y, z = points[order[t], 0], points[order[t], 1], points[order[t], 2]
        a, b = 1, f  # k = number of columns >= 1 with x_left <= x
        while a < b:
            mid = (a + b) // 2
            if cx[mid] <= x:
                a = mid + 1
            else:
                b = mid
        k = a - 1
        if cy[k] <= y:
            continue
        if k > 0 and cx[k] == x:
            start = k
        else:
            start = k + 1
            right = cx[k + 1] if k + 1 < f else ref[0]
            if right > x and z > cz[k]:
                lo[c, 0], lo[c, 1], lo[c, 2] = x, -_INF, cz[k]
                hi[c, 0], hi[c, 1], hi[c, 2] = right, cy[k], z
                c += 1
        last = start
        while last < f and cy[last] >= y:
            last += 1
        for j in range(start, last):
            right = cx[j + 1] if j + 1 < f else ref[0]
            if right > cx[j] and z > cz[j]:
                lo[c, 0], lo[c, 1], lo[c, 2] = cx[j], -_INF, cz[j]
                hi[c, 0], hi[c, 1], hi[c, 2] = right, cy[j], z
                c += 1
        # Replace columns start .. last - 1 by p's column.
        shift = 1 - (last - start)
        if shift > 0:
            for s in range(f - 1, last - 1, -1):
                cx[s + shift], cy[s + shift], cz[s + shift] = cx[s], cy[s], cz[s]
        elif shift < 0:
            for s in range(last, f):
                cx[s + shift], cy[s + shift], cz[s + shift] = cx[s], cy[s], cz[s]
        cx[start], cy[start], cz[start] = x, y, z
        f += shift
    for j in range(f):
        right = cx[j + 1] if j + 1 < f else ref[0]
        if right > cx[j] and ref[2] > cz[j]:
            lo[c, 0], lo[c, 1], lo[c, 2] = cx[j], -_INF, cz[j]
            hi[c, 0], hi[c, 1], hi[c, 2] = right, cy[j], ref[2]
            c += 1
    return lo[:c].copy(), hi[:c].copy()


@_jit
def _nondominated_boxes(points, ref):  # type: ignore[no-untyped-def]
    points = _hv_inside(points, ref)
    m = ref.shape[0]
    if m == 1:
        lo = np.full((1, 1), -_INF)
        hi = np.full((1, 1), min(ref[0], points[:, 0].min()) if points.shape[0] else ref[0])
        return lo, hi
    if m == 2:
        return _boxes_2d(points, ref)
    return _boxes_3d(points, ref)


@_jit
def _edges(lo, hi):  # type: ignore[no-untyped-def]
    """Per objective the sorted distinct finite edges E[j, :ne[j]], and each box corner's
    index into them (-1 for lo = -inf)."""
    c, m = lo.shape
    E = np.empty((m, 2 * c))
    ne = np.zeros(m, dtype=np.intp)
    ilo = np.empty((c, m), dtype=np.intp)
    ihi = np.empty((c, m), dtype=np.intp)
    for j in range(m):
        vals = np.sort(np.concatenate((lo[:, j], hi[:, j])))
        count = 0
        for v in vals:
            if math.isfinite(v) and (count == 0 or v != E[j, count - 1]):
                E[j, count] = v
                count += 1
        ne[j] = count
        ilo[:, j] = np.searchsorted(E[j, :count], lo[:, j])
        ihi[:, j] = np.searchsorted(E[j, :count], hi[:, j])
        for i in range(c):
            if not math.isfinite(lo[i, j]):
                ilo[i, j] = -1
    return E, ne, ilo, ihi


@_jit
def _log_ehvi(mean, sd, lo, hi, grad):  # type: ignore[no-untyped-def]
    k, m = mean.shape
    c = lo.shape[0]
    value = np.full(k, -_INF)
    d_mean = np.zeros((k, m))
    d_sd = np.zeros((k, m))
    if c == 0:
        return value, d_mean, d_sd
    E, ne, ilo, ihi = _edges(lo, hi)
    width = E.shape[1]
    zs = np.empty((m, width))  # per point: z at each edge, log h(z), log Phi(z)
    lh = np.empty((m, width))
    lp = np.empty((m, width))
    L = np.empty((c, m))  # log(h(a) - h(b)) per box and objective
    terms = np.empty(c)
    for i in range(k):
        for j in range(m):
            for e in range(ne[j]):
                z = (E[j, e] - mean[i, j]) / sd[i, j]
                zs[j, e] = z
                lh[j, e] = _log_ei_scalar(z)[0]
                if grad:
                    lp[j, e] = _log_ndtr(z)
        top = -_INF
        for b in range(c):
            t = 0.0
            for j in range(m):
                ea, eb = ihi[b, j], ilo[b, j]
                la = lh[j, ea]
                if eb < 0:
                    v = la
                else:
                    d = min(lh[j, eb] - la, 0.0)
                    if d > CLOSE:  # h(a) - h(b) ~ Phi(mid) (a - b)
                        v = _log_ndtr(0.5 * (zs[j, ea] + zs[j, eb])) + math.log(
                            max(zs[j, ea] - zs[j, eb], 1e-300)
                        )
                    else:
                        v = la + math.log1p(-math.exp(d))
                L[b, j] = v
                t += v
            terms[b] = t
            if t > top:
                top = t
        if not math.isfinite(top):
            continue
        acc = 0.0
        for b in range(c):
            acc += math.exp(terms[b] - top)
        total = top + math.log(acc)
        log_s = 0.0
        for j in range(m):
            log_s += math.log(sd[i, j])
        value[i] = log_s + total
        if not grad:
            continue
        for j in range(m):
            d_sd[i, j] = 1.0
        for b in range(c):
            w = math.exp(terms[b] - total)
            if w == 0.0:
                continue
            for j in range(m):
                ea, eb = ihi[b, j], ilo[b, j]
                ga = math.exp(lp[j, ea] - L[b, j])
                gmean = ga
                gsd = ga * zs[j, ea]
                if eb >= 0:
                    gb = -math.exp(lp[j, eb] - L[b, j])
                    gmean += gb
                    gsd += gb * zs[j, eb]
                d_mean[i, j] -= w * gmean
                d_sd[i, j] -= w * gsd
        for j in range(m):
            d_mean[i, j] /= sd[i, j]
            d_sd[i, j] /= sd[i, j]
    return value, d_mean, d_sd


# --- public wrappers: convert once, then call the compiled code ------------------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def nondominated_boxes(points: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint boxes that tile the region below ref that no point dominates.

    Arguments, shapes and bounds as :func:`hpo_core.kernels._reference.nondominated_boxes`.
    """
    return _nondominated_boxes(_f64(points), _f64(ref))  # type: ignore[no-any-return]


def log_ehvi(
    mean: np.ndarray, sd: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, grad: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log expected hypervolume improvement of independent Gaussians over disjoint boxes.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_ehvi`.
    """
    return _log_ehvi(_f64(mean), _f64(sd), _f64(lo), _f64(hi), bool(grad))  # type: ignore[no-any-return]
