"""NumPy reference: TPE's product mixtures, Parzen estimator and proposal.

Notation (in addition to ``_reference_truncnorm``'s):
    dn, dc       numbers of numeric and categorical dimensions.
    mus, sigmas  (k, dn) per-(component, dimension) means and standard deviations, in
                 the transformed space (log space for log parameters).
    low, high    (dn,) truncation bounds of each numeric dimension (finite).
    X_low, X_high (n, dn): for a continuous dimension both hold the point x; for a
                 discrete one they are the bin edges [x - step/2, x + step/2]
                 (transformed), and the kernel integrates over the bin.
    C            (n, dc) category indices (as float64).
    cat_log_probs (k, sum c) log probabilities, dimension t in columns
                 [cat_offsets[t], cat_offsets[t] + c_t).

Component j's density is the product over dimensions of its truncated normals (or bin
masses) and categorical probabilities; the mixture is weighted by w.

The truncated normals use the log-space helpers of ``_reference_truncnorm``. All kernels
are pure and trust their input; inputs are converted to C-contiguous float64.
"""

from __future__ import annotations

import numpy as np

from hpo_core.kernels._reference_grid import tpe_grid_keys
from hpo_core.kernels._reference_truncnorm import (
    _LOG_SQRT_2PI,
    _f64,
    _log_gauss_mass,
    _logsumexp_rows,
    _ppf_std_truncnorm,
    _row_blocks,
)

__all__ = [
    "categorical_kernel_table",
    "log_pdf_product_mixture",
    "parzen_bandwidths",
    "sample_product_mixture",
    "tpe_best_candidate",
    "tpe_grid_keys",
    "tpe_propose",
]


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
    the standardised ``[low[d], high[d]]``, inverted by ``_ppf_std_truncnorm``) and
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


# --- TPE's Parzen estimator and proposal --------------------------------------------


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
        (n, dn) bandwidths, > 0. Ties in T are broken by position (stable order), where
        Optuna uses NumPy's default (unstable) argsort: the same bandwidths, possibly given
        to the tied observations in another order (``hpo_core/samplers/tpe/_parzen.py``).
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
    kernel. With n == 0 the table is the uniform row alone. ``prior_weight == 0`` (no
    prior) makes the observation rows one-hot; the prior row stays uniform (Optuna's is
    zero there, which only matters where the prior's mixture weight, 0 then, does not).

    Args:
        C: (n, dc) observed category indices (float64 integers in [0, sizes[t])).
        sizes: (dc,) intp category counts; offsets: (dc,) intp first column of each.
        prior_weight: >= 0.

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
    P[:n] /= np.repeat(fill * sizes + 1.0, sizes)  # an observation row's block sums to fill * c + 1
    P[n] = np.repeat(1.0 / sizes, sizes)  # the prior row (fill / (fill * c) but for rounding)
    return P


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
    ones) and returns the first candidate maximising the difference (NumPy's argmax: a
    NaN counts as the maximum; +inf where g is 0, e.g. without a prior).

    Args:
        u_component, U, UC: (n,), (n, dn), (n, dc) uniforms as in
            :func:`sample_product_mixture`; n >= 1.
        good: ``(mus, sigmas, weights, cat_probs)`` of l: (k, dn), (k, dn), (k,) normalised,
            (k, sum c) with every block row summing to 1 (zeros allowed, as the weights).
        bad: the same for g (k' components).
        low, high: (dn,) transformed bounds; is_log: (dn,) bool; step: (dn,) (0: continuous).
        grid_low, grid_high: (dn,) parameter bounds; cat_offsets, cat_sizes: (dc,) intp.

    Returns:
        (dn + dc,) the chosen candidate: numeric parameter values, then category indices.
    """
    S, acq = _tpe_scored_candidates(u_component, U, UC, good, bad, low, high, is_log, step, grid_low,
                                    grid_high, cat_offsets, cat_sizes)
    return S[int(np.argmax(acq))].copy()


def _tpe_scored_candidates(
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
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates of :func:`tpe_best_candidate` (n, dn + dc) and their ``log l - log g``
    (n,). Arguments as :func:`tpe_best_candidate`."""
    is_log = np.asarray(is_log, dtype=np.bool_)
    step = _f64(step)
    dn = len(low)
    S = _tpe_candidates(u_component, U, UC, good, low, high, is_log, step, grid_low, grid_high, cat_offsets,
                        cat_sizes)
    V = S[:, :dn]
    discrete = step > 0
    half = 0.5 * step
    XL, XH = V - half, V + half
    XL[:, is_log], XH[:, is_log] = np.log(XL[:, is_log]), np.log(XH[:, is_log])
    C = S[:, dn:]
    with np.errstate(divide="ignore", invalid="ignore"):  # zero weights and probabilities (no prior)
        acq = (
            log_pdf_product_mixture(XL, XH, discrete, C, good[0], good[1], np.log(good[2]), low, high,
                                    np.log(good[3]), cat_offsets)
            - log_pdf_product_mixture(XL, XH, discrete, C, bad[0], bad[1], np.log(bad[2]), low, high,
                                      np.log(bad[3]), cat_offsets)
        )
    return S, acq


def _tpe_candidates(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    good: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """The candidates :func:`tpe_best_candidate` chooses from, as parameter values.

    Draws from ``good`` (:func:`sample_product_mixture`), then ``exp`` where ``is_log``,
    ``grid_low + round((v - grid_low) / step) * step`` where ``step > 0`` (NumPy's round:
    half to even) and a clip to ``[grid_low, grid_high]``, as Optuna's
    ``_MixtureOfProductDistribution.sample``. Arguments as :func:`tpe_best_candidate`.

    Returns:
        (n, dn + dc): numeric parameter values, then category indices (float64).
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
    return S


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
    skip_keys: np.ndarray | None = None,
    key_strides: np.ndarray | None = None,
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
        prior_weight, consider_endpoints, magic_clip: the estimator's options (>= 0 /
            :func:`parzen_bandwidths`).
        skip_keys: (m,) uint64 grid keys (:func:`tpe_grid_keys`) of configurations to pass
            over, sorted ascending; only for all-discrete spaces (every ``step > 0``).
            The result is then the best candidate whose key is not among them (first
            maximum, NaN the maximum, as ``numpy.argmax`` over those), or the plain
            argmax when every candidate's key is. None or empty: the plain argmax.
        key_strides: (dn + dc,) uint64 strides of the keys; needed with ``skip_keys``.

    Returns:
        (dn + dc,) the chosen candidate: numeric parameter values, then category indices.
    """
    low, high, u, weights = _f64(low), _f64(high), _f64(u), _f64(weights)
    dn = len(low)
    sizes = np.asarray(cat_sizes, dtype=np.intp)
    offsets = np.asarray(cat_offsets, dtype=np.intp)
    T, C = _tpe_gather(X, rows, cols, is_log, low, high, sizes)
    good, bad = (
        _tpe_estimator(T[part], C[part], weights[part], low, high, sizes, offsets, prior_weight,
                       consider_endpoints, magic_clip)
        for part in (slice(0, n_below), slice(n_below, len(T)))
    )
    if skip_keys is not None and len(skip_keys) and key_strides is not None:
        S, acq = _tpe_scored_candidates(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], good, bad, low, high,
                                        is_log, step, grid_low, grid_high, offsets, sizes)
        skip = np.isin(tpe_grid_keys(S, grid_low, step, key_strides), np.asarray(skip_keys, dtype=np.uint64))
        keep = np.flatnonzero(~skip) if not skip.all() else np.arange(len(S))
        return S[keep[int(np.argmax(acq[keep]))]].copy()
    return tpe_best_candidate(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], good, bad, low, high,
                              is_log, step, grid_low, grid_high, offsets, sizes)


def _tpe_estimator(
    T: np.ndarray,
    C: np.ndarray,
    weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_sizes: np.ndarray,
    cat_offsets: np.ndarray,
    prior_weight: float,
    consider_endpoints: bool,
    magic_clip: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One group's Parzen estimator, as :func:`tpe_propose` builds it (Optuna 5's
    ``_ParzenEstimator``).

    Args:
        T: (m, dn) transformed numeric observations inside [low, high]; C: (m, dc)
            category indices; weights: (m,) non-negative, positive sum when m > 0.
        low, high, cat_sizes, cat_offsets, prior_weight, consider_endpoints, magic_clip:
            as :func:`tpe_propose`.

    Returns:
        ``(mus, sigmas, weights, cat_probs)`` of the m + 1 components (the last is the
        prior: mean ``(low + high) / 2``, sigma ``high - low``, weight ``prior_weight``,
        or 1 when m == 0), weights normalised.
    """
    low, high = _f64(low), _f64(high)
    m = len(T)
    mus = np.concatenate((T, (0.5 * (low + high))[None]))
    sigmas = np.concatenate((parzen_bandwidths(T, low, high, consider_endpoints, magic_clip), (high - low)[None]))
    w = np.append(_f64(weights), prior_weight if m else 1.0)
    return mus, sigmas, w / w.sum(), categorical_kernel_table(C, cat_sizes, cat_offsets, prior_weight)
