"""JAX versions of the Gaussian-process kernels (re-exported by ``_jax``).

Notation, arguments and accuracy are those of ``_reference_gp``; the tests pin every
kernel here to it at ``rtol=1e-10``. Importing this module enables 64-bit mode, as
``_jax`` does. Each kernel is jitted once at module level; the shapes are the only
static information.

Recompilation and padding. ``jax.jit`` compiles once per input shape (about 0.1-0.5 s
each on a CPU; see ``benchmarks/``), and a Bayesian-optimisation loop calls these
kernels with one more observation per trial. So the wrappers pad every row count k
(n observations, m queries, the entries of ``log_ei``'s z) to ``_bucket(k)``: the next
power of two up to 64, then the next multiple of 64. The padding wastes at most half
the work below 64 rows and under 64 rows above, and a study of n trials compiles each
kernel about ``6 + n / 64`` times, not n times. It is exact, not approximate:

* padded query rows and ``log_ei`` entries are independent of the real ones and are
  cut off the result;
* padded observations are masked: their covariance with every other point is exactly
  0, their own variance 1 and their y 0, so K and L are block diagonal with an
  identity block, the padded entries of alpha, ``L^-1 k_q^T`` and ``K^-1 k_q^T`` are
  exactly 0, and every sum over observations only adds exact zeros (the gradient sums
  mask the identity block of ``K^-1`` out). The real rows see the same arithmetic
  as without padding, up to the order in which BLAS sums.

Non-positive-definite K. ``jnp.linalg.cholesky`` does not raise on failure (LAPACK
``potrf`` through jaxlib, like SciPy's): it returns a factor full of NaN, so
``gp_log_marginal_likelihood`` checks the diagonal of L (and K for overflow) and
selects ``(-inf, zeros)`` with ``jnp.where``.

``log_ei`` evaluates all three branches of the reference on every entry and selects
with ``jnp.where``; each branch gets a clamped copy of z so it stays finite where it is
discarded. Its erfcx is ``jax.scipy.special.erfcx`` (``exp(x^2) erfc(x)`` on XLA's
erfc, whose own ``exp(-x^2)`` cancels the scaling): measured against mpmath at most
1.3e-15 relative on the range used here, 0.7 < x <= 7.1.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)  # as _jax; repeated so this module stands alone

import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402
from jax.scipy.linalg import cho_solve, solve_triangular  # noqa: E402
from jax.scipy.special import erfc, erfcx  # noqa: E402

__all__ = ["gp_log_marginal_likelihood", "gp_posterior", "log_ei", "matern52"]

Array = Any  # jax.Array; kept loose so the module type-checks without jax stubs

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_VAR_FLOOR = 1e-12  # see _reference_gp._VAR_FLOOR
_LOG_EI_SERIES_FROM = 10.0  # see _reference_gp
_LOG_EI_SERIES_TERMS = 30
_PAD_BLOCK = 64  # row counts above this are padded to a multiple of it


def _bucket(k: int) -> int:
    """Padded row count for k rows: the next power of two up to 64, then of multiple of 64."""
    if k <= _PAD_BLOCK:
        return 1 << (max(k, 1) - 1).bit_length()
    return -(-k // _PAD_BLOCK) * _PAD_BLOCK


# --- traced helpers ------------------------------------------------------------------


def _delta(X1: Array, X2: Array, is_cat: Array) -> Array:
    """delta_j between every row of X1 (n1, d) and of X2 (n2, d), shape (n1, n2, d)."""
    diff = X1[:, None, :] - X2[None, :, :]
    return jnp.where(is_cat, (X1[:, None, :] != X2[None, :, :]).astype(jnp.float64), diff * diff)


def _matern52_and_slope(r2: Array) -> tuple[Array, Array]:
    """k(r) and dk/d(r^2) elementwise from r^2 >= 0 (a sum of non-negative terms, so
    r^2 = 0 exactly for equal rows and k = 1.0 exactly there)."""
    s = _SQRT5 * jnp.sqrt(r2)
    e = jnp.exp(-s)
    return (1.0 + s + s * s / 3.0) * e, -5.0 / 6.0 * (1.0 + s) * e


@jax.jit
def _matern52(X1, X2, rho, is_cat):  # type: ignore[no-untyped-def]
    return _matern52_and_slope(jnp.sum(rho * _delta(X1, X2, is_cat), axis=-1))[0]


@jax.jit
def _gp_log_marginal_likelihood(X, y, is_real, is_cat, theta):  # type: ignore[no-untyped-def]
    # is_real (n,): False on the padded rows, which get K_ii = 1, zero covariances, y_i = 0.
    d = X.shape[1]
    rho, a, s2 = jnp.exp(theta[:d]), jnp.exp(theta[d]), jnp.exp(theta[d + 1])
    pair = is_real[:, None] & is_real[None, :]
    delta = _delta(X, X, is_cat)
    k, slope = _matern52_and_slope(jnp.sum(rho * delta, axis=-1))
    k, slope = jnp.where(pair, k, 0.0), jnp.where(pair, slope, 0.0)
    K = a * k + jnp.diag(jnp.where(is_real, s2, 1.0))
    # potrf fails silently: the factor comes back full of NaN (and inf in K makes NaN too).
    L = lax.linalg.cholesky(K, symmetrize_input=False)
    ok = jnp.all(jnp.isfinite(K)) & jnp.all(jnp.isfinite(jnp.diag(L)))
    alpha = cho_solve((L, True), y)
    n_real = jnp.sum(is_real)
    value = -0.5 * (y @ alpha) - jnp.sum(jnp.log(jnp.diag(L))) - 0.5 * n_real * _LOG_2PI
    # W = alpha alpha^T - K^-1; on the padded block K^-1 is I, masked out of the trace below
    # (everything else there is multiplied by a k or a slope that is exactly 0).
    W = jnp.outer(alpha, alpha) - cho_solve((L, True), jnp.eye(X.shape[0]))
    G = W * (a * slope)
    grad_rho = 0.5 * rho * jnp.sum(G[:, :, None] * delta, axis=(0, 1))
    grad_a = 0.5 * jnp.sum(W * (a * k))
    grad_s2 = 0.5 * s2 * jnp.sum(jnp.where(is_real, jnp.diag(W), 0.0))
    grad = jnp.concatenate([grad_rho, jnp.stack([grad_a, grad_s2])])
    return jnp.where(ok, value, -jnp.inf), jnp.where(ok, grad, 0.0)


@jax.jit
def _gp_posterior(Xq, X, is_real, is_cat, theta, L, alpha):  # type: ignore[no-untyped-def]
    # Padded observations: k_q = 0 there, L has an identity block, alpha is 0.
    d = X.shape[1]
    rho, a = jnp.exp(theta[:d]), jnp.exp(theta[d])
    k, slope = _matern52_and_slope(jnp.sum(rho * _delta(Xq, X, is_cat), axis=-1))
    kq = jnp.where(is_real, a * k, 0.0)  # (m, n)
    mean = kq @ alpha
    V = solve_triangular(L, kq.T, lower=True)  # L^-1 k_q^T, (n, m)
    var = a - jnp.sum(V * V, axis=0)
    clipped = var < _VAR_FLOOR * a
    var = jnp.maximum(var, _VAR_FLOOR * a)
    beta = solve_triangular(L, V, lower=True, trans="T")  # K^-1 k_q^T, (n, m)
    # d k_q[q, i] / d Xq[q, j] = c[q, i] rho_j (Xq[q, j] - X[i, j]) with c = 2 a dk/d(r^2).
    c = jnp.where(is_real, 2.0 * a * slope, 0.0)
    diff = Xq[:, None, :] - X[None, :, :]  # (m, n, d); XLA fuses it into the two sums
    dmean = rho * jnp.sum((c * alpha)[:, :, None] * diff, axis=1)
    dvar = -2.0 * rho * jnp.sum((c * beta.T)[:, :, None] * diff, axis=1)
    dmean = jnp.where(is_cat, 0.0, dmean)
    dvar = jnp.where(is_cat | clipped[:, None], 0.0, dvar)
    return mean, var, dmean, dvar


def _mills_series(t: Array) -> Array:
    """``t^2 (1 - t R(t))`` for t > 10: ``sum_{k=0}^{29} (-1)^k (2k+1)!! t^-2k`` by Horner."""
    x = 1.0 / (t * t)
    acc = jnp.ones_like(t)
    for k in range(_LOG_EI_SERIES_TERMS - 1, 0, -1):
        acc = 1.0 - (2 * k + 1) * x * acc
    return acc


@jax.jit
def _log_ei(z):  # type: ignore[no-untyped-def]
    # The branches of _reference_gp.log_ei; each one reads a copy of z clamped into its
    # own range, so none produces inf or NaN where it is not selected.
    up = z >= -1.0
    zu = jnp.where(up, z, 0.0)
    Phi = 0.5 * erfc(-zu * _SQRT1_2)
    h = _INV_SQRT_2PI * jnp.exp(-0.5 * zu * zu) + zu * Phi  # z = +inf: h = inf, Phi / h = 0
    value_up, deriv_up = jnp.log(h), Phi / h
    t = -z
    mid = ~up & (t <= _LOG_EI_SERIES_FROM)  # NaN falls to the series branch and stays NaN
    tm = jnp.where(mid, t, 2.0)
    S = 1.0 - tm * _SQRT_HALF_PI * erfcx(tm * _SQRT1_2)
    value_mid = (-0.5 * tm * tm - 0.5 * _LOG_2PI) + jnp.log(S)
    deriv_mid = (1.0 - S) / (tm * S)
    ts = jnp.where(up | mid, 20.0, t)
    u = _mills_series(ts)  # S = u / t^2, kept apart so that S cannot underflow
    value_series = (-0.5 * ts * ts - 0.5 * _LOG_2PI) + (jnp.log(u) - 2.0 * jnp.log(ts))
    deriv_series = (1.0 - u / (ts * ts)) * (ts / u)
    value = jnp.where(up, value_up, jnp.where(mid, value_mid, value_series))
    deriv = jnp.where(up, deriv_up, jnp.where(mid, deriv_mid, deriv_series))
    return value, deriv


# --- public wrappers: pad, call the compiled code, cut the padding off -----------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _pad_rows(A: np.ndarray, rows: int) -> np.ndarray:
    """A with zero rows appended up to ``rows`` rows (A itself when it has them)."""
    if len(A) == rows:
        return A
    out = np.zeros((rows,) + A.shape[1:])
    out[: len(A)] = A
    return out


def _is_real(n: int, rows: int) -> np.ndarray:
    return np.arange(rows) < n


def _cut(a: Array, rows: int) -> np.ndarray:
    """The first ``rows`` rows of a JAX result as a writable NumPy array (sliced on the
    host: a slice of the JAX array would be one more compiled operation per shape)."""
    return np.asarray(a)[:rows].copy()


def matern52(
    X1: np.ndarray, X2: np.ndarray, inv_sq_lengthscales: np.ndarray, is_categorical: np.ndarray
) -> np.ndarray:
    """ARD Matern-5/2 kernel matrix with unit amplitude between two sets of points.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.matern52`.
    """
    X1, X2 = _f64(X1), _f64(X2)
    n1, n2 = len(X1), len(X2)
    out = _matern52(_pad_rows(X1, _bucket(n1)), _pad_rows(X2, _bucket(n2)), _f64(inv_sq_lengthscales),
                    np.asarray(is_categorical, dtype=np.bool_))
    return np.asarray(out)[:n1, :n2].copy()


def gp_log_marginal_likelihood(
    X: np.ndarray, y: np.ndarray, is_categorical: np.ndarray, theta: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of a zero-mean GP with a Matern-5/2 kernel, and its gradient.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.gp_log_marginal_likelihood`.
    """
    X, theta = _f64(X), _f64(theta)
    n, rows = len(X), _bucket(len(X))
    if n == 0:
        return 0.0, np.zeros(len(theta))
    value, grad = _gp_log_marginal_likelihood(
        _pad_rows(X, rows), _pad_rows(_f64(y), rows), _is_real(n, rows), np.asarray(is_categorical, dtype=np.bool_),
        theta,
    )
    return float(value), np.array(grad)


def gp_posterior(
    Xq: np.ndarray,
    X: np.ndarray,
    is_categorical: np.ndarray,
    theta: np.ndarray,
    L: np.ndarray,
    alpha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and variance of the latent GP at query points, and their gradients.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.gp_posterior`.
    """
    Xq, X = _f64(Xq), _f64(X)
    (m, n), rows = (len(Xq), len(X)), _bucket(len(X))
    Lp = np.eye(rows)  # the identity block of the padded rows; the upper triangle is not read
    Lp[:n, :n] = np.tril(_f64(L))
    out = _gp_posterior(
        _pad_rows(Xq, _bucket(m)), _pad_rows(X, rows), _is_real(n, rows), np.asarray(is_categorical, dtype=np.bool_),
        _f64(theta), Lp, _pad_rows(_f64(alpha), rows),
    )
    return tuple(_cut(a, m) for a in out)  # type: ignore[return-value]


def log_ei(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement of a standard normal over a threshold, and its derivative.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_ei`.
    """
    z = _f64(z)
    flat = z.ravel()
    value, deriv = _log_ei(_pad_rows(flat, _bucket(len(flat))))
    return _cut(value, len(flat)).reshape(z.shape), _cut(deriv, len(flat)).reshape(z.shape)
