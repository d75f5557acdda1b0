"""JAX versions of the Gaussian-process kernels (re-exported by ``_jax``).

Notation, arguments and accuracy are those of ``_reference_gp``; the tests pin every
kernel here to it at ``rtol=1e-10``. Importing this module enables 64-bit mode, as
``_jax`` does. Each kernel is jitted once at module level; the shapes are the only
static information.

Recompilation and padding. ``jax.jit`` compiles once per input shape, and a
Bayesian-optimisation loop calls these kernels with one more observation per trial.
A compilation is slow next to a call: measured on a 2-core CPU (d = 10), about 1.5 s
for ``gp_log_marginal_likelihood`` and 1 s for ``gp_posterior``, against 3 ms and
0.1 s per call at n = 256 (m = 2048 queries). So the wrappers pad every row count k (n
observations, m queries, the entries of ``log_ei``'s z) to ``_bucket(k)``: the next
power of two up to 64, then the next multiple of 64. The padding wastes at most half
the work below 64 rows and under 64 rows above, and a study of n trials compiles each
kernel about ``6 + n / 64`` times, not n times (a process-wide
``jax_compilation_cache_dir`` keeps them across runs; that is the caller's choice).
The padding is exact, not approximate:

* padded query rows and ``log_ei`` entries are independent of the real ones and are
  cut off the result;
* padded observations are masked: their covariance with every other point is exactly
  0, their own variance 1 and their y 0, so K and L are block diagonal with an
  identity block and the padded entries of alpha are exactly 0 (the likelihood's
  gradient sums mask the identity block of ``K^-1`` out); the posterior's ``K^-1`` is
  padded with zeros, so the padded entries of ``k_q K^-1`` are exactly 0 too, and every
  sum over observations only adds exact zeros. The real rows see the same arithmetic
  as without padding, up to the order in which BLAS sums.

The loops over dimensions are unrolled (one fused (n1, n2) pass each), so compilation
also grows with d.

Non-positive-definite K. JAX's Cholesky does not raise on failure (it is the LAPACK
``potrf`` SciPy uses, which jaxlib loads from SciPy): it returns a factor full of NaN, so
``gp_log_marginal_likelihood`` checks the diagonal of L (and K for overflow) and
selects ``(-inf, zeros)`` with ``jnp.where``.

Threads: XLA may split a fused loop over its CPU thread pool (which threadpoolctl does
not control), and the Cholesky factorisation and triangular solves are LAPACK/BLAS
calls (SciPy's, through jaxlib) that use the BLAS threads, which GPSampler limits
during an ask.

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
from jax.scipy.linalg import cho_solve  # noqa: E402
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
    """Padded row count for k rows: the next power of two up to 64, then the next multiple of 64."""
    if k <= _PAD_BLOCK:
        return 1 << (max(k, 1) - 1).bit_length()
    return -(-k // _PAD_BLOCK) * _PAD_BLOCK


# --- traced helpers ------------------------------------------------------------------
# The wrappers split X into its continuous columns Xc (n, dc) and categorical ones Xk
# (n, dk), and reorder rho and theta alike (continuous first), so the kind of each
# dimension is carried by the shapes: no per-dimension select is traced (XLA's CPU code
# for a select with a broadcast predicate inside a reduction is about 5x slower).
# Padded rows carry a float mask ``real`` (1.0 or 0.0); multiplying a finite value by
# it is exact.


def _sq_dist(X1c: Array, X2c: Array, X1k: Array, X2k: Array, rho_c: Array, rho_k: Array) -> Array:
    """r^2 (n1, n2) as ``_reference_gp._sq_dist``: a sum of non-negative terms, one (n1, n2)
    pass per dimension (unrolled: XLA fuses them into one loop), exactly 0 for equal rows."""
    r2 = jnp.zeros((X1c.shape[0], X2c.shape[0]))
    for j in range(X1c.shape[1]):
        diff = X1c[:, j, None] - X2c[None, :, j]
        r2 = r2 + rho_c[j] * (diff * diff)
    for j in range(X1k.shape[1]):
        r2 = r2 + rho_k[j] * (X1k[:, j, None] != X2k[None, :, j]).astype(jnp.float64)
    return r2


def _matern52_and_slope(r2: Array) -> tuple[Array, Array]:
    """k(r) and dk/d(r^2) elementwise from r^2 >= 0 (k = 1.0 exactly at r^2 = 0)."""
    s = _SQRT5 * jnp.sqrt(r2)
    e = jnp.exp(-s)
    return (1.0 + s + s * s / 3.0) * e, -5.0 / 6.0 * (1.0 + s) * e


def _sum_over_pairs(G: Array, Xc: Array, Xk: Array) -> tuple[Array, Array]:
    """``sum_ik G_ik delta_j(x_i, x_k)`` for every continuous and categorical j: (dc,), (dk,).

    The (d, n, n) products are fused into row sums (XLA does not materialise them)."""
    diff = Xc.T[:, :, None] - Xc.T[:, None, :]
    cont = jnp.sum(jnp.sum(G[None] * (diff * diff), axis=2), axis=1)
    cat = jnp.sum(jnp.sum(G[None] * (Xk.T[:, :, None] != Xk.T[:, None, :]), axis=2), axis=1)
    return cont, cat


@jax.jit
def _matern52(X1c, X1k, X2c, X2k, rho_c, rho_k):  # type: ignore[no-untyped-def]
    return _matern52_and_slope(_sq_dist(X1c, X2c, X1k, X2k, rho_c, rho_k))[0]


@jax.jit
def _gp_log_marginal_likelihood(Xc, Xk, y, real, theta):  # type: ignore[no-untyped-def]
    # Padded rows (real = 0): K_ii = 1, zero covariances, y_i = 0.
    dc, d, n = Xc.shape[1], Xc.shape[1] + Xk.shape[1], Xc.shape[0]
    rho, a, s2 = jnp.exp(theta[:d]), jnp.exp(theta[d]), jnp.exp(theta[d + 1])
    pair = real[:, None] * real[None, :]
    k, slope = _matern52_and_slope(_sq_dist(Xc, Xc, Xk, Xk, rho[:dc], rho[dc:]))
    k, slope = k * pair, slope * pair
    K = a * k + jnp.diag(jnp.where(real > 0.0, s2, 1.0))
    # potrf fails silently: the factor comes back full of NaN (and inf in K makes NaN too).
    L = lax.linalg.cholesky(K, symmetrize_input=False)
    ok = jnp.all(jnp.isfinite(K)) & jnp.all(jnp.isfinite(jnp.diag(L)))
    alpha = cho_solve((L, True), y)
    value = -0.5 * (y @ alpha) - jnp.sum(jnp.log(jnp.diag(L))) - 0.5 * jnp.sum(real) * _LOG_2PI
    # W = alpha alpha^T - K^-1; on the padded block K^-1 is I, masked out of the trace
    # below (everywhere else it meets a k or a slope that is exactly 0).
    W = jnp.outer(alpha, alpha) - cho_solve((L, True), jnp.eye(n))
    grad_c, grad_k = _sum_over_pairs(W * (a * slope), Xc, Xk)
    grad_a = 0.5 * jnp.sum(W * (a * k))
    grad_s2 = 0.5 * s2 * jnp.sum(jnp.where(real > 0.0, jnp.diag(W), 0.0))
    grad = jnp.concatenate([0.5 * rho * jnp.concatenate([grad_c, grad_k]), jnp.stack([grad_a, grad_s2])])
    return jnp.where(ok, value, -jnp.inf), jnp.where(ok, grad, 0.0)


@jax.jit
def _gp_posterior(Xqc, Xqk, Xc, Xk, real, theta, K_inv, alpha):  # type: ignore[no-untyped-def]
    # Padded observations: k_q = 0 there, and K_inv and alpha are 0 on the padded rows.
    dc, d = Xc.shape[1], Xc.shape[1] + Xk.shape[1]
    rho, a = jnp.exp(theta[:d]), jnp.exp(theta[d])
    k, slope = _matern52_and_slope(_sq_dist(Xqc, Xc, Xqk, Xk, rho[:dc], rho[dc:]))
    kq = (a * k) * real  # (m, n)
    mean = kq @ alpha
    B = kq @ K_inv  # k_q K^-1 = (K^-1 k_q^T)^T, (m, n)
    var = a - jnp.sum(B * kq, axis=1)
    clipped = var < _VAR_FLOOR * a
    var = jnp.maximum(var, _VAR_FLOOR * a)
    # d k_q[q, i] / d Xq[q, j] = c[q, i] rho_j (Xq[q, j] - X[i, j]) with c = 2 a dk/d(r^2),
    # for the continuous j only. Both sums over i in one variadic reduce: XLA turns a
    # plain sum of products into a dot and materialises the (dc, m, n) differences
    # (168 MB at m = 2048, n = 1024, dc = 10, and 3x slower); this reads them on the fly.
    c = (2.0 * a * slope) * real
    diff = Xqc.T[:, :, None] - Xc.T[:, None, :]
    sum_m, sum_v = lax.reduce(((c * alpha)[None] * diff, (c * B)[None] * diff), (0.0, 0.0),
                              lambda u, v: (u[0] + v[0], u[1] + v[1]), (2,))
    rho_c = rho[:dc, None]
    dmean, dvar = (rho_c * sum_m).T, (-2.0 * rho_c * sum_v).T
    return mean, var, dmean, jnp.where(clipped[:, None], 0.0, dvar)


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


def _split(X: np.ndarray, rows: int, cont: np.ndarray, cat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The continuous and the categorical columns of X, padded to ``rows`` rows."""
    return _pad_rows(np.ascontiguousarray(X[:, cont]), rows), _pad_rows(np.ascontiguousarray(X[:, cat]), rows)


def _columns(is_categorical: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(continuous columns, categorical columns, both in that order)."""
    is_cat = np.asarray(is_categorical, dtype=np.bool_)
    cont, cat = np.flatnonzero(~is_cat), np.flatnonzero(is_cat)
    return cont, cat, np.concatenate([cont, cat])


def _real(n: int, rows: int) -> np.ndarray:
    """1.0 on the n real rows, 0.0 on the padding."""
    return (np.arange(rows) < n).astype(np.float64)


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
    X1, X2, rho = _f64(X1), _f64(X2), _f64(inv_sq_lengthscales)
    cont, cat, _ = _columns(is_categorical)
    n1, n2 = len(X1), len(X2)
    X1s, X2s = _split(X1, _bucket(n1), cont, cat), _split(X2, _bucket(n2), cont, cat)
    out = _matern52(*X1s, *X2s, rho[cont], rho[cat])
    return np.asarray(out)[:n1, :n2].copy()


def gp_log_marginal_likelihood(
    X: np.ndarray, y: np.ndarray, is_categorical: np.ndarray, theta: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of a zero-mean GP with a Matern-5/2 kernel, and its gradient.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.gp_log_marginal_likelihood`.
    """
    X, theta = _f64(X), _f64(theta)
    (n, d), rows = X.shape, _bucket(len(X))
    if n == 0:
        return 0.0, np.zeros(d + 2)
    cont, cat, order = _columns(is_categorical)
    value, grad_ordered = _gp_log_marginal_likelihood(
        *_split(X, rows, cont, cat), _pad_rows(_f64(y), rows), _real(n, rows),
        np.concatenate([theta[:d][order], theta[d:]]),
    )
    grad = np.empty(d + 2)
    grad[order], grad[d:] = np.asarray(grad_ordered)[:d], np.asarray(grad_ordered)[d:]
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
    One compiled function serves both values of ``grad`` (a second one per padded shape
    would double the compilations); ``grad=False`` only zeroes the gradients.
    """
    Xq, X, theta = _f64(Xq), _f64(X), _f64(theta)
    (m, d), n, rows = Xq.shape, len(X), _bucket(len(X))
    cont, cat, order = _columns(is_categorical)
    K_inv_p = np.zeros((rows, rows))  # 0 on the padded rows and columns: exact (see the module docstring)
    K_inv_p[:n, :n] = _f64(K_inv)
    mean, var, dmean_c, dvar_c = _gp_posterior(
        *_split(Xq, _bucket(m), cont, cat), *_split(X, rows, cont, cat), _real(n, rows),
        np.concatenate([theta[:d][order], theta[d:]]), K_inv_p, _pad_rows(_f64(alpha), rows),
    )
    dmean, dvar = np.zeros((m, d)), np.zeros((m, d))  # 0 in the categorical dimensions
    if grad:
        dmean[:, cont], dvar[:, cont] = np.asarray(dmean_c)[:m], np.asarray(dvar_c)[:m]
    return _cut(mean, m), _cut(var, m), dmean, dvar


def log_ei(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement of a standard normal over a threshold, and its derivative.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_ei`.
    """
    z = _f64(z)
    flat = z.ravel()
    value, deriv = _log_ei(_pad_rows(flat, _bucket(len(flat))))
    return _cut(value, len(flat)).reshape(z.shape), _cut(deriv, len(flat)).reshape(z.shape)
