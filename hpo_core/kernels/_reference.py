"""NumPy reference kernels: the specification every compiled backend is checked against.

Notation:
    n            number of evaluation points; ``x: (n,)``.
    k            number of mixture components; ``mus, sigmas, log_weights: (k,)``.
    c            number of categories; ``log_probs: (k, c)``.
    m            number of objectives; ``values: (n, m)``, all minimised.
    mu_j, s_j    mean and standard deviation of component j (``s_j > 0``).
    w_j          weight of component j; ``log_weights = log w`` with logsumexp 0.
    L, H         truncation bounds ``low < high``; either may be infinite.
    a_j, b_j     standardised bounds ``(L - mu_j) / s_j`` and ``(H - mu_j) / s_j``.
    Z_j          ``Phi(b_j) - Phi(a_j)``, the mass of component j inside [L, H].
    phi, Phi     standard normal density and CDF; ``log_ndtr = log Phi``.
    delta        grid step of a discrete parameter (``step``).

All kernels are pure: arrays and scalars in, a new array out, no RNG and no global
state. They trust their input (shapes, ``sigmas > 0``, ``low < high``); the public
callers validate once at the boundary. Inputs are converted to C-contiguous float64.

Numerical approach (shared by every backend): masses are handled in log space with
``log_ndtr`` and always computed in the *left* tail, where it is accurate, by using the
symmetry ``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)`` (as scipy's ``truncnorm`` and optuna's
``_truncnorm`` do). A component far outside [L, H] therefore keeps a finite ``log Z``
even when ``Z`` underflows to 0 in linear space. (n, k) temporaries are built in row
blocks, so memory stays O(k) rows of a few MB whatever n is.

The Gaussian-process kernels (``matern52``, ``gp_log_marginal_likelihood``,
``gp_posterior``, ``log_ei``) are written in ``_reference_gp.py``, with their own
notation, and re-exported here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator

import numpy as np
from scipy.special import erf, erfcx, log_ndtr, ndtr, ndtri_exp

# The Gaussian-process kernels live in their own module (notation block there).
from hpo_core.kernels._reference_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52

__all__ = [
    "categorical_kernel_table",
    "gp_log_marginal_likelihood",
    "gp_posterior",
    "hypervolume",
    "is_pareto_front",
    "log_ei",
    "log_pdf_truncnorm_mixture",
    "log_pdf_product_mixture",
    "matern52",
    "nondominated_rank",
    "parzen_bandwidths",
    "sample_product_mixture",
    "sample_truncnorm_mixture",
    "tpe_best_candidate",
    "tpe_propose",
]

BACKEND_NAME = "numpy"
AVAILABLE = True

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


def _unique_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in lexicographic order and the inverse map, shape (n,)."""
    uniq, inverse = np.unique(values, axis=0, return_inverse=True)
    return uniq, inverse.reshape(-1)


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Rank 0 is the Pareto front, rank 1 the front once rank 0 is removed, and so on;
    equivalently ``rank(p) = 1 + max(rank(q) for q dominating p)`` (0 when none does).
    q dominates p when ``q <= p`` in every objective and ``q < p`` in at least one.

    Args:
        values: Objective values, shape (n, m), NaN-free, all to be minimised.

    Returns:
        Ranks, int64, shape (n,). Duplicated points share a rank.
        O(n log n) for m <= 2; O(n^2 m) in the worst case otherwise.
    """
    values = _f64(values)
    n, m = values.shape
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.int64)
    # Deduplicating first means no two remaining points are equal, and the lexicographic
    # order of np.unique puts every dominator before the points it dominates.
    uniq, inverse = _unique_rows(values)
    if m == 1:
        return inverse.astype(np.int64)
    rank = np.zeros(len(uniq), dtype=np.int64)
    if m == 2:
        # Sweep in (f1, f2) order. Earlier points have f1 <= p's, so front r dominates p
        # iff its latest member has f2 <= p's; those f2 values do not decrease with r,
        # so the rank is found by bisection (Jensen 2003, O(n log n)).
        last_f2: list[float] = []
        for i, f2 in enumerate(uniq[:, 1].tolist()):
            r = bisect.bisect_right(last_f2, f2)
            if r == len(last_f2):
                last_f2.append(f2)
            else:
                last_f2[r] = f2
            rank[i] = r
        return rank[inverse]
    for i in range(1, len(uniq)):
        dominators = np.all(uniq[:i] <= uniq[i], axis=1)  # distinct: one is strict
        if dominators.any():
            rank[i] = rank[:i][dominators].max() + 1
    return rank[inverse]


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Same as ``nondominated_rank(values) == 0`` but cheaper.

    Args:
        values: Objective values, shape (n, m), NaN-free, all to be minimised.

    Returns:
        Booleans, shape (n,). Duplicates of a front point are on the front.
        O(n log n) for m <= 2; O(n f m) otherwise, f the front size.
    """
    values = _f64(values)
    n, m = values.shape
    if n == 0 or m == 0:
        return np.ones(n, dtype=np.bool_)
    uniq, inverse = _unique_rows(values)
    if m == 1:
        return inverse == 0
    if m == 2:
        # Distinct points in (f1, f2) order: p is dominated iff an earlier point has
        # f2 <= p's, i.e. iff p's f2 is not a new strict running minimum.
        prev_min = np.minimum.accumulate(np.concatenate(([np.inf], uniq[:-1, 1])))
        return (uniq[:, 1] < prev_min)[inverse]
    on_front = np.zeros(len(uniq), dtype=np.bool_)
    front: list[np.ndarray] = []
    for i, p in enumerate(uniq):
        # Checking front members suffices: a dominated point is dominated by some
        # front member (transitivity), and front members come earlier in this order.
        if not front or not np.all(np.asarray(front) <= p, axis=1).any():
            on_front[i] = True
            front.append(p)
    return on_front[inverse]


# --- product mixtures (joint TPE) ----------------------------------------------------
#
# Notation (in addition to the module's):
#     dn, dc       numbers of numeric and categorical dimensions.
#     mus, sigmas  (k, dn) per-(component, dimension) means and standard deviations, in
#                  the transformed space (log space for log parameters).
#     low, high    (dn,) truncation bounds of each numeric dimension (finite).
#     X_low, X_high (n, dn): for a continuous dimension both hold the point x; for a
#                  discrete one they are the bin edges [x - step/2, x + step/2]
#                  (transformed), and the kernel integrates over the bin.
#     C            (n, dc) category indices (as float64).
#     cat_log_probs (k, sum c) log probabilities, dimension t in columns
#                  [cat_offsets[t], cat_offsets[t] + c_t).
#
# Component j's density is the product over dimensions of its truncated normals (or bin
# masses) and categorical probabilities; the mixture is weighted by w.


def _product_component_terms(
    X_low: np.ndarray,
    X_high: np.ndarray,
    discrete: np.ndarray,
    C: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_log_probs: np.ndarray,
    cat_offsets: np.ndarray,
) -> np.ndarray:
    """(n, k) log of w_j times component j's density at each point."""
    n, k = X_low.shape[0], mus.shape[0]
    log_zs = _log_gauss_mass((low - mus) / sigmas, (high - mus) / sigmas)  # (k, dn)
    cont = ~discrete
    const = log_weights - np.sum(log_zs, axis=1) - np.sum(
        np.log(sigmas[:, cont]) + _LOG_SQRT_2PI, axis=1
    )
    out = np.broadcast_to(const, (n, k)).copy()
    if cont.any():
        z = (X_low[:, None, cont] - mus[None, :, cont]) / sigmas[None, :, cont]
        out -= 0.5 * np.sum(z * z, axis=2)
    if discrete.any():
        m, s = mus[None, :, discrete], sigmas[None, :, discrete]
        a = (X_low[:, None, discrete] - m) / s
        b = (X_high[:, None, discrete] - m) / s
        out += np.sum(_log_gauss_mass(a, b), axis=2)
    if C.shape[1]:
        cols = (C.astype(np.intp) + cat_offsets)  # (n, dc)
        out += np.sum(cat_log_probs.T[cols], axis=1)  # (n, dc, k) -> (n, k)
    return out  # type: ignore[no-any-return]


def log_pdf_product_mixture(
    X_low: np.ndarray,
    X_high: np.ndarray,
    discrete: np.ndarray,
    C: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_log_probs: np.ndarray,
    cat_offsets: np.ndarray,
) -> np.ndarray:
    """Log density of a mixture of product kernels over numeric and categorical dimensions.

    ``log sum_j w_j prod_d f_jd(x_d) prod_t p_jt[c_t]`` where ``f_jd`` is the normal
    ``(mus[j, d], sigmas[j, d])`` truncated to ``[low[d], high[d]]``: its density at
    ``X_low[i, d]`` for a continuous dimension, its mass on ``[X_low[i, d], X_high[i, d]]``
    for a discrete one (see the notation block above). This is the TPE acquisition's
    ``log l(x)`` and ``log g(x)`` in one call.

    Args:
        X_low: (n, dn) points (continuous dims) or lower bin edges (discrete dims).
        X_high: (n, dn) upper bin edges (equal to X_low in continuous dims).
        discrete: (dn,) bool, which numeric dimensions are discrete.
        C: (n, dc) category indices, integers in [0, c_t).
        mus: (k, dn) component means, inside [low, high].
        sigmas: (k, dn) component standard deviations, > 0.
        log_weights: (k,) log mixture weights, normalised (-inf allowed for weight 0).
        low: (dn,) finite lower bounds.
        high: (dn,) finite upper bounds, > low.
        cat_log_probs: (k, sum_t c_t) log category probabilities per component.
        cat_offsets: (dc,) intp, first column of each categorical dimension.

    Returns:
        (n,) log densities (masses times densities for mixed spaces); -inf for k == 0.
        With means inside the bounds (as TPE's are), accurate to ~1e-14 relative.
    """
    X_low, X_high, C = _f64(X_low), _f64(X_high), _f64(C)
    mus, sigmas, log_weights = _f64(mus), _f64(sigmas), _f64(log_weights)
    low, high, cat_log_probs = _f64(low), _f64(high), _f64(cat_log_probs)
    discrete = np.asarray(discrete, dtype=np.bool_)
    cat_offsets = np.asarray(cat_offsets, dtype=np.intp)
    n, k = X_low.shape[0], mus.shape[0]
    out = np.empty(n)
    dim = max(1, X_low.shape[1] + C.shape[1])
    for rows in _row_blocks(n, k * dim):
        t = _product_component_terms(
            X_low[rows], X_high[rows], discrete, C[rows], mus, sigmas, log_weights,
            low, high, cat_log_probs, cat_offsets,
        )
        out[rows] = _logsumexp_rows(t)
    return out


def sample_product_mixture(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_probs: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """Draw from a mixture of product kernels by inverse CDFs of pre-drawn uniforms.

    Sample i takes component ``j = #{l : C_l <= u_component[i]}`` (capped at k - 1),
    ``C = cumsum(weights) / sum(weights)``; numeric dimension d is then
    ``mus[j, d] + sigmas[j, d] F^-1(U[i, d])`` (F the standard normal CDF truncated to
    the standardised ``[low[d], high[d]]``, as :func:`sample_truncnorm_mixture`) and
    categorical dimension t is the first category whose cumulative probability in row j
    exceeds ``UC[i, t]``. No RNG inside.

    Args:
        u_component: (n,) uniforms in [0, 1) choosing the component.
        U: (n, dn) uniforms in (0, 1) for the numeric dimensions.
        UC: (n, dc) uniforms in [0, 1) for the categorical dimensions.
        mus, sigmas: (k, dn) as in :func:`log_pdf_product_mixture`; k >= 1.
        weights: (k,) non-negative weights with a positive sum.
        low, high: (dn,) finite bounds, low < high.
        cat_probs: (k, sum_t c_t) category probabilities (rows of each block sum to 1).
        cat_offsets: (dc,) intp first column of each categorical dimension.
        cat_sizes: (dc,) intp number of categories of each.

    Returns:
        (n, dn + dc): numeric samples (transformed space, inside [low, high]) followed by
        category indices as float64.
    """
    u_component, U, UC = _f64(u_component), _f64(U), _f64(UC)
    mus, sigmas, weights = _f64(mus), _f64(sigmas), _f64(weights)
    low, high, cat_probs = _f64(low), _f64(high), _f64(cat_probs)
    cat_offsets = np.asarray(cat_offsets, dtype=np.intp)
    cat_sizes = np.asarray(cat_sizes, dtype=np.intp)
    n, k = len(u_component), mus.shape[0]
    dn, dc = mus.shape[1], len(cat_offsets)
    out = np.empty((n, dn + dc))
    cum = np.cumsum(weights)
    cum /= cum[-1]
    j = np.minimum(np.searchsorted(cum, u_component, side="right"), k - 1)
    mu, s = mus[j], sigmas[j]  # (n, dn)
    x = mu + s * _ppf_std_truncnorm(U, (low - mu) / s, (high - mu) / s)
    out[:, :dn] = np.clip(x, low, high)
    for t in range(dc):
        start, size = cat_offsets[t], cat_sizes[t]
        cdf = np.cumsum(cat_probs[j, start : start + size], axis=1)
        idx = np.sum(cdf <= UC[:, t : t + 1], axis=1)
        out[:, dn + t] = np.minimum(idx, size - 1)
    return out


# --- hypervolume kernels -------------------------------------------------------------
#
# Notation: ``points: (n, m)`` minimised, ``ref: (m,)`` the reference point r. HV(S) is
# the Lebesgue measure of the union of the boxes [p, r] over p in S; a point that does
# not strictly dominate r (p_j >= r_j for some j) has an empty box and is dropped first.


def _hv_inputs(points: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points whose box [p, r] is non-empty, and r, as float64."""
    points, ref = _f64(points), _f64(ref)
    return points[np.all(points < ref, axis=1)], ref


def _hv_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points (n, 2) inside the box of ref: a sweep in (f1, f2) order, O(n log n)."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    x, y = points[order, 0], points[order, 1]
    # A point whose f2 is a new running minimum adds the strip [y, previous minimum) x [x, r1).
    prev_min = np.minimum.accumulate(np.concatenate(([ref[1]], y[:-1])))
    return float(np.sum((ref[0] - x) * np.maximum(prev_min - y, 0.0)))


def _hv_3d(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points (n, 3) inside the box of ref: slabs between sorted f3 values, O(n^2 log n)."""
    order = np.argsort(points[:, 2], kind="stable")
    z = np.append(points[order, 2], ref[2])
    return float(sum(_hv_2d(points[order[: i + 1], :2], ref[:2]) * (z[i + 1] - z[i]) for i in range(len(order))))


def _hv_wfg(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points (n, m) inside the box of ref by the WFG recursion (While et al. 2012).

    HV(p_1..p_n) = sum_i [vol(p_i) - HV(limit_i)], limit_i = {max(p_i, p_j) : j > i}
    (eq. (2)-(4) of "A Fast Way of Calculating Exact Hypervolumes", IEEE TEC 16(1)); the
    sum telescopes, and each limit set is reduced to its distinct non-dominated rows.
    """
    n, m = points.shape
    if n == 0:
        return 0.0
    if m == 2:
        return _hv_2d(points, ref)
    if m == 3:
        return _hv_3d(points, ref)
    # Worst-first in f1 keeps the limit sets small (WFG sorts for the same reason).
    points = points[np.argsort(-points[:, 0], kind="stable")]
    total = 0.0
    for i in range(n):
        limit = np.unique(np.maximum(points[i + 1 :], points[i]), axis=0)
        total += float(np.prod(ref - points[i])) - _hv_wfg(limit[is_pareto_front(limit)], ref)
    return total


def _hv_any(points: np.ndarray, ref: np.ndarray) -> float:
    """HV of points that all strictly dominate ref; +inf when a box is unbounded."""
    n, m = points.shape
    if n == 0:
        return 0.0
    if not (np.isfinite(ref).all() and np.isfinite(points).all()):
        return math.inf  # some p_j = -inf or r_j = +inf: that box has infinite volume
    if m == 1:
        return float(ref[0] - points[:, 0].min())
    return _hv_wfg(points, ref)


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation.

    Args:
        points: Objective values, shape (n, m), NaN-free, all minimised. Points that do
            not strictly dominate ``ref`` (some ``p_j >= r_j``) add nothing.
        ref: Reference point, shape (m,), NaN-free.

    Returns:
        The volume of the union of the boxes [p, ref]; 0.0 when no point dominates ref,
        +inf when a box is unbounded (``p_j = -inf`` or ``r_j = +inf``). Exact up to
        rounding: relative error about n * 1e-16 for finite inputs. m = 2: O(n log n);
        m = 3: O(n^2 log n); m >= 4: the WFG recursion, exponential in m in the worst case.
    """
    points, ref = _hv_inputs(points, ref)
    return _hv_any(points, ref)


def parzen_bandwidths(
    T: np.ndarray, low: np.ndarray, high: np.ndarray, consider_endpoints: bool, magic_clip: bool
) -> np.ndarray:
    """Neighbour-distance bandwidths of TPE's Parzen estimator, every dimension at once.

    For observation i in dimension d, the larger of the distances to its neighbours in
    sorted order, with ``low[d]`` and ``high[d]`` as the outer neighbours (when
    ``consider_endpoints`` is False and n >= 2 the extreme observations use only their
    inner neighbour), clipped to ``[(high - low) / min(100, n + 2), high - low]``
    (the "magic clip", Bergstra et al. 2011; floor 1e-12 without it). As Optuna 5's
    ``_ParzenEstimator._calculate_numerical_distributions``.

    Args:
        T: (n, dn) observations inside [low, high] (transformed space).
        low, high: (dn,) finite bounds, low < high.
        consider_endpoints: Whether the bounds count for the extreme observations.
        magic_clip: Whether to floor the bandwidths at the range / min(100, n + 2).

    Returns:
        (n, dn) bandwidths, > 0. Ties in T are broken by position (stable order).
    """
    T, low, high = _f64(T), _f64(low), _f64(high)
    n, dn = T.shape
    if n == 0:
        return np.empty((0, dn))
    order = np.argsort(T, axis=0, kind="stable")
    S = np.take_along_axis(T, order, axis=0)
    padded = np.concatenate((low[None], S, high[None]), axis=0)  # (n + 2, dn)
    gaps = np.diff(padded, axis=0)  # (n + 1, dn)
    sorted_sig = np.maximum(gaps[:-1], gaps[1:])
    if not consider_endpoints and n >= 2:
        sorted_sig[0] = padded[2] - padded[1]
        sorted_sig[-1] = padded[-2] - padded[-3]
    sig = np.empty_like(sorted_sig)
    np.put_along_axis(sig, order, sorted_sig, axis=0)
    width = high - low
    min_sig = width / min(100.0, n + 2.0) if magic_clip else np.full(dn, 1e-12)
    return np.clip(sig, min_sig, width)  # type: ignore[no-any-return]


def categorical_kernel_table(
    C: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, prior_weight: float
) -> np.ndarray:
    """Category probabilities of TPE's categorical kernels plus a uniform prior row.

    Row i < n puts ``1 + prior_weight / k`` on the observed category ``C[i, t]`` and
    ``prior_weight / k`` on the others of dimension t, normalised within the dimension
    (k = n + 1 components); row n (the prior) is uniform. As Optuna 5's categorical
    kernel. With n == 0 the table is the uniform row alone.

    Args:
        C: (n, dc) observed category indices (float64 integers in [0, sizes[t])).
        sizes: (dc,) intp category counts; offsets: (dc,) intp first column of each.
        prior_weight: > 0.

    Returns:
        (n + 1, sum(sizes)) probabilities; each dimension's block of a row sums to 1.
    """
    C = _f64(C)
    sizes = np.asarray(sizes, dtype=np.intp)
    offsets = np.asarray(offsets, dtype=np.intp)
    n, k = C.shape[0], C.shape[0] + 1
    fill = prior_weight / k if n else 1.0
    P = np.full((k, int(sizes.sum())), fill)
    if n and len(sizes):
        P[np.arange(n)[:, None], C.astype(np.intp) + offsets] += 1.0
    sums = fill * sizes + (np.arange(k) < n)[:, None]  # (k, dc)
    return P / np.repeat(sums, sizes, axis=1)  # type: ignore[no-any-return]


def tpe_best_candidate(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    good: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    bad: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """TPE's proposal: the candidate drawn from ``good`` with the largest ``log l - log g``.

    Draws ``n = len(u_component)`` candidates from the good mixture
    (:func:`sample_product_mixture`), maps the numeric ones back to parameter values
    (``exp`` where ``is_log``, snapped to ``grid_low + i * step`` where ``step > 0``,
    clipped to ``[grid_low, grid_high]``), evaluates both mixtures there
    (:func:`log_pdf_product_mixture`: densities for continuous dimensions, masses of the
    bins ``[x - step/2, x + step/2]`` (log-transformed where ``is_log``) for discrete
    ones) and returns the first candidate maximising the difference.

    Args:
        u_component, U, UC: (n,), (n, dn), (n, dc) uniforms as in
            :func:`sample_product_mixture`; n >= 1.
        good: ``(mus, sigmas, weights, cat_probs)`` of l: (k, dn), (k, dn), (k,) normalised,
            (k, sum c) with every block row summing to 1 and all entries > 0.
        bad: the same for g (k' components; weights > 0).
        low, high: (dn,) transformed bounds; is_log: (dn,) bool; step: (dn,) (0: continuous).
        grid_low, grid_high: (dn,) parameter bounds; cat_offsets, cat_sizes: (dc,) intp.

    Returns:
        (dn + dc,) the chosen candidate: numeric parameter values, then category indices.
    """
    is_log = np.asarray(is_log, dtype=np.bool_)
    step, grid_low, grid_high = _f64(step), _f64(grid_low), _f64(grid_high)
    dn = len(low)
    S = sample_product_mixture(u_component, U, UC, good[0], good[1], good[2], low, high, good[3],
                               cat_offsets, cat_sizes)
    V = S[:, :dn]
    V[:, is_log] = np.exp(V[:, is_log])
    discrete = step > 0
    if discrete.any():
        lo_d, st = grid_low[discrete], step[discrete]
        V[:, discrete] = lo_d + np.round((V[:, discrete] - lo_d) / st) * st
    np.clip(V, grid_low, grid_high, out=V)
    half = 0.5 * step
    XL, XH = V - half, V + half
    XL[:, is_log], XH[:, is_log] = np.log(XL[:, is_log]), np.log(XH[:, is_log])
    C = S[:, dn:]
    acq = (
        log_pdf_product_mixture(XL, XH, discrete, C, good[0], good[1], np.log(good[2]), low, high,
                                np.log(good[3]), cat_offsets)
        - log_pdf_product_mixture(XL, XH, discrete, C, bad[0], bad[1], np.log(bad[2]), low, high,
                                  np.log(bad[3]), cat_offsets)
    )
    best = int(np.argmax(acq))
    return np.concatenate((V[best], C[best]))


def _tpe_gather(
    X: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    is_log: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_sizes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The observations of TPE's estimators, gathered from the history's columns.

    Args:
        X: (N, P) internal parameter values (any memory layout).
        rows: (n,) intp rows to take; cols: (dn + dc,) intp columns, numeric then categorical.
        is_log: (dn,) bool; the numeric values of those columns are logged.
        low, high: (dn,) transformed bounds the numeric values are clipped to (values drawn
            under an older, wider range).
        cat_sizes: (dc,) category counts; categorical values must be indices below them.

    Returns:
        ``T`` (n, dn) transformed numeric values and ``C`` (n, dc) category indices.

    Raises:
        ValueError: a row or column out of range, or a categorical value that is not an
            index in ``[0, size)`` (NaN included).
    """
    X, low, high = np.asarray(X, dtype=np.float64), _f64(low), _f64(high)
    rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
    if len(rows) and (rows.min() < 0 or rows.max() >= X.shape[0]):
        raise ValueError(f"`rows` must index rows of `X` ({X.shape[0]}), but got {rows.min()}..{rows.max()}.")
    if len(cols) and (cols.min() < 0 or cols.max() >= X.shape[1]):
        raise ValueError(f"`cols` must index columns of `X` ({X.shape[1]}), but got {cols.min()}..{cols.max()}.")
    dn = len(low)
    G = X[rows[:, None], cols]
    T, C = G[:, :dn], np.ascontiguousarray(G[:, dn:])
    is_log = np.asarray(is_log, dtype=np.bool_)
    T[:, is_log] = np.log(T[:, is_log])
    T = np.ascontiguousarray(np.clip(T, low, high))
    sizes = np.asarray(cat_sizes, dtype=np.float64)
    ok = (C >= 0) & (C < sizes) & (C == np.floor(C))
    if not ok.all():
        raise ValueError(f"`X` must hold category indices in [0, size) in its categorical columns, but got "
                         f"{C[~ok][0]!r}.")
    return T, C


def tpe_propose(
    X: np.ndarray,
    rows: np.ndarray,
    n_below: int,
    cols: np.ndarray,
    weights: np.ndarray,
    u: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
    prior_weight: float,
    consider_endpoints: bool,
    magic_clip: bool,
) -> np.ndarray:
    """TPE's whole proposal from the history's columns, in one call.

    The good observations are ``rows[:n_below]``, the bad ones ``rows[n_below:]``
    (:func:`_tpe_gather`). Each group becomes a Parzen estimator: its observations plus
    the prior component (mean ``(low + high) / 2``, sigma ``high - low``, weight
    ``prior_weight``, or 1 alone when the group is empty), bandwidths by
    :func:`parzen_bandwidths`, category tables by :func:`categorical_kernel_table` and
    the weights normalised. Then :func:`tpe_best_candidate` with the uniforms ``u``.

    Args:
        X, rows, cols: as :func:`_tpe_gather`; n_below: size of the good group.
        weights: (len(rows),) non-negative observation weights (before the prior), good
            then bad.
        u: (n_candidates, 1 + dn + dc) uniforms: the component draw, the numeric ones,
            the categorical ones; n_candidates >= 1.
        low, high, is_log, step, grid_low, grid_high, cat_offsets, cat_sizes: as
            :func:`tpe_best_candidate`.
        prior_weight, consider_endpoints, magic_clip: the estimator's options (> 0 /
            :func:`parzen_bandwidths`).

    Returns:
        (dn + dc,) the chosen candidate: numeric parameter values, then category indices.
    """
    low, high, u, weights = _f64(low), _f64(high), _f64(u), _f64(weights)
    dn = len(low)
    sizes = np.asarray(cat_sizes, dtype=np.intp)
    offsets = np.asarray(cat_offsets, dtype=np.intp)
    T, C = _tpe_gather(X, rows, cols, is_log, low, high, sizes)
    mixtures = []
    for part in (slice(0, n_below), slice(n_below, len(T))):
        Tg, Cg, wg = T[part], C[part], weights[part]
        n = len(Tg)
        mus = np.concatenate((Tg, (0.5 * (low + high))[None]))
        sigmas = np.concatenate((parzen_bandwidths(Tg, low, high, consider_endpoints, magic_clip),
                                 (high - low)[None]))
        w = np.append(wg, prior_weight if n else 1.0)
        mixtures.append((mus, sigmas, w / w.sum(), categorical_kernel_table(Cg, sizes, offsets, prior_weight)))
    return tpe_best_candidate(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], mixtures[0], mixtures[1], low, high,
                              is_log, step, grid_low, grid_high, offsets, sizes)
