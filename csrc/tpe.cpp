// Product-mixture (joint TPE) kernels; see hpo_core/kernels/_reference_tpe.py for the spec
// (tpe_propose and tpe_grid_keys: hpo_core/kernels/_reference_tpe_propose.py).
//
// The same fast paths and cut-offs as hpo_core/kernels/_numba_tpe.py (the proposal's
// search bounds log l as well as log g: best_candidate); the mixtures' terms
// (hpo_core/tpe_terms.hpp) are summed block by block where there are many points and
// components. The tests pin both compiled backends to the reference at 1e-10.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/special.hpp"
#include "hpo_core/tpe_terms.hpp"

namespace hpo_core {
namespace {

using special::kInf;
using tpe_terms::MixtureTerms;
using Index = std::ptrdiff_t;

}  // namespace

void log_pdf_product_mixture(const double* X_low, const double* X_high, const bool* discrete,
                             const double* C, Index n, const ProductSpace& sp,
                             const ProductMixture& mix, double* out) {
  // As _numba_tpe._log_pdf_product.
  MixtureTerms terms(X_low, X_high, discrete, C, n, sp, mix);
  for (Index i = 0; i < n; ++i) out[i] = terms.log_density(i);
}

void sample_product_mixture(const double* u_component, const double* U, const double* UC,
                            Index n, const ProductSpace& sp, const ProductMixture& mix,
                            double* out) {
  const Index k = mix.k, dn = sp.dn, dc = sp.dc, width = dn + dc;
  // Sequential cumulative sums divided by the total, exactly as numpy.cumsum and /=.
  std::vector<double> cum(static_cast<std::size_t>(k));
  double total = 0.0;
  for (Index j = 0; j < k; ++j) cum[static_cast<std::size_t>(j)] = total += mix.weights[j];
  for (double& c : cum) c /= total;
  for (Index i = 0; i < n; ++i) {
    // Number of cum <= u (numpy.searchsorted side="right"), capped at k - 1.
    const Index idx = std::upper_bound(cum.begin(), cum.end(), u_component[i]) - cum.begin();
    const Index j = std::min(idx, k - 1);
    double* row = out + i * width;
    for (Index d = 0; d < dn; ++d) {
      const double mu = mix.mus[j * dn + d], s = mix.sigmas[j * dn + d];
      const double a = (sp.low[d] - mu) / s, b = (sp.high[d] - mu) / s;
      const double u = U[i * dn + d];
      // Invert in linear space while the target probability is central (its rounding
      // error then moves z by < 1e-14); the tails take the log-space route.
      const double pa = special::ndtr(a);
      const double p = pa + u * (special::ndtr(b) - pa);
      const double z = (0.02 < p && p < 0.98) ? special::ndtri(p)
                                              : special::ppf_std_truncnorm(u, a, b);
      row[d] = std::min(std::max(mu + s * z, sp.low[d]), sp.high[d]);
    }
    for (Index q = 0; q < dc; ++q) {
      const double* probs = mix.cat_probs + j * sp.n_cols + sp.cat_offsets[q];
      const Index size = static_cast<Index>(sp.cat_sizes[q]);
      double cdf = 0.0;
      Index chosen = 0;  // categories whose cumulative probability is <= u
      for (Index c = 0; c < size; ++c) {
        cdf += probs[c];
        if (cdf <= UC[i * dc + q]) ++chosen;
      }
      row[dn + q] = static_cast<double>(std::min(chosen, size - 1));
    }
  }
}

namespace {

// Sorts idx[0..m) by x[idx[.]] ascending, ties in the order given (stable insertion).
inline void insertion_sort(Index* idx, Index m, const double* x, Index stride) {
  for (Index r = 1; r < m; ++r) {
    const Index p = idx[r];
    const double v = x[p * stride];
    Index q = r;
    while (q > 0 && x[idx[q - 1] * stride] > v) {
      idx[q] = idx[q - 1];
      --q;
    }
    idx[q] = p;
  }
}

// order[0..n): the rows of the strided column x (x[i * stride]) in ascending order of
// value, ties in row order (numpy.argsort(kind="stable")). The values lie in [lo, hi]
// (others are put in the end buckets, still sorted correctly): a counting sort into n
// equal-width buckets in row order, then a stable sort inside each bucket (insertion;
// std::stable_sort for a crowded one). Expected O(n) for values spread over the range,
// O(n log n) at worst (all in one bucket), against a radix sort's 8 passes.
class BucketSorter {
 public:
  void sort(const double* x, Index stride, Index n, double lo, double hi, Index* order) {
    if (n <= 32) {
      for (Index i = 0; i < n; ++i) order[i] = i;
      insertion_sort(order, n, x, stride);
      return;
    }
    const auto un = static_cast<std::size_t>(n);
    start_.assign(un + 1, 0);
    bucket_.resize(un);
    const double scale = hi > lo ? static_cast<double>(n) / (hi - lo) : 0.0;
    for (Index i = 0; i < n; ++i) {
      const double t = (x[i * stride] - lo) * scale;
      // NaN-safe clamp into [0, n - 1] (t >= 0 is false for NaN).
      const Index b = t >= 0.0 ? (t < static_cast<double>(n) ? static_cast<Index>(t) : n - 1) : 0;
      bucket_[static_cast<std::size_t>(i)] = b;
      ++start_[static_cast<std::size_t>(b) + 1];
    }
    for (std::size_t b = 0; b < un; ++b) start_[b + 1] += start_[b];
    fill_.assign(start_.begin(), start_.end() - 1);
    for (Index i = 0; i < n; ++i) order[fill_[static_cast<std::size_t>(bucket_[static_cast<std::size_t>(i)])]++] = i;
    for (std::size_t b = 0; b < un; ++b) {
      Index* first = order + start_[b];
      const Index m = start_[b + 1] - start_[b];
      if (m <= 1) continue;
      if (m <= 32) {
        insertion_sort(first, m, x, stride);
      } else {
        std::stable_sort(first, first + m,
                         [=](Index p, Index q) { return x[p * stride] < x[q * stride]; });
      }
    }
  }

 private:
  std::vector<Index> start_, fill_, bucket_;
};

}  // namespace

void parzen_bandwidths(const double* T, Index n, Index dn, const double* low, const double* high,
                       bool consider_endpoints, bool magic_clip, double* out) {
  // Rows in ascending order of value, ties in row order (numpy.argsort(kind="stable")).
  const auto un = static_cast<std::size_t>(n);
  BucketSorter sorter;
  std::vector<double> sorted(un);
  std::vector<Index> order(un);
  std::vector<double> column(un);
  for (Index d = 0; d < dn; ++d) {
    for (Index i = 0; i < n; ++i) column[static_cast<std::size_t>(i)] = T[i * dn + d];
    sorter.sort(column.data(), 1, n, low[d], high[d], order.data());
    for (Index r = 0; r < n; ++r) sorted[r] = column[static_cast<std::size_t>(order[r])];
    const double width = high[d] - low[d];
    const double floor =
        magic_clip ? width / std::min(100.0, static_cast<double>(n) + 2.0) : 1e-12;
    for (Index r = 0; r < n; ++r) {
      const double x = sorted[r];
      const double left = r == 0 ? low[d] : sorted[r - 1];
      const double right = r == n - 1 ? high[d] : sorted[r + 1];
      double s;
      if (!consider_endpoints && n >= 2 && r == 0)
        s = right - x;  // the extremes use only their inner neighbour
      else if (!consider_endpoints && n >= 2 && r == n - 1)
        s = x - left;
      else
        s = std::max(x - left, right - x);
      out[order[r] * dn + d] = std::min(std::max(s, floor), width);
    }
  }
}

void categorical_kernel_table(const double* C, Index n, Index dc, const std::int64_t* sizes,
                              const std::int64_t* offsets, double prior_weight, double* out) {
  const Index k = n + 1;
  Index total = 0;
  for (Index t = 0; t < dc; ++t) total += static_cast<Index>(sizes[t]);
  const double fill = n ? prior_weight / static_cast<double>(k) : 1.0;
  for (Index t = 0; t < dc; ++t) {
    const Index size = static_cast<Index>(sizes[t]);
    const double obs_norm = 1.0 / (fill * static_cast<double>(size) + 1.0);
    for (Index i = 0; i < k; ++i) {
      double* block = out + i * total + offsets[t];
      if (i < n) {
        std::fill(block, block + size, fill * obs_norm);
        block[static_cast<Index>(C[i * dc + t])] = (fill + 1.0) * obs_norm;
      } else {  // the prior row: uniform (also with prior_weight 0)
        std::fill(block, block + size, 1.0 / static_cast<double>(size));
      }
    }
  }
}

namespace {

// Log weights and log category probabilities of a mixture (the density kernel's form).
struct LogMixture {
  std::vector<double> log_weights, log_probs;
  ProductMixture view;
  LogMixture(const ProductMixture& mix, Index n_cols)
      : log_weights(static_cast<std::size_t>(mix.k)),
        log_probs(static_cast<std::size_t>(mix.k * n_cols)),
        view(mix) {
    for (Index j = 0; j < mix.k; ++j) log_weights[j] = std::log(mix.weights[j]);
    for (Index e = 0; e < mix.k * n_cols; ++e) log_probs[e] = std::log(mix.cat_probs[e]);
    view.weights = log_weights.data();
    view.cat_probs = log_probs.data();
  }
};

}  // namespace

namespace {

// The evaluated configurations tpe_propose passes over: sorted grid keys and rows of X.
struct Evaluated {
  const std::uint64_t* keys;
  Index n_keys;
  const std::uint64_t* key_strides;
  const double* X;
  Index x_stride_row, x_stride_col;
  const std::int64_t* cols;
  const std::int64_t* rows;
  Index n_rows;
  // The rows' values in the first dimension, contiguous (gathered at the first check),
  // and the grid indices of the candidate being checked.
  std::vector<double> first, index;

  bool empty() const { return n_keys == 0 && n_rows == 0; }

  // Whether candidate s (dn numeric values on the grid, then dc category indices) is one:
  // its key (sum_d index_d * key_strides[d] modulo 2^64) is among the keys, or a row has
  // its grid indices (index_d = rint((v_d - grid_low_d) / step_d), every step > 0; the
  // category indices as they are; a NaN equals nothing).
  bool contains(const double* s, Index dn, Index dc, const double* grid_low, const double* step) {
    if (n_keys > 0) {
      std::uint64_t key = 0;
      for (Index d = 0; d < dn; ++d)
        key += static_cast<std::uint64_t>(std::nearbyint((s[d] - grid_low[d]) / step[d])) * key_strides[d];
      for (Index q = 0; q < dc; ++q) key += static_cast<std::uint64_t>(s[dn + q]) * key_strides[dn + q];
      if (std::binary_search(keys, keys + n_keys, key)) return true;
    }
    const Index width = dn + dc;
    if (n_rows == 0 || width == 0) return false;
    if (first.empty()) {
      first.resize(static_cast<std::size_t>(n_rows));
      for (Index i = 0; i < n_rows; ++i) first[i] = X[rows[i] * x_stride_row + cols[0] * x_stride_col];
      index.resize(static_cast<std::size_t>(width));
    }
    for (Index d = 0; d < dn; ++d) index[d] = std::nearbyint((s[d] - grid_low[d]) / step[d]);
    for (Index q = dn; q < width; ++q) index[q] = s[q];
    // A value more than 1.5 steps from the candidate's has another grid index (the
    // candidate is within half a step of its grid point, clipped into the bounds; the
    // value within half a step of its own): most rows fail this test in the first
    // dimension, without a division. NaN fails it too.
    const double s0 = s[0], reach0 = dn > 0 ? 1.5 * step[0] : 0.0;
    for (Index i = 0; i < n_rows; ++i) {
      if (!(std::fabs(first[i] - s0) <= reach0)) continue;
      const double* x = X + rows[i] * x_stride_row;
      Index d = 0;
      for (; d < width; ++d) {
        const double v = x[cols[d] * x_stride_col];
        if (d >= dn) {
          if (v != index[d]) break;
          continue;
        }
        if (!(std::fabs(v - s[d]) <= 1.5 * step[d])) break;
        if (std::nearbyint((v - grid_low[d]) / step[d]) != index[d]) break;
      }
      if (d == width) return true;
    }
    return false;
  }
};

// Per row of S (n, width), the first row bit-equal to it; every row its own where some
// numeric dimension is continuous (equal rows are then all but impossible). Sorted by a
// hash of the bits, so O(n log n).
std::vector<Index> equal_rows(const double* S, Index n, Index width, Index dn, const bool* discrete) {
  std::vector<Index> rep(static_cast<std::size_t>(n));
  std::iota(rep.begin(), rep.end(), Index{0});
  for (Index d = 0; d < dn; ++d)
    if (!discrete[d]) return rep;
  std::vector<std::pair<std::uint64_t, Index>> keyed(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    std::uint64_t h = 1469598103934665603ULL;
    for (Index d = 0; d < width; ++d) {
      std::uint64_t bits;
      std::memcpy(&bits, S + i * width + d, sizeof bits);
      h = (h ^ bits) * 1099511628211ULL;
    }
    keyed[static_cast<std::size_t>(i)] = {h, i};
  }
  std::sort(keyed.begin(), keyed.end());  // by hash, then index: the first of equals first
  for (std::size_t a = 0; a < keyed.size();) {
    std::size_t b = a + 1;
    while (b < keyed.size() && keyed[b].first == keyed[a].first) ++b;
    for (std::size_t c = a + 1; c < b; ++c)  // same hash: the first earlier equal row
      for (std::size_t e = a; e < c; ++e) {
        const Index i = keyed[c].second, j = keyed[e].second;
        if (rep[static_cast<std::size_t>(j)] == j &&
            std::memcmp(S + i * width, S + j * width, static_cast<std::size_t>(width) * sizeof(double)) == 0) {
          rep[static_cast<std::size_t>(i)] = j;
          break;
        }
      }
    a = b;
  }
  return rep;
}

// tpe_best_candidate on mixtures whose log forms are given too (good_log, bad_log:
// log weights and log category probabilities; good's linear form draws the candidates).
void best_candidate(const double* u_component, const double* U, const double* UC, Index n,
                    const ProductSpace& sp, const ProductMixture& good,
                    const ProductMixture& good_log, const ProductMixture& bad_log,
                    const bool* is_log, const double* step, const double* grid_low,
                    const double* grid_high, Evaluated* evaluated, double* out, double* out_plain) {
  const Index dn = sp.dn, dc = sp.dc, width = dn + dc;
  std::vector<double> S(static_cast<std::size_t>(n * width));
  sample_product_mixture(u_component, U, UC, n, sp, good, S.data());
  // Numeric samples back to parameter values (exp, snap to the grid, clip), and the
  // (transformed) bin edges at which the densities are evaluated.
  std::vector<double> XL(static_cast<std::size_t>(n * dn)), XH(XL.size());
  std::vector<double> C(static_cast<std::size_t>(n * dc));
  const std::unique_ptr<bool[]> discrete(new bool[static_cast<std::size_t>(std::max<Index>(dn, 1))]);
  for (Index d = 0; d < dn; ++d) discrete[d] = step[d] > 0.0;
  for (Index i = 0; i < n; ++i) {
    double* row = S.data() + i * width;
    for (Index d = 0; d < dn; ++d) {
      double v = row[d];
      if (is_log[d]) v = std::exp(v);
      // nearbyint rounds half to even in the default mode, as numpy.round / rint.
      if (discrete[d]) v = grid_low[d] + std::nearbyint((v - grid_low[d]) / step[d]) * step[d];
      v = std::min(std::max(v, grid_low[d]), grid_high[d]);
      row[d] = v;
      const double half = 0.5 * step[d];
      double lo = v - half, hi = v + half;
      if (is_log[d]) {
        lo = std::log(lo);
        hi = std::log(hi);
      }
      XL[i * dn + d] = lo;
      XH[i * dn + d] = hi;
    }
    for (Index q = 0; q < dc; ++q) C[i * dc + q] = row[dn + q];
  }
  // Candidates that are evaluated configurations are passed over, unless every one is
  // (then the plain argmax). Checked lazily, as the search below reaches a candidate:
  // state 0 unknown, 1 evaluated, 2 not.
  const bool has_skip = evaluated != nullptr && !evaluated->empty();
  std::vector<char> state(static_cast<std::size_t>(n), 0);
  const auto is_skipped = [&](Index i) {
    char& st = state[static_cast<std::size_t>(i)];
    if (st == 0) st = evaluated->contains(S.data() + i * width, dn, dc, grid_low, step) ? 1 : 2;
    return st == 1;
  };
  // log l and log g exactly only where they can decide: an upper bound of log l (erfc-
  // free, MixtureTerms::upper_bound) and a lower bound of log g (one term of the mixture,
  // summed as log_density sums it) give an upper bound of log l - log g, and a candidate
  // whose bound is below the best value found so far cannot be the first maximum (the
  // bound of log l has a margin for rounding; the computed log g stays above its computed
  // bound, rounding being monotonic). Candidates are visited by decreasing bound; g is
  // usually dominated by one term near a candidate while the candidates' values spread
  // over several nats, so typically one or two of them need the full sums. The result is
  // numpy.argmax's over the full values: the first maximum, a NaN counting as the maximum.
  MixtureTerms good_terms(XL.data(), XH.data(), discrete.get(), C.data(), n, sp, good_log);
  MixtureTerms bad_terms(XL.data(), XH.data(), discrete.get(), C.data(), n, sp, bad_log);
  // On a grid, candidates drawn from the same good component often land on the same
  // point (and evaluated ones on the mode of l): equal candidates have bit-equal inputs,
  // hence bit-equal log l and log g, computed once for the first of them (rep).
  const std::vector<Index> rep = equal_rows(S.data(), n, width, dn, discrete.get());
  // Exact log l and log g, each summed once per distinct candidate and kept (a second
  // search, the plain argmax beside the skipping one, reads them again).
  std::vector<double> log_l(static_cast<std::size_t>(n), std::numeric_limits<double>::quiet_NaN()),
      log_g(log_l);
  std::vector<char> has_log_l(static_cast<std::size_t>(n), 0), has_log_g(has_log_l);
  const auto exact = [&](MixtureTerms& terms, std::vector<double>& value, std::vector<char>& has, Index i) {
    const auto k = static_cast<std::size_t>(rep[static_cast<std::size_t>(i)]);
    if (!has[k]) {
      value[k] = terms.log_density(static_cast<Index>(k));
      has[k] = 1;
    }
    return value[k];
  };
  const auto exact_log_l = [&](Index i) { return exact(good_terms, log_l, has_log_l, i); };
  const auto exact_log_g = [&](Index i) { return exact(bad_terms, log_g, has_log_g, i); };
  std::vector<double> bound(static_cast<std::size_t>(n));
  std::vector<Index> order(static_cast<std::size_t>(n));
  bool any_nan = false;
  std::vector<double> lower_g(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    lower_g[i] = bad_terms.lower_bound(i);
    bound[i] = good_terms.upper_bound(i) - lower_g[i];
    any_nan = any_nan || std::isnan(bound[i]);
    order[i] = i;
  }
  if (!any_nan)
    std::stable_sort(order.begin(), order.end(), [&](Index p, Index q) { return bound[p] > bound[q]; });
  const auto search = [&](bool use_skip) {
    Index best = -1;
    double best_acq = -kInf;
    if (any_nan) {  // no bounds to trust: every value, in index order
      for (Index i = 0; i < n; ++i) {
        if (use_skip && is_skipped(i)) continue;
        const double acq = exact_log_l(i) - exact_log_g(i);
        if (std::isnan(acq)) {
          if (best < 0 || !std::isnan(best_acq)) best = i;
          break;
        }
        if (best < 0 || acq > best_acq) {
          best = i;
          best_acq = acq;
        }
      }
      return best;
    }
    for (const Index i : order) {
      if (best >= 0 && bound[i] < best_acq) break;  // every later bound is lower still
      if (use_skip && is_skipped(i)) continue;
      // The tighter bound with log l exact (few components, cheap beside log g's many).
      if (best >= 0 && exact_log_l(i) - lower_g[i] < best_acq) continue;
      const double acq = exact_log_l(i) - exact_log_g(i);
      if (std::isnan(acq)) {  // NaN counts as the maximum: the first NaN in index order
        if (!std::isnan(best_acq) || i < best) {
          best = i;
          best_acq = acq;
        }
        continue;
      }
      if (std::isnan(best_acq) && best >= 0) continue;
      if (best < 0 || acq > best_acq || (acq == best_acq && i < best)) {
        best = i;
        best_acq = acq;
      }
    }
    return best;
  };
  // With skipping, no candidate is found only when every one is evaluated (no break
  // happens before one is kept): then the plain argmax.
  Index best = has_skip ? search(true) : -1;
  Index plain = -1;
  if (best < 0) {
    best = plain = search(false);
  } else if (out_plain != nullptr) {
    plain = search(false);
  }
  std::copy(S.data() + best * width, S.data() + (best + 1) * width, out);
  if (out_plain != nullptr) {
    const Index p = plain >= 0 ? plain : best;
    std::copy(S.data() + p * width, S.data() + (p + 1) * width, out_plain);
  }
}

}  // namespace

void tpe_best_candidate(const double* u_component, const double* U, const double* UC, Index n,
                        const ProductSpace& sp, const ProductMixture& good,
                        const ProductMixture& bad, const bool* is_log, const double* step,
                        const double* grid_low, const double* grid_high, double* out) {
  const LogMixture good_log(good, sp.n_cols), bad_log(bad, sp.n_cols);
  best_candidate(u_component, U, UC, n, sp, good, good_log.view, bad_log.view, is_log, step,
                 grid_low, grid_high, nullptr, out, nullptr);
}

}  // namespace hpo_core

namespace hpo_core {
namespace {

// One group's Parzen estimator: its m observations plus the prior component, in linear
// form (weights, category probabilities: `view`) where `linear`, and in log form
// (`log_view`). The category table's log is built from the two values each row block
// takes (categorical_kernel_table's), not by k * sum(sizes) calls to log.
struct Estimator {
  std::vector<double> mus, sigmas, weights, cat_probs, log_weights, log_cat_probs;
  ProductMixture view, log_view;

  Estimator(const double* T, const double* C, const double* w, Index m, const ProductSpace& sp,
            double prior_weight, bool consider_endpoints, bool magic_clip, Index clip_count,
            const double* step, bool linear)
      : mus(static_cast<std::size_t>((m + 1) * sp.dn)),
        sigmas(mus.size()),
        weights(static_cast<std::size_t>(m + 1)),
        log_weights(weights.size()),
        log_cat_probs(static_cast<std::size_t>((m + 1) * sp.n_cols)) {
    const Index dn = sp.dn, k = m + 1;
    std::copy(T, T + m * dn, mus.begin());
    if (magic_clip && m > 0 && clip_count > m) {
      // The floor of min(100, c + 2) kernels, c = clip_count in continuous dimensions:
      // the bandwidths without the floor, then clipped (as the reference, step by step).
      parzen_bandwidths(T, m, dn, sp.low, sp.high, consider_endpoints, false, sigmas.data());
      for (Index d = 0; d < dn; ++d) {
        const double width = sp.high[d] - sp.low[d];
        const double c = step[d] > 0.0 ? static_cast<double>(m) : static_cast<double>(clip_count);
        const double floor = width / std::min(100.0, c + 2.0);
        for (Index i = 0; i < m; ++i) {
          double& s = sigmas[static_cast<std::size_t>(i * dn + d)];
          s = std::min(std::max(s, floor), width);
        }
      }
    } else {
      parzen_bandwidths(T, m, dn, sp.low, sp.high, consider_endpoints, magic_clip, sigmas.data());
    }
    for (Index d = 0; d < dn; ++d) {
      mus[static_cast<std::size_t>(m * dn + d)] = 0.5 * (sp.low[d] + sp.high[d]);
      sigmas[static_cast<std::size_t>(m * dn + d)] = sp.high[d] - sp.low[d];
    }
    std::copy(w, w + m, weights.begin());
    weights[static_cast<std::size_t>(m)] = m > 0 ? prior_weight : 1.0;
    double total = 0.0;
    for (const double x : weights) total += x;
    for (std::size_t j = 0; j < weights.size(); ++j) {
      weights[j] /= total;
      log_weights[j] = std::log(weights[j]);
    }
    if (linear) {
      cat_probs.resize(log_cat_probs.size());
      categorical_kernel_table(C, m, sp.dc, sp.cat_sizes, sp.cat_offsets, prior_weight,
                               cat_probs.data());
    }
    // As categorical_kernel_table: fill * norm everywhere, (fill + 1) * norm on the
    // observed category; the prior row uniform (log 0 = -inf where prior_weight is 0).
    const double fill = m > 0 ? prior_weight / static_cast<double>(k) : 1.0;
    for (Index q = 0; q < sp.dc; ++q) {
      const Index size = static_cast<Index>(sp.cat_sizes[q]), off = static_cast<Index>(sp.cat_offsets[q]);
      const double obs_norm = 1.0 / (fill * static_cast<double>(size) + 1.0);
      const double log_other = std::log(fill * obs_norm), log_own = std::log((fill + 1.0) * obs_norm);
      const double log_prior = std::log(1.0 / static_cast<double>(size));
      for (Index i = 0; i < k; ++i) {
        double* block = log_cat_probs.data() + i * sp.n_cols + off;
        std::fill(block, block + size, i < m ? log_other : log_prior);
        if (i < m) block[static_cast<Index>(C[i * sp.dc + q])] = log_own;
      }
    }
    view = {k, mus.data(), sigmas.data(), weights.data(), cat_probs.data()};
    log_view = {k, mus.data(), sigmas.data(), log_weights.data(), log_cat_probs.data()};
  }
};

}  // namespace

void tpe_propose(const double* X, Index x_stride_row, Index x_stride_col, const std::int64_t* rows,
                 Index n_rows, Index n_below, const std::int64_t* cols, const double* weights,
                 const double* u, Index n_candidates, const ProductSpace& sp, const bool* is_log,
                 const double* step, const double* grid_low, const double* grid_high,
                 double prior_weight, bool consider_endpoints, bool magic_clip, Index clip_count,
                 const std::uint64_t* skip_keys, Index n_skip, const std::uint64_t* key_strides,
                 const std::int64_t* skip_rows, Index n_skip_rows, double* out, double* out_plain) {
  const Index dn = sp.dn, dc = sp.dc;
  // Gather: numeric values logged where is_log and clipped into the bounds (values drawn
  // under an older, wider range); category indices checked.
  std::vector<double> T(static_cast<std::size_t>(n_rows * dn)), C(static_cast<std::size_t>(n_rows * dc));
  for (Index i = 0; i < n_rows; ++i) {
    const double* x = X + rows[i] * x_stride_row;
    for (Index d = 0; d < dn; ++d) {
      double v = x[cols[d] * x_stride_col];
      if (is_log[d]) v = std::log(v);
      T[static_cast<std::size_t>(i * dn + d)] = std::min(std::max(v, sp.low[d]), sp.high[d]);
    }
    for (Index q = 0; q < dc; ++q) {
      const double c = x[cols[dn + q] * x_stride_col];
      if (!(c >= 0.0 && c < static_cast<double>(sp.cat_sizes[q]) && c == std::floor(c)))
        throw std::invalid_argument(
            "`X` must hold category indices in [0, size) in its categorical columns, but got " +
            std::to_string(c) + ".");
      C[static_cast<std::size_t>(i * dc + q)] = c;
    }
  }
  const Index n_above = n_rows - n_below;
  const Estimator good(T.data(), C.data(), weights, n_below, sp, prior_weight, consider_endpoints,
                       magic_clip, clip_count, step, true);
  const Estimator bad(T.data() + n_below * dn, C.data() + n_below * dc, weights + n_below, n_above,
                      sp, prior_weight, consider_endpoints, magic_clip, clip_count, step, false);
  // The uniforms' three blocks as the contiguous arrays tpe_best_candidate takes.
  const Index width = 1 + dn + dc;
  std::vector<double> u_component(static_cast<std::size_t>(n_candidates)),
      U(static_cast<std::size_t>(n_candidates * dn)), UC(static_cast<std::size_t>(n_candidates * dc));
  for (Index i = 0; i < n_candidates; ++i) {
    const double* row = u + i * width;
    u_component[static_cast<std::size_t>(i)] = row[0];
    std::copy(row + 1, row + 1 + dn, U.begin() + i * dn);
    std::copy(row + 1 + dn, row + width, UC.begin() + i * dc);
  }
  Evaluated evaluated{skip_keys,    n_skip, key_strides, X,           x_stride_row,
                      x_stride_col, cols,   skip_rows,   n_skip_rows, {},
                      {}};
  best_candidate(u_component.data(), U.data(), UC.data(), n_candidates, sp, good.view,
                 good.log_view, bad.log_view, is_log, step, grid_low, grid_high, &evaluated, out,
                 out_plain);
}

}  // namespace hpo_core
