"""Numba: TPE's product mixtures, Parzen estimator and proposal.

Arguments, shapes and accuracy are those of ``_reference_tpe`` (notation there); the
tests pin every kernel to it at ``rtol=1e-10``. The truncated normals use the scalar
math of ``_numba_truncnorm``. The densities skip, exactly, the components that cannot
change a result at float64 resolution (a cut-off of ``42 + log k`` below a lower bound
of the largest term), and ``tpe_best_candidate`` evaluates ``log g`` only where it can
decide the maximum; ``tpe_propose`` is one compiled call from the history's columns.
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
    "tpe_best_candidate",
    "tpe_propose",
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


# --- Parzen estimator and proposal ---------------------------------------------------


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


@_jit
def _tpe_best_candidate(u_component, U, UC, g_mus, g_sigmas, g_weights, g_cat_probs,  # type: ignore[no-untyped-def]
                        b_mus, b_sigmas, b_weights, b_cat_probs, low, high, is_log, step,
                        grid_low, grid_high, cat_offsets, cat_sizes, skip_keys, key_strides):
    dn = low.shape[0]
    S = _sample_product(u_component, U, UC, g_mus, g_sigmas, g_weights, low, high, g_cat_probs,
                        cat_offsets, cat_sizes)
    n = S.shape[0]
    XL = np.empty((n, dn))
    XH = np.empty((n, dn))
    discrete = step > 0.0
    for i in range(n):
        for d in range(dn):
            v = S[i, d]
            if is_log[d]:
                v = math.exp(v)
            if discrete[d]:
                v = grid_low[d] + np.rint((v - grid_low[d]) / step[d]) * step[d]
            v = min(max(v, grid_low[d]), grid_high[d])
            S[i, d] = v
            half = 0.5 * step[d]
            lo_, hi_ = v - half, v + half
            if is_log[d]:
                lo_, hi_ = math.log(lo_), math.log(hi_)
            XL[i, d], XH[i, d] = lo_, hi_
    # Candidates whose grid key is in skip_keys (sorted) are passed over unless all are
    # (_reference_tpe.tpe_propose); keys wrap modulo 2^64 in uint64 arithmetic.
    skip = np.zeros(n, dtype=np.bool_)
    if skip_keys.shape[0] > 0:
        n_skipped = 0
        for i in range(n):
            key = np.uint64(0)
            for d in range(dn):
                key += np.uint64(np.rint((S[i, d] - grid_low[d]) / step[d])) * key_strides[d]
            for q in range(S.shape[1] - dn):
                key += np.uint64(S[i, dn + q]) * key_strides[dn + q]
            j = np.searchsorted(skip_keys, key)
            if j < skip_keys.shape[0] and skip_keys[j] == key:
                skip[i] = True
                n_skipped += 1
        if n_skipped == n:  # all evaluated: the plain argmax
            skip[:] = False
    C = np.ascontiguousarray(S[:, dn:])
    log_l = _log_pdf_product(XL, XH, discrete, C, g_mus, g_sigmas, np.log(g_weights), low, high,
                             np.log(g_cat_probs), cat_offsets)
    # log g exactly only where it can decide (as csrc/tpe.cpp): log l minus one exact term
    # of g bounds log l - log g from above (rounding is monotonic), so a candidate whose
    # bound is below the best value so far cannot be the first maximum. Candidates are
    # visited by decreasing bound; the result is numpy.argmax's over the full values.
    cheap, inv_s, j_best = _product_terms(XL, XH, discrete, C, b_mus, b_sigmas, np.log(b_weights), low, high,
                                          np.log(b_cat_probs), cat_offsets)
    bound = np.empty(n)
    for i in range(n):
        jb = j_best[i]
        lb = -_INF if jb < 0 else _term(i, jb, -_INF, cheap, inv_s, XL, XH, discrete, b_mus)
        bound[i] = log_l[i] - lb
    if np.isnan(bound).any():  # no bounds to trust: every value
        acq = np.empty(n)
        for i in range(n):
            acq[i] = log_l[i] - _log_density(i, cheap, inv_s, j_best, XL, XH, discrete, b_mus)
        keep = np.flatnonzero(~skip)
        return S[keep[np.argmax(acq[keep])]].copy()
    order = np.argsort(-bound, kind="mergesort")
    best, best_acq = -1, -_INF
    for i in order:
        if best >= 0 and bound[i] < best_acq:
            break  # every later bound is lower still
        if skip[i]:
            continue
        acq_i = log_l[i] - _log_density(i, cheap, inv_s, j_best, XL, XH, discrete, b_mus)
        if np.isnan(acq_i):  # NaN counts as the maximum: the first NaN in index order
            if not np.isnan(best_acq) or i < best:
                best, best_acq = i, acq_i
            continue
        if best >= 0 and np.isnan(best_acq):
            continue
        if best < 0 or acq_i > best_acq or (acq_i == best_acq and i < best):
            best, best_acq = i, acq_i
    return S[best].copy()


@_jit
def _tpe_estimator(T, C, w, low, high, sizes, offsets, prior_weight, consider_endpoints, magic_clip):  # type: ignore[no-untyped-def]
    """One group's Parzen estimator (observations plus the prior component), as
    _reference_tpe.tpe_propose builds it."""
    m, dn = T.shape
    orders = np.empty((m, dn), dtype=np.intp)
    for d in range(dn):
        orders[:, d] = np.argsort(T[:, d], kind="mergesort")  # stable, as the reference
    mus = np.empty((m + 1, dn))
    sigmas = np.empty((m + 1, dn))
    mus[:m] = T
    sigmas[:m] = _parzen_bandwidths(T, orders, low, high, consider_endpoints, magic_clip)
    for d in range(dn):
        mus[m, d] = 0.5 * (low[d] + high[d])
        sigmas[m, d] = high[d] - low[d]
    weights = np.empty(m + 1)
    weights[:m] = w
    weights[m] = prior_weight if m > 0 else 1.0
    weights /= weights.sum()
    return mus, sigmas, weights, _categorical_kernel_table(C, sizes, offsets, prior_weight)


@_jit
def _tpe_propose(X, rows, n_below, cols, weights, u, low, high, is_log, step, grid_low, grid_high,  # type: ignore[no-untyped-def]
                 cat_offsets, cat_sizes, prior_weight, consider_endpoints, magic_clip, skip_keys, key_strides):
    """(candidate, bad): bad is NaN, or the first categorical value that is no index."""
    n, dn, dc = rows.shape[0], low.shape[0], cat_sizes.shape[0]
    T = np.empty((n, dn))
    C = np.empty((n, dc))
    bad = np.nan
    for i in range(n):
        r = rows[i]
        for d in range(dn):
            v = X[r, cols[d]]
            if is_log[d]:
                v = math.log(v)
            T[i, d] = min(max(v, low[d]), high[d])
        for q in range(dc):
            c = X[r, cols[dn + q]]
            if not (c >= 0.0 and c < cat_sizes[q] and c == math.floor(c)):
                return np.empty(0), c
            C[i, q] = c
    g_mus, g_sigmas, g_w, g_p = _tpe_estimator(T[:n_below], C[:n_below], weights[:n_below], low, high,
                                               cat_sizes, cat_offsets, prior_weight, consider_endpoints,
                                               magic_clip)
    b_mus, b_sigmas, b_w, b_p = _tpe_estimator(T[n_below:], C[n_below:], weights[n_below:], low, high,
                                               cat_sizes, cat_offsets, prior_weight, consider_endpoints,
                                               magic_clip)
    out = _tpe_best_candidate(np.ascontiguousarray(u[:, 0]), np.ascontiguousarray(u[:, 1 : 1 + dn]),
                              np.ascontiguousarray(u[:, 1 + dn :]), g_mus, g_sigmas, g_w, g_p, b_mus, b_sigmas,
                              b_w, b_p, low, high, is_log, step, grid_low, grid_high, cat_offsets, cat_sizes,
                              skip_keys, key_strides)
    return out, bad


# --- public wrappers: convert once, then call the compiled code --------------------

_NO_KEYS = np.empty(0, dtype=np.uint64)


def _keys(skip_keys: np.ndarray | None, key_strides: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``tpe_propose``'s skip keys and strides as contiguous uint64 (empty: none)."""
    if skip_keys is None or len(skip_keys) == 0 or key_strides is None:
        return _NO_KEYS, _NO_KEYS
    return np.ascontiguousarray(skip_keys, dtype=np.uint64), np.ascontiguousarray(key_strides, dtype=np.uint64)


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

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_best_candidate`;
    one compiled call (no Python between sampling, snapping and the two densities).
    """
    return _tpe_best_candidate(  # type: ignore[no-any-return]
        _f64(u_component), _f64(U), _f64(UC),
        _f64(good[0]), _f64(good[1]), _f64(good[2]), _f64(good[3]),
        _f64(bad[0]), _f64(bad[1]), _f64(bad[2]), _f64(bad[3]),
        _f64(low), _f64(high), np.ascontiguousarray(is_log, dtype=np.bool_), _f64(step),
        _f64(grid_low), _f64(grid_high),
        np.ascontiguousarray(cat_offsets, dtype=np.intp), np.ascontiguousarray(cat_sizes, dtype=np.intp),
        _NO_KEYS, _NO_KEYS,
    )


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
    skip_keys: np.ndarray | None = None,
    key_strides: np.ndarray | None = None,
) -> np.ndarray:
    """TPE's whole proposal from the history's columns, in one call.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_propose`;
    ``X`` is read in place (any layout), everything else runs in one compiled call.
    """
    X = np.asarray(X, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.intp)
    cols = np.ascontiguousarray(cols, dtype=np.intp)
    if len(rows) and (rows.min() < 0 or rows.max() >= X.shape[0]):
        raise ValueError(f"`rows` must index rows of `X` ({X.shape[0]}), but got {rows.min()}..{rows.max()}.")
    if len(cols) and (cols.min() < 0 or cols.max() >= X.shape[1]):
        raise ValueError(f"`cols` must index columns of `X` ({X.shape[1]}), but got {cols.min()}..{cols.max()}.")
    out, bad = _tpe_propose(
        X, rows, int(n_below), cols, _f64(weights), _f64(u), _f64(low), _f64(high),
        np.ascontiguousarray(is_log, dtype=np.bool_), _f64(step), _f64(grid_low), _f64(grid_high),
        np.ascontiguousarray(cat_offsets, dtype=np.intp), np.ascontiguousarray(cat_sizes, dtype=np.intp),
        float(prior_weight), bool(consider_endpoints), bool(magic_clip),
        *_keys(skip_keys, key_strides),
    )
    if not np.isnan(bad) or len(out) == 0:
        raise ValueError(f"`X` must hold category indices in [0, size) in its categorical columns, but got {bad!r}.")
    return out  # type: ignore[no-any-return]
