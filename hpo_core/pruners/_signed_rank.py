"""The one-sided Wilcoxon signed-rank p-value of ``scipy.stats.wilcoxon(d, alternative=...,
zero_method="zsplit")`` (SciPy's default ``method="auto"``, no continuity correction), in
NumPy, without SciPy's per-call overhead (~0.3 ms; this costs ~10-13 us at n = 61).

Notation: ``d`` (n,) the paired differences (finite); ``r`` (n,) the average ranks of
``|d|`` (1-based, zeros included, ties sharing the mean rank); ``T = sum(r[d > 0]) +
sum(r[d == 0]) / 2`` the statistic ("zsplit": a zero gives half its rank to each side).
SciPy's ``method="auto"`` picks, and so does this:

* ``n > 50``, or ``14 <= n <= 50`` with ties or zeros: the normal approximation,
  ``z = (T - n (n + 1) / 4) / se`` with ``se = sqrt((n (n + 1) (2n + 1) - sum(t^3 - t) / 2)
  / 24)`` over the tie groups' sizes ``t``; ``P = Phi(z)`` ("less") or ``Phi(-z)``
  ("greater"), ``Phi`` computed as SciPy's ``special.ndtr`` does (Cephes: ``erf`` near 0,
  ``erfc`` in the tails) with ``math.erf``/``math.erfc``.
* ``n <= 50`` without ties or zeros: the exact null distribution of ``T`` (every sign
  pattern of the ranks 1..n equally likely), counted in integers (< 2**50, exact).
* ``n <= 13`` with ties or zeros: SciPy's exact permutation test over all ``2**n`` sign
  flips of ``d``; here the same count by dynamic programming over the doubled ranks
  (integers: average ranks are multiples of 1/2), a zero flipping to itself.

Private: the caller (the Wilcoxon pruner) passes finite ``d`` with ``n >= 2``.
"""

from __future__ import annotations

import functools

import numpy as np

from hpo_core.kernels._reference_signed_rank import signed_rank_normal_pvalue

__all__ = ["needs_permutation", "pvalue_from_statistic", "signed_rank_pvalue", "uses_exact"]

_EXACT_MAX_N = 50  # SciPy: method "auto" is asymptotic above this
_PERMUTATION_MAX_N = 13  # SciPy: 2**n <= 9999 resamples, so its permutation test is exact


def signed_rank_pvalue(d: np.ndarray, alternative: str) -> float:
    """P-value of the one-sided signed-rank test of ``d`` (n,) finite, ``n >= 2``;
    ``alternative`` is ``"less"`` or ``"greater"`` (the median of ``d`` is below/above 0).
    Equal to SciPy's to a few ulps (see the module docstring)."""
    n = len(d)
    a = np.abs(d)
    s = np.sort(a)
    # Entry i's tie group fills sorted positions lo[i] .. hi[i] - 1: its average rank is
    # (lo + 1 + hi) / 2 and its group size t = hi - lo (one sort, two searchsorted: no
    # argsort, scatter or run-length pass).
    lo = s.searchsorted(a, "left")
    hi = s.searchsorted(a, "right")
    r = (lo + hi + 1) * 0.5
    sign = np.sign(d)  # zsplit: a zero gives half its rank to each side
    # Multiples of 1/2 (1/4 with the zeros' halves), far below 2**52: exact float sums.
    t_plus = float(r @ (sign + 1.0)) * 0.5
    t = hi - lo
    # sum over tie groups of (t^3 - t) = sum over entries of (t^2 - 1): integers, exact.
    tie_correct = int((t * t).sum()) - n
    has_zeros = s.item(0) == 0.0
    if needs_permutation(n, tie_correct, has_zeros):
        zero = sign == 0
        weights = (2 * r[~zero]).astype(np.int64)  # doubled ranks of the signed entries
        counts = _weighted_subset_sum_counts(weights)
        k = int(2 * r[sign > 0].sum())  # the observed sum of doubled positive ranks
        hits = counts[: k + 1].sum() if alternative == "less" else counts[k:].sum()
        return float(hits) / 2.0 ** len(weights)  # the zeros' flips scale both counts
    return pvalue_from_statistic(n, t_plus, tie_correct, has_zeros, alternative)


def needs_permutation(n: int, tie_correct: int, has_zeros: bool) -> bool:
    """Whether SciPy's ``method="auto"`` takes the permutation branch (``n <= 13`` with ties
    or zeros), which needs the differences themselves (:func:`signed_rank_pvalue`)."""
    return n <= _PERMUTATION_MAX_N and (tie_correct > 0 or has_zeros)


def uses_exact(n: int, tie_correct: int, has_zeros: bool) -> bool:
    """Whether SciPy's ``method="auto"`` takes the exact branch (``n <= 50``, no ties, no
    zeros); otherwise, unless :func:`needs_permutation`, the normal approximation."""
    return n <= _EXACT_MAX_N and not (tie_correct > 0 or has_zeros)


def pvalue_from_statistic(
    n: int, t_plus: float, tie_correct: int, has_zeros: bool, alternative: str
) -> float:
    """The p-value from the statistic (``kernels.paired_signed_rank``'s ``T+``, tie term
    ``sum(t^3 - t)`` and whether a difference is zero) on the exact branch (``n <= 50``,
    no ties, no zeros) or the normal approximation; not for :func:`needs_permutation`
    cases."""
    if uses_exact(n, tie_correct, has_zeros):
        return _exact_pvalue(n, int(t_plus), alternative)  # T is an integer here
    # Normal approximation: the kernels' formula (the Wilcoxon pruner gets it from its kernel call).
    return signed_rank_normal_pvalue(n, t_plus, tie_correct, alternative == "greater")


def _exact_pvalue(n: int, t: int, alternative: str) -> float:
    """P(T <= t) ("less") or P(T >= t) ("greater") under the exact null, summed as SciPy's
    ``WilcoxonDistribution`` does: the near tail directly, the far one as ``1 - `` the
    other (so a tiny p-value past the mean has SciPy's rounding too)."""
    pmf = _null_pmf(n)
    below_mean = t <= n * (n + 1) / 4
    if alternative == "less":
        return float(pmf[: t + 1].sum() if below_mean else 1 - pmf[t + 1:].sum())
    return float(pmf[t:].sum() if below_mean else 1 - pmf[:t].sum())


@functools.lru_cache(maxsize=_EXACT_MAX_N + 1)
def _null_pmf(n: int) -> np.ndarray:
    """(n (n + 1) / 2 + 1,) float64: P(T = t) without ties or zeros, the counts of subsets
    of {1, ..., n} summing to ``t`` (int64, < 2**50) over ``2**n``: exact dyadic floats,
    equal to SciPy's ``_get_wilcoxon_distr(n)``."""
    c = np.ones(1, np.int64)
    for k in range(1, n + 1):
        new = np.zeros(len(c) + k, np.int64)
        new[: len(c)] += c
        new[k:] += c
        c = new
    pmf = c / 2.0**n
    pmf.setflags(write=False)
    return pmf


def _weighted_subset_sum_counts(weights: np.ndarray) -> np.ndarray:
    """(sum(weights) + 1,) int64: how many subsets of ``weights`` (positive ints, at most
    13 of them) sum to each total."""
    c = np.ones(1, np.int64)
    for w in weights.tolist():
        new = np.zeros(len(c) + w, np.int64)
        new[: len(c)] += c
        new[w:] += c
        c = new
    return c
