"""Numba: TPE's product mixtures and the parts of its Parzen estimator.

Arguments, shapes and accuracy are those of ``_reference_tpe`` (notation there); the
tests pin every kernel to it at ``rtol=1e-10``. The truncated normals use the scalar
math of ``_numba_truncnorm``. The densities skip, exactly, the components that cannot
change a result at float64 resolution (a cut-off of ``42 + log k`` below a lower bound
of the largest term). The proposal compiled from these (``tpe_best_candidate``,
``tpe_propose``) is in ``_numba_tpe_propose.py``: Numba's on-disk cache checks only each
function's own file, so after editing a compiled function here delete the cache
(``find hpo_core/kernels -name "*.nb[ic]" -delete``) so that module recompiles.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hpo_core.kernels._numba_truncnorm import (
    _LOG_SQRT_2PI,
    _SQRT1_2,
    _f64,
    _log_bin_mass,
    _log_gauss_mass,
    _ndtr,
    _ndtri,
    _normalized_cumsum,
    _ppf_std_truncnorm,
)

__all__ = [
    "categorical_kernel_table",
    "log_pdf_product_mixture",
    "parzen_bandwidths",
    "sample_product_mixture",
]

_jit = njit(cache=True, nogil=True, error_model="numpy")

_INF = math.inf


# --- product mixtures ----------------------------------------------------------------


@_jit
def _product_constants(discrete, mus, sigmas, log_weights, low, high):  # type: ignore[no-untyped-def]
    """(k,) log w_j - sum_d log Z_jd - sum_{d continuous} (log s_jd + log sqrt(2 pi))."""
    k, dn = mus.shape
    const = np.empty(k)
    for j in range(k):
        acc = log_weights[j]
        for d in range(dn):
            s = sigmas[j, d]
            a, b = (low[d] - mus[j, d]) / s, (high[d] - mus[j, d]) / s
            if a <= 0.0 <= b:
                # Mean inside the bounds (always, for TPE): Z = 1 - Phi(a) - Phi(-b). A
                # tail beyond 9 sigma (< 1.2e-19) is dropped: log Z changes by less than
                # that absolutely; most bad components need no erfc at all.
                tails = 0.0
                if a > -9.0:
                    tails += 0.5 * math.erfc(-a * _SQRT1_2)
                if b < 9.0:
                    tails += 0.5 * math.erfc(b * _SQRT1_2)
                if tails >= 0.5:
                    acc -= _log_gauss_mass(a, b)
                elif tails > 0.0:
                    acc -= math.log1p(-tails)
            else:
                acc -= _log_gauss_mass(a, b)
            if not discrete[d]:
                acc -= math.log(s) + _LOG_SQRT_2PI
        const[j] = acc
    return const


@_jit
def _product_terms(X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high,  # type: ignore[no-untyped-def]
                   cat_log_probs, cat_offsets):
    """(cheap, inv_s, j_best): cheap[j, i] the constant, categorical and continuous part of
    term (i, j) (its bins still to add, each <= 0), inv_s = 1 / sigmas, and per point the
    component whose full term is probably the largest (by the cheap part plus an
    estimate of the bins: midpoint density times width, at most 1; -1 where every term
    is -inf). Any component's exact term is a lower bound of the largest; a good choice
    makes the cut-off and the lower bounds tight."""
    n, dn = X_low.shape
    k, dc = mus.shape[0], C.shape[1]
    const = _product_constants(discrete, mus, sigmas, log_weights, low, high)
    inv_s = 1.0 / sigmas  # (k, dn): the (n, k) loops multiply instead of divide
    # Component-major so the inner loops run over contiguous candidates (and vectorise).
    XT = np.ascontiguousarray(X_low.T)  # (dn, n)
    MID = np.ascontiguousarray((0.5 * (X_low + X_high)).T)
    LW = np.log(np.ascontiguousarray((X_high - X_low).T)) - _LOG_SQRT_2PI
    CT = np.empty((dc, n), dtype=np.intp)
    for q in range(dc):
        for i in range(n):
            CT[q, i] = cat_offsets[q] + np.intp(C[i, q])
    cheap = np.empty((k, n))
    est = np.empty(n)
    best = np.full(n, -_INF)
    j_best = np.full(n, -1, dtype=np.intp)
    for j in range(k):
        row = cheap[j]
        c0 = const[j]
        for i in range(n):
            row[i] = c0
        if c0 == -_INF:
            continue
        for q in range(dc):
            for i in range(n):
                row[i] += cat_log_probs[j, CT[q, i]]
        for d in range(dn):
            if not discrete[d]:
                m, w = mus[j, d], inv_s[j, d]
                x = XT[d]
                for i in range(n):
                    z = (x[i] - m) * w
                    row[i] -= 0.5 * z * z
        for i in range(n):
            est[i] = row[i]
        for d in range(dn):
            if discrete[d]:
                m, w = mus[j, d], inv_s[j, d]
                log_w = -math.log(sigmas[j, d])  # (C++ uses a coarse log; a choice only)
                for i in range(n):
                    z = (MID[d, i] - m) * w
                    est[i] += min(0.0, LW[d, i] + log_w - 0.5 * z * z)
        for i in range(n):
            if row[i] != -_INF and (j_best[i] < 0 or est[i] > best[i]):
                best[i] = est[i]
                j_best[i] = j
    return cheap, inv_s, j_best


@_jit
def _term(i, j, floor, cheap, inv_s, X_low, X_high, discrete, mus):  # type: ignore[no-untyped-def]
    """Term (i, j): the cheap part plus the bin masses in dimension order, stopping early
    (with a value below floor) once the partial sum is below floor."""
    t = cheap[j, i]
    if t == -_INF or t < floor:
        return t
    for d in range(X_low.shape[1]):
        if discrete[d]:
            w = inv_s[j, d]
            t += _log_bin_mass((X_low[i, d] - mus[j, d]) * w, (X_high[i, d] - mus[j, d]) * w)
            if t < floor:
                break
    return t


@_jit
def _log_density(i, cheap, inv_s, j_best, X_low, X_high, discrete, mus):  # type: ignore[no-untyped-def]
    """log sum_j exp(term(i, j)). Exact cut-off: the bin factors still to add are <= 0 in
    log space, so a partial sum below (max - cut) bounds the whole term, and the k such
    terms together change the sum by less than k e^-cut = e^-42 relative, below float64
    resolution. The bound is the term of the chosen component, taken first."""
    k = cheap.shape[0]
    jb = j_best[i]
    if jb < 0:
        return -_INF
    cut = 42.0 + math.log(max(k, 1))
    t_max = -_INF
    acc = 0.0  # sum of exp(term - t_max) over the terms kept so far
    for jj in range(-1, k):
        j = jb if jj < 0 else jj
        if jj == jb:
            continue
        t = _term(i, j, t_max - cut, cheap, inv_s, X_low, X_high, discrete, mus)
        if t == -_INF or t < t_max - cut:
            continue
        if t > t_max:  # online logsumexp: rescale what was accumulated
            acc = acc * math.exp(t_max - t) + 1.0 if t_max > -_INF else 1.0
            t_max = t
        else:
            acc += math.exp(t - t_max)
    return t_max + math.log(acc) if t_max > -_INF else -_INF


@_jit
def _upper_bound(i, cheap, inv_s, X_low, X_high, discrete, mus, sigmas):  # type: ignore[no-untyped-def]
    """An upper bound of _log_density(i) without erfc (as MixtureTerms::upper_bound in
    csrc/hpo_core/tpe_terms.hpp): log phi is concave, so on a bin of half-width h (in units
    of sigma) the density lies below its tangent at the midpoint z_m, and the bin's mass is
    at most 2 h phi(z_m) exp((z_m h)^2 / 6), and at most 1. The terms' log-sum-exp plus a
    margin for rounding; NaN where the point is NaN."""
    k, dn = mus.shape
    t_max = -_INF
    acc = 0.0
    for j in range(k):
        t = cheap[j, i]
        if t == -_INF:
            continue
        for d in range(dn):
            if discrete[d]:
                w = inv_s[j, d]
                z = (0.5 * (X_low[i, d] + X_high[i, d]) - mus[j, d]) * w
                h = 0.5 * (X_high[i, d] - X_low[i, d]) * w
                b = (math.log(X_high[i, d] - X_low[i, d]) - _LOG_SQRT_2PI - math.log(sigmas[j, d])
                     - 0.5 * z * z + z * z * h * h / 6.0)
                t += 0.0 if b > 0.0 else b  # NaN stays NaN
        if math.isnan(t):
            return t
        if t == -_INF:
            continue
        if t > t_max:
            acc = acc * math.exp(t_max - t) + 1.0 if t_max > -_INF else 1.0
            t_max = t
        else:
            acc += math.exp(t - t_max)
    if t_max == -_INF:
        return -_INF
    ub = t_max + math.log(acc)
    return ub + 1e-9 * (1.0 + abs(ub))


@_jit
def _log_pdf_product(X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high,  # type: ignore[no-untyped-def]
                     cat_log_probs, cat_offsets):
    cheap, inv_s, j_best = _product_terms(X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high,
                                          cat_log_probs, cat_offsets)
    n = X_low.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = _log_density(i, cheap, inv_s, j_best, X_low, X_high, discrete, mus)
    return out


@_jit
def _sample_product(u_component, U, UC, mus, sigmas, weights, low, high, cat_probs,  # type: ignore[no-untyped-def]
                    cat_offsets, cat_sizes):
    n = u_component.shape[0]
    k, dn = mus.shape
    dc = cat_offsets.shape[0]
    cum = _normalized_cumsum(weights)
    out = np.empty((n, dn + dc))
    for i in range(n):
        j = np.intp(np.searchsorted(cum, u_component[i], side="right"))
        if j > k - 1:
            j = k - 1
        for d in range(dn):
            mu, s = mus[j, d], sigmas[j, d]
            a, b = (low[d] - mu) / s, (high[d] - mu) / s
            # Fast path: invert in linear space while the target probability is central
            # (its rounding error then moves z by < 1e-14); tails take the log-space route.
            pa = _ndtr(a)
            p = pa + U[i, d] * (_ndtr(b) - pa)
            if 0.02 < p < 0.98:
                z = _ndtri(p)
            else:
                z = _ppf_std_truncnorm(U[i, d], a, b)
            out[i, d] = min(max(mu + s * z, low[d]), high[d])
        for q in range(dc):
            start, size = cat_offsets[q], cat_sizes[q]
            cdf = 0.0
            idx = 0
            for c in range(size):
                cdf += cat_probs[j, start + c]
                if cdf <= UC[i, q]:
                    idx += 1
            out[i, dn + q] = min(idx, size - 1)
    return out


# --- Parzen estimator -------------------------------------------------------------


@_jit
def _parzen_bandwidths(T, orders, low, high, consider_endpoints, magic_clip):  # type: ignore[no-untyped-def]
    n, dn = T.shape
    out = np.empty((n, dn))
    for d in range(dn):
        col = T[:, d]
        order = orders[:, d]
        width = high[d] - low[d]
        floor = width / min(100.0, n + 2.0) if magic_clip else 1e-12
        for r in range(n):
            left = low[d] if r == 0 else col[order[r - 1]]
            right = high[d] if r == n - 1 else col[order[r + 1]]
            x = col[order[r]]
            if not consider_endpoints and n >= 2 and r == 0:
                s = right - x
            elif not consider_endpoints and n >= 2 and r == n - 1:
                s = x - left
            else:
                s = max(x - left, right - x)
            out[order[r], d] = min(max(s, floor), width)
    return out


@_jit
def _categorical_kernel_table(C, sizes, offsets, prior_weight):  # type: ignore[no-untyped-def]
    n, dc = C.shape
    k = n + 1
    total = 0
    for t in range(dc):
        total += sizes[t]
    fill = prior_weight / k if n else 1.0
    P = np.empty((k, total))
    for t in range(dc):
        obs_norm = 1.0 / (fill * sizes[t] + 1.0)
        for i in range(n):
            for c in range(sizes[t]):
                P[i, offsets[t] + c] = fill * obs_norm
            P[i, offsets[t] + np.intp(C[i, t])] = (fill + 1.0) * obs_norm
        for c in range(sizes[t]):  # the prior row: uniform (also with prior_weight 0)
            P[n, offsets[t] + c] = 1.0 / sizes[t]
    return P


# --- public wrappers: convert once, then call the compiled code --------------------

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

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_product_mixture`.
    Components whose partial log term falls more than ``42 + log k`` below the running
    maximum are skipped (their total is below float64 resolution of the result).
    """
    return _log_pdf_product(  # type: ignore[no-any-return]
        _f64(X_low), _f64(X_high), np.ascontiguousarray(discrete, dtype=np.bool_), _f64(C),
        _f64(mus), _f64(sigmas), _f64(log_weights), _f64(low), _f64(high),
        _f64(cat_log_probs), np.ascontiguousarray(cat_offsets, dtype=np.intp),
    )


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

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.sample_product_mixture`.
    """
    return _sample_product(  # type: ignore[no-any-return]
        _f64(u_component), _f64(U), _f64(UC), _f64(mus), _f64(sigmas), _f64(weights),
        _f64(low), _f64(high), _f64(cat_probs),
        np.ascontiguousarray(cat_offsets, dtype=np.intp),
        np.ascontiguousarray(cat_sizes, dtype=np.intp),
    )


def parzen_bandwidths(
    T: np.ndarray, low: np.ndarray, high: np.ndarray, consider_endpoints: bool, magic_clip: bool
) -> np.ndarray:
    """Neighbour-distance bandwidths of TPE's Parzen estimator, every dimension at once.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.parzen_bandwidths`.
    """
    T = _f64(T)
    # NumPy's stable sort (radix/timsort) is several times faster than Numba's mergesort.
    orders = np.ascontiguousarray(np.argsort(T, axis=0, kind="stable"), dtype=np.intp)
    return _parzen_bandwidths(  # type: ignore[no-any-return]
        T, orders, _f64(low), _f64(high), bool(consider_endpoints), bool(magic_clip)
    )


def categorical_kernel_table(
    C: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, prior_weight: float
) -> np.ndarray:
    """Category probabilities of TPE's categorical kernels plus a uniform prior row.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.categorical_kernel_table`.
    """
    return _categorical_kernel_table(  # type: ignore[no-any-return]
        _f64(C), np.ascontiguousarray(sizes, dtype=np.intp), np.ascontiguousarray(offsets, dtype=np.intp),
        float(prior_weight),
    )
