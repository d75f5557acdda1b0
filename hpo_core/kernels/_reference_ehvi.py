"""NumPy reference: the box decomposition of the non-dominated region and LogEHVI over it.

Notation (everything minimised, as in ``_reference_pareto``):
    n, m         numbers of points and objectives (m <= 3 here); ``points: (n, m)``.
    r            the reference point ``ref: (m,)``; only points strictly below it count.
    N            the non-dominated region: the points y <= r that no point p dominates
                 (``p <= y`` in every objective). A new observation y improves the
                 hypervolume by the volume of ``[y, r]`` inside N.
    boxes        ``lo, hi: (c, m)`` corners of disjoint boxes [lo, hi) that tile N; ``lo``
                 may be -inf, ``hi`` is finite. The hypervolume improvement of y is then
                 ``sum_c prod_j max(0, hi_j - max(lo_j, y_j))``.
    mean, sd     ``(k, m)`` independent Gaussian beliefs ``Y_j ~ N(mean_j, sd_j^2)``.

Boxes (``nondominated_boxes``): for m = 3 a dimension sweep in the last objective
(Yang, Emmerich, Deutz and Baeck 2019, "Efficient computation of expected hypervolume
improvement using box decomposition algorithms", J. Glob. Optim. 75, Sec. 4): the slice of
N at height z is the complement of the 2-D staircase of the points below z, a set of
columns; a point entering the staircase closes the column it lands in (its part from the
point's x on) and the columns of the staircase points it removes, and opens one column
of its own. Each point closes 1 + (the points it removes) boxes and opens one, so there
are at most 2n + 1 boxes (the O(n^2) grid cells of a naive decomposition merge into
these). m = 2: the staircase's n + 1 columns; m = 1: one box.

LogEHVI (``log_ehvi``): with a = (hi - mean) / sd and b = (lo - mean) / sd, a box's
expected gain in objective j is ``E[max(0, hi - max(lo, Y))] = sd (h(a) - h(b))`` with
``h(z) = phi(z) + z Phi(z)`` (``h(-inf) = 0``), and the expectation over a box is the
product over objectives (independence). LogEHVI is ``sum_j log sd_j + logsumexp_c sum_j
log(h(a_cj) - h(b_cj))``, each log difference as ``log h(a) + log1p(-exp(log h(b) - log
h(a)))`` with ``log h = log_ei`` (accurate deep in the lower tail, where EHVI underflows:
Ament et al. 2023, "Unexpected Improvements to Expected Improvement"); where a and b are
within rounding (``h(a) - h(b)`` cancels), ``h(a) - h(b) ~ Phi((a + b) / 2) (a - b)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr

from hpo_core.kernels._reference_gp import log_ei

__all__ = ["log_ehvi", "nondominated_boxes"]

# log h(b) - log h(a) above this: the two are within rounding, take the midpoint form.
CLOSE = -1e-9


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _boxes_2d(points: np.ndarray, ref: np.ndarray) -> tuple[list[list[float]], list[list[float]]]:
    """The columns of the 2-D staircase: x in [s_i.x, s_(i+1).x), y below s_i.y."""
    lo, hi = [], []
    y_min, x_prev = float(ref[1]), -np.inf
    for x, y in points[np.lexsort((points[:, 1], points[:, 0]))].tolist():
        if y < y_min:  # a staircase point: the column left of it ends here
            if x > x_prev:
                lo.append([x_prev, -np.inf])
                hi.append([x, y_min])
            x_prev, y_min = x, y
    if ref[0] > x_prev:
        lo.append([x_prev, -np.inf])
        hi.append([float(ref[0]), y_min])
    return lo, hi


def _boxes_3d(points: np.ndarray, ref: np.ndarray) -> tuple[list[list[float]], list[list[float]]]:
    """The dimension sweep of the module docstring. Columns are [x_left, y_bound, z_open]
    in x order: column 0 starts at -inf below ref's y, column k >= 1 belongs to the k-th
    staircase point (x_left, y_bound); a column runs to the next one's x_left (ref's x)."""
    lo: list[list[float]] = []
    hi: list[list[float]] = []
    cols: list[list[float]] = [[-np.inf, float(ref[1]), -np.inf]]

    def right(j: int) -> float:
        return cols[j + 1][0] if j + 1 < len(cols) else float(ref[0])

    def emit(x_left: float, x_right: float, y_bound: float, z_open: float, z: float) -> None:
        if x_right > x_left and z > z_open:
            lo.append([x_left, -np.inf, z_open])
            hi.append([x_right, y_bound, z])

    for x, y, z in points[np.lexsort((points[:, 1], points[:, 0], points[:, 2]))].tolist():
        k = sum(1 for c in cols[1:] if c[0] <= x)  # the column that contains x
        if cols[k][1] <= y:
            continue  # a point at most as high has x' <= x and y' <= y: p is dominated
        if k > 0 and cols[k][0] == x:
            start = k  # p removes the staircase point at its own x
        else:  # column k keeps [x_left, x) open; its part from x on closes
            start = k + 1
            emit(x, right(k), cols[k][1], cols[k][2], z)
        last = start  # columns start .. last - 1: the staircase points p removes
        while last < len(cols) and cols[last][1] >= y:
            last += 1
        for j in range(start, last):
            emit(cols[j][0], right(j), cols[j][1], cols[j][2], z)
        cols[start:last] = [[x, y, z]]  # p's column: [x, next x) below y, from z up
    for j in range(len(cols)):
        emit(cols[j][0], right(j), cols[j][1], cols[j][2], float(ref[2]))
    return lo, hi


def nondominated_boxes(points: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint boxes that tile the region below ref that no point dominates.

    Args:
        points: Objective values, shape (n, m) with m in {1, 2, 3}, NaN-free, minimised.
            Points that do not strictly dominate ``ref`` are ignored.
        ref: Reference point, shape (m,), finite.

    Returns:
        ``lo, hi``: shapes (c, m), the boxes [lo, hi), every one of positive volume;
        ``lo`` may be -inf, ``hi`` is finite. At most n + 1 boxes for m = 2 and 2n + 1
        for m = 3 (a dimension sweep, O(n^2) here and in Numba).
    """
    points, ref = _f64(points), _f64(ref)
    m = len(ref)
    points = points[np.all(points < ref, axis=1)]
    if m == 1:
        lo, hi = [[-np.inf]], [[float(min(ref[0], points[:, 0].min(initial=np.inf)))]]
    elif m == 2:
        lo, hi = _boxes_2d(points, ref)
    else:
        lo, hi = _boxes_3d(points, ref)
    return np.array(lo, dtype=np.float64).reshape(-1, m), np.array(hi, dtype=np.float64).reshape(-1, m)


def _log_gain(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log(h(a) - h(b)) for a > b (b may be -inf) and its derivatives in a and in b."""
    la, _ = log_ei(a)
    finite_b = np.isfinite(b)
    b0 = np.where(finite_b, b, 0.0)
    lb = np.where(finite_b, log_ei(b0)[0], -np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.minimum(lb - la, 0.0)
        value = la + np.log1p(-np.exp(d))
        close = finite_b & (d > CLOSE)
        mid = 0.5 * (a + b0)
        value = np.where(close, log_ndtr(mid) + np.log(np.maximum(a - b0, 1e-300)), value)
        da = np.exp(log_ndtr(a) - value)  # h'(z) = Phi(z)
        db = np.where(finite_b, -np.exp(log_ndtr(b0) - value), 0.0)
    return value, da, db


def log_ehvi(
    mean: np.ndarray, sd: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, grad: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log expected hypervolume improvement of independent Gaussians over disjoint boxes.

    Args:
        mean, sd: Shapes (k, m): the Gaussian beliefs of k points (minimised objectives),
            sd > 0.
        lo, hi: Shapes (c, m): disjoint boxes tiling the non-dominated region
            (:func:`nondominated_boxes`); lo may be -inf, hi finite.
        grad: Whether to compute the derivatives (zeros otherwise).

    Returns:
        ``value`` (k,), ``d_mean`` (k, m) and ``d_sd`` (k, m): LogEHVI and its partial
        derivatives. -inf (derivatives 0) where there is no box or every box's gain
        underflows even in log space. Accurate to a relative 1e-12 or so where the
        log-differences are away from cancellation.
    """
    mean, sd, lo, hi = _f64(mean), _f64(sd), _f64(lo), _f64(hi)
    k, m = mean.shape
    if len(lo) == 0:
        return np.full(k, -np.inf), np.zeros((k, m)), np.zeros((k, m))
    s = sd[:, None, :]  # (k, 1, m)
    a = (hi[None] - mean[:, None, :]) / s  # (k, c, m)
    b = np.where(
        np.isfinite(lo)[None], (np.where(np.isfinite(lo), lo, 0.0)[None] - mean[:, None, :]) / s, -np.inf
    )
    lv, da, db = _log_gain(a, b)
    terms = lv.sum(axis=2)  # (k, c)
    top = terms.max(axis=1)
    empty = ~np.isfinite(top)
    top = np.where(empty, 0.0, top)
    total = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
    value = np.where(empty, -np.inf, np.log(sd).sum(axis=1) + total)
    d_mean, d_sd = np.zeros((k, m)), np.zeros((k, m))
    if grad:
        w = np.where(empty[:, None], 0.0, np.exp(terms - total[:, None]))[:, :, None]  # (k, c, 1)
        # d a / d mean = d b / d mean = -1 / sd; d a / d sd = -a / sd, d b / d sd = -b / sd.
        bb = np.where(np.isfinite(b), b, 0.0)
        d_mean = -((da + db) * w).sum(axis=1) / sd
        d_sd = np.where(empty[:, None], 0.0, (1.0 - ((da * a + db * bb) * w).sum(axis=1)) / sd)
    return value, d_mean, d_sd
