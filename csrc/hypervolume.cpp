// Hypervolume kernels for m <= 4 objectives; see hpo_core/kernels/_reference_pareto.py for
// the spec. The algorithms are those of hpo_core/kernels/_numba_pareto.py: a sweep for
// m = 2, a dimension sweep over f3 with a sorted 2-D front for m = 3 (O(n f)) and slabs
// over f4 for m = 4.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/special.hpp"

namespace hpo_core {
namespace {

using special::kInf;
using Index = std::ptrdiff_t;

bool all_finite(const double* a, Index size) {
  for (Index e = 0; e < size; ++e)
    if (!std::isfinite(a[e])) return false;
  return true;
}

// Row indices of q (n, m) in stable order of column col.
std::vector<Index> order_by(const double* q, Index n, Index m, Index col) {
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [q, m, col](Index a, Index b) { return q[a * m + col] < q[b * m + col]; });
  return order;
}

// Sweep in f1 order: a new running minimum of f2 adds a strip (see the reference).
double hv_2d(const double* q, Index n, const double* ref) {
  double total = 0.0, y_min = ref[1];
  for (const Index p : order_by(q, n, 2, 0)) {
    if (q[p * 2 + 1] < y_min) {
      total += (ref[0] - q[p * 2]) * (y_min - q[p * 2 + 1]);
      y_min = q[p * 2 + 1];
    }
  }
  return total;
}

// Dimension sweep over f3: after inserting the points with f3 <= z_t, the slab
// [z_t, z_{t+1}) adds area_2d * (z_{t+1} - z_t). The 2-D front is kept sorted by x
// (increasing) with y strictly decreasing; O(n f) for a 2-D front of size f.
double hv_3d(const double* q, Index n, const double* ref) {
  const std::vector<Index> order = order_by(q, n, 3, 2);
  std::vector<double> fx(static_cast<std::size_t>(n) + 1), fy(fx.size());
  Index f = 0;
  double total = 0.0, area = 0.0;
  for (Index t = 0; t < n; ++t) {
    const Index p = order[t];
    const double x = q[p * 3], y = q[p * 3 + 1];
    // j = number of front points with fx < x.
    const Index j = std::lower_bound(fx.begin(), fx.begin() + f, x) - fx.begin();
    const bool dominated = (j > 0 && fy[j - 1] <= y) || (j < f && fx[j] == x && fy[j] <= y);
    if (!dominated) {
      Index end = j;  // front points from j on with fy >= y are dominated by (x, y)
      while (end < f && fy[end] >= y) ++end;
      // Replace front[j, end) by (x, y).
      const Index shift = 1 - (end - j);
      if (shift > 0) {  // overlapping ranges: move_backward to the right, move to the left
        std::move_backward(fx.begin() + end, fx.begin() + f, fx.begin() + f + shift);
        std::move_backward(fy.begin() + end, fy.begin() + f, fy.begin() + f + shift);
      } else if (shift < 0) {
        std::move(fx.begin() + end, fx.begin() + f, fx.begin() + end + shift);
        std::move(fy.begin() + end, fy.begin() + f, fy.begin() + end + shift);
      }
      fx[j] = x;
      fy[j] = y;
      f += shift;
      area = 0.0;
      for (Index s = 0; s < f; ++s) {
        const double x_next = s + 1 < f ? fx[s + 1] : ref[0];
        area += (x_next - fx[s]) * (ref[1] - fy[s]);
      }
    }
    const double z_next = t + 1 < n ? q[order[t + 1] * 3 + 2] : ref[2];
    total += area * (z_next - q[p * 3 + 2]);
  }
  return total;
}

// Slabs over f4, each the 3-D volume of the points below it: O(n^2 f).
double hv_4d(const double* q, Index n, const double* ref) {
  const std::vector<Index> order = order_by(q, n, 4, 3);
  std::vector<double> prefix;
  prefix.reserve(static_cast<std::size_t>(3 * n));
  double total = 0.0;
  for (Index t = 0; t < n; ++t) {
    const Index p = order[t];
    prefix.insert(prefix.end(), q + p * 4, q + p * 4 + 3);
    const double z_next = t + 1 < n ? q[order[t + 1] * 4 + 3] : ref[3];
    const double dz = z_next - q[p * 4 + 3];
    if (dz > 0.0) total += hv_3d(prefix.data(), t + 1, ref) * dz;
  }
  return total;
}

// HV of points q (n, m), m <= 4, that all strictly dominate ref.
double hv_low(const double* q, Index n, Index m, const double* ref) {
  if (n == 0) return 0.0;
  if (!(all_finite(q, n * m) && all_finite(ref, m))) return kInf;  // an unbounded box
  if (m == 1) return ref[0] - *std::min_element(q, q + n);
  if (m == 2) return hv_2d(q, n, ref);
  if (m == 3) return hv_3d(q, n, ref);
  return hv_4d(q, n, ref);
}

// The rows of points (n, m) that strictly dominate ref, and their indices.
std::vector<double> inside_rows(const double* points, Index n, Index m, const double* ref,
                                std::vector<Index>& index) {
  std::vector<double> q;
  for (Index i = 0; i < n; ++i) {
    const double* row = points + i * m;
    bool inside = true;
    for (Index c = 0; c < m; ++c) inside = inside && row[c] < ref[c];
    if (inside) {
      q.insert(q.end(), row, row + m);
      index.push_back(i);
    }
  }
  return q;
}

}  // namespace

double hypervolume(const double* points, Index n, Index m, const double* ref) {
  std::vector<Index> index;
  const std::vector<double> q = inside_rows(points, n, m, ref, index);
  return hv_low(q.data(), static_cast<Index>(index.size()), m, ref);
}

}  // namespace hpo_core
