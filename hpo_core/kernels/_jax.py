"""JAX backend: the reference kernels as ``jax.jit`` functions (CPU or accelerator).

Importing this module enables 64-bit mode (``jax_enable_x64``) for the process: the
kernels are specified in float64. Each kernel is jitted once at module level; shapes
are the only static information, so a new (n, k) compiles once and is then cached by
JAX. Bounds and steps are traced scalars and never trigger a recompile.

``log_ndtr`` and ``ndtri_exp`` are written here (the same formulas as the Numba and C++
backends) because ``jax.scipy.special.log_ndtr`` truncates its asymptotic series at
three terms (relative error ~1e-9 near x = -20) and JAX has no ``ndtri_exp``. Branches
are selected with ``jnp.where``; every branch is evaluated, so each one is written to
stay finite or be discarded.

The Pareto kernels are O(n^2 m) loops (``lax.fori_loop``): JAX has no efficient
data-dependent sweep, so prefer another backend for them at large n. The hypervolume
and product-mixture kernels have no JAX version (data-dependent sweeps and cut-offs do
not fit ``jax.jit``'s static shapes): the dispatcher serves them from the fastest
available backend that has them.

The Gaussian-process kernels are in ``_jax_gp.py`` (re-exported here), which pads the
row counts that grow with a study so that they compile about ``6 + n / 64`` times.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402
from jax.scipy.special import erf, erfc, ndtri  # noqa: E402

from hpo_core.kernels._jax_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52  # noqa: E402

__all__ = [
    "gp_log_marginal_likelihood",
    "gp_posterior",
    "is_pareto_front",
    "log_ei",
    "log_pdf_truncnorm_mixture",
    "matern52",
    "nondominated_rank",
    "sample_truncnorm_mixture",
]

BACKEND_NAME = "jax"
AVAILABLE = True

_LN2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_LOG_2_SQRT_PI = math.log(2.0 * math.sqrt(math.pi))
_EXP_M2 = 0.13533528323661269189  # exp(-2)
_DBL_MAX = float(np.finfo(np.float64).max)
_NARROW = 1e-3  # see _reference_truncnorm._NARROW

# Cephes ndtri tail coefficients (highest degree first); see _numba_truncnorm.py.
_P1 = (4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
       4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
       -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4)
_Q1 = (1.0, 1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
       1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
       -3.80806407691578277194e-2, -9.33259480895457427372e-4)
_P2 = (3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
       1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
       3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9)
_Q2 = (1.0, 6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
       2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
       2.89247864745380683936e-6, 6.79019408009981274425e-9)

Array = Any  # jax.Array; kept loose so the module type-checks without jax stubs


def _horner(x: Array, coef: tuple[float, ...]) -> Array:
    acc = jnp.zeros_like(x)
    for c in coef:
        acc = acc * x + c
    return acc


def _ndtri_tail(x: Array) -> Array:
    """-Phi^-1(y) for y < exp(-2), given x = sqrt(-2 log y) (Cephes' tail expansion)."""
    z = 1.0 / x
    x1 = jnp.where(x < 8.0, z * _horner(z, _P1) / _horner(z, _Q1), z * _horner(z, _P2) / _horner(z, _Q2))
    return x1 - (x - jnp.log(x) / x)


def _ndtri_exp(y: Array) -> Array:
    """Phi^-1(exp(y)) for y <= 0, accurate down to y = -1.8e308 (as scipy's)."""
    ys = jnp.minimum(y, -2.0)  # tail branch input, kept in its valid range
    x = jnp.where(ys >= -0.5 * _DBL_MAX, jnp.sqrt(-2.0 * ys), math.sqrt(2.0) * jnp.sqrt(-ys))
    tail = _ndtri_tail(x)
    upper = -ndtri(-jnp.expm1(y))  # 1 - e^y without cancellation
    middle = ndtri(jnp.exp(y))
    out = jnp.where(y < -2.0, tail, jnp.where(y > math.log1p(-_EXP_M2), upper, middle))
    return jnp.where(y == -jnp.inf, -jnp.inf, out)


def _log_half_erfcx_series(y: Array) -> Array:
    """log(erfcx(y) / 2) for y > 24.7 (asymptotic series, ten terms; see _numba_truncnorm.py)."""
    inv = 0.5 / y / y
    term = jnp.ones_like(y)
    s = jnp.zeros_like(y)
    for n in range(1, 11):
        term = term * (-(2.0 * n - 1.0) * inv)
        s = s + term
    return jnp.log1p(s) - (jnp.log(y) + _LOG_2_SQRT_PI)


def _log_ndtr(x: Array) -> Array:
    """log Phi(x), accurate to a few ulp for every x (erfc, then the erfcx series)."""
    t = x * _SQRT1_2
    upper = jnp.log1p(-0.5 * erfc(t))  # x >= -1: Phi(x) >= 0.16
    middle = jnp.log(0.5 * erfc(-t))  # -35 <= x < -1: erfc(24.7) ~ 1e-267 is normal
    y = jnp.maximum(-t, 24.0)
    lower = -y * y + _log_half_erfcx_series(y)  # x < -35: Phi(x) = erfcx(y) exp(-y^2) / 2
    out = jnp.where(x >= -1.0, upper, jnp.where(x >= -35.0, middle, lower))
    return jnp.where(x == -jnp.inf, -jnp.inf, out)


def _log_ndtr_scaled(x: Array) -> Array:
    """g(x) = log Phi(x) + x^2/2 for x <= 0, without cancelling the two large terms."""
    near = _log_ndtr(x) + 0.5 * x * x  # x >= -1: both terms O(1)
    y = -x * _SQRT1_2  # Phi(x) = erfcx(y) exp(-y^2) / 2, so g = log(erfcx(y) / 2)
    series = _log_half_erfcx_series(jnp.maximum(y, 25.0))
    # erfcx(y) = erfc(y) exp(y^2) with y^2 = hi + lo (Dekker, y_hi = y cut to 26 bits).
    ym = jnp.clip(y, 0.5, 25.0)
    hi = ym * ym
    m, e = jnp.frexp(ym)
    y_hi = jnp.ldexp(jnp.floor(m * 67108864.0), e - 26)
    y_lo = ym - y_hi
    lo = ((y_hi * y_hi - hi) + 2.0 * y_hi * y_lo) + y_lo * y_lo
    middle = jnp.log(0.5 * erfc(ym) * jnp.exp(hi) * (1.0 + lo))
    out = jnp.where(x >= -1.0, near, jnp.where(y > 25.0, series, middle))
    return jnp.where(x == -jnp.inf, -jnp.inf, out)


def _ndtr(x: Array) -> Array:
    return 0.5 * erfc(-x * _SQRT1_2)


def _log1mexp(d: Array) -> Array:
    """log(1 - exp(d)) for d <= 0; expm1 near 0, log1p(-exp) below -ln 2 (Maechler 2012)."""
    return jnp.where(d > -_LN2, jnp.log(-jnp.expm1(d)), jnp.log1p(-jnp.exp(jnp.minimum(d, 0.0))))


def _shift(a: Array, b: Array) -> Array:
    """c: b if b <= 0, a if a > 0, else 0 (the point of [a, b] nearest 0)."""
    return jnp.where(b <= 0.0, b, jnp.where(a > 0.0, a, 0.0))


def _scaled_left(a: Array, b: Array, width: Array) -> Array:
    """log(Phi(b) - Phi(a)) + b^2/2 for a <= b <= 0."""
    g_b = _log_ndtr_scaled(b)
    # d = log Phi(a) - log Phi(b) with the difference of squares as width * (a + b).
    d = _log_ndtr_scaled(a) - g_b + 0.5 * width * (a + b)
    d = jnp.where(a == -jnp.inf, -jnp.inf, jnp.minimum(d, 0.0))
    return g_b + _log1mexp(d)


def _log_gauss_mass_scaled(a: Array, b: Array, width: Array) -> Array:
    """log(Phi(b) - Phi(a)) + c^2/2 with c = _shift(a, b), for a <= b and width = b - a."""
    c = _shift(a, b)
    m = 0.5 * (a + b)
    narrow = (width > 0.0) & (width * jnp.maximum(1.0, jnp.abs(m)) < _NARROW)
    # Midpoint expansion w phi(m) (1 + (m^2 - 1) w^2 / 24); m - c is exact.
    m_minus_c = jnp.where(b <= 0.0, -0.5 * width, jnp.where(a > 0.0, 0.5 * width, m))
    w_safe = jnp.where(narrow, width, 1.0)
    narrow_val = (
        jnp.log(w_safe) - _LOG_SQRT_2PI - 0.5 * m_minus_c * (m + c)
        + jnp.log1p((m * m - 1.0) * w_safe * w_safe / 24.0)
    )
    left = _scaled_left(a, b, width)
    right = _scaled_left(-b, -a, width)  # Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
    # a <= 0 < b: above 1/2, 1 minus two small tails; below, half a sum of two erf >= 0.
    tails = _ndtr(a) + _ndtr(-b)
    central = jnp.where(
        tails < 0.5, jnp.log1p(-tails), jnp.log(0.5 * (erf(b * _SQRT1_2) + erf(-a * _SQRT1_2)))
    )
    return jnp.where(narrow, narrow_val, jnp.where(b <= 0.0, left, jnp.where(a > 0.0, right, central)))


def _log_gauss_mass(a: Array, b: Array) -> Array:
    """log(Phi(b) - Phi(a)) for a <= b."""
    c = _shift(a, b)
    return _log_gauss_mass_scaled(a, b, b - a) - 0.5 * c * c


def _row_batch(k: int) -> int:
    """Rows per vmapped batch so an (rows, k) temporary stays near 2**16 elements."""
    return max(1, (1 << 16) // max(k, 1))


def _component_shifts(mus: Array, sigmas: Array, low: Array, high: Array) -> tuple[Array, Array, Array]:
    """(G_j, c_j, bound_j) over [low, high], with c_j = (bound_j - mu_j) / s_j."""
    a, b = (low - mus) / sigmas, (high - mus) / sigmas
    log_zs = _log_gauss_mass_scaled(a, b, (high - low) / sigmas)
    bound = jnp.where(b <= 0.0, high, jnp.where(a > 0.0, low, mus))
    return log_zs, _shift(a, b), bound


def _logsumexp(t: Array) -> Array:
    t_max = jnp.max(t)
    shift = jnp.where(jnp.isfinite(t_max), t_max, 0.0)  # an all -inf row stays -inf
    return shift + jnp.log(jnp.sum(jnp.exp(t - shift)))


@jax.jit
def _log_pdf_truncnorm(x, mus, sigmas, log_weights, low, high):  # type: ignore[no-untyped-def]
    # log Z_j = G_j - c_j^2/2 and z^2 - c_j^2 = (z - c_j)(z + c_j); see _reference_truncnorm.py.
    log_zs, c, bound = _component_shifts(mus, sigmas, low, high)
    log_coef = jnp.where(log_zs == -jnp.inf, -jnp.inf, log_weights - jnp.log(sigmas) - log_zs - _LOG_SQRT_2PI)

    def row(xi):  # type: ignore[no-untyped-def]
        return _logsumexp(log_coef - 0.5 * ((xi - bound) / sigmas) * ((xi - mus) / sigmas + c))

    out = lax.map(row, x, batch_size=_row_batch(mus.shape[0]))
    return jnp.where((x < low) | (x > high), -jnp.inf, out)


@jax.jit
def _sample_truncnorm(u_component, u_value, mus, sigmas, weights, low, high):  # type: ignore[no-untyped-def]
    cum = jnp.cumsum(weights)
    cum = cum / cum[-1]
    j = jnp.minimum(jnp.searchsorted(cum, u_component, side="right"), mus.shape[0] - 1)
    mu, s = mus[j], sigmas[j]
    a, b = (low - mu) / s, (high - mu) / s
    log_mass = _log_gauss_mass(a, b)
    # a < 0: Phi^-1(Phi(a) + q Z); a >= 0: -Phi^-1(Phi(-b) + (1 - q) Z). Both invert a
    # left-tail probability, exact in log space.
    left = _ndtri_exp(jnp.logaddexp(_log_ndtr(a), jnp.log(u_value) + log_mass))
    right = -_ndtri_exp(jnp.logaddexp(_log_ndtr(-b), jnp.log1p(-u_value) + log_mass))
    return jnp.clip(mu + s * jnp.where(a < 0.0, left, right), low, high)


def _dominated_by(v: Array, p: Array) -> Array:
    """(n,) bool: which rows of v dominate the point p (minimisation)."""
    return jnp.all(v <= p, axis=1) & jnp.any(v < p, axis=1)


@jax.jit
def _nondominated_rank(values):  # type: ignore[no-untyped-def]
    # rank(p) = 1 + max rank of p's dominators; in lexicographic order those are all
    # earlier, so one pass over the sorted points fills the ranks (O(n^2 m)).
    n = values.shape[0]
    order = jnp.lexsort(values.T[::-1])
    v = values[order]
    positions = jnp.arange(n)

    def body(i, rank):  # type: ignore[no-untyped-def]
        dom = _dominated_by(v, v[i]) & (positions < i)
        return rank.at[i].set(jnp.max(jnp.where(dom, rank, -1)) + 1)

    rank = lax.fori_loop(0, n, body, jnp.zeros(n, dtype=jnp.int64))
    return jnp.zeros(n, dtype=jnp.int64).at[order].set(rank)


@jax.jit
def _is_pareto_front(values):  # type: ignore[no-untyped-def]
    n = values.shape[0]

    def body(j, dominated):  # type: ignore[no-untyped-def]
        # Points that values[j] dominates.
        return dominated | (jnp.all(values[j] <= values, axis=1) & jnp.any(values[j] < values, axis=1))

    return ~lax.fori_loop(0, n, body, jnp.zeros(n, dtype=jnp.bool_))


# --- public wrappers ---------------------------------------------------------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def log_pdf_truncnorm_mixture(
    x: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Log density of a mixture of normals, each truncated to [low, high].

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_truncnorm_mixture`.
    """
    x = _f64(x)
    if len(mus) == 0:
        return np.full(len(x), -np.inf)
    return np.asarray(_log_pdf_truncnorm(x, _f64(mus), _f64(sigmas), _f64(log_weights), float(low), float(high)))


def sample_truncnorm_mixture(
    u_component: np.ndarray,
    u_value: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Draw from a mixture of truncated normals by inverse CDF of pre-drawn uniforms.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.sample_truncnorm_mixture`.
    """
    u_component = _f64(u_component)
    if len(mus) == 0:
        return np.full(len(u_component), np.nan)
    return np.asarray(
        _sample_truncnorm(
            u_component, _f64(u_value), _f64(mus), _f64(sigmas), _f64(weights), float(low), float(high)
        )
    )


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Arguments and shapes as :func:`hpo_core.kernels._reference.nondominated_rank`;
    O(n^2 m) time here.
    """
    values = _f64(values)
    if values.shape[0] == 0 or values.shape[1] == 0:
        return np.zeros(values.shape[0], dtype=np.int64)
    return np.asarray(_nondominated_rank(values))


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Arguments and shapes as :func:`hpo_core.kernels._reference.is_pareto_front`;
    O(n^2 m) time here.
    """
    values = _f64(values)
    if values.shape[0] == 0 or values.shape[1] == 0:
        return np.ones(values.shape[0], dtype=np.bool_)
    return np.asarray(_is_pareto_front(values))
