// Hypervolume kernels for m <= 4 objectives; see hpo_core/kernels/_reference.py for the
// spec. The algorithms are those of hpo_core/kernels/_numba.py: a sweep for m = 2, a
// dimension sweep over f3 with a sorted 2-D front for m = 3 (O(n f)), slabs over f4 for
// m = 4, the closed form of the m = 2 contributions and vol(p_i) - HV(limit set) above.
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

// Closed form of _reference._contributions_2d (finite points inside the box) in two
// passes over the (f1, f2) order: find the front and each point's owner f_i, then sweep
// the dominated points of every rectangle R_i.
void contributions_2d(const double* q, Index n, const double* ref, double* out) {
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(), [q](Index a, Index b) {
    return q[a * 2] < q[b * 2] || (q[a * 2] == q[b * 2] && q[a * 2 + 1] < q[b * 2 + 1]);
  });
  std::vector<char> is_front(static_cast<std::size_t>(n), 0);  // by position in order
  std::vector<Index> owner(static_cast<std::size_t>(n)), fcount(static_cast<std::size_t>(n), 0);
  std::vector<double> fx(static_cast<std::size_t>(n)), fy(static_cast<std::size_t>(n));
  Index f = 0;
  double y_min = kInf;
  for (Index t = 0; t < n; ++t) {
    const Index p = order[t];
    if (t > 0 && q[p * 2] == q[order[t - 1] * 2] && q[p * 2 + 1] == q[order[t - 1] * 2 + 1]) {
      is_front[t] = is_front[t - 1];  // a copy: same owner; copies cover each other
      owner[t] = owner[t - 1];
      if (is_front[t]) ++fcount[owner[t]];
      continue;
    }
    if (q[p * 2 + 1] < y_min) {
      fx[f] = q[p * 2];
      fy[f] = y_min = q[p * 2 + 1];
      fcount[f] = 1;
      is_front[t] = 1;
      ++f;
    }
    owner[t] = f - 1;
  }
  std::vector<double> contrib(static_cast<std::size_t>(f)), y_run(contrib.size());
  for (Index i = 0; i < f; ++i) {
    const double x_next = i + 1 < f ? fx[i + 1] : ref[0];
    const double y_prev = i > 0 ? fy[i - 1] : ref[1];
    contrib[i] = (x_next - fx[i]) * (y_prev - fy[i]);
    y_run[i] = y_prev;  // running minimum of f2 inside R_i
  }
  for (Index t = 0; t < n; ++t) {
    if (is_front[t]) continue;
    const Index i = owner[t];
    const double y = q[order[t] * 2 + 1];
    if (y < y_run[i]) {
      const double x_next = i + 1 < f ? fx[i + 1] : ref[0];
      contrib[i] -= (x_next - q[order[t] * 2]) * (y_run[i] - y);
      y_run[i] = y;
    }
  }
  std::fill(out, out + n, 0.0);
  for (Index t = 0; t < n; ++t)
    if (is_front[t] && fcount[owner[t]] == 1) out[order[t]] = contrib[owner[t]];
}

// contribution_i = vol(p_i) - HV({max(p_i, p_j) : j != i}); 0 when weakly dominated.
void contributions_by_limit(const double* q, Index n, Index m, const double* ref, double* out) {
  const bool finite = all_finite(q, n * m) && all_finite(ref, m);
  std::vector<double> limit(static_cast<std::size_t>(std::max<Index>(n - 1, 0) * m));
  for (Index i = 0; i < n; ++i) {
    out[i] = 0.0;
    const double* p = q + i * m;
    bool covered = false;
    for (Index j = 0; j < n && !covered; ++j) {
      if (j == i) continue;
      covered = true;
      for (Index c = 0; c < m && covered; ++c) covered = q[j * m + c] <= p[c];
    }
    if (covered) continue;
    if (!finite) {
      out[i] = kInf;
      continue;
    }
    double box = 1.0;
    for (Index c = 0; c < m; ++c) box *= ref[c] - p[c];
    Index s = 0;
    for (Index j = 0; j < n; ++j) {
      if (j == i) continue;
      for (Index c = 0; c < m; ++c) limit[s * m + c] = std::max(q[j * m + c], p[c]);
      ++s;
    }
    out[i] = box - hv_low(limit.data(), n - 1, m, ref);
  }
}

}  // namespace

double hypervolume(const double* points, Index n, Index m, const double* ref) {
  std::vector<Index> index;
  const std::vector<double> q = inside_rows(points, n, m, ref, index);
  return hv_low(q.data(), static_cast<Index>(index.size()), m, ref);
}

void hypervolume_contributions(const double* points, Index n, Index m, const double* ref,
                               double* out) {
  std::vector<Index> index;
  const std::vector<double> q = inside_rows(points, n, m, ref, index);
  const Index k = static_cast<Index>(index.size());
  std::vector<double> contrib(static_cast<std::size_t>(k));
  if (m == 2 && all_finite(q.data(), k * m) && all_finite(ref, m))
    contributions_2d(q.data(), k, ref, contrib.data());
  else
    contributions_by_limit(q.data(), k, m, ref, contrib.data());
  std::fill(out, out + n, 0.0);
  for (Index s = 0; s < k; ++s) out[index[s]] = contrib[s];
}

}  // namespace hpo_core
