"""Numba versions of the Gaussian-process kernels (re-exported by ``_numba``).

Notation, arguments and accuracy are those of ``_reference_gp``; the tests pin every
kernel here to it at ``rtol=1e-10``. Kernel matrices are built by explicit loops over
pairs of points (the symmetric K only over i < j), with exact differences rather than
the reference's expanded r^2. The Cholesky factorisation is ``np.linalg.cholesky``
(LAPACK ``potrf`` through SciPy, which may use BLAS threads: GPSampler limits them
during an ask); the triangular solves, K^-1 and the posterior's ``k_q K^-1`` are plain
loops. Compiled like ``_numba`` (``cache=True, nogil=True``, fastmath off, ``intp``
indices).

This module is self-contained (it imports nothing from ``_numba``) because ``_numba``
imports it: its one scalar helper shared in spirit with ``_numba``, the exact split
of ``y^2``, is repeated below.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["gp_log_marginal_likelihood", "gp_posterior", "log_ei", "matern52"]

_jit = njit(cache=True, nogil=True, error_model="numpy")

_INF = math.inf
_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_VAR_FLOOR = 1e-12  # see _reference_gp._VAR_FLOOR
_LOG_EI_SERIES_FROM = 10.0  # see _reference_gp
_LOG_EI_SERIES_TERMS = 30


# --- Matern-5/2 ----------------------------------------------------------------------


@_jit
def _sq_dist(x1, x2, rho, is_cat):  # type: ignore[no-untyped-def]
    """r^2 between the rows x1 (d,) and x2 (d,): a sum of non-negative terms."""
    r2 = 0.0
    for j in range(x1.shape[0]):
        if is_cat[j]:
            if x1[j] != x2[j]:
                r2 += rho[j]
        else:
            diff = x1[j] - x2[j]
            r2 += rho[j] * diff * diff
    return r2


@_jit
def _matern52_and_slope(r2: float) -> tuple[float, float]:
    """k(r) and dk/d(r^2) from r^2 >= 0."""
    s = _SQRT5 * math.sqrt(r2)
    e = math.exp(-s)
    return (1.0 + s + s * s / 3.0) * e, -5.0 / 6.0 * (1.0 + s) * e


@_jit
def _matern52(X1, X2, rho, is_cat):  # type: ignore[no-untyped-def]
    n1, n2 = X1.shape[0], X2.shape[0]
    out = np.empty((n1, n2))
    for a in range(n1):
        for b in range(n2):
            out[a, b] = _matern52_and_slope(_sq_dist(X1[a], X2[b], rho, is_cat))[0]
    return out


# --- triangular solves ---------------------------------------------------------------


@_jit
def _solve_lower(L, B):  # type: ignore[no-untyped-def]
    """L^-1 B for lower-triangular L (n, n) and B (n, m), by rows (contiguous inner loops)."""
    n, m = B.shape
    Z = B.copy()
    for i in range(n):
        for k in range(i):
            c = L[i, k]
            for q in range(m):
                Z[i, q] -= c * Z[k, q]
        inv = 1.0 / L[i, i]
        for q in range(m):
            Z[i, q] *= inv
    return Z


@_jit
def _solve_lower_t(L, B):  # type: ignore[no-untyped-def]
    """L^-T B for lower-triangular L (n, n) and B (n, m) (back substitution)."""
    n, m = B.shape
    Z = B.copy()
    for i in range(n - 1, -1, -1):
        for k in range(i + 1, n):
            c = L[k, i]
            for q in range(m):
                Z[i, q] -= c * Z[k, q]
        inv = 1.0 / L[i, i]
        for q in range(m):
            Z[i, q] *= inv
    return Z


@_jit
def _inv_from_cholesky(L):  # type: ignore[no-untyped-def]
    """K^-1 = L^-T L^-1 from the lower factor L (n, n), using the triangular shapes."""
    n = L.shape[0]
    Linv = np.zeros((n, n))
    for i in range(n):  # row i of L^-1 has its non-zeros in columns 0..i
        for k in range(i):
            c = L[i, k]
            for j in range(k + 1):
                Linv[i, j] -= c * Linv[k, j]
        Linv[i, i] = 1.0
        inv = 1.0 / L[i, i]
        for j in range(i + 1):
            Linv[i, j] *= inv
    Kinv = np.zeros((n, n))
    for k in range(n):  # K^-1 = sum_k outer(Linv[k], Linv[k]); fill a <= b, then mirror
        for a in range(k + 1):
            c = Linv[k, a]
            for b in range(a, k + 1):
                Kinv[a, b] += c * Linv[k, b]
    for a in range(n):
        for b in range(a):
            Kinv[a, b] = Kinv[b, a]
    return Kinv


# --- log marginal likelihood ---------------------------------------------------------


@_jit
def _gp_log_marginal_likelihood(X, y, is_cat, theta):  # type: ignore[no-untyped-def]
    n, d = X.shape
    grad = np.zeros(d + 2)
    if n == 0:
        return 0.0, grad
    rho = np.exp(theta[:d])
    a, s2 = np.exp(theta[d]), np.exp(theta[d + 1])  # not math.exp: it raises on overflow without the JIT
    k = np.empty((n, n))
    slope = np.empty((n, n))
    K = np.empty((n, n))
    for i in range(n):
        k[i, i], slope[i, i] = _matern52_and_slope(0.0)
        K[i, i] = a * k[i, i] + s2
        for j in range(i + 1, n):
            kij, sij = _matern52_and_slope(_sq_dist(X[i], X[j], rho, is_cat))
            k[i, j] = k[j, i] = kij
            slope[i, j] = slope[j, i] = sij
            K[i, j] = K[j, i] = a * kij
    if not np.all(np.isfinite(K)):
        return -_INF, grad
    try:
        L = np.linalg.cholesky(K)
    except Exception:  # noqa: BLE001 - numba catches only bare Exception: not positive definite
        return -_INF, grad
    alpha = _solve_lower_t(L, _solve_lower(L, y.reshape((n, 1))))[:, 0]
    value = -0.5 * n * _LOG_2PI
    for i in range(n):
        value -= 0.5 * y[i] * alpha[i] + math.log(L[i, i])
    Kinv = _inv_from_cholesky(L)
    # grad_p = tr(W dK/dtheta_p) / 2 with W = alpha alpha^T - K^-1 symmetric: the pairs
    # i < j count twice, so the 1/2 cancels for them; delta_j is 0 on the diagonal.
    for i in range(n):
        w = alpha[i] * alpha[i] - Kinv[i, i]
        grad[d] += 0.5 * w * a * k[i, i]
        grad[d + 1] += 0.5 * w * s2
        for j in range(i + 1, n):
            w = alpha[i] * alpha[j] - Kinv[i, j]
            grad[d] += w * a * k[i, j]
            g = w * a * slope[i, j]
            for p in range(d):
                if is_cat[p]:
                    if X[i, p] != X[j, p]:
                        grad[p] += g * rho[p]
                else:
                    diff = X[i, p] - X[j, p]
                    grad[p] += g * rho[p] * diff * diff
    return value, grad


# --- posterior -----------------------------------------------------------------------


@_jit
def _gp_posterior(Xq, X, is_cat, theta, K_inv, alpha, grad):  # type: ignore[no-untyped-def]
    m, d = Xq.shape
    n = X.shape[0]
    rho = np.exp(theta[:d])
    a = np.exp(theta[d])
    kq = np.empty((m, n))
    slope = np.empty((m, n))
    mean = np.zeros(m)
    for q in range(m):
        for i in range(n):
            kqi, sqi = _matern52_and_slope(_sq_dist(Xq[q], X[i], rho, is_cat))
            kq[q, i] = a * kqi
            slope[q, i] = a * sqi
            mean[q] += a * kqi * alpha[i]
    B = np.zeros((m, n))  # k_q K^-1, i.e. (K^-1 k_q^T)^T; rows of K^-1 are contiguous
    var = np.full(m, a)
    for q in range(m):
        for i in range(n):
            c = kq[q, i]
            for j in range(n):
                B[q, j] += c * K_inv[i, j]
        for i in range(n):
            var[q] -= B[q, i] * kq[q, i]
    dmean = np.zeros((m, d))
    dvar = np.zeros((m, d))
    floor = _VAR_FLOOR * a
    for q in range(m):
        clipped = var[q] < floor
        if clipped:
            var[q] = floor
        if not grad:
            continue
        for i in range(n):
            c = 2.0 * slope[q, i]  # d k_q[q, i] / d Xq[q, p] = c rho_p (Xq[q, p] - X[i, p])
            cm, cv = c * alpha[i], -2.0 * c * B[q, i]
            for p in range(d):
                if not is_cat[p]:
                    diff = rho[p] * (Xq[q, p] - X[i, p])
                    dmean[q, p] += cm * diff
                    if not clipped:
                        dvar[q, p] += cv * diff
    return mean, var, dmean, dvar


# --- log expected improvement --------------------------------------------------------


@_jit
def _erfcx(y: float) -> float:
    """erfc(y) exp(y^2) for 0 < y <= 8 to a few ulp: exp of y^2 split as hi + lo (Dekker;
    as ``_numba_truncnorm._square_split``), since fl(y^2) alone would cost y^2 ulp."""
    hi = y * y
    m, e = math.frexp(y)
    y_hi = math.ldexp(math.floor(m * 67108864.0), e - 26)  # y to 26 bits: exact products
    y_lo = y - y_hi
    lo = ((y_hi * y_hi - hi) + 2.0 * y_hi * y_lo) + y_lo * y_lo
    return math.erfc(y) * math.exp(hi) * (1.0 + lo)


@_jit
def _log_ei_scalar(z: float) -> tuple[float, float]:
    """(log h(z), Phi(z) / h(z)) with the branches of ``_reference_gp.log_ei``."""
    if z >= -1.0:
        Phi = 0.5 * math.erfc(-z * _SQRT1_2)
        h = _INV_SQRT_2PI * math.exp(-0.5 * z * z) + z * Phi
        if h == _INF:
            return _INF, 0.0
        return math.log(h), Phi / h
    if z != z:
        return z, z
    t = -z
    log_phi = -0.5 * t * t - 0.5 * _LOG_2PI
    if t <= _LOG_EI_SERIES_FROM:
        S = 1.0 - t * _SQRT_HALF_PI * _erfcx(t * _SQRT1_2)
        return log_phi + math.log(S), (1.0 - S) / (t * S)
    if t == _INF:
        return -_INF, _INF
    x = 1.0 / (t * t)
    u = 1.0  # S = u / t^2
    for k in range(_LOG_EI_SERIES_TERMS - 1, 0, -1):
        u = 1.0 - (2 * k + 1) * x * u
    return log_phi + math.log(u) - 2.0 * math.log(t), (1.0 - u * x) * (t / u)


@_jit
def _log_ei(z):  # type: ignore[no-untyped-def]
    value = np.empty(z.shape[0])
    deriv = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        value[i], deriv[i] = _log_ei_scalar(z[i])
    return value, deriv


# --- public wrappers: convert once, then call the compiled code ------------------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _bool(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.bool_)


def matern52(
    X1: np.ndarray, X2: np.ndarray, inv_sq_lengthscales: np.ndarray, is_categorical: np.ndarray
) -> np.ndarray:
    """ARD Matern-5/2 kernel matrix with unit amplitude between two sets of points.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.matern52`.
    """
    return _matern52(_f64(X1), _f64(X2), _f64(inv_sq_lengthscales), _bool(is_categorical))  # type: ignore[no-any-return]


def gp_log_marginal_likelihood(
    X: np.ndarray, y: np.ndarray, is_categorical: np.ndarray, theta: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of a zero-mean GP with a Matern-5/2 kernel, and its gradient.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.gp_log_marginal_likelihood`.
    """
    value, grad = _gp_log_marginal_likelihood(_f64(X), _f64(y), _bool(is_categorical), _f64(theta))
    return float(value), grad


def gp_posterior(
    Xq: np.ndarray,
    X: np.ndarray,
    is_categorical: np.ndarray,
    theta: np.ndarray,
    K_inv: np.ndarray,
    alpha: np.ndarray,
    *,
    grad: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and variance of the latent GP at query points, and their gradients.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.gp_posterior`.
    """
    return _gp_posterior(  # type: ignore[no-any-return]
        _f64(Xq), _f64(X), _bool(is_categorical), _f64(theta), _f64(K_inv), _f64(alpha), bool(grad)
    )


def log_ei(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement of a standard normal over a threshold, and its derivative.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_ei`.
    """
    z = _f64(z)
    value, deriv = _log_ei(z.ravel())
    return value.reshape(z.shape), deriv.reshape(z.shape)
