"""Log expected hypervolume improvement (LogEHVI) for 2-3 objectives, all maximised.

Notation:
    M            objectives (2 or 3), maximised, in the models' standardised outputs.
    P            (p, M) the Pareto front of the observations; r (M,) the reference point
                 (below every observation).
    cells        disjoint boxes [l, u] that tile the part of [r, inf)^M no front point
                 dominates (``improvement_cells``: the grid of the front's coordinates,
                 its undominated cells merged into columns). The hypervolume gained by
                 adding a point y is then ``sum_cells prod_j max(0, min(u_j, y_j) - l_j)``.

With independent Gaussian posteriors per objective, ``y_j ~ N(mu_j, s_j^2)``, each factor
has a closed form: ``E[max(0, min(u, Y) - l)] = s (h(z_l) - h(z_u))`` with
``h(z) = phi(z) + z Phi(z)``, ``z_l = (mu - l) / s``, ``z_u = (mu - u) / s`` (``h(z_u) = 0``
for ``u = inf``), and the expectation of the product is the product of the expectations
(Yang et al. 2019, "Efficient computation of expected hypervolume improvement using box
decomposition algorithms"). Everything is kept in log space: ``log h = kernels.log_ei``,
``log(h(a) - h(b)) = log h(a) + log1p(-exp(log h(b) - log h(a)))``, and the cells are
combined by logsumexp, so the value and its gradient stay finite where EHVI underflows
(Daulton et al. 2023, "Unexpected Improvements to Expected Improvement").
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import log_ndtr, logsumexp

from hpo_core import kernels

__all__ = ["improvement_cells", "log_ehvi", "pareto_front"]


def pareto_front(Y: np.ndarray) -> np.ndarray:
    """Rows of Y (n, M) that no other row dominates (maximisation), duplicates once."""
    Y = np.unique(Y, axis=0)
    keep = kernels.is_pareto_front(-Y)  # the kernel minimises
    return Y[keep]


def improvement_cells(front: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners (c, M) of disjoint boxes that tile the region above ``ref``
    no front point dominates (upper corners may be +inf).

    The front's coordinates split [ref, inf)^M into a grid. A front point dominates the
    grid cells of a lower orthant of indices, and a cell above an undominated one is
    undominated, so each column of cells along the last axis is undominated from some
    index up: one box per column, running to +inf. Neighbouring columns along the
    next-to-last axis that start at the same index are merged. That leaves O(p) boxes for
    two objectives and at most O(p^2) (far fewer in practice) for three, instead of the
    O(p^M) grid cells: LogEHVI's cost is linear in the boxes.
    """
    M = len(ref)
    edges = [np.unique(np.concatenate(([ref[j]], front[:, j][front[:, j] > ref[j]], [np.inf])))
             for j in range(M)]
    shape = tuple(len(e) - 1 for e in edges)
    dominated = np.zeros(shape, dtype=np.bool_)
    for point in front:
        # Cells whose upper corner is <= the point in every axis: a prefix per axis.
        dominated[tuple(slice(0, int(np.searchsorted(e[1:], v, side="right"))) for e, v in zip(edges, point))] = True
    start = dominated.sum(axis=-1)  # (shape[:-1]) first undominated index along the last axis
    lows, highs = [], []
    for idx in itertools.product(*[range(n) for n in shape[:-2]]):
        col = start[idx]  # (shape[-2],) per index of the next-to-last axis
        i = 0
        while i < len(col):
            j = i
            while j + 1 < len(col) and col[j + 1] == col[i]:
                j += 1
            lo = [edges[a][k] for a, k in enumerate(idx)] + [edges[M - 2][i], edges[M - 1][col[i]]]
            hi = [edges[a][k + 1] for a, k in enumerate(idx)] + [edges[M - 2][j + 1], np.inf]
            lows.append(lo)
            highs.append(hi)
            i = j + 1
    return np.array(lows, dtype=np.float64).reshape(-1, M), np.array(highs, dtype=np.float64).reshape(-1, M)


def _log_diff_h(zl: np.ndarray, zu: np.ndarray, finite_u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log(h(zl) - h(zu)) (h(zu) = 0 where not finite_u) and its derivatives in zl, zu."""
    ll, _ = kernels.log_ei(zl)
    lu, _ = kernels.log_ei(np.where(finite_u, zu, -np.inf))
    lu = np.where(finite_u, lu, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.minimum(lu - ll, 0.0)
        value = ll + np.log1p(-np.exp(d))
        # h(a) - h(b) ~ Phi(mid) (a - b) when the two are within rounding of each other.
        close = finite_u & (d > -1e-9)
        mid = 0.5 * (zl + zu)
        value = np.where(close, log_ndtr(mid) + np.log(np.maximum(zl - zu, 1e-300)), value)
        dl = np.exp(log_ndtr(zl) - value)  # dh/dz = Phi(z)
        du = np.where(finite_u, -np.exp(log_ndtr(np.where(finite_u, zu, 0.0)) - value), 0.0)
    return value, dl, du


def log_ehvi(mean: np.ndarray, var: np.ndarray, dmean: np.ndarray, dvar: np.ndarray, lows: np.ndarray,
             highs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LogEHVI at m points and its gradient.

    Args:
        mean, var: (m, M) posterior means and variances of the M objectives (maximised).
        dmean, dvar: (m, M, d) their gradients in the inputs.
        lows, highs: (c, M) the improvement cells (:func:`improvement_cells`).

    Returns:
        (m,) values and (m, d) gradients; -inf (gradient 0) where there is no cell.
    """
    m, M = mean.shape
    d = dmean.shape[2]
    if len(lows) == 0:
        return np.full(m, -np.inf), np.zeros((m, d))
    s = np.sqrt(var)  # (m, M)
    ds = dvar / (2.0 * s)[:, :, None]  # (m, M, d)
    mu, sd = mean[:, None, :], s[:, None, :]  # (m, 1, M)
    zl = (mu - lows[None]) / sd  # (m, c, M)
    finite_u = np.isfinite(highs)[None] & np.ones_like(zl, dtype=bool)
    zu = np.where(finite_u, (mu - np.where(np.isfinite(highs), highs, 0.0)[None]) / sd, -np.inf)
    lv, dl, du = _log_diff_h(zl, zu, finite_u)
    terms = (np.log(s)[:, None, :] + lv).sum(axis=2)  # (m, c) log of each cell's expectation
    value = logsumexp(terms, axis=1)
    w = np.exp(terms - value[:, None])  # (m, c) softmax weights of the cells
    # d log(s (h(zl) - h(zu))) / d mu = (dl + du) / s; / d s = 1/s - (dl zl + du zu) / s.
    zu0 = np.where(finite_u, zu, 0.0)
    g_mu = ((dl + du) / sd * w[:, :, None]).sum(axis=1)  # (m, M)
    g_s = (((1.0 - dl * zl - du * zu0) / sd) * w[:, :, None]).sum(axis=1)
    grad = (g_mu[:, :, None] * dmean + g_s[:, :, None] * ds).sum(axis=1)
    return value, grad
