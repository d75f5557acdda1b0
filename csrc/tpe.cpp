// Product-mixture (joint TPE) kernels; see hpo_core/kernels/_reference_tpe.py for the spec.
//
// The same loops, fast paths and cut-offs as hpo_core/kernels/_numba_tpe.py, so the two
// compiled backends agree to rounding; the tests pin both to the reference at 1e-10.
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

namespace hpo_core {
namespace {

using special::kInf;
using special::kSqrt1_2;
using Index = std::ptrdiff_t;

// (k,) log w_j - sum_d log Z_jd - sum_{d continuous} (log s_jd + log sqrt(2 pi)).
std::vector<double> product_constants(const bool* discrete, const ProductSpace& sp,
                                      const ProductMixture& mix) {
  std::vector<double> out(static_cast<std::size_t>(mix.k));
  for (Index j = 0; j < mix.k; ++j) {
    double acc = mix.weights[j];
    double prod = 1.0;  // product of the continuous sigmas not yet logged
    for (Index d = 0; d < sp.dn; ++d) {
      const double s = mix.sigmas[j * sp.dn + d], mu = mix.mus[j * sp.dn + d];
      const double a = (sp.low[d] - mu) / s, b = (sp.high[d] - mu) / s;
      if (a <= 0.0 && 0.0 <= b) {
        // Mean inside the bounds (always, for TPE): Z = 1 - Phi(a) - Phi(-b). A tail
        // beyond 9 sigma (< 1.2e-19) is dropped: log Z changes by less than that
        // absolutely, and most components of g need no erfc (nor log1p) at all.
        double tails = 0.0;
        if (a > -9.0) tails += 0.5 * std::erfc(-a * kSqrt1_2);
        if (b < 9.0) tails += 0.5 * std::erfc(b * kSqrt1_2);
        if (tails > 0.0) acc -= tails < 0.5 ? std::log1p(-tails) : special::log_gauss_mass(a, b);
      } else {
        acc -= special::log_gauss_mass(a, b);
      }
      if (!discrete[d]) {
        // One log per component instead of one per dimension: the sigmas are multiplied
        // while the product stays far from overflow and underflow (relative rounding
        // of the product ~ dn * 1e-16, i.e. that much absolute error in its log).
        acc -= special::kLogSqrt2Pi;
        if (s < 1e-100 || s > 1e100) {
          acc -= std::log(s);  // an extreme sigma alone could push the product out of range
        } else {
          prod *= s;
          if (prod < 1e-150 || prod > 1e150) {
            acc -= std::log(prod);
            prod = 1.0;
          }
        }
      }
    }
    out[static_cast<std::size_t>(j)] = acc - std::log(prod);
  }
  return out;
}

// log(Phi(b) - Phi(a)) for a < b. Fast path for bins neither narrow nor far in a tail:
// the difference of the two tails on the side of 0 where both are <= 1/2 (or 1 minus
// both when [a, b] straddles 0). With b - a >= 1e-3 the larger tail is at most ~1e3
// times the difference, so the relative error stays below ~1e-13; |a|, |b| < 37 keeps
// erfc from underflowing. Otherwise the log-space special::log_gauss_mass.
double log_bin_mass(double a, double b) {
  if (b - a >= 1e-3 && a > -37.0 && b < 37.0) {
    double mass;
    if (a >= 0.0)
      mass = 0.5 * (std::erfc(a * kSqrt1_2) - std::erfc(b * kSqrt1_2));
    else if (b <= 0.0)
      mass = 0.5 * (std::erfc(-b * kSqrt1_2) - std::erfc(-a * kSqrt1_2));
    else
      mass = 1.0 - 0.5 * (std::erfc(-a * kSqrt1_2) + std::erfc(b * kSqrt1_2));
    if (mass > 1e-300) return std::log(mass);
  }
  return special::log_gauss_mass(a, b);
}

// Log bin masses log(Phi(b) - Phi(a)) per (discrete dimension, component, distinct bin),
// computed on first use. Candidates snapped to a grid share bins, so this saves most
// erfc calls of TPE's proposals without changing a result: equal bins give equal
// inputs. Used while the table stays small (kMaxEntries); otherwise nothing is cached.
class BinCache {
 public:
  static constexpr Index kMaxEntries = Index{1} << 18;  // 2 MB of doubles

  BinCache(const double* X_low, const double* X_high, const bool* discrete, Index n, Index dn,
           Index k)
      : n_(n), dims_(static_cast<std::size_t>(dn), -1) {
    for (Index e = 0; e < n * dn; ++e)
      if (std::isnan(X_low[e]) || std::isnan(X_high[e])) return;  // no order: no cache
    std::vector<Index> order(static_cast<std::size_t>(n));
    for (Index d = 0; d < dn; ++d) {
      if (!discrete[d]) continue;
      const auto lo = [=](Index p) { return X_low[p * dn + d]; };
      const auto hi = [=](Index p) { return X_high[p * dn + d]; };
      std::iota(order.begin(), order.end(), Index{0});
      std::sort(order.begin(), order.end(), [&](Index p, Index q) {
        return lo(p) < lo(q) || (lo(p) == lo(q) && hi(p) < hi(q));
      });
      const Index q = static_cast<Index>(bases_.size());
      dims_[static_cast<std::size_t>(d)] = q;
      bin_of_.resize(static_cast<std::size_t>((q + 1) * n));
      Index bins = 0;  // distinct (lo, hi) pairs so far
      for (Index r = 0; r < n; ++r) {
        const Index p = order[r];
        if (r == 0 || lo(p) != lo(order[r - 1]) || hi(p) != hi(order[r - 1])) ++bins;
        bin_of_[q * n + p] = bins - 1;
      }
      bases_.push_back(entries_);
      n_bins_.push_back(bins);
      entries_ += k * bins;
    }
    if (entries_ > 0 && entries_ <= kMaxEntries) {
      // Uninitialised values and one "computed" bit per entry: clearing the bits is
      // 64 times less memory traffic than filling the table with a sentinel.
      values_.reset(new double[static_cast<std::size_t>(entries_)]);
      known_.assign(static_cast<std::size_t>((entries_ + 63) / 64), 0);
    }
  }

  // log_bin_mass(a, b) of candidate i, component j, discrete dimension d.
  double get(Index i, Index j, Index d, double a, double b) {
    if (!values_) return log_bin_mass(a, b);
    const Index q = dims_[static_cast<std::size_t>(d)];
    const auto e = static_cast<std::size_t>(bases_[q] + j * n_bins_[q] + bin_of_[q * n_ + i]);
    const std::uint64_t bit = std::uint64_t{1} << (e & 63);
    if (!(known_[e >> 6] & bit)) {
      values_[e] = log_bin_mass(a, b);
      known_[e >> 6] |= bit;
    }
    return values_[e];
  }

 private:
  Index n_;
  Index entries_ = 0;
  std::vector<Index> dims_;  // table number of each discrete dimension, -1 otherwise
  std::vector<Index> bases_, n_bins_, bin_of_;
  std::unique_ptr<double[]> values_;
  std::vector<std::uint64_t> known_;
};

// cheap[j * n + i]: constant, categorical and continuous part of term (i, j), component-
// major so the inner loops run over contiguous candidates and vectorise.
void cheap_terms(const double* X_low, const bool* discrete, const double* C, Index n,
                 const ProductSpace& sp, const ProductMixture& mix,
                 const std::vector<double>& inv_s, std::vector<double>& cheap) {
  const std::vector<double> constant = product_constants(discrete, sp, mix);
  std::vector<double> XT(static_cast<std::size_t>(sp.dn * n));  // (dn, n)
  for (Index i = 0; i < n; ++i)
    for (Index d = 0; d < sp.dn; ++d) XT[d * n + i] = X_low[i * sp.dn + d];
  std::vector<Index> CT(static_cast<std::size_t>(sp.dc * n));  // (dc, n) table columns
  for (Index q = 0; q < sp.dc; ++q)
    for (Index i = 0; i < n; ++i)
      CT[q * n + i] = static_cast<Index>(sp.cat_offsets[q]) + static_cast<Index>(C[i * sp.dc + q]);
  for (Index j = 0; j < mix.k; ++j) {
    double* row = cheap.data() + j * n;
    const double c0 = constant[static_cast<std::size_t>(j)];
    std::fill(row, row + n, c0);
    if (c0 == -kInf) continue;
    const double* lp = mix.cat_probs + j * sp.n_cols;
    for (Index q = 0; q < sp.dc; ++q) {
      const Index* cols = CT.data() + q * n;
      for (Index i = 0; i < n; ++i) row[i] += lp[cols[i]];
    }
    for (Index d = 0; d < sp.dn; ++d) {
      if (discrete[d]) continue;
      const double m = mix.mus[j * sp.dn + d], w = inv_s[j * sp.dn + d];
      const double* x = XT.data() + d * n;
      for (Index i = 0; i < n; ++i) {
        const double z = (x[i] - m) * w;
        row[i] -= 0.5 * z * z;
      }
    }
  }
}

}  // namespace

namespace {

// log(x) for x > 0 within about 0.01: the exponent and a quadratic in the mantissa,
// no libm call. For choices between components only, never for a result.
inline double coarse_log(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const auto e = static_cast<double>(static_cast<int>((bits >> 52) & 0x7FF) - 1023);
  bits = (bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1023} << 52);
  double m;
  std::memcpy(&m, &bits, sizeof m);  // in [1, 2)
  const double t = m - 1.0;
  return 0.6931471805599453 * (e + t * (1.3466 - 0.3466 * t));
}

// The log terms log(w_j f_j(x_i)) of one mixture at n points, evaluated lazily: the
// cheap part of every term (constant, categorical and continuous dimensions) up front,
// the (erfc-based) bin masses of discrete dimensions only where they can matter.
class MixtureTerms {
 public:
  MixtureTerms(const double* X_low, const double* X_high, const bool* discrete, const double* C,
               Index n, const ProductSpace& sp, const ProductMixture& mix)
      : X_low_(X_low), X_high_(X_high), discrete_(discrete), n_(n), dn_(sp.dn), mix_(mix),
        inv_s_(static_cast<std::size_t>(mix.k * sp.dn)),
        cheap_(static_cast<std::size_t>(mix.k * n)),
        j_best_(static_cast<std::size_t>(n), -1),
        // Exact cut-off: the bin factors still to add are <= 0 in log space, so a partial
        // sum below (max - cut) bounds the whole term, and k such terms together change
        // the sum by less than k e^-cut = e^-42 relative, below float64 resolution.
        cut_(42.0 + std::log(static_cast<double>(std::max<Index>(mix.k, 1)))),
        bins_(X_low, X_high, discrete, n, sp.dn, mix.k) {
    const Index k = mix.k;
    for (Index e = 0; e < k * dn_; ++e) inv_s_[e] = 1.0 / mix.sigmas[e];  // multiply, not divide
    cheap_terms(X_low, discrete, C, n, sp, mix, inv_s_, cheap_);
    // Per point, the component whose term is probably the largest: the cheap part plus
    // an estimate of each bin's log mass (the density at the bin's midpoint times its
    // width, at most 1), with a coarse log of the sigma. Only the choice depends on the
    // estimate: any component's exact term is a lower bound of the largest, which is
    // all the cut-off and lower_bound need; a good choice makes both tight.
    std::vector<Index> disc_dims;
    for (Index d = 0; d < dn_; ++d)
      if (discrete[d]) disc_dims.push_back(d);
    const auto nd = static_cast<Index>(disc_dims.size());
    std::vector<double> mid(static_cast<std::size_t>(nd * n)), log_width(mid.size());
    for (Index q = 0; q < nd; ++q) {
      const Index d = disc_dims[static_cast<std::size_t>(q)];
      for (Index i = 0; i < n; ++i) {
        mid[static_cast<std::size_t>(q * n + i)] = 0.5 * (X_low[i * dn_ + d] + X_high[i * dn_ + d]);
        log_width[static_cast<std::size_t>(q * n + i)] =
            std::log(X_high[i * dn_ + d] - X_low[i * dn_ + d]) - special::kLogSqrt2Pi;
      }
    }
    std::vector<double> best(static_cast<std::size_t>(n), -kInf), est(static_cast<std::size_t>(n));
    for (Index j = 0; j < k; ++j) {
      const double* row = cheap_.data() + j * n;
      std::copy(row, row + n, est.begin());
      for (Index q = 0; q < nd; ++q) {
        const Index d = disc_dims[static_cast<std::size_t>(q)];
        const double mu = mix.mus[j * dn_ + d], w = inv_s_[static_cast<std::size_t>(j * dn_ + d)];
        const double log_w = -coarse_log(mix.sigmas[j * dn_ + d]);
        const double* m = mid.data() + q * n;
        const double* lw = log_width.data() + q * n;
        for (Index i = 0; i < n; ++i) {
          const double z = (m[i] - mu) * w;
          est[static_cast<std::size_t>(i)] += std::min(0.0, lw[i] + log_w - 0.5 * z * z);
        }
      }
      for (Index i = 0; i < n; ++i) {
        const auto ui = static_cast<std::size_t>(i);
        if (row[i] == -kInf) continue;
        if (j_best_[ui] < 0 || est[ui] > best[ui]) {
          best[ui] = est[ui];
          j_best_[ui] = j;
        }
      }
    }
  }

  // A lower bound of log_density(i): the exact term of the chosen component, summed as
  // log_density sums it (so never above its result).
  double lower_bound(Index i) {
    const Index j = j_best_[static_cast<std::size_t>(i)];
    return j < 0 ? -kInf : term(i, j, -kInf);
  }

  // log sum_j exp(term(i, j)), skipping (exactly) the terms more than cut below the
  // largest; the bound used is the term of the chosen component, taken first.
  double log_density(Index i) {
    const Index j_best = j_best_[static_cast<std::size_t>(i)];
    if (j_best < 0) return -kInf;
    double t_max = -kInf, acc = 0.0;  // acc: sum of exp(term - t_max) over kept terms
    for (Index jj = -1; jj < mix_.k; ++jj) {
      const Index j = jj < 0 ? j_best : jj;
      if (jj == j_best) continue;
      const double t = term(i, j, t_max - cut_);
      if (t == -kInf || t < t_max - cut_) continue;
      if (t > t_max) {  // online logsumexp: rescale what was accumulated
        acc = t_max > -kInf ? acc * std::exp(t_max - t) + 1.0 : 1.0;
        t_max = t;
      } else {
        acc += std::exp(t - t_max);
      }
    }
    return t_max > -kInf ? t_max + std::log(acc) : -kInf;
  }

 private:
  // Term (i, j): the cheap part plus the bin masses, in dimension order; stops early
  // (with a value below floor) once the partial sum is below floor.
  double term(Index i, Index j, double floor) {
    double t = cheap_[static_cast<std::size_t>(j * n_ + i)];
    if (t == -kInf || t < floor) return t;
    for (Index d = 0; d < dn_; ++d) {
      if (!discrete_[d]) continue;
      const double w = inv_s_[static_cast<std::size_t>(j * dn_ + d)], mu = mix_.mus[j * dn_ + d];
      t += bins_.get(i, j, d, (X_low_[i * dn_ + d] - mu) * w, (X_high_[i * dn_ + d] - mu) * w);
      if (t < floor) break;
    }
    return t;
  }

  const double *X_low_, *X_high_;
  const bool* discrete_;
  Index n_, dn_;
  const ProductMixture& mix_;
  std::vector<double> inv_s_, cheap_;
  std::vector<Index> j_best_;
  double cut_;
  BinCache bins_;
};

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

// tpe_best_candidate on mixtures whose log forms are given too (good_log, bad_log:
// log weights and log category probabilities; good's linear form draws the candidates).
void best_candidate(const double* u_component, const double* U, const double* UC, Index n,
                    const ProductSpace& sp, const ProductMixture& good,
                    const ProductMixture& good_log, const ProductMixture& bad_log,
                    const bool* is_log, const double* step, const double* grid_low,
                    const double* grid_high, double* out) {
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
  std::vector<double> log_l(static_cast<std::size_t>(n));
  log_pdf_product_mixture(XL.data(), XH.data(), discrete.get(), C.data(), n, sp, good_log, log_l.data());
  // log g exactly only where it can decide: a lower bound of log g (one term of the
  // mixture, summed as log_density sums it) gives an upper bound of log l - log g, and
  // a candidate whose bound is below the best value found so far cannot be the first
  // maximum (rounding is monotonic, so the computed value stays below the computed
  // bound). Candidates are visited by decreasing bound; g is usually dominated by one
  // term near a candidate while the candidates' values spread over several nats, so
  // typically one or two of them need the full sum. The result is numpy.argmax's over
  // the full values: the first maximum, a NaN counting as the maximum.
  MixtureTerms bad_terms(XL.data(), XH.data(), discrete.get(), C.data(), n, sp, bad_log);
  std::vector<double> bound(static_cast<std::size_t>(n));
  std::vector<Index> order(static_cast<std::size_t>(n));
  bool any_nan = false;
  for (Index i = 0; i < n; ++i) {
    bound[i] = log_l[i] - bad_terms.lower_bound(i);
    any_nan = any_nan || std::isnan(bound[i]);
    order[i] = i;
  }
  Index best = -1;
  double best_acq = -kInf;
  if (any_nan) {  // no bounds to trust: every value, in index order
    for (Index i = 0; i < n; ++i) {
      const double acq = log_l[i] - bad_terms.log_density(i);
      if (std::isnan(acq)) {
        if (best < 0 || !std::isnan(best_acq)) best = i;
        break;
      }
      if (best < 0 || acq > best_acq) {
        best = i;
        best_acq = acq;
      }
    }
  } else {
    std::stable_sort(order.begin(), order.end(), [&](Index p, Index q) { return bound[p] > bound[q]; });
    for (const Index i : order) {
      if (best >= 0 && bound[i] < best_acq) break;  // every later bound is lower still
      const double acq = log_l[i] - bad_terms.log_density(i);
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
  }
  std::copy(S.data() + best * width, S.data() + (best + 1) * width, out);
}

}  // namespace

void tpe_best_candidate(const double* u_component, const double* U, const double* UC, Index n,
                        const ProductSpace& sp, const ProductMixture& good,
                        const ProductMixture& bad, const bool* is_log, const double* step,
                        const double* grid_low, const double* grid_high, double* out) {
  const LogMixture good_log(good, sp.n_cols), bad_log(bad, sp.n_cols);
  best_candidate(u_component, U, UC, n, sp, good, good_log.view, bad_log.view, is_log, step,
                 grid_low, grid_high, out);
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
            double prior_weight, bool consider_endpoints, bool magic_clip, bool linear)
      : mus(static_cast<std::size_t>((m + 1) * sp.dn)),
        sigmas(mus.size()),
        weights(static_cast<std::size_t>(m + 1)),
        log_weights(weights.size()),
        log_cat_probs(static_cast<std::size_t>((m + 1) * sp.n_cols)) {
    const Index dn = sp.dn, k = m + 1;
    std::copy(T, T + m * dn, mus.begin());
    parzen_bandwidths(T, m, dn, sp.low, sp.high, consider_endpoints, magic_clip, sigmas.data());
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
                 double prior_weight, bool consider_endpoints, bool magic_clip, double* out) {
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
                       magic_clip, true);
  const Estimator bad(T.data() + n_below * dn, C.data() + n_below * dc, weights + n_below, n_above,
                      sp, prior_weight, consider_endpoints, magic_clip, false);
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
  best_candidate(u_component.data(), U.data(), UC.data(), n_candidates, sp, good.view,
                 good.log_view, bad.log_view, is_log, step, grid_low, grid_high, out);
}

}  // namespace hpo_core
