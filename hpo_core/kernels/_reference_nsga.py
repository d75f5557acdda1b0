"""NumPy reference: NSGA-II's crowding distance.

Notation:
    n, m     numbers of points and of objectives; ``values: (n, m)``, NaN-free (an
             objective may be +-inf).
    order_i  the order of the points along objective i: by successive stable sorts on
             objectives 0, 1, ..., i starting from the input order, i.e. by
             ``(v_i, v_{i-1}, ..., v_0, index)`` lexicographically. Ties are thus broken
             as Optuna's NSGA-II breaks them (it sorts one list in place, objective after
             objective), so that equal points get the same distances as there.

The kernel is pure and trusts its input; it is converted to C-contiguous float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["crowding_distance"]


def crowding_distance(values: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each point (Deb et al. 2002, Sec. III-B).

    For each objective i whose values are not all equal, the points are taken in
    ``order_i`` with a -inf before the first and a +inf after the last; a point gains
    ``(next - prev) / width``, where ``next`` and ``prev`` are its neighbours in that order
    (a gap between equal values, inf - inf included, counts 0) and ``width`` is the
    largest minus the smallest finite value of the objective (1 when that is not
    positive). The extreme points of an objective therefore get +inf.

    Args:
        values: Objective values, shape (n, m), NaN-free (infinities allowed).

    Returns:
        Distances, float64, shape (n,): the sum over objectives; +inf at extremes.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    n, m = values.shape
    dist = np.zeros(n)
    if n == 0:
        return dist
    order = np.arange(n)
    for i in range(m):
        order = order[np.argsort(values[order, i], kind="stable")]
        v = values[order, i]
        if v[0] == v[-1]:
            continue  # every point equal in this objective: no information
        vs = np.concatenate(([-np.inf], v, [np.inf]))
        finite_low = vs[vs != -np.inf]
        finite_high = vs[vs != np.inf]
        width = finite_high[-1] - finite_low[0]
        if not width > 0:
            width = 1.0
        prev, nxt = vs[:-2], vs[2:]
        with np.errstate(invalid="ignore"):
            gap = np.where(prev == nxt, 0.0, nxt - prev)
        dist[order] += gap / width
    return dist
