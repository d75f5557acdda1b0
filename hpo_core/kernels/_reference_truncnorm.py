"""NumPy reference: truncated-normal math and the one-dimensional truncated-normal mixtures.

Notation:
    n            number of evaluation points; ``x: (n,)``.
    k            number of mixture components; ``mus, sigmas, log_weights: (k,)``.
    mu_j, s_j    mean and standard deviation of component j (``s_j > 0``).
    w_j          weight of component j; ``log_weights = log w`` with logsumexp 0.
    L, H         truncation bounds ``low < high``; either may be infinite.
    a_j, b_j     standardised bounds ``(L - mu_j) / s_j`` and ``(H - mu_j) / s_j``.
    Z_j          ``Phi(b_j) - Phi(a_j)``, the mass of component j inside [L, H].
    phi, Phi     standard normal density and CDF; ``log_ndtr = log Phi``.

All kernels are pure: arrays and scalars in, a new array out, no RNG and no global
state. They trust their input (shapes, ``sigmas > 0``, ``low < high``); the public
callers validate once at the boundary. Inputs are converted to C-contiguous float64.

Numerical approach (shared by every backend): masses are handled in log space with
``log_ndtr`` and always computed in the *left* tail, where it is accurate, by using the
symmetry ``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)`` (as scipy's ``truncnorm`` and optuna's
``_truncnorm`` do). A component far outside [L, H] therefore keeps a finite ``log Z``
even when ``Z`` underflows to 0 in linear space. (n, k) temporaries are built in row
blocks, so memory stays O(k) rows of a few MB whatever n is.

The helpers (``_log_gauss_mass``, ``_ppf_std_truncnorm``, ``_logsumexp_rows``,
``_row_blocks``) are also the truncated-normal math of the product mixtures in
``_reference_tpe.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy.special import erf, erfcx, log_ndtr, ndtr, ndtri_exp

__all__ = ["log_pdf_truncnorm_mixture", "sample_truncnorm_mixture"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
# Intervals with width * max(1, |midpoint|) below this use a midpoint expansion, whose
# first omitted term is then below 1e-15 relative; differences of Phi lose digits there.
_NARROW = 1e-3
# Rows of an (n, k) temporary are processed in blocks of about this many elements so
# that n=1000 x k=100000 needs a few megabytes, not gigabytes.
_BLOCK_ELEMENTS = 1 << 16


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _row_blocks(n: int, k: int) -> Iterator[slice]:
    rows = max(1, _BLOCK_ELEMENTS // max(k, 1))
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def _log1mexp(d: np.ndarray) -> np.ndarray:
    """log(1 - exp(d)) for d <= 0, elementwise; -inf at d == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # expm1 is exact near d = 0 (nearly equal masses), log1p(-exp) far from it;
        # switch at -ln 2 (Maechler 2012, "Accurately computing log(1 - exp(-|a|))").
        return np.where(d > -math.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def _log_ndtr_scaled(x: np.ndarray) -> np.ndarray:
    """g(x) = log Phi(x) + x^2/2 for x <= 0, without cancelling the two large terms."""
    with np.errstate(divide="ignore", invalid="ignore"):
        near = log_ndtr(x) + 0.5 * x * x  # x >= -1: both terms are O(1)
        # x < -1: Phi(x) = erfcx(-x/sqrt 2) exp(-x^2/2) / 2, so g needs no exp(-x^2/2).
        far = np.log(0.5 * erfcx(-x * _SQRT1_2))
    return np.where(x >= -1.0, near, far)


def _shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c: the point of [a, b] nearest 0 when 0 is outside it (b if b <= 0, a if a > 0), else 0."""
    return np.where(b <= 0, b, np.where(a > 0, a, 0.0))


def _scaled_left(a: np.ndarray, b: np.ndarray, width: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) + b^2/2 for a <= b <= 0 (left tail)."""
    g_b = _log_ndtr_scaled(b)
    with np.errstate(invalid="ignore"):
        # d = log Phi(a) - log Phi(b) = g(a) - g(b) - (a^2 - b^2)/2, with the difference
        # of squares as width * (a + b): no O(b^2) terms that would cancel. Rounding may
        # push d above 0 for a tiny width; clamp to 0 (zero mass) rather than NaN.
        d = _log_ndtr_scaled(a) - g_b + 0.5 * width * (a + b)
    d = np.where(a == -np.inf, -np.inf, np.minimum(d, 0.0))
    return g_b + _log1mexp(d)  # type: ignore[no-any-return]


def _log_gauss_mass_scaled(a: np.ndarray, b: np.ndarray, width: np.ndarray) -> np.ndarray:
    """G = log(Phi(b) - Phi(a)) + c^2/2, c = _shift(a, b), for a <= b; width = b - a.

    The caller passes ``width`` computed from unstandardised differences (e.g.
    ``(high - low) / sigma``), which is more accurate than ``b - a`` when both are large.
    G is O(log |c|) even when the mass underflows: it is the well-conditioned part of
    ``log Z``, and kernels add ``-c^2/2`` only in combinations where it cancels exactly.
    """
    a, b, width = np.broadcast_arrays(a, b, width)
    c = _shift(a, b)
    with np.errstate(over="ignore", invalid="ignore"):
        m = 0.5 * (a + b)  # NaN for (-inf, inf), which is never narrow
        narrow = (width > 0) & (width * np.maximum(1.0, np.abs(m)) < _NARROW)
    left = ~narrow & (b <= 0)  # difference of left-tail log_ndtr values is accurate
    right = ~narrow & (a > 0)  # mirror into the left tail: Phi(-a) - Phi(-b)
    central = ~(narrow | left | right)
    out = np.empty(a.shape)
    # Narrow interval: Phi(b) - Phi(a) = w phi(m) (1 + (m^2 - 1) w^2 / 24 + O(w^4 m^4)),
    # and -m^2/2 + c^2/2 = -(m - c)(m + c)/2 with m - c = -w/2, w/2 or m exactly.
    w, mm, cc = width[narrow], m[narrow], c[narrow]
    m_minus_c = np.where(b[narrow] <= 0, -0.5 * w, np.where(a[narrow] > 0, 0.5 * w, mm))
    out[narrow] = (
        np.log(w) - _LOG_SQRT_2PI - 0.5 * m_minus_c * (mm + cc) + np.log1p((mm * mm - 1.0) * w * w / 24.0)
    )
    out[left] = _scaled_left(a[left], b[left], width[left])
    out[right] = _scaled_left(-b[right], -a[right], width[right])
    # a <= 0 < b: a mass above 1/2 is 1 minus two small tails (accurate as it nears 1);
    # a smaller one is half the sum of two non-negative erf terms (no cancellation).
    ac, bc = a[central], b[central]
    tails = ndtr(ac) + ndtr(-bc)
    with np.errstate(divide="ignore"):
        small_mass = np.log(0.5 * (erf(bc * _SQRT1_2) + erf(-ac * _SQRT1_2)))
    out[central] = np.where(tails < 0.5, np.log1p(-tails), small_mass)
    return out


def _log_gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a <= b, elementwise, accurate in both tails."""
    c = _shift(a, b)
    return _log_gauss_mass_scaled(a, b, b - a) - 0.5 * c * c  # type: ignore[no-any-return]


def _logsumexp_rows(t: np.ndarray) -> np.ndarray:
    """logsumexp over axis 1 of ``t: (n, k)``; -inf for k == 0 or an all -inf row."""
    t_max = np.max(t, axis=1, initial=-np.inf)
    # Shift by the row maximum so the largest term is exp(0) = 1 (no overflow); an
    # all -inf row is shifted by 0 instead of -inf to avoid inf - inf = NaN.
    shift = np.where(np.isfinite(t_max), t_max, 0.0)
    with np.errstate(divide="ignore"):
        return shift + np.log(np.sum(np.exp(t - shift[:, None]), axis=1))


def _ppf_std_truncnorm(q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Inverse CDF of the standard normal truncated to [a, b], elementwise."""
    log_mass = _log_gauss_mass(a, b)
    with np.errstate(divide="ignore"):
        # a < 0: F^-1(q) = Phi^-1(Phi(a) + q Z), in log space. a >= 0: mirror,
        # F^-1(q) = -Phi^-1(Phi(-b) + (1 - q) Z). Either way only a left-tail (small,
        # exactly representable in log space) probability is inverted, by ndtri_exp.
        left = ndtri_exp(np.logaddexp(log_ndtr(a), np.log(q) + log_mass))
        right = -ndtri_exp(np.logaddexp(log_ndtr(-b), np.log1p(-q) + log_mass))
    return np.where(a < 0, left, right)


def log_pdf_truncnorm_mixture(
    x: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Log density of a mixture of normals, each truncated to [low, high].

    ``log sum_j w_j phi((x - mu_j) / s_j) / (s_j Z_j)``.

    Args:
        x: Evaluation points, shape (n,).
        mus: Component means, shape (k,).
        sigmas: Component standard deviations, shape (k,), all > 0.
        log_weights: Log mixture weights, shape (k,), assumed normalised
            (logsumexp(log_weights) == 0); they are not renormalised here.
        low: Lower bound, may be -inf.
        high: Upper bound (> low), may be +inf.

    Returns:
        Log densities, shape (n,). -inf for points outside [low, high] and for k == 0.
        Accurate to ~1e-14 relative (or absolute, near 0), also for components far
        outside the bounds or with tiny sigmas, while |a_j|, |b_j| and
        |x - mu_j| / s_j stay below ~1e150 (beyond, squares overflow); a component
        whose mass underflows even in log space contributes nothing.
    """
    x, mus, sigmas, log_weights = _f64(x), _f64(mus), _f64(sigmas), _f64(log_weights)
    a, b = (low - mus) / sigmas, (high - mus) / sigmas
    # -z^2/2 - log Z_j cancels to O(log) size at the bounds of a component far outside
    # [low, high] (tiny Z_j). So log Z_j = G_j - c_j^2/2 (G_j is well-conditioned) and
    # z^2 - c_j^2 = (z - c_j)(z + c_j), with z - c_j = (x - bound_j) / s_j unrounded.
    log_zs = _log_gauss_mass_scaled(a, b, (high - low) / sigmas)
    c = _shift(a, b)
    bound = np.where(b <= 0, high, np.where(a > 0, low, mus))  # c = (bound - mu) / s
    with np.errstate(invalid="ignore"):
        log_coef = log_weights - np.log(sigmas) - log_zs - _LOG_SQRT_2PI
    log_coef = np.where(log_zs == -np.inf, -np.inf, log_coef)
    out = np.empty(len(x))
    for rows in _row_blocks(len(x), len(mus)):
        xr = x[rows, None]
        with np.errstate(over="ignore", invalid="ignore"):  # only at x outside, reset below
            out[rows] = _logsumexp_rows(log_coef - 0.5 * ((xr - bound) / sigmas) * ((xr - mus) / sigmas + c))
    out[(x < low) | (x > high)] = -np.inf
    return out


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

    Sample i takes component ``j = #{l : C_l <= u_component[i]}`` (capped at k - 1)
    where ``C = cumsum(weights) / sum(weights)``, then returns
    ``mu_j + s_j F_j^-1(u_value[i])`` with ``F_j`` the CDF of the standard normal
    truncated to [a_j, b_j]. There is no RNG inside: equal uniforms give equal samples.

    Args:
        u_component: Uniforms in [0, 1) choosing the component, shape (n,).
        u_value: Uniforms in (0, 1) for the inverse CDF, shape (n,).
        mus: Component means, shape (k,), k >= 1.
        sigmas: Component standard deviations, shape (k,), all > 0.
        weights: Non-negative weights with a positive sum, shape (k,); they are
            normalised here.
        low: Lower bound, may be -inf.
        high: Upper bound (> low), may be +inf.

    Returns:
        Samples, shape (n,), always inside [low, high] (clipped against rounding),
        also for components far outside the bounds. All NaN when k == 0.
    """
    u_component, u_value = _f64(u_component), _f64(u_value)
    mus, sigmas, weights = _f64(mus), _f64(sigmas), _f64(weights)
    n, k = len(u_component), len(mus)
    if k == 0:
        return np.full(n, np.nan)
    cum = np.cumsum(weights)  # sequential sums, which the compiled loops reproduce
    cum /= cum[-1]
    j = np.minimum(np.searchsorted(cum, u_component, side="right"), k - 1)
    mu, s = mus[j], sigmas[j]
    x = mu + s * _ppf_std_truncnorm(u_value, (low - mu) / s, (high - mu) / s)
    return np.clip(x, low, high)
