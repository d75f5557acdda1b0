"""Parzen estimators of TPE as arrays, and the acquisition over candidates.

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
``prior_weight / k`` elsewhere, normalised; the prior row is uniform.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hpo_core import kernels
from hpo_core.distributions import KIND_CATEGORICAL, SearchSpace

__all__ = [
    "SpaceArrays", "Parzen", "space_arrays", "build_parzen", "propose", "systematic_resample",
    "systematic_resample_ramp",
]


class SpaceArrays(NamedTuple):
    """Per-space constants, computed once per search space."""

    num: np.ndarray  # (dn,) intp, columns of numeric parameters in the space
    cat: np.ndarray  # (dc,) intp, columns of categorical parameters
    lo: np.ndarray  # (dn,) transformed bounds
    hi: np.ndarray
    is_log: np.ndarray  # (dn,) bool
    discrete: np.ndarray  # (dn,) bool: step > 0 (ints and stepped floats)
    step: np.ndarray  # (dn,) 0.0 where continuous
    low: np.ndarray  # (dn,) internal bounds (for snapping)
    high: np.ndarray
    cat_sizes: np.ndarray  # (dc,) intp
    cat_offsets: np.ndarray  # (dc,) intp
    any_log: bool
    any_discrete: bool
    prior_mu: np.ndarray  # (1, dn) (lo + hi) / 2: the prior kernel's row of ``mus``
    prior_sigma: np.ndarray  # (1, dn) hi - lo: its row of ``sigmas``
    log_pos: np.ndarray  # (n_log,) intp, positions of the log parameters among ``num``
    order: np.ndarray  # (d,) intp, space positions in the order of ``num`` then ``cat``


def space_arrays(space: SearchSpace) -> SpaceArrays:
    """The arrays TPE needs for ``space``."""
    cat_mask = space.kinds == KIND_CATEGORICAL
    num = np.flatnonzero(~cat_mask)
    cat = np.flatnonzero(cat_mask)
    sizes = space.n_choices[cat].astype(np.intp)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp) if len(cat) else np.empty(0, np.intp)
    lo, hi, is_log = space.lo[num].copy(), space.hi[num].copy(), space.is_log[num].copy()
    return SpaceArrays(
        num, cat, lo, hi, is_log,
        space.step[num] > 0, space.step[num].copy(), space.low[num].copy(), space.high[num].copy(),
        sizes, offsets, bool(is_log.any()), bool((space.step[num] > 0).any()),
        (0.5 * (lo + hi))[None], (hi - lo)[None], np.flatnonzero(is_log), np.concatenate((num, cat)),
    )


class Parzen(NamedTuple):
    """A mixture of product kernels (k components)."""

    mus: np.ndarray  # (k, dn)
    sigmas: np.ndarray  # (k, dn)
    weights: np.ndarray  # (k,) normalised
    cat_probs: np.ndarray  # (k, sum c)


def build_parzen(
    sa: SpaceArrays,
    T: np.ndarray,
    C: np.ndarray,
    weights: np.ndarray,
    *,
    prior_weight: float,
    consider_endpoints: bool,
    magic_clip: bool,
) -> Parzen:
    """The estimator of one group (a few array operations and two kernel calls).

    Args:
        sa: Space arrays.
        T: (n, dn) transformed numeric observations, inside [lo, hi].
        C: (n, dc) category indices.
        weights: (n,) non-negative observation weights (before the prior is added).
    """
    n = T.shape[0]
    mus = np.concatenate((T, sa.prior_mu))
    sig = np.concatenate(
        (kernels.parzen_bandwidths(T, sa.lo, sa.hi, consider_endpoints, magic_clip), sa.prior_sigma)
    )
    w = np.empty(n + 1)
    w[:n] = weights
    w[n] = prior_weight if n else 1.0
    w /= w.sum()
    P = kernels.categorical_kernel_table(C, sa.cat_sizes, sa.cat_offsets, prior_weight)
    return Parzen(mus, sig, w, P)


def propose(sa: SpaceArrays, good: Parzen, bad: Parzen, rng: np.random.Generator,
            n_candidates: int, d: int) -> np.ndarray:
    """Draw ``n_candidates`` from ``good``; return the best by ``log l - log g``: (d,)
    internal values in space order (one kernel call)."""
    dn = len(sa.num)
    u = rng.random((n_candidates, 1 + dn + len(sa.cat)))
    r = kernels.tpe_best_candidate(
        u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], good, bad, sa.lo, sa.hi, sa.is_log, sa.step,
        sa.low, sa.high, sa.cat_offsets, sa.cat_sizes,
    )
    out = np.empty(d)
    out[sa.order] = r  # r lists the numeric dimensions first
    return out


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
