"""Numba: the functional-ANOVA marginals of a forest (``fanova_marginal_variances``).

Arguments, shapes and results are those of ``_reference_fanova`` (notation there); the
tests pin the kernel to it. Where the reference tests every leaf against every cell
(O(cells x leaves) per tree and parameter), this version adds each leaf's ``w_l v_l``
and ``w_l`` to the corners of its range of cells in a difference array and takes
prefix sums along each axis: O(leaves 2^g + cells g) for a group of g columns (g = 1
for a number; the one-hot columns of a categorical parameter otherwise). For a
categorical parameter of many choices (up to 3^g cells) the same variance comes from a
sum over pairs of leaves instead, O(leaves^2 g), whichever costs less
(``_group_marginal_variance_pairwise``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fanova_marginal_variances"]

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _leaf_boxes(left, right, feature, threshold, bounds):  # type: ignore[no-untyped-def]
    """(lo, hi), each (n_nodes, D), of one tree, by a depth-first walk from the root."""
    n, D = left.shape[0], bounds.shape[0]
    lo = np.empty((n, D))
    hi = np.empty((n, D))
    for j in range(D):
        lo[0, j] = bounds[j, 0]
        hi[0, j] = bounds[j, 1]
    stack = np.empty(2 * n + 1, dtype=np.intp)  # room even for a malformed tree (a node with two parents)
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        lc, rc = left[node], right[node]
        if lc < 0:
            continue
        f = feature[node]
        for child in (lc, rc):
            for j in range(D):
                lo[child, j] = lo[node, j]
                hi[child, j] = hi[node, j]
            stack[top] = child
            top += 1
        hi[lc, f] = threshold[node]
        lo[rc, f] = threshold[node]
    return lo, hi


@_jit
def _weighted_variance(x, w):  # type: ignore[no-untyped-def]
    sw = 0.0
    sx = 0.0
    for i in range(x.shape[0]):
        sw += w[i]
        sx += w[i] * x[i]
    mean = sx / sw
    s2 = 0.0
    for i in range(x.shape[0]):
        s2 += w[i] * (x[i] - mean) ** 2
    return s2 / sw


@_jit
def _group_marginal_variance(lo, hi, v, V, feat, thr, leaf_nodes, bounds, cols):  # type: ignore[no-untyped-def]
    g = cols.shape[0]
    # Per column: sorted unique split values with the bounds at both ends, flat:
    # column i's edges are edges[edge_start[i]:edge_start[i] + n_edges[i]].
    n_edges = np.empty(g, dtype=np.intp)
    edge_start = np.empty(g, dtype=np.intp)
    edges = np.empty(g * (feat.shape[0] + 2))
    pos = 0
    for i in range(g):
        c = cols[i]
        k = 0
        for node in range(feat.shape[0]):
            if feat[node] == c:
                k += 1
        vals = np.empty(k)
        k = 0
        for node in range(feat.shape[0]):
            if feat[node] == c:
                vals[k] = thr[node]
                k += 1
        u = np.unique(vals)
        edge_start[i] = pos
        n_edges[i] = u.shape[0] + 2
        edges[pos] = bounds[c, 0]
        edges[pos + 1:pos + 1 + u.shape[0]] = u
        edges[pos + 1 + u.shape[0]] = bounds[c, 1]
        pos += n_edges[i]
    n_leaves = leaf_nodes.shape[0]
    if g >= 30:  # past 30 columns the grid (up to 3^g cells) and the 2^g corners cannot win
        return _group_marginal_variance_pairwise(lo, hi, v, V, leaf_nodes, bounds, cols)
    # Difference arrays over the grid extended by one cell per axis.
    stride = np.empty(g, dtype=np.intp)
    total = 1
    for i in range(g - 1, -1, -1):
        stride[i] = total
        total *= n_edges[i]  # (cells + 1) along axis i
    # 2^g corners per leaf and a grid of up to 3^g cells for the g one-hot columns of a
    # categorical parameter: past a few choices the pairwise sum is cheaper.
    if g > 1 and n_leaves * n_leaves * g // 2 < n_leaves * (1 << g) + total * g:
        return _group_marginal_variance_pairwise(lo, hi, v, V, leaf_nodes, bounds, cols)
    num = np.zeros(total)
    den = np.zeros(total)
    first = np.empty(g, dtype=np.intp)
    stop = np.empty(g, dtype=np.intp)
    for li in range(leaf_nodes.shape[0]):
        leaf = leaf_nodes[li]
        width = 1.0
        for i in range(g):
            c = cols[i]
            # Leaf boundaries are split values, so each is exactly one of the edges.
            e = edges[edge_start[i]:edge_start[i] + n_edges[i]]
            first[i] = np.searchsorted(e, lo[leaf, c])
            stop[i] = np.searchsorted(e, hi[leaf, c])
            width *= hi[leaf, c] - lo[leaf, c]
        w = V[li] / width
        wv = w * v[li]
        for corner in range(1 << g):
            idx = 0
            sign = 1.0
            for i in range(g):
                if (corner >> i) & 1:
                    idx += stop[i] * stride[i]
                    sign = -sign
                else:
                    idx += first[i] * stride[i]
            num[idx] += sign * wv
            den[idx] += sign * w
    for i in range(g):  # prefix sums along each axis, in increasing flat order
        s = stride[i]
        n_i = n_edges[i]
        for idx in range(total):
            if (idx // s) % n_i > 0:
                num[idx] += num[idx - s]
                den[idx] += den[idx - s]
    # Weighted mean and variance of the marginal over the real cells.
    sw = 0.0
    sx = 0.0
    for pas in range(2):
        mean = sx / sw if pas == 1 else 0.0
        s2 = 0.0
        for idx in range(total):
            size = 1.0
            inside = True
            for i in range(g):
                k = (idx // stride[i]) % n_edges[i]
                if k == n_edges[i] - 1:
                    inside = False
                    break
                size *= edges[edge_start[i] + k + 1] - edges[edge_start[i] + k]
            if not inside:
                continue
            weight = den[idx] * size
            m = num[idx] / den[idx]
            if pas == 0:
                sw += weight
                sx += weight * m
            else:
                s2 += weight * (m - mean) ** 2
        if pas == 1:
            return max(s2 / sw, 0.0)
    return 0.0


@_jit
def _group_marginal_variance_pairwise(lo, hi, v, V, leaf_nodes, bounds, cols):  # type: ignore[no-untyped-def]
    """The same variance from pairs of leaves, without the grid (O(leaves^2 g)).

    Over the group's columns the leaves covering any point carry weights summing to the
    volume C of the other columns (they partition those), so M(c) = N(c) / C with
    N(c) = sum_{l covers c} w_l v_l, and with cell volumes s(c) summing to S:
    ``sum_c s(c) N(c)^2 = sum_{l, l'} w_l v_l w_l' v_l' |box_l cap box_l'|`` (the overlap
    of the two leaves in the group's columns). The values are centred on the tree's mean
    first (M shifts by a constant, the variance does not) so that E[M^2] - E[M]^2 does
    not cancel.
    """
    n = leaf_nodes.shape[0]
    g = cols.shape[0]
    sv = 0.0
    svv = 0.0
    for i in range(n):
        sv += V[i]
        svv += V[i] * v[i]
    mean = svv / sv
    S = 1.0
    for k in range(g):
        S *= bounds[cols[k], 1] - bounds[cols[k], 0]
    C = sv / S
    a = np.empty(n)
    area = np.empty(n)
    m1 = 0.0
    for i in range(n):
        leaf = leaf_nodes[i]
        A = 1.0
        for k in range(g):
            A *= hi[leaf, cols[k]] - lo[leaf, cols[k]]
        area[i] = A
        a[i] = V[i] / A * (v[i] - mean)
        m1 += a[i] * A
    m2 = 0.0
    for i in range(n):
        li = leaf_nodes[i]
        m2 += a[i] * a[i] * area[i]
        for j in range(i + 1, n):
            lj = leaf_nodes[j]
            overlap = 1.0
            for k in range(g):
                c = cols[k]
                o = min(hi[li, c], hi[lj, c]) - max(lo[li, c], lo[lj, c])
                if o <= 0.0:
                    overlap = 0.0
                    break
                overlap *= o
            m2 += 2.0 * a[i] * a[j] * overlap
    e1 = m1 / (C * S)
    return max(m2 / (C * C * S) - e1 * e1, 0.0)


@_jit
def fanova_marginal_variances(children_left, children_right, feature, threshold, value,  # type: ignore[no-untyped-def]
                              tree_offsets, bounds, group_offsets, group_columns):
    """Variance of each tree and of each parameter's marginal in each tree (fANOVA)."""
    T = tree_offsets.shape[0] - 1
    P = group_offsets.shape[0] - 1
    tree_var = np.zeros(T)
    marg_var = np.zeros((P, T))
    for t in range(T):
        a, b = tree_offsets[t], tree_offsets[t + 1]
        left, right = children_left[a:b], children_right[a:b]
        feat, thr = feature[a:b], threshold[a:b]
        lo, hi = _leaf_boxes(left, right, feat, thr, bounds)
        n_leaves = 0
        for node in range(b - a):
            if left[node] < 0:
                n_leaves += 1
        leaf_nodes = np.empty(n_leaves, dtype=np.intp)
        v = np.empty(n_leaves)
        V = np.empty(n_leaves)
        k = 0
        for node in range(b - a):
            if left[node] < 0:
                leaf_nodes[k] = node
                v[k] = value[a + node]
                vol = 1.0
                for j in range(bounds.shape[0]):
                    vol *= hi[node, j] - lo[node, j]
                V[k] = vol
                k += 1
        tree_var[t] = _weighted_variance(v, V)
        for p in range(P):
            cols = group_columns[group_offsets[p]:group_offsets[p + 1]]
            marg_var[p, t] = _group_marginal_variance(lo, hi, v, V, feat, thr, leaf_nodes, bounds, cols)
    return tree_var, marg_var
