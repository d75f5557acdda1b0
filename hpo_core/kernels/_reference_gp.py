"""NumPy reference kernels of Gaussian-process Bayesian optimisation (re-exported by ``_reference``).

Notation:
    n              number of observations; ``X: (n, d)``, ``y: (n,)`` (standardised by the caller).
    m              number of query points; ``Xq: (m, d)``.
    d              number of dimensions. A continuous dimension holds a value in the unit
                   cube [0, 1] (any real works); a categorical one holds a category index
                   (0.0, 1.0, ...), compared only for equality.
    is_categorical ``(d,)`` bool, True for the categorical dimensions.
    rho            inverse squared lengthscales ``inv_sq_lengthscales: (d,)``,
                   ``rho_j = 1 / l_j^2 > 0``.
    delta_j(x, x') ``(x_j - x'_j)^2`` for a continuous dimension, ``1[x_j != x'_j]`` for a
                   categorical one (the Hamming form of Optuna's GP, ``optuna/_gp/gp.py``).
    r              ``r^2 = sum_j rho_j delta_j(x, x')``.
    k(r)           Matern-5/2 with unit amplitude, ``(1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)``
                   (Rasmussen & Williams 2006, eq. (4.17));
                   ``dk/d(r^2) = -5/6 (1 + sqrt5 r) exp(-sqrt5 r)``, finite at r = 0.
    a, s2          amplitude (signal variance) and noise variance.
    theta          ``(d + 2,)`` log hyperparameters ``(log rho_1, ..., log rho_d, log a, log s2)``.
    K              ``(n, n)``: ``a k(X, X) + s2 I``; ``L`` its lower Cholesky factor (K = L L^T).
    alpha          ``K^-1 y: (n,)``.
    k_q            ``a k(Xq, X): (m, n)``, the covariances of the queries with the data.
    phi, Phi       standard normal density and CDF; ``R(t) = (1 - Phi(t)) / phi(t)`` is
                   Mills' ratio.

The kernels trust their input (shapes, ``rho > 0``, finite values, ``L`` the factor of
the ``K`` that ``theta`` defines); ``hpo_core.kernels`` checks the shapes. Inputs are
converted to C-contiguous float64 (``is_categorical`` to bool). The GP kernels are
O(n^2 d) after the O(n^3) Cholesky factorisation; the jitter or noise floor that keeps
K positive definite is the model's job, not theirs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, solve_triangular
from scipy.special import erfcx, ndtr

__all__ = ["gp_log_marginal_likelihood", "gp_posterior", "log_ei", "matern52"]

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
# The posterior variance is clipped below at _VAR_FLOOR * a: rounding makes
# a - ||L^-1 k_q||^2 zero or slightly negative at (or very near) a training point.
_VAR_FLOOR = 1e-12
# log_ei: -z above _LOG_EI_SERIES_FROM uses _LOG_EI_SERIES_TERMS terms of the asymptotic
# series of Mills' ratio; below it the erfcx form loses about log10(z^2) <= 2 digits.
_LOG_EI_SERIES_FROM = 10.0
_LOG_EI_SERIES_TERMS = 30


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _sq_dist(X1: np.ndarray, X2: np.ndarray, rho: np.ndarray, is_categorical: np.ndarray) -> np.ndarray:
    """r^2 between every row of X1 (n1, d) and of X2 (n2, d), shape (n1, n2).

    A sum of non-negative terms, so exactly 0 for identical rows (no negative r^2 from
    expanding ``|x|^2 + |y|^2 - 2 x.y``).
    """
    r2 = np.zeros((len(X1), len(X2)))
    for j in range(X1.shape[1]):
        r2 += rho[j] * _delta(X1[:, j], X2[:, j], bool(is_categorical[j]))
    return r2


def _delta(x1: np.ndarray, x2: np.ndarray, categorical: bool) -> np.ndarray:
    """delta_j between every entry of x1 (n1,) and x2 (n2,), shape (n1, n2)."""
    if categorical:
        return (x1[:, None] != x2[None, :]).astype(np.float64)
    return (x1[:, None] - x2[None, :]) ** 2  # type: ignore[no-any-return]


def _matern52_and_slope(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k(r) and dk/d(r^2) elementwise, from r^2 >= 0."""
    s = _SQRT5 * np.sqrt(r2)
    e = np.exp(-s)
    return (1.0 + s + s * s / 3.0) * e, -5.0 / 6.0 * (1.0 + s) * e


def _unpack(theta: np.ndarray, d: int) -> tuple[np.ndarray, float, float]:
    """(rho, a, s2) from theta (d + 2,); np.exp, not math.exp: overflow gives inf, not an error."""
    return np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1]))


def matern52(
    X1: np.ndarray, X2: np.ndarray, inv_sq_lengthscales: np.ndarray, is_categorical: np.ndarray
) -> np.ndarray:
    """ARD Matern-5/2 kernel matrix with unit amplitude between two sets of points.

    Args:
        X1: Points, shape (n1, d); categorical dimensions hold category indices.
        X2: Points, shape (n2, d).
        inv_sq_lengthscales: ``rho``, shape (d,), all > 0.
        is_categorical: Shape (d,), bool; these dimensions use ``1[x != y]`` for
            ``(x - y)^2``.

    Returns:
        ``k(r)``, shape (n1, n2), in (0, 1]; exactly 1.0 where the rows are equal.
        Accurate to a few ulp.
    """
    X1, X2, rho = _f64(X1), _f64(X2), _f64(inv_sq_lengthscales)
    is_categorical = np.asarray(is_categorical, dtype=np.bool_)
    return _matern52_and_slope(_sq_dist(X1, X2, rho, is_categorical))[0]


def gp_log_marginal_likelihood(
    X: np.ndarray, y: np.ndarray, is_categorical: np.ndarray, theta: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of a zero-mean GP with a Matern-5/2 kernel, and its gradient.

    ``value = log N(y | 0, K) = -y^T alpha / 2 - sum_i log L_ii - n log(2 pi) / 2`` and
    ``d value / d theta_p = tr((alpha alpha^T - K^-1) dK/dtheta_p) / 2`` (Rasmussen &
    Williams 2006, eq. (5.9)), with ``dK/d log rho_j = a rho_j dk/d(r^2) delta_j``,
    ``dK/d log a = a k`` and ``dK/d log s2 = s2 I``.

    Args:
        X: Observed points, shape (n, d).
        y: Observed values, shape (n,), standardised by the caller (the GP has mean 0).
        is_categorical: Shape (d,), bool.
        theta: Log hyperparameters ``(log rho (d,), log a, log s2)``, shape (d + 2,).

    Returns:
        ``(value, grad)``: a float and the gradient w.r.t. theta, shape (d + 2,). When K
        is not positive definite to working precision (the Cholesky factorisation fails)
        or not finite (theta overflowed), ``(-inf, zeros)``: the kernel adds no jitter.
        n = 0 gives ``(0.0, zeros)``. O(n^3) for the factorisation and K^-1, O(n^2 d)
        for the gradient; the accuracy is that of the Cholesky solve (about
        ``cond(K) * 1e-16`` relative).
    """
    X, y, theta = _f64(X), _f64(y), _f64(theta)
    is_categorical = np.asarray(is_categorical, dtype=np.bool_)
    n, d = X.shape
    grad = np.zeros(d + 2)
    if n == 0:
        return 0.0, grad
    rho, a, s2 = _unpack(theta, d)
    k, slope = _matern52_and_slope(_sq_dist(X, X, rho, is_categorical))
    K = a * k
    K[np.diag_indices(n)] += s2
    if not np.isfinite(K).all():
        return -math.inf, grad
    try:
        factor = cho_factor(K, lower=True, check_finite=False)
    except LinAlgError:
        return -math.inf, grad
    alpha = cho_solve(factor, y, check_finite=False)
    value = -0.5 * float(y @ alpha) - float(np.log(np.diag(factor[0])).sum()) - 0.5 * n * _LOG_2PI
    W = np.outer(alpha, alpha) - cho_solve(factor, np.eye(n), check_finite=False)
    G = W * (a * slope)
    for j in range(d):
        grad[j] = 0.5 * rho[j] * float(np.sum(G * _delta(X[:, j], X[:, j], bool(is_categorical[j]))))
    grad[d] = 0.5 * float(np.sum(W * (a * k)))
    grad[d + 1] = 0.5 * s2 * float(np.trace(W))
    return value, grad


def gp_posterior(
    Xq: np.ndarray,
    X: np.ndarray,
    is_categorical: np.ndarray,
    theta: np.ndarray,
    L: np.ndarray,
    alpha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and variance of the latent GP at query points, and their gradients.

    ``mean = k_q alpha`` and ``var = a - ||L^-1 k_q^T||^2`` per query (noise-free: the
    latent function, not a new observation), with ``dmean/dXq = (dk_q/dXq) alpha`` and
    ``dvar/dXq = -2 (dk_q/dXq) K^-1 k_q^T``.

    Args:
        Xq: Query points, shape (m, d).
        X: Observed points, shape (n, d).
        is_categorical: Shape (d,), bool.
        theta: Log hyperparameters ``(log rho (d,), log a, log s2)``, shape (d + 2,).
        L: Lower Cholesky factor of K, shape (n, n) (the upper triangle is not read).
        alpha: ``K^-1 y``, shape (n,).

    Returns:
        ``(mean, var, dmean, dvar)`` of shapes (m,), (m,), (m, d), (m, d). ``var`` is
        clipped below at ``1e-12 * a`` (rounding makes it 0 or slightly negative at a
        training point when s2 is tiny); where it was clipped, ``dvar`` is 0, the
        derivative of the clipped value. The gradients are 0 in categorical dimensions.
        ``var`` has an absolute error of about ``cond(K) * a * 1e-16``. O(m n (n + d)).
    """
    Xq, X, theta, alpha = _f64(Xq), _f64(X), _f64(theta), _f64(alpha)
    L = np.tril(_f64(L))
    is_categorical = np.asarray(is_categorical, dtype=np.bool_)
    (m, d), n = Xq.shape, len(X)
    rho, a, _ = _unpack(theta, d)
    k, slope = _matern52_and_slope(_sq_dist(Xq, X, rho, is_categorical))
    kq = a * k
    mean = kq @ alpha
    V = solve_triangular(L, kq.T, lower=True, check_finite=False) if n else np.zeros((0, m))
    var = a - np.sum(V * V, axis=0)
    clipped = var < _VAR_FLOOR * a
    var = np.maximum(var, _VAR_FLOOR * a)
    beta = solve_triangular(L, V, lower=True, trans="T", check_finite=False) if n else V  # K^-1 k_q^T
    dmean, dvar = np.zeros((m, d)), np.zeros((m, d))
    for j in np.flatnonzero(~is_categorical):
        dkq = 2.0 * rho[j] * a * slope * (Xq[:, j, None] - X[None, :, j])  # d k_q / d Xq[:, j]
        dmean[:, j] = dkq @ alpha
        dvar[:, j] = -2.0 * np.sum(dkq * beta.T, axis=1)
    dvar[clipped] = 0.0
    return mean, var, dmean, dvar


def log_ei(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement of a standard normal over a threshold, and its derivative.

    ``h(z) = E[max(Y + z, 0)] = phi(z) + z Phi(z)`` for ``Y ~ N(0, 1)``; the value is
    ``log h(z)``, the derivative ``d log h / dz = Phi(z) / h(z)``.

    * z >= -1: both directly (at worst a threefold cancellation, at z = -1).
    * t = -z > 1: ``h = phi(t) S(t)`` with ``S = 1 - t R(t)``, so ``log h = -t^2/2 -
      log(2 pi)/2 + log S`` and ``Phi(z) / h = (1 - S) / (t S)``: neither ``phi(t)``
      (it underflows below z = -38) nor a difference of two tiny numbers is formed.
      For 1 < t <= 10, ``R(t) = sqrt(pi/2) erfcx(t / sqrt2)``, the erfcx form of Ament
      et al. 2023, "Unexpected Improvements to Expected Improvement" (arXiv:2310.20708)
      and of BoTorch's ``_log_ei_helper``; ``1 - t R`` loses about ``log10 t^2`` digits.
      For t > 10, the asymptotic series ``S = t^-2 sum_k (-1)^k (2k+1)!! t^-2k``
      (Abramowitz & Stegun 7.1.23) with 30 terms: relative error below 1e-17 there,
      and ``log S`` is formed as ``log(sum) - 2 log t``, so it cannot underflow.

    Args:
        z: Standardised improvements ``(mean - best) / sd`` of any shape.

    Returns:
        ``(value, derivative)``, float64 arrays of z's shape. The value has a relative
        error below 1e-14 (an absolute one below 1e-15 near its zero at z ~ 0.9) and the
        derivative one below 1e-13, for all z with ``|z| < 1e150``. ``z = -inf`` gives
        ``(-inf, +inf)``, ``z = +inf`` gives ``(+inf, 0)``.
    """
    z = _f64(z)
    value, deriv = np.empty_like(z), np.empty_like(z)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        up = z >= -1.0
        zu = z[up]
        Phi = ndtr(zu)
        h = _INV_SQRT_2PI * np.exp(-0.5 * zu * zu) + zu * Phi
        value[up], deriv[up] = np.log(h), Phi / h
        t = -z[~up]
        log_phi = -0.5 * t * t - 0.5 * _LOG_2PI
        mid = t <= _LOG_EI_SERIES_FROM
        S = 1.0 - t[mid] * _SQRT_HALF_PI * erfcx(t[mid] * _SQRT1_2)
        u = _mills_series(t[~mid])  # S = u / t^2, kept apart so that S cannot underflow
        log_S = np.empty_like(t)
        log_S[mid], log_S[~mid] = np.log(S), np.log(u) - 2.0 * np.log(t[~mid])
        d_low = np.empty_like(t)
        d_low[mid] = (1.0 - S) / (t[mid] * S)
        d_low[~mid] = (1.0 - u / (t[~mid] * t[~mid])) * (t[~mid] / u)
        value[~up], deriv[~up] = log_phi + log_S, d_low
    return value, deriv


def _mills_series(t: np.ndarray) -> np.ndarray:
    """``t^2 (1 - t R(t))`` for t > 10: ``sum_{k=0}^{29} (-1)^k (2k+1)!! t^-2k`` by Horner."""
    x = 1.0 / (t * t)
    acc = np.ones_like(t)
    for k in range(_LOG_EI_SERIES_TERMS - 1, 0, -1):
        acc = 1.0 - (2 * k + 1) * x * acc
    return acc
