"""NumPy reference: TPE's product mixtures and the parts of its Parzen estimator.

The proposal built from them (candidates, their ``log l - log g``, the observations
gathered from the history's columns) is in ``_reference_tpe_propose.py``.

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
