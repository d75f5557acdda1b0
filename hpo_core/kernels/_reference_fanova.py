"""The functional-ANOVA marginals of a forest of regression trees (fANOVA).

Hutter, Hoos and Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter
Importance", ICML 2014 (http://proceedings.mlr.press/v32/hutter14.html). A tree is a
piecewise-constant function on the box ``bounds``; its variance over the uniform
distribution on the box is split into the variance of each marginal.

Notation:
    T            number of trees; ``tree_offsets: (T + 1,)``, tree t owns the node rows
                 ``tree_offsets[t]:tree_offsets[t + 1]``.
    N            total number of nodes. Per node (scikit-learn's ``tree_`` arrays,
                 concatenated): ``children_left``, ``children_right: (N,)`` indices
                 local to the node's tree, -1 at a leaf; ``feature: (N,)`` the column
                 split on (negative at a leaf); ``threshold: (N,)`` (x <= threshold goes
                 left); ``value: (N,)`` the prediction (only leaves' values are read).
    D            number of input columns; ``bounds: (D, 2)`` low and high of each.
    P            number of parameters; parameter p is the group of columns
                 ``group_columns[group_offsets[p]:group_offsets[p + 1]]`` (one column
                 for a number, the one-hot columns of a categorical parameter).
    box_l        the leaf l's region, ``[lo_l, hi_l]`` per column; ``V_l`` its volume.
    cells        per column of a group, the intervals between consecutive split values
                 of that column in the tree (bounds included); a group's cells are the
                 products of its columns' intervals.
    M(c)         the marginal prediction in cell c: the mean over the other columns of
                 the tree's prediction, ``sum_{l covers c} v_l w_l / sum_{l covers c} w_l``
                 with ``w_l = V_l / (volume of box_l in the group's columns)``.

The marginal variance of a group is the variance of M over its cells, each weighted by
its volume (times ``sum w_l``, a constant, as Optuna's ``_FanovaTree`` weighs it), so
that the results equal Optuna 5.0's ``FanovaImportanceEvaluator`` on the same forest.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fanova_marginal_variances"]


def _leaf_boxes(left: np.ndarray, right: np.ndarray, feature: np.ndarray, threshold: np.ndarray,
                bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each (n_nodes, D): the region of every node of one tree, level by level."""
    n = left.shape[0]
    lo = np.empty((n, bounds.shape[0]))
    hi = np.empty((n, bounds.shape[0]))
    lo[0], hi[0] = bounds[:, 0], bounds[:, 1]
    frontier = np.array([0])
    while frontier.size:
        inner = frontier[left[frontier] >= 0]
        f, t = feature[inner], threshold[inner]
        lc, rc = left[inner], right[inner]
        lo[lc], hi[lc] = lo[inner], hi[inner]
        hi[lc, f] = t  # left child: x_f <= threshold
        lo[rc], hi[rc] = lo[inner], hi[inner]
        lo[rc, f] = t
        frontier = np.concatenate((lc, rc))
    return lo, hi


def _weighted_variance(x: np.ndarray, w: np.ndarray) -> float:
    mean = np.average(x, weights=w)
    return float(np.average((x - mean) ** 2, weights=w))


def _group_marginal_variance(lo: np.ndarray, hi: np.ndarray, v: np.ndarray, V: np.ndarray,
                             split_feature: np.ndarray, split_threshold: np.ndarray,
                             bounds: np.ndarray, cols: np.ndarray) -> float:
    """Variance of the marginal of the columns ``cols`` (leaves' lo, hi: (L, D))."""
    edges = [np.concatenate(([bounds[c, 0]], np.unique(split_threshold[split_feature == c]),
                             [bounds[c, 1]])) for c in cols]
    # Every cell of the group's grid, as indices per column (n_cells, len(cols)).
    shape = tuple(len(e) - 1 for e in edges)
    cell = np.indices(shape).reshape(len(cols), -1).T
    size = np.ones(cell.shape[0])
    covers = np.ones((cell.shape[0], lo.shape[0]), dtype=bool)
    width = np.ones(lo.shape[0])
    for i, (c, e) in enumerate(zip(cols, edges)):
        size *= np.diff(e)[cell[:, i]]
        # Leaf boundaries are split values, so each is exactly one of the edges.
        first = np.searchsorted(e, lo[:, c])
        stop = np.searchsorted(e, hi[:, c])
        covers &= (first <= cell[:, i, None]) & (cell[:, i, None] < stop)
        width *= hi[:, c] - lo[:, c]
    w = V / width
    den = covers @ w
    marginal = (covers @ (w * v)) / den
    return max(_weighted_variance(marginal, den * size), 0.0)


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
    """Variance of each tree and of each parameter's marginal in each tree (fANOVA).

    Args:
        children_left, children_right: (N,) int64 child indices local to each tree,
            -1 at leaves (scikit-learn's ``tree_.children_left/right``, concatenated).
        feature: (N,) int64 column split on; negative at leaves.
        threshold: (N,) float64 split values (x <= threshold goes left).
        value: (N,) float64 node predictions.
        tree_offsets: (T + 1,) int64, the first node row of each tree, then N.
        bounds: (D, 2) float64 low and high of each column, low < high; every
            threshold lies inside its column's bounds.
        group_offsets: (P + 1,) int64 offsets into ``group_columns``.
        group_columns: (G,) int64 columns of each parameter.

    Returns:
        ``(tree_variance, marginal_variance)``: (T,) the variance of each tree's
        prediction over the box (0 for a single leaf), and (P, T) the variance of each
        parameter's marginal (clipped at 0). Accurate to about 1e-12 relative.
    """
    T = tree_offsets.shape[0] - 1
    P = group_offsets.shape[0] - 1
    tree_var = np.zeros(T)
    marg_var = np.zeros((P, T))
    for t in range(T):
        s = slice(tree_offsets[t], tree_offsets[t + 1])
        left, right, feat, thr = children_left[s], children_right[s], feature[s], threshold[s]
        lo, hi = _leaf_boxes(left, right, feat, thr, bounds)
        leaf = left < 0
        lo, hi, v = lo[leaf], hi[leaf], value[s][leaf]
        V = np.prod(hi - lo, axis=1)
        tree_var[t] = _weighted_variance(v, V)
        split = ~leaf
        for p in range(P):
            cols = group_columns[group_offsets[p]:group_offsets[p + 1]]
            marg_var[p, t] = _group_marginal_variance(lo, hi, v, V, feat[split], thr[split], bounds, cols)
    return tree_var, marg_var
