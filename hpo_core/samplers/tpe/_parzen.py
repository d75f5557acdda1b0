"""TPE's per-space arrays and the resampling of large bad groups.

Notation:
    d            parameters of the (joint) search space; dn numeric, dc categorical.
    n            observations of one group (good or bad); k = n + 1 components (the
                 last one is the prior).
    T            (n, dn) observations in the *transformed* space: log space for log
                 parameters, the value itself otherwise.
    lo, hi       (dn,) bounds of the transformed space (``SearchSpace.lo / hi``): for
                 stepped and int parameters they are widened by step/2 so that every grid
                 point owns a bin [x - step/2, x + step/2] (log-transformed for log ints).

Estimator (Optuna 5's, see ``optuna/samplers/_tpe/parzen_estimator.py``): one kernel per
observation plus a prior kernel (mean (lo + hi)/2, sigma hi - lo, weight
``prior_weight``); numeric bandwidths are the larger distance to the neighbouring
observation in each dimension (the bounds count as neighbours when
``consider_endpoints``), clipped to ``[(hi - lo) / min(100, k + 1), hi - lo]`` ("magic
clip"). A categorical kernel puts ``1 + prior_weight / k`` on the observed category and
``prior_weight / k`` elsewhere, normalised; the prior row is uniform. ``prior_weight = 0``
leaves the prior out (weight 0), as in Optuna 5, which dropped ``consider_prior``.
``tests/samplers/test_tpe_optuna_parity.py`` pins the densities, the good/bad split and the
proposal to Optuna 5.0's on the same observations, for every backend.

One deliberate difference: **tied observations.** Where several observations share a value
in a dimension (usual on integer and stepped grids), they share the bandwidths of that run
of the sorted column: the first takes the gap to the value below, the last the gap to the
value above, the ones between the magic-clip floor (the gaps between them are 0). We give
them out in trial order (a stable sort, in every backend); Optuna sorts with NumPy's default
``argsort``, which is not stable, so its order among tied observations depends on NumPy's
version and the CPU's sort kernels (with NumPy 2.4 on an AVX2 machine, ``argsort`` of
``[10, 1, 10, 10, 2]`` puts the second 10 first). The bandwidths are the same multiset, so a
single parameter with equal weights gets the same mixture; in joint or weighted mixtures the
tied observations' kernels differ, and so does the distribution of the proposals. Measured
(``benchmarks/tpe_ties.py``; ``benchmarks/README.md``, "TPE on discrete spaces: parity with
Optuna 5.0"): Optuna's TPE with a stable argsort against Optuna's as it is, on the 12
discrete-suite problems x 60 seeds, won 185, tied 355, lost 180 runs at 50 trials and 151 /
412 / 157 at 100, so the deterministic, platform-independent order is kept.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hpo_core.distributions import KIND_CATEGORICAL, SearchSpace

__all__ = ["SpaceArrays", "space_arrays", "systematic_resample", "systematic_resample_ramp"]


class SpaceArrays(NamedTuple):
    """Per-space constants, computed once per search space (the arguments of
    ``kernels.tpe_propose`` that depend on the space alone)."""

    num: np.ndarray  # (dn,) intp, positions of the numeric parameters in the space
    cat: np.ndarray  # (dc,) intp, positions of the categorical parameters
    lo: np.ndarray  # (dn,) transformed bounds
    hi: np.ndarray
    is_log: np.ndarray  # (dn,) bool
    step: np.ndarray  # (dn,) 0.0 where continuous
    low: np.ndarray  # (dn,) internal bounds (for snapping)
    high: np.ndarray
    cat_sizes: np.ndarray  # (dc,) intp
    cat_offsets: np.ndarray  # (dc,) intp
    order: np.ndarray  # (d,) intp, space positions in the order of ``num`` then ``cat``


def space_arrays(space: SearchSpace) -> SpaceArrays:
    """The arrays TPE needs for ``space``."""
    cat_mask = space.kinds == KIND_CATEGORICAL
    num = np.flatnonzero(~cat_mask)
    cat = np.flatnonzero(cat_mask)
    sizes = space.n_choices[cat].astype(np.intp)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp) if len(cat) else np.empty(0, np.intp)
    return SpaceArrays(
        num, cat, space.lo[num].copy(), space.hi[num].copy(), space.is_log[num].copy(), space.step[num].copy(),
        space.low[num].copy(), space.high[num].copy(), sizes, offsets, np.concatenate((num, cat)),
    )


def systematic_resample(weights: np.ndarray, size: int, u: float) -> np.ndarray:
    """Indices of ``size`` draws by systematic resampling (Kitagawa 1996): draw i takes the
    observation whose cumulative weight passes ``(i + u) / size``. Each observation is
    drawn ``size * w_i / sum(w)`` times in expectation, so a uniform mixture of the drawn
    kernels is an unbiased estimate of the weighted mixture."""
    cum = np.cumsum(weights)
    points = (np.arange(size) + u) * (cum[-1] / size)
    return np.minimum(np.searchsorted(cum, points, side="right"), len(weights) - 1)


def systematic_resample_ramp(n: int, n_flat: int, size: int, u: float) -> np.ndarray:
    """:func:`systematic_resample` of the recency weights of ``n`` observations without
    building them: weight ``1/n + j (1 - 1/n) / (m - 1)`` for ``j < m = n - n_flat`` (a
    linear ramp up to 1; ``1/n`` alone when m = 1) and 1 for the last ``n_flat``, as
    ``TPESampler``'s default weights. O(size) instead of O(n).

    The cumulative weight of the first i observations is the quadratic
    ``C(i) = i/n + delta i (i - 1) / 2`` on the ramp (then + 1 per flat observation),
    inverted in closed form; draw k takes the largest i with ``C(i) <= (k + u) C(n) / size``
    (the index of the first cumulative sum above the point, as ``searchsorted`` there).
    Equal to :func:`systematic_resample` on the explicit weights up to the rounding of the
    running sums: a point within ~1e-12 (relative) of a boundary may take the neighbour.
    Assumes ``n >= 1``, ``0 <= n_flat``, ``size >= 1``, ``0 <= u < 1``.
    """
    m = max(n - n_flat, 0)
    start = 1.0 / n
    delta = (1.0 - start) / (m - 1) if m > 1 else 0.0
    if m == 0:
        start = 1.0  # every weight is 1

    def cum(i: np.ndarray) -> np.ndarray:  # C(i) for 0 <= i <= m
        return i * start + (0.5 * delta) * i * (i - 1)

    c_m = m * start + (0.5 * delta) * m * (m - 1)  # C(m), as cum() computes it
    points = (np.arange(size) + u) * ((c_m + (n - m)) / size)
    if delta > 0.0:
        # delta/2 i^2 + (start - delta/2) i - p = 0, positive root.
        b = start - 0.5 * delta
        i = np.floor((np.sqrt(b * b + 2.0 * delta * points) - b) / delta)
    else:
        i = np.floor(points / start)
    np.clip(i, 0.0, float(m), out=i)
    i += cum(np.minimum(i + 1.0, m)) <= points  # the root's rounding: one step either way
    i -= cum(i) > points
    np.minimum(i, float(m), out=i)
    flat = points >= c_m
    i[flat] = m + np.floor(points[flat] - c_m)
    return np.minimum(i.astype(np.intp), n - 1)
