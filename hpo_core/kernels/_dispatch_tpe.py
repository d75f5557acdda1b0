"""Dispatchers of TPE's kernels: the product-kernel mixture (density and draws), Parzen
bandwidths, categorical kernels, the best candidate, the whole proposal and its grid keys.

References: ``hpo_core.kernels._reference_tpe``, ``_reference_tpe_propose`` (and
``_reference_grid`` for the keys).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hpo_core._validation import format_error
from hpo_core.kernels._backends import _kernel_module

# The compiled kernels index arrays without bounds checks, so the module-level functions
# check the index-like arguments a caller could get wrong (cheap O(n) tests) before a
# bad value reads out of bounds in Numba.


def _check_categories(C: np.ndarray, offsets: np.ndarray, limits: np.ndarray) -> None:
    """0 <= C[:, t] and offsets[t] + C[:, t] < limits[t] for every categorical column t."""
    C, offsets = np.asarray(C, dtype=np.float64), np.asarray(offsets)
    if C.ndim != 2 or offsets.shape != (C.shape[1],):
        raise ValueError(format_error("C, offsets", "arrays of shapes (n, dc) and (dc,)",
                                      f"shapes {C.shape} and {offsets.shape}"))
    if C.size and ((C < 0).any() or (C + offsets >= limits).any() or (C != np.floor(C)).any()):
        raise ValueError(format_error("C", "category indices in [0, size of their column)", C))


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
    """Log density of a mixture of product kernels over numeric and categorical dimensions."""
    _check_categories(C, cat_offsets, np.asarray(cat_log_probs).shape[-1])
    return _kernel_module("log_pdf_product_mixture").log_pdf_product_mixture(  # type: ignore[no-any-return]
        X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high, cat_log_probs, cat_offsets
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
    """Draw from a mixture of product kernels by inverse CDFs of pre-drawn uniforms."""
    if len(mus) < 1 or len(weights) != len(mus):
        raise ValueError(format_error("weights", f"one weight per component of `mus` (at least one), {len(mus)}",
                                      f"{len(weights)} weights"))
    return _kernel_module("sample_product_mixture").sample_product_mixture(  # type: ignore[no-any-return]
        u_component, U, UC, mus, sigmas, weights, low, high, cat_probs, cat_offsets, cat_sizes
    )


def parzen_bandwidths(
    T: np.ndarray, low: np.ndarray, high: np.ndarray, consider_endpoints: bool, magic_clip: bool
) -> np.ndarray:
    """Neighbour-distance bandwidths of TPE's Parzen estimator, every dimension at once."""
    return _kernel_module("parzen_bandwidths").parzen_bandwidths(  # type: ignore[no-any-return]
        T, low, high, consider_endpoints, magic_clip
    )


def categorical_kernel_table(
    C: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, prior_weight: float
) -> np.ndarray:
    """Category probabilities of TPE's categorical kernels plus a uniform prior row."""
    _check_categories(C, np.zeros(len(sizes), dtype=np.int64), np.asarray(sizes))
    return _kernel_module("categorical_kernel_table").categorical_kernel_table(  # type: ignore[no-any-return]
        C, sizes, offsets, prior_weight
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
    """TPE's proposal: the candidate drawn from ``good`` with the largest ``log l - log g``."""
    return _kernel_module("tpe_best_candidate").tpe_best_candidate(  # type: ignore[no-any-return]
        u_component, U, UC, good, bad, low, high, is_log, step, grid_low, grid_high, cat_offsets, cat_sizes
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
    skip_rows: np.ndarray | None = None,
    plain_out: np.ndarray | None = None,
    clip_count: int = 0,
) -> np.ndarray:
    """TPE's whole proposal from the history's columns, in one call.

    ``clip_count``: with ``magic_clip``, the bandwidth floor of both groups in the
    continuous dimensions counts ``max(group size, clip_count)`` observations (0: each
    group's own, Optuna 5's; ``TPESampler(magic_clip_count="geometric")`` passes
    ``floor(sqrt(n_below * len(rows)))``).
    With ``skip_keys`` (sorted uint64 grid keys, :func:`tpe_grid_keys`) and/or
    ``skip_rows`` (rows of ``X``, e.g. ``rows`` itself): the best candidate that is none
    of those configurations (the plain argmax when all are). ``plain_out``: a writable
    (dn + dc,) float64 array that receives the plain argmax (the result without skipping).
    """
    # The compiled kernels index without bounds checks: every shape is checked here (the
    # backends check rows, columns and category indices against X themselves).
    # Shapes read as attributes where the arguments are arrays (TPESampler's: this runs on
    # every ask, where a dozen np.shape calls cost about 10 µs), np.shape otherwise.
    dn, dc, n_rows = _shape(low)[0], _shape(cat_offsets)[0], _shape(rows)[0]
    shape_u = _shape(u)
    if len(shape_u) != 2 or shape_u[0] < 1 or shape_u[1] != 1 + dn + dc:
        raise ValueError(format_error("u", f"an array of shape (n_candidates >= 1, {1 + dn + dc})",
                                      f"shape {shape_u}"))
    if not 0 <= int(n_below) <= n_rows:
        raise ValueError(format_error("n_below", f"an int in [0, {n_rows}] (the number of rows)", n_below))
    for name, arr, want in (("weights", weights, n_rows), ("cols", cols, dn + dc), ("high", high, dn),
                            ("is_log", is_log, dn), ("step", step, dn), ("grid_low", grid_low, dn),
                            ("grid_high", grid_high, dn), ("cat_sizes", cat_sizes, dc)):
        if _shape(arr) != (want,):
            raise ValueError(format_error(name, f"an array of shape ({want},)", f"shape {np.shape(arr)}"))
    if plain_out is not None and not (
        isinstance(plain_out, np.ndarray) and plain_out.shape == (dn + dc,) and plain_out.dtype == np.float64
        and plain_out.flags.c_contiguous and plain_out.flags.writeable
    ):
        raise ValueError(format_error("plain_out", f"a writable contiguous float64 array of shape ({dn + dc},)",
                                      f"{type(plain_out).__name__} {getattr(plain_out, 'shape', '')}"))
    if clip_count:  # 0 (an int or False): the usual call, nothing to check
        if isinstance(clip_count, bool) or not isinstance(clip_count, (int, np.integer)) or clip_count < 0:
            raise ValueError(format_error("clip_count", "an int >= 0", clip_count))
        extra: dict[str, Any] = {"clip_count": int(clip_count)}
    else:
        extra = {}
    has_keys = skip_keys is not None and len(skip_keys) > 0
    if has_keys or skip_rows is not None:
        if skip_keys is not None and has_keys:
            _check_skip_keys(skip_keys, key_strides, dn + dc)
        else:
            skip_keys = key_strides = None
        if skip_rows is not None and skip_rows is not rows:  # rows itself: checked as rows
            _check_skip_rows(skip_rows)
        # That every step is > 0 (skipping compares grid indices) each backend checks: the
        # C++ one at no cost on the default path.
        return _kernel_module("tpe_propose").tpe_propose(  # type: ignore[no-any-return]
            X, rows, n_below, cols, weights, u, low, high, is_log, step, grid_low, grid_high, cat_offsets,
            cat_sizes, prior_weight, consider_endpoints, magic_clip, skip_keys, key_strides, skip_rows,
            **({} if plain_out is None else {"plain_out": plain_out}), **extra,
        )
    return _kernel_module("tpe_propose").tpe_propose(  # type: ignore[no-any-return]
        X, rows, n_below, cols, weights, u, low, high, is_log, step, grid_low, grid_high, cat_offsets,
        cat_sizes, prior_weight, consider_endpoints, magic_clip,
        **({} if plain_out is None else {"plain_out": plain_out}), **extra,
    )


def _shape(a: Any) -> tuple[int, ...]:
    return a.shape if isinstance(a, np.ndarray) else np.shape(a)


def _check_skip_keys(skip_keys: np.ndarray, key_strides: np.ndarray | None, d: int) -> None:
    """``tpe_propose``'s keys: a 1-d uint64 array, strides (d,) uint64. That the keys are
    sorted is the caller's promise (not checked: O(m) per call; unsorted keys make the
    binary search miss some, never read out of bounds). Attribute tests and Python scalars
    only (as in the check below): TPESampler skips on every ask of a grid, where a few
    NumPy calls would cost more than the rest of this dispatch."""
    if not isinstance(skip_keys, np.ndarray) or skip_keys.ndim != 1 or skip_keys.dtype != np.uint64:
        raise ValueError(format_error("skip_keys", "a 1-d uint64 array", f"{np.asarray(skip_keys).dtype} "
                                      f"of shape {np.shape(skip_keys)}"))
    if not isinstance(key_strides, np.ndarray) or key_strides.shape != (d,) or key_strides.dtype != np.uint64:
        got = None if key_strides is None else f"{np.asarray(key_strides).dtype} of shape {np.shape(key_strides)}"
        raise ValueError(format_error("key_strides", f"a uint64 array of shape ({d},) with skip_keys", got))


def _check_skip_rows(skip_rows: np.ndarray) -> None:
    """``tpe_propose``'s skip_rows: a 1-d integer array (each backend checks that they are
    rows of ``X``, as it does ``rows``)."""
    if not isinstance(skip_rows, np.ndarray) or skip_rows.ndim != 1 or skip_rows.dtype.kind not in "iu":
        raise ValueError(format_error("skip_rows", "a 1-d integer array of rows of X",
                                      f"{np.asarray(skip_rows).dtype} of shape {np.shape(skip_rows)}"))


def tpe_grid_keys(S: np.ndarray, grid_low: np.ndarray, step: np.ndarray, key_strides: np.ndarray) -> np.ndarray:
    """Grid keys (uint64) of configurations of an all-discrete space, as ``tpe_propose`` skips them."""
    # Vectorised NumPy in every backend: the reference directly (``_reference_grid``
    # imports NumPy alone), never a search of the optional backends, which lack it.
    from hpo_core.kernels import _reference_grid

    return _reference_grid.tpe_grid_keys(S, grid_low, step, key_strides)
