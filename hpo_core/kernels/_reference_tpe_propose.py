"""NumPy reference: TPE's proposal from the history's columns.

:func:`tpe_propose` gathers the good and bad observations (:func:`_tpe_gather`), builds a
Parzen estimator of each (:func:`_tpe_estimator`) and returns the candidate drawn from the
good one with the largest ``log l - log g`` (:func:`tpe_best_candidate`), optionally
passing over configurations already evaluated (grid keys, :func:`tpe_grid_keys`).
Notation as ``_reference_tpe``, whose product-mixture and estimator kernels it calls.
All kernels are pure and trust their input.
"""

from __future__ import annotations

import numpy as np

from hpo_core.kernels._reference_grid import tpe_grid_keys
from hpo_core.kernels._reference_tpe import (
    categorical_kernel_table,
    log_pdf_product_mixture,
    parzen_bandwidths,
    sample_product_mixture,
)
from hpo_core.kernels._reference_truncnorm import _f64

__all__ = ["tpe_best_candidate", "tpe_grid_keys", "tpe_propose"]


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


def _check_rows(name: str, rows: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``rows`` as intp, each a row of ``X``, else ValueError naming ``name``."""
    rows = np.asarray(rows, dtype=np.intp)
    if len(rows) and (rows.min() < 0 or rows.max() >= np.shape(X)[0]):
        raise ValueError(f"`{name}` must index rows of `X` ({np.shape(X)[0]}), but got {rows.min()}..{rows.max()}.")
    return rows


def _check_skip_step(step: np.ndarray) -> None:
    """Every step > 0 (NaN fails too), as skipping compares grid indices, else ValueError."""
    steps = np.asarray(step, dtype=np.float64).tolist()
    if not all(map((0.0).__lt__, steps)):
        raise ValueError(f"`step` must be > 0 in every numeric dimension with skip_keys or skip_rows, but got "
                         f"{steps}.")


def _grid_indices(S: np.ndarray, grid_low: np.ndarray, step: np.ndarray) -> np.ndarray:
    """(n, dn + dc) grid indices of configurations: ``rint((v - grid_low) / step)`` of the
    numeric values (every step > 0), the categorical values as they are; NaN stays NaN,
    so a configuration with one equals none. Equal indices are what equal keys
    (:func:`tpe_grid_keys`) stand for."""
    S = np.array(S, dtype=np.float64)
    dn = len(grid_low)
    S[:, :dn] = np.rint((S[:, :dn] - _f64(grid_low)) / _f64(step))
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
    _check_rows("rows", rows, X)
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
    skip_rows: np.ndarray | None = None,
    plain_out: np.ndarray | None = None,
    clip_count: int = 0,
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
        skip_rows: (r,) intp rows of ``X`` whose configurations ``X[skip_rows, cols]`` are
            passed over too, compared by grid index (:func:`_grid_indices`; a row with a
            NaN or off the grid equals no candidate); only for all-discrete spaces. It
            may be ``rows`` itself: TPESampler passes the observations when they are
            every evaluated configuration, so that no keys are built for them.
        plain_out: a writable (dn + dc,) float64 array, or None. Given, it receives the
            plain argmax: the result without ``skip_keys`` and ``skip_rows`` (TPESampler
            records the evaluated configuration it passed over, ``samplers/tpe/_repeats``).
        clip_count: with ``magic_clip``, the count of observations that sets the clip's
            floor in the continuous dimensions (``step`` 0) of both groups where it exceeds
            the group's own: there the bandwidths, computed without the floor, are clipped
            to ``[(high - low) / min(100, c + 2), high - low]`` with ``c = max(m,
            clip_count)`` (m: the group's size). 0 (the default): each group's own count
            everywhere, as Optuna 5. ``TPESampler(magic_clip_count="geometric")`` passes
            ``floor(sqrt(n_below * len(rows)))``: the good group's kernels narrow as the
            study grows (the bad group's own count is the larger).

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
                       consider_endpoints, magic_clip, clip_count, step)
        for part in (slice(0, n_below), slice(n_below, len(T)))
    )
    has_keys = skip_keys is not None and len(skip_keys) > 0 and key_strides is not None
    has_rows = skip_rows is not None and len(skip_rows) > 0
    if has_keys or has_rows:
        _check_skip_step(step)
        S, acq = _tpe_scored_candidates(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], good, bad, low, high,
                                        is_log, step, grid_low, grid_high, offsets, sizes)
        skip = np.zeros(len(S), dtype=np.bool_)
        if skip_keys is not None and key_strides is not None and has_keys:
            skip |= np.isin(tpe_grid_keys(S, grid_low, step, key_strides), np.asarray(skip_keys, dtype=np.uint64))
        if skip_rows is not None and has_rows:
            R = np.asarray(X, dtype=np.float64)[_check_rows("skip_rows", skip_rows, X)[:, None], cols]
            same = _grid_indices(S, grid_low, step)[:, None, :] == _grid_indices(R, grid_low, step)[None]
            skip |= same.all(axis=2).any(axis=1)
        keep = np.flatnonzero(~skip) if not skip.all() else np.arange(len(S))
        if plain_out is not None:
            plain_out[:] = S[int(np.argmax(acq))]
        return S[keep[int(np.argmax(acq[keep]))]].copy()
    out = tpe_best_candidate(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], good, bad, low, high,
                             is_log, step, grid_low, grid_high, offsets, sizes)
    if plain_out is not None:
        plain_out[:] = out
    return out


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
    clip_count: int = 0,
    step: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One group's Parzen estimator, as :func:`tpe_propose` builds it (Optuna 5's
    ``_ParzenEstimator``; with ``clip_count``, a lower floor in continuous dimensions).

    Args:
        T: (m, dn) transformed numeric observations inside [low, high]; C: (m, dc)
            category indices; weights: (m,) non-negative, positive sum when m > 0.
        low, high, cat_sizes, cat_offsets, prior_weight, consider_endpoints, magic_clip,
            clip_count, step: as :func:`tpe_propose` (``step`` needed with ``clip_count``).

    Returns:
        ``(mus, sigmas, weights, cat_probs)`` of the m + 1 components (the last is the
        prior: mean ``(low + high) / 2``, sigma ``high - low``, weight ``prior_weight``,
        or 1 when m == 0), weights normalised.
    """
    low, high = _f64(low), _f64(high)
    m = len(T)
    mus = np.concatenate((T, (0.5 * (low + high))[None]))
    if magic_clip and m and clip_count > m:
        # The floor of min(100, c + 2) kernels, c = clip_count in continuous dimensions.
        width = high - low
        count = np.where(np.asarray(step, dtype=np.float64) > 0.0, float(m), float(clip_count))
        sig = np.clip(parzen_bandwidths(T, low, high, consider_endpoints, False),
                      width / np.minimum(100.0, count + 2.0), width)
    else:
        sig = parzen_bandwidths(T, low, high, consider_endpoints, magic_clip)
    sigmas = np.concatenate((sig, (high - low)[None]))
    w = np.append(_f64(weights), prior_weight if m else 1.0)
    return mus, sigmas, w / w.sum(), categorical_kernel_table(C, cat_sizes, cat_offsets, prior_weight)
