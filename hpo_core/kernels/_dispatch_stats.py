"""Dispatchers of the statistics kernels: the Wilcoxon signed-rank statistic (the pruner's)
and fANOVA's marginal variances.

References: ``hpo_core.kernels._reference_signed_rank``, ``_reference_fanova``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hpo_core._validation import format_error
from hpo_core.kernels._backends import _kernel_module


def paired_signed_rank(
    steps_x: np.ndarray, x: np.ndarray, steps_y: np.ndarray, y: np.ndarray
) -> tuple[int, float, float, int, int]:
    """Wilcoxon signed-rank statistic of ``x`` paired with ``y`` on their common steps:
    ``(pairs, sum of x, T+, tie term, zero differences)``. Unchecked: steps ascending,
    unique int64 and values float64 of the same lengths (the Wilcoxon pruner's rows of the
    step index)."""
    return _kernel_module("paired_signed_rank").paired_signed_rank(steps_x, x, steps_y, y)  # type: ignore[no-any-return]


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
    """:func:`paired_signed_rank` of rows ``row_x`` and ``row_y`` of ``StepIndex.row_arrays()``,
    objective ``column``, and the normal-approximation p-value of the statistic: ``(reports of
    row_x, pairs, sum, T+, tie term, zeros, p)``. Unchecked (one call per Wilcoxon decision):
    rows ``>= 0``, ``column < vals.shape[1]``."""
    return _kernel_module("paired_signed_rank_rows").paired_signed_rank_rows(  # type: ignore[no-any-return]
        keys, vals, off, cnt, row_x, row_y, column, greater
    )


def resolve_paired_signed_rank_rows(
    keys: np.ndarray, vals: np.ndarray, off: np.ndarray, cnt: np.ndarray
) -> Callable[..., tuple[int, int, float, float, int, int, float]]:
    """:func:`paired_signed_rank_rows` for these four arrays, without this module's frames:
    the backend's function (the default backend's, else the first that has it) and, for
    Numba, its compiled entry point for the arrays' types (int rows and column, a bool
    ``greater``), which skips Numba's per-call typing of the eight arguments and its
    overload lookup. For a caller that makes one call per decision (the Wilcoxon pruner: the
    frames and the typing cost about 1 us each in a cold decision). Call it with these four array
    objects only and resolve again when ``StepIndex.row_arrays()`` returns another tuple:
    the entry point reads arrays of another dtype or ndim as these, it does not reject
    them. A later change of the default backend does not reach a resolved function."""
    fn = _kernel_module("paired_signed_rank_rows").paired_signed_rank_rows
    compile_for = getattr(fn, "compile", None)  # a Numba dispatcher (not under NUMBA_DISABLE_JIT)
    if compile_for is None:
        return fn  # type: ignore[no-any-return]
    from numba import typeof  # loaded: the backend is Numba's

    # Dispatcher.compile returns the overload's entry point (from the cache when compiled).
    return compile_for(tuple(typeof(a) for a in (keys, vals, off, cnt, 0, 0, 0, True)))  # type: ignore[no-any-return]


def fanova_marginal_variances(
    children_left: np.ndarray,
    children_right: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    value: np.ndarray,
    tree_offsets: np.ndarray,
    bounds: np.ndarray,
    group_offsets: np.ndarray,
    group_columns: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Variance of each tree and of each parameter's marginal in each tree (fANOVA)."""
    # The compiled kernel indexes without bounds checks: shapes and index ranges here.
    n, d = np.shape(feature)[0], np.shape(bounds)[0]
    for name, arr in (("children_left", children_left), ("children_right", children_right),
                      ("threshold", threshold), ("value", value)):
        if np.shape(arr) != (n,):
            raise ValueError(format_error(name, f"an array of shape ({n},) like `feature`", f"shape {np.shape(arr)}"))
    offsets = np.asarray(tree_offsets)
    if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) < 1).any():
        raise ValueError(format_error("tree_offsets", f"increasing offsets from 0 to {n} (one node per tree at least)",
                                      offsets))
    size = np.repeat(np.diff(offsets), np.diff(offsets))  # the node count of each node's tree
    for name, arr in (("children_left", children_left), ("children_right", children_right)):
        child = np.asarray(arr)
        if n and ((child < -1) | (child >= size) | ((child >= 0) & (child <= np.arange(n) - np.repeat(offsets[:-1], np.diff(offsets))))).any():
            raise ValueError(format_error(name, "child indices local to each tree, after their parent, or -1",
                                          f"{child!r}"))
    if np.shape(bounds) != (d, 2) or not (np.asarray(bounds)[:, 0] < np.asarray(bounds)[:, 1]).all():
        raise ValueError(format_error("bounds", "an array of shape (D, 2) with low < high", bounds))
    g_off, g_col = np.asarray(group_offsets), np.asarray(group_columns)
    if g_off.ndim != 1 or g_off.size < 1 or g_off[0] != 0 or g_off[-1] != g_col.size or (np.diff(g_off) < 1).any():
        raise ValueError(format_error("group_offsets", f"increasing offsets from 0 to {g_col.size}", g_off))
    if g_col.size and ((g_col < 0) | (g_col >= d)).any():
        raise ValueError(format_error("group_columns", f"column indices in [0, {d})", g_col))
    if n and (np.asarray(feature) >= d).any():
        raise ValueError(format_error("feature", f"column indices below {d} (negative at leaves)", feature))
    return _kernel_module("fanova_marginal_variances").fanova_marginal_variances(  # type: ignore[no-any-return]
        children_left, children_right, feature, threshold, value, tree_offsets, bounds, group_offsets, group_columns
    )
