"""Numba: TPE's proposal from the history's columns, one compiled call.

Arguments, shapes and accuracy are those of ``_reference_tpe_propose`` (notation in
``_reference_tpe``); the tests pin both kernels to it at ``rtol=1e-10``.
``tpe_best_candidate`` evaluates ``log l`` and ``log g`` only where they can decide the maximum;
``tpe_propose`` gathers the observations from the history's columns, builds both Parzen
estimators and chooses, in one compiled call. The density, sampling and estimator
pieces are compiled in from ``_numba_tpe``: Numba's on-disk cache checks only each
function's own file, so after editing those delete the cache
(``find hpo_core/kernels -name "*.nb[ic]" -delete``) so this module recompiles.
"""

from __future__ import annotations

import math

import numpy as np

from hpo_core.kernels._numba_tpe import (
    _INF,
    _categorical_kernel_table,
    _jit,
    _log_density,
    _parzen_bandwidths,
    _product_terms,
    _sample_product,
    _term,
    _upper_bound,
)
from hpo_core.kernels._numba_truncnorm import _f64
from hpo_core.kernels._reference_tpe_propose import _check_rows, _check_skip_step

__all__ = ["tpe_best_candidate", "tpe_propose"]


@_jit
def _tpe_best_candidate(u_component, U, UC, g_mus, g_sigmas, g_weights, g_cat_probs,  # type: ignore[no-untyped-def]
                        b_mus, b_sigmas, b_weights, b_cat_probs, low, high, is_log, step,
                        grid_low, grid_high, cat_offsets, cat_sizes, skip_keys, key_strides, X, cols, skip_rows,
                        want_plain):
    """(2, dn + dc): the choice, then the plain argmax (the choice without skipping; the
    choice again where nothing is skipped or ``want_plain`` is False)."""
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
    # Candidates that are evaluated configurations (a key in skip_keys, or the grid point
    # of a row in skip_rows) are passed over unless all are (_reference_tpe_propose.
    # tpe_propose). Checked lazily, as the search below reaches a candidate: usually one
    # or two are, whatever the number of keys and rows. state: 0 unknown, 1 evaluated, 2 not.
    has_skip = skip_keys.shape[0] > 0 or skip_rows.shape[0] > 0
    state = np.zeros(n, dtype=np.int8)
    C = np.ascontiguousarray(S[:, dn:])
    # log l and log g exactly only where they can decide (as csrc/tpe.cpp): an erfc-free
    # upper bound of log l (_upper_bound) minus one exact term of g bounds log l - log g
    # from above (log l's bound has a margin for rounding; rounding is monotonic for g's
    # term), so a candidate whose bound is below the best value so far cannot be the first
    # maximum. Candidates are visited by decreasing bound; a visited candidate's bound is
    # tightened with its exact log l before log g is summed. The result is numpy.argmax's
    # over the full values.
    g_cheap, g_inv_s, g_best = _product_terms(XL, XH, discrete, C, g_mus, g_sigmas, np.log(g_weights), low, high,
                                              np.log(g_cat_probs), cat_offsets)
    cheap, inv_s, j_best = _product_terms(XL, XH, discrete, C, b_mus, b_sigmas, np.log(b_weights), low, high,
                                          np.log(b_cat_probs), cat_offsets)
    log_l = np.empty(n)
    has_log_l = np.zeros(n, dtype=np.bool_)
    log_g = np.empty(n)  # kept for the second search (the plain argmax)
    has_log_g = np.zeros(n, dtype=np.bool_)
    lower_g = np.empty(n)
    bound = np.empty(n)
    for i in range(n):
        jb = j_best[i]
        lower_g[i] = -_INF if jb < 0 else _term(i, jb, -_INF, cheap, inv_s, XL, XH, discrete, b_mus)
        bound[i] = _upper_bound(i, g_cheap, g_inv_s, XL, XH, discrete, g_mus, g_sigmas) - lower_g[i]
    if np.isnan(bound).any():  # no bounds to trust: every value
        acq = np.empty(n)
        skip = np.zeros(n, dtype=np.bool_)
        for i in range(n):
            log_l_i = _log_density(i, g_cheap, g_inv_s, g_best, XL, XH, discrete, g_mus)
            acq[i] = log_l_i - _log_density(i, cheap, inv_s, j_best, XL, XH, discrete, b_mus)
            if has_skip:
                skip[i] = _is_evaluated(S, i, dn, grid_low, step, skip_keys, key_strides, X, cols, skip_rows)
        keep = np.flatnonzero(~skip) if not skip.all() else np.arange(n)  # all evaluated: the plain argmax
        out = np.empty((2, S.shape[1]))
        out[0] = S[keep[np.argmax(acq[keep])]]
        out[1] = S[np.argmax(acq)]
        return out
    order = np.argsort(-bound, kind="mergesort")
    use_skip = has_skip
    chosen = -1
    while True:
        best, best_acq = -1, -_INF
        for i in order:
            if best >= 0 and bound[i] < best_acq:
                break  # every later bound is lower still
            if use_skip:
                if state[i] == 0:
                    evaluated = _is_evaluated(S, i, dn, grid_low, step, skip_keys, key_strides, X, cols, skip_rows)
                    state[i] = 1 if evaluated else 2
                if state[i] == 1:
                    continue
            if not has_log_l[i]:
                log_l[i] = _log_density(i, g_cheap, g_inv_s, g_best, XL, XH, discrete, g_mus)
                has_log_l[i] = True
            if best >= 0 and log_l[i] - lower_g[i] < best_acq:
                continue  # the bound with log l exact
            if not has_log_g[i]:
                log_g[i] = _log_density(i, cheap, inv_s, j_best, XL, XH, discrete, b_mus)
                has_log_g[i] = True
            acq_i = log_l[i] - log_g[i]
            if np.isnan(acq_i):  # NaN counts as the maximum: the first NaN in index order
                if not np.isnan(best_acq) or i < best:
                    best, best_acq = i, acq_i
                continue
            if best >= 0 and np.isnan(best_acq):
                continue
            if best < 0 or acq_i > best_acq or (acq_i == best_acq and i < best):
                best, best_acq = i, acq_i
        # No break happens before a candidate is kept, so best < 0 means every candidate
        # was visited and is evaluated: then the plain argmax.
        out = np.empty((2, S.shape[1]))
        if use_skip:
            use_skip = False
            if best >= 0:
                chosen = best
                if not want_plain:
                    out[0] = S[best]
                    out[1] = S[best]
                    return out
            continue  # the plain argmax, from the values kept so far
        out[0] = S[chosen if chosen >= 0 else best]
        out[1] = S[best]
        return out


@_jit
def _is_evaluated(S, i, dn, grid_low, step, skip_keys, key_strides, X, cols, skip_rows):  # type: ignore[no-untyped-def]
    """Whether candidate S[i] (on the grid) is an evaluated configuration: its key is in
    skip_keys (sorted; keys wrap modulo 2^64 in uint64 arithmetic), or a row of skip_rows
    has its grid indices (rint((v - grid_low) / step); a NaN equals nothing)."""
    width = S.shape[1]
    if skip_keys.shape[0] > 0:
        key = np.uint64(0)
        for d in range(dn):
            key += np.uint64(np.rint((S[i, d] - grid_low[d]) / step[d])) * key_strides[d]
        for q in range(width - dn):
            key += np.uint64(S[i, dn + q]) * key_strides[dn + q]
        j = np.searchsorted(skip_keys, key)
        if j < skip_keys.shape[0] and skip_keys[j] == key:
            return True
    if skip_rows.shape[0] > 0:
        index = np.empty(width)
        for d in range(dn):
            index[d] = np.rint((S[i, d] - grid_low[d]) / step[d])
        for q in range(dn, width):
            index[q] = S[i, q]
        for r in skip_rows:
            same = True
            for d in range(width):  # most rows differ in the first dimension
                v = X[r, cols[d]]
                if d < dn:
                    # More than 1.5 steps from the candidate: another grid index (as
                    # csrc/tpe.cpp; no division for most rows). NaN fails.
                    if not abs(v - S[i, d]) <= 1.5 * step[d]:
                        same = False
                        break
                    v = np.rint((v - grid_low[d]) / step[d])
                if v != index[d]:
                    same = False
                    break
            if same:
                return True
    return False


@_jit
def _tpe_estimator(T, C, w, low, high, sizes, offsets, prior_weight, consider_endpoints, magic_clip,  # type: ignore[no-untyped-def]
                   clip_count, step):
    """One group's Parzen estimator (observations plus the prior component), as
    _reference_tpe_propose.tpe_propose builds it."""
    m, dn = T.shape
    orders = np.empty((m, dn), dtype=np.intp)
    for d in range(dn):
        orders[:, d] = np.argsort(T[:, d], kind="mergesort")  # stable, as the reference
    mus = np.empty((m + 1, dn))
    sigmas = np.empty((m + 1, dn))
    mus[:m] = T
    if magic_clip and m > 0 and clip_count > m:
        # The floor of min(100, c + 2) kernels, c = clip_count in continuous dimensions.
        sig = _parzen_bandwidths(T, orders, low, high, consider_endpoints, False)
        for d in range(dn):
            width = high[d] - low[d]
            floor = width / min(100.0, (float(m) if step[d] > 0.0 else float(clip_count)) + 2.0)
            for i in range(m):
                sig[i, d] = min(max(sig[i, d], floor), width)
        sigmas[:m] = sig
    else:
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
                 cat_offsets, cat_sizes, prior_weight, consider_endpoints, magic_clip, skip_keys, key_strides,
                 skip_rows, want_plain, clip_count):
    """(candidates, bad): the choice and the plain argmax (_tpe_best_candidate); bad is
    NaN, or the first categorical value that is no index (then no candidates)."""
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
                return np.empty((0, 0)), c
            C[i, q] = c
    g_mus, g_sigmas, g_w, g_p = _tpe_estimator(T[:n_below], C[:n_below], weights[:n_below], low, high,
                                               cat_sizes, cat_offsets, prior_weight, consider_endpoints,
                                               magic_clip, clip_count, step)
    b_mus, b_sigmas, b_w, b_p = _tpe_estimator(T[n_below:], C[n_below:], weights[n_below:], low, high,
                                               cat_sizes, cat_offsets, prior_weight, consider_endpoints,
                                               magic_clip, clip_count, step)
    out = _tpe_best_candidate(np.ascontiguousarray(u[:, 0]), np.ascontiguousarray(u[:, 1 : 1 + dn]),
                              np.ascontiguousarray(u[:, 1 + dn :]), g_mus, g_sigmas, g_w, g_p, b_mus, b_sigmas,
                              b_w, b_p, low, high, is_log, step, grid_low, grid_high, cat_offsets, cat_sizes,
                              skip_keys, key_strides, X, cols, skip_rows, want_plain)
    return out, bad


# --- public wrappers: convert once, then call the compiled code --------------------

_NO_KEYS = np.empty(0, dtype=np.uint64)
_NO_ROWS = np.empty(0, dtype=np.intp)
_NO_X = np.empty((0, 0))


def _keys(skip_keys: np.ndarray | None, key_strides: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``tpe_propose``'s skip keys and strides as contiguous uint64 (empty: none)."""
    if skip_keys is None or len(skip_keys) == 0 or key_strides is None:
        return _NO_KEYS, _NO_KEYS
    return np.ascontiguousarray(skip_keys, dtype=np.uint64), np.ascontiguousarray(key_strides, dtype=np.uint64)


def _rows(name: str, rows: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``rows`` as contiguous intp, each a row of ``X`` (the reference's check)."""
    return np.ascontiguousarray(_check_rows(name, rows, X))


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
        _NO_KEYS, _NO_KEYS, _NO_X, _NO_ROWS, _NO_ROWS, False,
    )[0].copy()


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
    skip_rows: np.ndarray | None = None,
    plain_out: np.ndarray | None = None,
    clip_count: int = 0,
) -> np.ndarray:
    """TPE's whole proposal from the history's columns, in one call.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_propose`;
    ``X`` is read in place (any layout), everything else runs in one compiled call.
    """
    X = np.asarray(X, dtype=np.float64)
    given_rows, rows = rows, _rows("rows", rows, X)
    cols = np.ascontiguousarray(cols, dtype=np.intp)
    if skip_rows is None:
        skip_rows = _NO_ROWS
    else:  # TPESampler's usual skip_rows: rows itself, checked once
        skip_rows = rows if skip_rows is given_rows else _rows("skip_rows", skip_rows, X)
    keys, strides = _keys(skip_keys, key_strides)
    if len(keys) or len(skip_rows):
        _check_skip_step(step)
    if len(cols) and (cols.min() < 0 or cols.max() >= X.shape[1]):
        raise ValueError(f"`cols` must index columns of `X` ({X.shape[1]}), but got {cols.min()}..{cols.max()}.")
    out, bad = _tpe_propose(
        X, rows, int(n_below), cols, _f64(weights), _f64(u), _f64(low), _f64(high),
        np.ascontiguousarray(is_log, dtype=np.bool_), _f64(step), _f64(grid_low), _f64(grid_high),
        np.ascontiguousarray(cat_offsets, dtype=np.intp), np.ascontiguousarray(cat_sizes, dtype=np.intp),
        float(prior_weight), bool(consider_endpoints), bool(magic_clip),
        keys, strides, skip_rows, plain_out is not None, int(clip_count),
    )
    if not np.isnan(bad) or out.shape[0] == 0:
        raise ValueError(f"`X` must hold category indices in [0, size) in its categorical columns, but got {bad!r}.")
    if plain_out is not None:
        plain_out[:] = out[1]
    return out[0].copy()  # type: ignore[no-any-return]
