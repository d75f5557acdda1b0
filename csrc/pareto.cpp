// Non-dominated sorting; see hpo_core/kernels/_reference_pareto.py for the spec.
#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "hpo_core/kernels.hpp"

namespace hpo_core {
namespace {

// Row indices in lexicographic order of the rows: every dominator comes first.
std::vector<std::size_t> lex_order(const double* v, std::size_t n, std::size_t m) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [v, m](std::size_t p, std::size_t q) {
    return std::lexicographical_compare(v + p * m, v + p * m + m, v + q * m, v + q * m + m);
  });
  return order;
}

// Whether row q dominates row p: <= in every objective and < in at least one.
bool dominates(const double* v, std::size_t m, std::size_t q, std::size_t p) {
  bool strict = false;
  const double* a = v + q * m;
  const double* b = v + p * m;
  for (std::size_t c = 0; c < m; ++c) {
    if (a[c] > b[c]) return false;
    strict = strict || a[c] < b[c];
  }
  return strict;
}

// (f2, f1) of a earlier in (f1, f2) order is below b's iff a dominates b.
bool key_below(double a1, double a2, double b1, double b2) {
  return a2 < b2 || (a2 == b2 && a1 < b1);
}

void rank_1d(const double* v, std::size_t n, std::int64_t* out) {
  const std::vector<std::size_t> order = lex_order(v, n, 1);
  std::int64_t r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && v[order[i]] > v[order[i - 1]]) ++r;
    out[order[i]] = r;
  }
}

void rank_2d(const double* v, std::size_t n, std::int64_t* out) {
  // Jensen (2003) sweep in (f1, f2) order: front r dominates p iff its latest member
  // does; those members' keys increase with r, so p's rank is a binary search.
  std::vector<double> last1, last2;
  for (std::size_t p : lex_order(v, n, 2)) {
    const double p1 = v[2 * p], p2 = v[2 * p + 1];
    std::size_t lo = 0, hi = last1.size();
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (key_below(last1[mid], last2[mid], p1, p2))
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == last1.size()) {
      last1.push_back(p1);
      last2.push_back(p2);
    } else {
      last1[lo] = p1;
      last2[lo] = p2;
    }
    out[p] = static_cast<std::int64_t>(lo);
  }
}

void rank_nd(const double* v, std::size_t n, std::size_t m, std::int64_t* out) {
  // ENS-BS (Zhang et al. 2015): in lexicographic order every dominator of p is ranked
  // already; if front r holds a dominator of p so does every lower front, so p's
  // rank is a binary search over the fronts. Newest members are checked first.
  std::vector<std::vector<std::size_t>> fronts;
  for (std::size_t p : lex_order(v, n, m)) {
    std::size_t lo = 0, hi = fronts.size();
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      const auto& f = fronts[mid];
      const bool dominated = std::any_of(f.rbegin(), f.rend(),
                                         [&](std::size_t q) { return dominates(v, m, q, p); });
      if (dominated)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == fronts.size()) fronts.emplace_back();
    fronts[lo].push_back(p);
    out[p] = static_cast<std::int64_t>(lo);
  }
}

}  // namespace

void nondominated_rank(const double* values, std::size_t n, std::size_t m, std::int64_t* out) {
  if (n == 0) return;
  if (m == 0) {
    std::fill(out, out + n, std::int64_t{0});
  } else if (m == 1) {
    rank_1d(values, n, out);
  } else if (m == 2) {
    rank_2d(values, n, out);
  } else {
    rank_nd(values, n, m, out);
  }
}

void is_pareto_front(const double* values, std::size_t n, std::size_t m, bool* out) {
  if (n == 0) return;
  if (m == 0) {
    std::fill(out, out + n, true);
    return;
  }
  std::fill(out, out + n, false);
  if (m == 1) {
    const double best = *std::min_element(values, values + n);
    for (std::size_t i = 0; i < n; ++i) out[i] = values[i] == best;
    return;
  }
  const std::vector<std::size_t> order = lex_order(values, n, m);
  if (m == 2) {
    // Earlier points have f1 <= p's: p is dominated iff the minimum key (f2, f1) so far
    // is below p's key.
    constexpr double kInf = std::numeric_limits<double>::infinity();
    double b1 = kInf, b2 = kInf;
    for (std::size_t p : order) {
      const double p1 = values[2 * p], p2 = values[2 * p + 1];
      if (!key_below(b1, b2, p1, p2)) {
        out[p] = true;
        b1 = p1;
        b2 = p2;
      }
    }
    return;
  }
  // A dominated point is dominated by some front member, which comes earlier.
  std::vector<std::size_t> front;
  for (std::size_t p : order) {
    const bool dominated = std::any_of(front.begin(), front.end(),
                                       [&](std::size_t q) { return dominates(values, m, q, p); });
    if (!dominated) {
      out[p] = true;
      front.push_back(p);
    }
  }
}

}  // namespace hpo_core
