"""Numba: the Wilcoxon signed-rank statistic of two paired series.

Arguments, shapes and results are those of ``_reference_signed_rank`` (notation there);
``tests/kernels/test_signed_rank_kernel.py`` pins it to the reference. One merge pass pairs
the steps (both ascending) and sums ``x``, one in-place sort of 64-bit keys ranks ``|d|``
and carries the signs along; no temporary beyond ``d``: ~0.8 us at p = 61 (warm, about
half of it the sort) where the NumPy reference makes about ten array calls.
``paired_signed_rank_rows`` slices the two rows of a step index's arrays itself, so the
Wilcoxon pruner makes one call and no array in Python.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hpo_core.kernels import _reference_signed_rank as R

__all__ = ["paired_signed_rank", "paired_signed_rank_rows", "signed_rank_normal_pvalue"]

_jit = njit(cache=True, nogil=True, error_model="numpy")
# paired_signed_rank_rows keeps the GIL: it is one ~1 us call per pruning decision, and
# releasing and taking back the GIL around it cost ~0.2 us of a cold call (measured).
_jit_gil = njit(cache=True, error_model="numpy")

_ABS_MASK = np.uint64(0x7FFF_FFFF_FFFF_FFFF)  # a float64's bits less the sign bit
_SIGN_SHIFT = np.uint64(63)
_ONE = np.uint64(1)
_INSERTION_MAX = 64  # insertion sort up to this many pairs (O(p^2) moves at worst), quicksort above


@_jit
def paired_signed_rank(steps_x, x, steps_y, y):  # type: ignore[no-untyped-def]
    """Signed-rank statistic of ``x`` paired with ``y`` on their common steps."""
    n = x.shape[0]
    k = y.shape[0]
    sum_x = 0.0
    d = np.empty(min(n, k))
    p = 0
    j = 0
    for i in range(n):  # merge join (both step arrays ascend), summing x on the way
        xi = x[i]
        sum_x += xi  # left to right, as Python's sum
        s = steps_x[i]
        while j < k and steps_y[j] < s:
            j += 1
        if j < k and steps_y[j] == s:
            d[p] = xi - y[j]
            p += 1
            j += 1
    # One sort orders |d| and carries the signs along: each difference becomes the key
    # (bits of |d|) << 1 | (sign bit clear), in place. The bits of a float >= 0 ascend as
    # unsigned integers exactly as the floats do (+inf included; -0.0 becomes 0), so the
    # sorted keys order |d| and a tie group of |d| is a run of equal key >> 1; the low bit
    # is d > 0 except in the group of zeros, which counts its members, not its signs.
    # No argsort, no second array.
    key = d[:p].view(np.uint64)
    for q in range(p):
        b = key[q]
        key[q] = ((b & _ABS_MASK) << _ONE) | (~b >> _SIGN_SHIFT)
    if p <= _INSERTION_MAX:  # the pruner's usual size: a short loop beats the quicksort's setup
        for i in range(1, p):
            v = key[i]
            q = i - 1
            while q >= 0 and key[q] > v:
                key[q + 1] = key[q]
                q -= 1
            key[q + 1] = v
    else:
        key.sort()
    four_t = 0  # 4 T+: an integer (ranks are multiples of 1/2, the zeros' halves of 1/4)
    tie_term = 0
    n_zero = 0
    start = 0  # the current tie group's first position
    n_pos = 0
    for q in range(p):
        kq = key[q]
        n_pos += int(kq & _ONE)
        if q + 1 < p and key[q + 1] >> _ONE == kq >> _ONE:
            continue  # the group goes on
        e = q + 1  # the tie group of |d| fills positions start .. q: average rank (start + 1 + e) / 2
        t = e - start
        tie_term += t * t * t - t
        if kq >> _ONE == 0:  # zero differences ("zsplit"): half their rank to T+
            n_zero = t
            four_t += (start + 1 + e) * t
        else:
            four_t += 2 * (start + 1 + e) * n_pos
        start = e
        n_pos = 0
    t_plus = four_t * 0.25
    return p, sum_x, t_plus, tie_term, n_zero


@_jit_gil
def paired_signed_rank_rows(keys, vals, off, cnt, row_x, row_y, column, greater):  # type: ignore[no-untyped-def]
    """:func:`paired_signed_rank` of two rows of a step index's by-row arrays, and the
    normal-approximation p-value of its statistic."""
    n_x = cnt[row_x] if row_x < cnt.shape[0] else 0  # the count first (see StepIndex)
    o_x = off[row_x] if n_x else 0
    n_y = cnt[row_y] if row_y < cnt.shape[0] else 0
    o_y = off[row_y] if n_y else 0
    p, sum_x, t_plus, tie_term, n_zero = paired_signed_rank(
        keys[o_x : o_x + n_x],
        vals[o_x : o_x + n_x, column],
        keys[o_y : o_y + n_y],
        vals[o_y : o_y + n_y, column],
    )
    p_normal = signed_rank_normal_pvalue(p, t_plus, tie_term, greater) if p >= 2 else math.nan
    return n_x, p, sum_x, t_plus, tie_term, n_zero, p_normal


# The scalar p-value is the reference's own code, compiled (plain math on scalars).
signed_rank_normal_pvalue = _jit(R.signed_rank_normal_pvalue)
