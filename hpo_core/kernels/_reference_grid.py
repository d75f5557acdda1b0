"""NumPy reference: grid keys of configurations of an all-discrete space.

Kept apart from ``_reference_tpe`` (which imports SciPy) because TPESampler computes the
keys of evaluated configurations with it on every backend: NumPy alone, vectorised.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tpe_grid_keys"]


def tpe_grid_keys(S: np.ndarray, grid_low: np.ndarray, step: np.ndarray, key_strides: np.ndarray) -> np.ndarray:
    """Grid keys of configurations of an all-discrete space, as :func:`tpe_propose` skips them.

    ``key = sum_d index_d * key_strides[d]`` modulo 2^64, where ``index_d`` is the grid
    index ``rint((v_d - grid_low_d) / step_d)`` of a numeric value and the category index
    of a categorical one. With mixed-radix strides (``key_strides[d]`` the product of the
    earlier dimensions' grid sizes) the key is exact while that product fits in 2^64;
    other strides make it a hash.

    Args:
        S: (n, dn + dc) numeric parameter values on the grid (inside it), then category
            indices; no NaN.
        grid_low, step: (dn,) the grid (every step > 0); key_strides: (dn + dc,) uint64.

    Returns:
        (n,) uint64 keys.
    """
    S = np.asarray(S, dtype=np.float64)
    dn = len(grid_low)
    index = np.empty(S.shape, dtype=np.uint64)
    index[:, :dn] = np.rint((S[:, :dn] - np.asarray(grid_low, dtype=np.float64)) / np.asarray(step, dtype=np.float64))
    index[:, dn:] = S[:, dn:]
    return (index * np.asarray(key_strides, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)  # wraps modulo 2^64
