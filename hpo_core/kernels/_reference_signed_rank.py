"""NumPy reference: the Wilcoxon signed-rank statistic of two paired series (the Wilcoxon
pruner's per-decision work).

Notation: ``steps_x (n,)``, ``x (n,)`` one trial's reports and ``steps_y (k,)``, ``y (k,)``
the other's (steps ascending and unique, int64); the pairs are the steps both have, in step
order, ``d = x[i] - y[j]`` (p,); ``r`` (p,) the average ranks of ``|d|`` (1-based, zeros
included, ties sharing the mean rank). The statistic is SciPy's ``zero_method="zsplit"``:
``T+ = sum(r[d > 0]) + sum(r[d == 0]) / 2``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["paired_signed_rank", "paired_signed_rank_rows", "signed_rank_normal_pvalue"]

_SQRT1_2 = math.sqrt(0.5)


def paired_signed_rank(
    steps_x: np.ndarray, x: np.ndarray, steps_y: np.ndarray, y: np.ndarray
) -> tuple[int, float, float, int, int]:
    """Signed-rank statistic of ``x`` paired with ``y`` on their common steps.

    Args:
        steps_x: (n,) int64, ascending and unique; ``x``: (n,) float64.
        steps_y: (k,) int64, ascending and unique; ``y``: (k,) float64.

    Returns:
        ``(p, sum_x, t_plus, tie_term, n_zero)``: the number of pairs; the sum of every
        ``x`` added left to right (Python's ``sum``: equal in every backend); ``T+``;
        ``sum(t**3 - t)`` over the tie groups of ``|d|`` (sizes ``t``); the number of zero
        differences. Exact: ranks are multiples of 1/2, so ``T+`` (a multiple of 1/4, far
        below 2**52) is the same whatever the order of the additions. The rank terms are
        meaningful only when the paired values are finite (the caller checks ``sum_x``).
    """
    sum_x = float(sum(x.tolist()))
    _, i, j = np.intersect1d(steps_x, steps_y, assume_unique=True, return_indices=True)
    d = x[i] - y[j]
    p = len(d)
    if p == 0:
        return 0, sum_x, 0.0, 0, 0
    a = np.abs(d)
    s = np.sort(a)
    # Entry q's tie group fills sorted positions lo[q] .. hi[q] - 1: average rank
    # (lo + 1 + hi) / 2, group size t = hi - lo; sum over entries of t^2 - 1 is the sum
    # over groups of t^3 - t.
    lo = s.searchsorted(a, "left")
    hi = s.searchsorted(a, "right")
    r = (lo + hi + 1) * 0.5
    t = hi - lo
    t_plus = float(r[d > 0].sum()) + 0.5 * float(r[d == 0].sum())
    return p, sum_x, t_plus, int((t * t).sum()) - p, int(np.count_nonzero(d == 0))


def paired_signed_rank_rows(
    keys: np.ndarray,
    vals: np.ndarray,
    off: np.ndarray,
    cnt: np.ndarray,
    row_x: int,
    row_y: int,
    column: int,
    greater: bool,
) -> tuple[int, int, float, float, int, int, float]:
    """:func:`paired_signed_rank` of two rows of a step index's by-row arrays, and the
    normal-approximation p-value of its statistic.

    Args:
        keys, vals, off, cnt: ``StepIndex.row_arrays()``: row ``r < len(cnt)`` holds steps
            ``keys[off[r] : off[r] + cnt[r]]`` (ascending, unique) and values ``vals[same,
            column]``; rows ``>= len(cnt)`` hold none.
        row_x, row_y: the two rows (``>= 0``); ``column``: the objective.
        greater: the alternative of :func:`signed_rank_normal_pvalue`.

    Returns:
        ``(n_x, p, sum_x, t_plus, tie_term, n_zero, p_normal)``: the number of reports of
        ``row_x``, :func:`paired_signed_rank`'s five values, and
        :func:`signed_rank_normal_pvalue` of them (NaN below two pairs).
    """
    segments = []
    for row in (row_x, row_y):
        n = int(cnt[row]) if row < len(cnt) else 0
        o = int(off[row]) if n else 0
        segments += [keys[o : o + n], vals[o : o + n, column]]
    p, sum_x, t_plus, tie_term, n_zero = paired_signed_rank(*segments)
    p_normal = signed_rank_normal_pvalue(p, t_plus, tie_term, greater) if p >= 2 else math.nan
    return len(segments[0]), p, sum_x, t_plus, tie_term, n_zero, p_normal


def signed_rank_normal_pvalue(n: int, t_plus: float, tie_term: int, greater: bool) -> float:
    """One-sided p-value of ``T+`` under SciPy's normal approximation (``n >= 2`` pairs, no
    continuity correction): ``z = (T+ - n (n + 1) / 4) / se``, ``se = sqrt((n (n + 1) (2n +
    1) - tie_term / 2) / 24)``, in SciPy's expression order (n counted as a float); ``P =
    Phi(-z)`` (``greater``) or ``Phi(z)``, ``Phi`` as SciPy's ``special.ndtr`` (Cephes) computes it:
    ``0.5 + 0.5 erf(x / sqrt 2)`` near 0, ``0.5 erfc(|x| / sqrt 2)`` (or one minus it) beyond,
    so a far tail keeps its relative accuracy."""
    c = float(n)
    mean = c * (c + 1.0) * 0.25
    se = math.sqrt((c * (c + 1.0) * (2.0 * c + 1.0) - tie_term / 2) / 24)
    z = (t_plus - mean) / se
    y = (-z if greater else z) * _SQRT1_2
    a = abs(y)
    if a < _SQRT1_2:
        return 0.5 + 0.5 * math.erf(y)
    q = 0.5 * math.erfc(a)
    return 1.0 - q if y > 0 else q
