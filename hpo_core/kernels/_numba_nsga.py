"""Numba backend: NSGA-II's crowding distance (see ``_reference_nsga.py`` for the spec)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["crowding_distance"]


@njit(cache=True, nogil=True)
def _crowding_distance(values):  # type: ignore[no-untyped-def]
    n, m = values.shape
    dist = np.zeros(n)
    if n == 0:
        return dist
    order = np.arange(n)
    v = np.empty(n)
    for i in range(m):
        for k in range(n):
            v[k] = values[order[k], i]
        perm = np.argsort(v, kind="mergesort")  # stable
        order = order[perm]
        for k in range(n):
            v[k] = values[order[k], i]
        if v[0] == v[n - 1]:
            continue
        # Smallest value above -inf and largest below +inf (the sentinels included).
        lo = math.inf
        for k in range(n):
            if v[k] != -math.inf:
                lo = v[k]
                break
        hi = -math.inf
        for k in range(n - 1, -1, -1):
            if v[k] != math.inf:
                hi = v[k]
                break
        width = hi - lo
        if not width > 0.0:
            width = 1.0
        for k in range(n):
            prev = v[k - 1] if k > 0 else -math.inf
            nxt = v[k + 1] if k < n - 1 else math.inf
            gap = 0.0 if prev == nxt else nxt - prev
            dist[order[k]] += gap / width
    return dist


def crowding_distance(values: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each point (Deb et al. 2002, Sec. III-B).

    Arguments, shapes and tie order as :func:`hpo_core.kernels._reference.crowding_distance`.
    """
    return _crowding_distance(np.ascontiguousarray(values, dtype=np.float64))  # type: ignore[no-any-return]
