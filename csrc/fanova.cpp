// fANOVA marginals of a forest; spec: hpo_core/kernels/_reference_fanova.py. The
// algorithm is that of hpo_core/kernels/_numba_fanova.py: per tree, the leaves' boxes by
// a depth-first walk; per parameter, a difference array over the cells of its columns
// (O(leaves 2^g + cells g)), or a sum over pairs of leaves (O(leaves^2 g)) for a
// categorical parameter of many choices, whichever costs less.
#include "hpo_core/fanova.hpp"

#include <algorithm>
#include <vector>

namespace hpo_core {
namespace {

using Index = std::ptrdiff_t;

struct Tree {
  Index n_cols;
  std::vector<double> lo, hi;  // (n_nodes, n_cols) row-major: every node's box
  std::vector<Index> leaves;   // node indices of the leaves
  std::vector<double> v, V;    // per leaf: value and box volume
  double lo_at(Index node, Index c) const { return lo[static_cast<std::size_t>(node * n_cols + c)]; }
  double hi_at(Index node, Index c) const { return hi[static_cast<std::size_t>(node * n_cols + c)]; }
};

Tree build_tree(const std::int64_t* left, const std::int64_t* right, const std::int64_t* feature,
                const double* threshold, const double* value, Index n, const double* bounds, Index D) {
  Tree t;
  t.n_cols = D;
  t.lo.assign(static_cast<std::size_t>(n * D), 0.0);
  t.hi.assign(static_cast<std::size_t>(n * D), 0.0);
  for (Index j = 0; j < D; ++j) {
    t.lo[static_cast<std::size_t>(j)] = bounds[2 * j];
    t.hi[static_cast<std::size_t>(j)] = bounds[2 * j + 1];
  }
  std::vector<Index> stack{0};
  while (!stack.empty()) {
    const Index node = stack.back();
    stack.pop_back();
    const Index lc = left[node], rc = right[node];
    if (lc < 0) continue;
    for (Index child : {lc, rc}) {
      std::copy_n(t.lo.begin() + node * D, D, t.lo.begin() + child * D);
      std::copy_n(t.hi.begin() + node * D, D, t.hi.begin() + child * D);
      stack.push_back(child);
    }
    t.hi[static_cast<std::size_t>(lc * D + feature[node])] = threshold[node];  // x <= threshold
    t.lo[static_cast<std::size_t>(rc * D + feature[node])] = threshold[node];
  }
  for (Index node = 0; node < n; ++node) {
    if (left[node] >= 0) continue;
    double vol = 1.0;
    for (Index j = 0; j < D; ++j) vol *= t.hi_at(node, j) - t.lo_at(node, j);
    t.leaves.push_back(node);
    t.v.push_back(value[node]);
    t.V.push_back(vol);
  }
  return t;
}

double weighted_variance(const std::vector<double>& x, const std::vector<double>& w) {
  double sw = 0.0, sx = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sw += w[i];
    sx += w[i] * x[i];
  }
  const double mean = sx / sw;
  double s2 = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) s2 += w[i] * (x[i] - mean) * (x[i] - mean);
  return s2 / sw;
}

// Sum over pairs of leaves (see _numba_fanova._group_marginal_variance_pairwise).
double pairwise_variance(const Tree& t, const double* bounds, const std::int64_t* cols, Index g) {
  const std::size_t n = t.leaves.size();
  double sv = 0.0, svv = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sv += t.V[i];
    svv += t.V[i] * t.v[i];
  }
  const double mean = svv / sv;
  double S = 1.0;
  for (Index k = 0; k < g; ++k) S *= bounds[2 * cols[k] + 1] - bounds[2 * cols[k]];
  const double C = sv / S;
  std::vector<double> a(n), area(n);
  double m1 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double A = 1.0;
    for (Index k = 0; k < g; ++k) A *= t.hi_at(t.leaves[i], cols[k]) - t.lo_at(t.leaves[i], cols[k]);
    area[i] = A;
    a[i] = t.V[i] / A * (t.v[i] - mean);
    m1 += a[i] * A;
  }
  double m2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const Index li = t.leaves[i];
    m2 += a[i] * a[i] * area[i];
    for (std::size_t j = i + 1; j < n; ++j) {
      const Index lj = t.leaves[j];
      double overlap = 1.0;
      for (Index k = 0; k < g; ++k) {
        const Index c = cols[k];
        const double o = std::min(t.hi_at(li, c), t.hi_at(lj, c)) - std::max(t.lo_at(li, c), t.lo_at(lj, c));
        if (o <= 0.0) {
          overlap = 0.0;
          break;
        }
        overlap *= o;
      }
      m2 += 2.0 * a[i] * a[j] * overlap;
    }
  }
  const double e1 = m1 / (C * S);
  return std::max(m2 / (C * C * S) - e1 * e1, 0.0);
}

double group_variance(const Tree& t, const std::int64_t* feature, const double* threshold, Index n_nodes,
                      const double* bounds, const std::int64_t* cols, Index g) {
  // Per column: the bounds with the sorted unique split values in between.
  std::vector<std::vector<double>> edges(static_cast<std::size_t>(g));
  std::vector<Index> n_edges(static_cast<std::size_t>(g)), stride(static_cast<std::size_t>(g));
  for (Index k = 0; k < g; ++k) {
    std::vector<double>& e = edges[static_cast<std::size_t>(k)];
    for (Index node = 0; node < n_nodes; ++node)
      if (feature[node] == cols[k]) e.push_back(threshold[node]);
    std::sort(e.begin(), e.end());
    e.erase(std::unique(e.begin(), e.end()), e.end());
    e.insert(e.begin(), bounds[2 * cols[k]]);
    e.push_back(bounds[2 * cols[k] + 1]);
    n_edges[static_cast<std::size_t>(k)] = static_cast<Index>(e.size());
  }
  const Index L = static_cast<Index>(t.leaves.size());
  // Past 30 columns the grid (up to 3^g cells) and the 2^g corners cannot win.
  if (g >= 30) return pairwise_variance(t, bounds, cols, g);
  Index total = 1;
  for (Index k = g - 1; k >= 0; --k) {
    stride[static_cast<std::size_t>(k)] = total;
    total *= n_edges[static_cast<std::size_t>(k)];  // (cells + 1) along axis k
  }
  if (g > 1 && L * L * g / 2 < L * (Index{1} << g) + total * g) return pairwise_variance(t, bounds, cols, g);
  std::vector<double> num(static_cast<std::size_t>(total), 0.0), den(static_cast<std::size_t>(total), 0.0);
  std::vector<Index> first(static_cast<std::size_t>(g)), stop(static_cast<std::size_t>(g));
  for (Index i = 0; i < L; ++i) {
    const Index leaf = t.leaves[static_cast<std::size_t>(i)];
    double width = 1.0;
    for (Index k = 0; k < g; ++k) {
      const std::vector<double>& e = edges[static_cast<std::size_t>(k)];
      // Leaf boundaries are split values, so each is exactly one of the edges.
      first[static_cast<std::size_t>(k)] = std::lower_bound(e.begin(), e.end(), t.lo_at(leaf, cols[k])) - e.begin();
      stop[static_cast<std::size_t>(k)] = std::lower_bound(e.begin(), e.end(), t.hi_at(leaf, cols[k])) - e.begin();
      width *= t.hi_at(leaf, cols[k]) - t.lo_at(leaf, cols[k]);
    }
    const double w = t.V[static_cast<std::size_t>(i)] / width;
    const double wv = w * t.v[static_cast<std::size_t>(i)];
    for (Index corner = 0; corner < (Index{1} << g); ++corner) {
      Index idx = 0;
      double sign = 1.0;
      for (Index k = 0; k < g; ++k) {
        if ((corner >> k) & 1) {
          idx += stop[static_cast<std::size_t>(k)] * stride[static_cast<std::size_t>(k)];
          sign = -sign;
        } else {
          idx += first[static_cast<std::size_t>(k)] * stride[static_cast<std::size_t>(k)];
        }
      }
      num[static_cast<std::size_t>(idx)] += sign * wv;
      den[static_cast<std::size_t>(idx)] += sign * w;
    }
  }
  for (Index k = 0; k < g; ++k) {  // prefix sums along each axis, in increasing flat order
    const Index s = stride[static_cast<std::size_t>(k)], n_k = n_edges[static_cast<std::size_t>(k)];
    for (Index idx = 0; idx < total; ++idx) {
      if ((idx / s) % n_k > 0) {
        num[static_cast<std::size_t>(idx)] += num[static_cast<std::size_t>(idx - s)];
        den[static_cast<std::size_t>(idx)] += den[static_cast<std::size_t>(idx - s)];
      }
    }
  }
  std::vector<double> marginal, weight;
  for (Index idx = 0; idx < total; ++idx) {
    double size = 1.0;
    bool inside = true;
    for (Index k = 0; k < g && inside; ++k) {
      const Index c = (idx / stride[static_cast<std::size_t>(k)]) % n_edges[static_cast<std::size_t>(k)];
      if (c == n_edges[static_cast<std::size_t>(k)] - 1) {
        inside = false;
      } else {
        const std::vector<double>& e = edges[static_cast<std::size_t>(k)];
        size *= e[static_cast<std::size_t>(c + 1)] - e[static_cast<std::size_t>(c)];
      }
    }
    if (!inside) continue;
    marginal.push_back(num[static_cast<std::size_t>(idx)] / den[static_cast<std::size_t>(idx)]);
    weight.push_back(den[static_cast<std::size_t>(idx)] * size);
  }
  return std::max(weighted_variance(marginal, weight), 0.0);
}

}  // namespace

void fanova_marginal_variances(const std::int64_t* children_left, const std::int64_t* children_right,
                               const std::int64_t* feature, const double* threshold, const double* value,
                               const std::int64_t* tree_offsets, std::ptrdiff_t n_trees,
                               const double* bounds, std::ptrdiff_t n_cols,
                               const std::int64_t* group_offsets, const std::int64_t* group_columns,
                               std::ptrdiff_t n_groups, double* tree_var, double* marg_var) {
  for (Index tr = 0; tr < n_trees; ++tr) {
    const Index a = tree_offsets[tr], n = tree_offsets[tr + 1] - a;
    const Tree t = build_tree(children_left + a, children_right + a, feature + a, threshold + a, value + a, n,
                              bounds, n_cols);
    tree_var[tr] = weighted_variance(t.v, t.V);
    for (Index p = 0; p < n_groups; ++p) {
      const Index g0 = group_offsets[p], g = group_offsets[p + 1] - g0;
      marg_var[p * n_trees + tr] = group_variance(t, feature + a, threshold + a, n, bounds, group_columns + g0, g);
    }
  }
}

}  // namespace hpo_core
