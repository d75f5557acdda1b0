// Internal to csrc/tpe.cpp, not part of the API: the terms log(w_j f_j(x_i)) of a product
// mixture at a set of points, summed exactly where they can matter (MixtureTerms), and
// the helpers they need. Row-major arrays and the notation of kernels.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/special.hpp"

namespace hpo_core {
namespace tpe_terms {

using special::kInf;
using special::kSqrt1_2;
using Index = std::ptrdiff_t;

// log w_j - sum_d log Z_jd - sum_{d continuous} (log s_jd + log sqrt(2 pi)) of component j.
inline double component_constant(const bool* discrete, const ProductSpace& sp, const ProductMixture& mix,
                          Index j) {
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
  return acc - std::log(prod);
}

// log(Phi(b) - Phi(a)) for a < b. Fast path for bins neither narrow nor far in a tail:
// the difference of the two tails on the side of 0 where both are <= 1/2 (or 1 minus
// both when [a, b] straddles 0). With b - a >= 1e-3 the larger tail is at most ~1e3
// times the difference, so the relative error stays below ~1e-13; |a|, |b| < 37 keeps
// erfc from underflowing. Otherwise the log-space special::log_gauss_mass.
inline double log_bin_mass(double a, double b) {
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

// The log terms log(w_j f_j(x_i)) of one mixture at n points, evaluated lazily and
// exactly where they can matter.
//
// Per point, one component is chosen whose term is probably the largest (choose_*); its
// exact term is a lower bound of the log density (lower_bound) and sets the cut-off
// below which log_density skips terms. A term is summed in three steps, each able to
// stop it: the cheap part (constant, categories, continuous dimensions), an erfc-free
// upper bound of its bin masses, the bin masses themselves (erfc, cached per bin).
//
// With few points or components (choose_dense) every pair is estimated, component by
// component. With many, the components are grouped into blocks of kBlock consecutive
// components in Z order of their means (a component wider than a quarter of the range
// in some dimension, such as the prior, is a block of its own). Each block carries
// bounds that hold for all of its components: the largest constant, the largest log
// probability of each category, the interval of its means and its smallest 1 / sigma
// per dimension. From them, per point and block, an upper bound of every term of the
// block (erfc-free: a discrete bin's mass is at most its width times the largest density
// in it, and at most 1). A block whose bound lies below what can matter is never opened
// (choose_blocked, log_density), so the points x components table of the all-pairs
// evaluation becomes a points x blocks table plus the blocks near each point. Either
// way the sums, hence TPE's proposals, are those of the all-pairs evaluation up to
// rounding.
//
// Layout of the blocked path: the component parameters are copied in block order, one
// row per dimension (P_mu_[d * k + r] for the r-th component of order_), so the
// estimate of a whole block is a loop over contiguous memory; term() reads the mixture
// in its own layout.
class MixtureTerms {
 public:
  static constexpr Index kBlock = 16;
  // Below this many points, or 8 times as many components, the blocks cost more than
  // they save (measured on TPE's proposals, 24-256 candidates, 100-10,000 trials; at 275
  // components of a study run with 256 candidates the blocks lost 20%): every pair,
  // densely.
  static constexpr Index kDenseBelow = 64;

  MixtureTerms(const double* X_low, const double* X_high, const bool* discrete, const double* C,
               Index n, const ProductSpace& sp, const ProductMixture& mix)
      : X_low_(X_low), X_high_(X_high), discrete_(discrete), n_(n), dn_(sp.dn), dc_(sp.dc),
        n_cols_(sp.n_cols), mix_(mix),
        inv_s_(static_cast<std::size_t>(mix.k * sp.dn)),
        constant_(static_cast<std::size_t>(mix.k)),
        cols_(static_cast<std::size_t>(n * sp.dc)),
        j_best_(static_cast<std::size_t>(n), -1),
        // Exact cut-off: the bin factors still to add are <= 0 in log space, so a partial
        // sum below (max - cut) bounds the whole term, and k such terms together change
        // the sum by less than k e^-cut = e^-42 relative, below float64 resolution.
        cut_(42.0 + std::log(static_cast<double>(std::max<Index>(mix.k, 1)))),
        bins_(X_low, X_high, discrete, n, sp.dn, mix.k) {
    const Index k = mix.k;
    for (Index e = 0; e < k * dn_; ++e) inv_s_[e] = 1.0 / mix.sigmas[e];  // multiply, not divide
    for (Index i = 0; i < n; ++i)
      for (Index q = 0; q < dc_; ++q)
        cols_[i * dc_ + q] = static_cast<Index>(sp.cat_offsets[q]) + static_cast<Index>(C[i * dc_ + q]);
    for (Index d = 0; d < dn_; ++d)
      if (discrete[d]) disc_.push_back(d);
    const auto nd = static_cast<Index>(disc_.size());
    // Per point and discrete dimension: the bin's midpoint and log(width) - log sqrt(2 pi).
    mid_.resize(static_cast<std::size_t>(n * nd));
    log_width_.resize(mid_.size());
    for (Index i = 0; i < n; ++i)
      for (Index q = 0; q < nd; ++q) {
        const Index d = disc_[q];
        mid_[i * nd + q] = 0.5 * (X_low[i * dn_ + d] + X_high[i * dn_ + d]);
        log_width_[i * nd + q] = std::log(X_high[i * dn_ + d] - X_low[i * dn_ + d]) - special::kLogSqrt2Pi;
      }
    for (Index j = 0; j < k; ++j) constant_[j] = component_constant(discrete, sp, mix, j);
    // -log sigma of the discrete dimensions, coarse, plus the coarse log's error (< 0.0055):
    // an upper bound.
    nls_ub_.resize(static_cast<std::size_t>(k * nd));
    for (Index j = 0; j < k; ++j)
      for (Index q = 0; q < nd; ++q) nls_ub_[j * nd + q] = 0.006 - coarse_log(mix.sigmas[j * dn_ + disc_[q]]);
    if (n < kDenseBelow || k < 8 * kDenseBelow) {
      choose_dense();
    } else {
      build_blocks(sp);
      choose_blocked();
    }
  }

  // A lower bound of log_density(i): the exact term of the chosen component, summed as
  // log_density sums it (so never above its result).
  double lower_bound(Index i) {
    const Index j = j_best_[static_cast<std::size_t>(i)];
    return j < 0 ? -kInf : term(i, j, -kInf);
  }

  // An upper bound of log_density(i) without erfc: the log-sum-exp over components of
  // the cheap part of each term (exact) plus, per discrete dimension, a bound of its log
  // bin mass. log phi is concave, so on the bin the density lies below its tangent at the
  // bin's midpoint z_m (in units of sigma, half-width h): the mass is at most
  // 2 h phi(z_m) sinh(u) / u <= 2 h phi(z_m) exp(u^2 / 6) with u = z_m h (the series of
  // sinh(u) / u is below exp's term by term), and at most 1. Loose by about h^2 / 6 per
  // dimension, so tight on fine grids. The margin covers the rounding of both sides; a
  // NaN point gives NaN.
  double upper_bound(Index i) {
    const Index k = mix_.k, nd = static_cast<Index>(disc_.size());
    if (nls_.empty() && nd > 0) {  // -log sigma of the discrete dimensions, exact
      nls_.resize(static_cast<std::size_t>(k * nd));
      for (Index j = 0; j < k; ++j)
        for (Index q = 0; q < nd; ++q) nls_[j * nd + q] = -std::log(mix_.sigmas[j * dn_ + disc_[q]]);
    }
    const double* xl = X_low_ + i * dn_;
    const double* xh = X_high_ + i * dn_;
    double t_max = -kInf, acc = 0.0;
    for (Index j = 0; j < k; ++j) {
      double t = constant_[static_cast<std::size_t>(j)];
      if (t == -kInf) continue;
      const double* lp = mix_.cat_probs + j * n_cols_;
      for (Index q = 0; q < dc_; ++q) t += lp[cols_[i * dc_ + q]];
      const double* mu = mix_.mus + j * dn_;
      const double* w = inv_s_.data() + j * dn_;
      for (Index d = 0; d < dn_; ++d) {
        if (discrete_[d]) continue;
        const double z = (xl[d] - mu[d]) * w[d];
        t -= 0.5 * z * z;
      }
      for (Index q = 0; q < nd; ++q) {
        const Index d = disc_[q];
        const double z = (mid_[i * nd + q] - mu[d]) * w[d], h = 0.5 * (xh[d] - xl[d]) * w[d];
        const double b = log_width_[i * nd + q] + nls_[j * nd + q] - 0.5 * z * z + z * z * h * h / 6.0;
        t += b > 0.0 ? 0.0 : b;  // NaN stays NaN
      }
      if (std::isnan(t)) return t;
      if (t == -kInf) continue;
      if (t > t_max) {
        acc = t_max > -kInf ? acc * std::exp(t_max - t) + 1.0 : 1.0;
        t_max = t;
      } else {
        acc += std::exp(t - t_max);
      }
    }
    if (t_max == -kInf) return -kInf;
    const double ub = t_max + std::log(acc);
    return ub + 1e-9 * (1.0 + std::fabs(ub));
  }

  // log sum_j exp(term(i, j)), skipping (exactly) the terms more than cut below the
  // largest: whole blocks by their bound, single terms by their partial sums; the bound
  // used is the term of the chosen component, taken first.
  double log_density(Index i) {
    const Index j_best = j_best_[static_cast<std::size_t>(i)];
    if (j_best < 0) return -kInf;
    double t_max = term(i, j_best, -kInf);
    double acc = t_max > -kInf ? 1.0 : 0.0;  // sum of exp(term - t_max) over kept terms
    const double* ub = ub_.data() + i * n_blocks_;
    for (Index b = 0; b < n_blocks_; ++b) {
      if (ub[b] < t_max - cut_) continue;
      for (Index r = block_start_[b]; r < block_start_[b + 1]; ++r) {
        const Index j = order_[r];
        if (j == j_best) continue;
        const double t = term(i, j, t_max - cut_);
        if (t == -kInf || t < t_max - cut_) continue;
        if (t > t_max) {  // online logsumexp: rescale what was accumulated
          acc = t_max > -kInf ? acc * std::exp(t_max - t) + 1.0 : 1.0;
          t_max = t;
        } else {
          acc += std::exp(t - t_max);
        }
      }
    }
    return t_max > -kInf ? t_max + std::log(acc) : -kInf;
  }

 private:
  // Term (i, j): constant, categorical and continuous parts, then the bin masses in
  // dimension order; stops early (with a value below floor) once the partial sum is
  // below floor.
  double term(Index i, Index j, double floor) {
    double t = constant_[static_cast<std::size_t>(j)];
    if (t == -kInf) return t;
    const double* lp = mix_.cat_probs + j * n_cols_;
    for (Index q = 0; q < dc_; ++q) t += lp[cols_[i * dc_ + q]];
    const double* mu = mix_.mus + j * dn_;
    const double* w = inv_s_.data() + j * dn_;
    const double* xl = X_low_ + i * dn_;
    for (Index d = 0; d < dn_; ++d) {
      if (discrete_[d]) continue;
      const double z = (xl[d] - mu[d]) * w[d];
      t -= 0.5 * z * z;
    }
    if (t == -kInf || t < floor) return t;
    const double* xh = X_high_ + i * dn_;
    const auto nd = static_cast<Index>(disc_.size());
    if (floor > -kInf) {
      // An erfc-free upper bound of the bin masses first (width times the largest
      // density in the bin, at most 1): a term it puts below floor needs no erfc.
      double ub = t;
      for (Index q = 0; q < nd; ++q) {
        const Index d = disc_[q];
        const double g = std::max(std::max(mu[d] - xh[d], xl[d] - mu[d]), 0.0) * w[d];
        ub += std::min(0.0, log_width_[i * nd + q] + nls_ub_[j * nd + q] - 0.5 * g * g);
      }
      if (ub < floor) return ub;
    }
    for (const Index d : disc_) {
      t += bins_.get(i, j, d, (xl[d] - mu[d]) * w[d], (xh[d] - mu[d]) * w[d]);
      if (t < floor) break;
    }
    return t;
  }

  // Per point, the component with the largest estimated term (the cheap part plus each
  // bin's mass estimated as midpoint density times width, at most 1, with a coarse log
  // of sigma), the first in component order. Only the choice depends on the estimate:
  // any component's exact term is a lower bound of the largest, which is all the
  // cut-off and lower_bound need; a good choice makes both tight.
  //
  // choose_dense: every (point, component) pair, component by component, the inner
  // loops over contiguous points (they vectorise); one block of all components.
  void choose_dense() {
    const Index n = n_, k = mix_.k, nd = static_cast<Index>(disc_.size());
    order_.resize(static_cast<std::size_t>(k));
    std::iota(order_.begin(), order_.end(), Index{0});
    block_start_ = {0, k};
    n_blocks_ = 1;
    ub_.assign(static_cast<std::size_t>(n), kInf);  // nothing skipped by block
    std::vector<double> XT(static_cast<std::size_t>(dn_ * n)), MT(static_cast<std::size_t>(nd * n)),
        LT(MT.size());
    for (Index i = 0; i < n; ++i) {
      for (Index d = 0; d < dn_; ++d) XT[d * n + i] = X_low_[i * dn_ + d];
      for (Index q = 0; q < nd; ++q) {
        MT[q * n + i] = mid_[i * nd + q];
        LT[q * n + i] = log_width_[i * nd + q];
      }
    }
    std::vector<Index> CT(static_cast<std::size_t>(dc_ * n));
    for (Index q = 0; q < dc_; ++q)
      for (Index i = 0; i < n; ++i) CT[q * n + i] = cols_[i * dc_ + q];
    std::vector<double> cheap(static_cast<std::size_t>(n)), est(cheap.size()), best(cheap.size(), -kInf);
    for (Index j = 0; j < k; ++j) {
      const double c0 = constant_[static_cast<std::size_t>(j)];
      if (c0 == -kInf) continue;
      std::fill(cheap.begin(), cheap.end(), c0);
      const double* lp = mix_.cat_probs + j * n_cols_;
      for (Index q = 0; q < dc_; ++q) {
        const Index* cols = CT.data() + q * n;
        for (Index i = 0; i < n; ++i) cheap[i] += lp[cols[i]];
      }
      for (Index d = 0; d < dn_; ++d) {
        if (discrete_[d]) continue;
        const double m = mix_.mus[j * dn_ + d], w = inv_s_[j * dn_ + d];
        const double* x = XT.data() + d * n;
        for (Index i = 0; i < n; ++i) {
          const double z = (x[i] - m) * w;
          cheap[i] -= 0.5 * z * z;
        }
      }
      std::copy(cheap.begin(), cheap.end(), est.begin());
      for (Index q = 0; q < nd; ++q) {
        const Index d = disc_[q];
        const double m = mix_.mus[j * dn_ + d], w = inv_s_[j * dn_ + d];
        const double nls = nls_ub_[j * nd + q] - 0.006;
        const double *x = MT.data() + q * n, *lw = LT.data() + q * n;
        for (Index i = 0; i < n; ++i) {
          const double z = (x[i] - m) * w;
          est[i] += std::min(0.0, lw[i] + nls - 0.5 * z * z);
        }
      }
      for (Index i = 0; i < n; ++i) {
        if (cheap[i] == -kInf) continue;
        if (j_best_[i] < 0 || est[i] > best[i]) {
          best[i] = est[i];
          j_best_[i] = j;
        }
      }
    }
  }

  // choose_blocked: per point, the bounds of every block, then blocks opened in
  // decreasing order of bound until the next bound is below the best estimate (the
  // estimate never exceeds the bound: the bound adds 0.01 per discrete dimension for the
  // coarse log of sigma), so the choice is the same as choose_dense's but for ties.
  void choose_blocked() {
    const Index n = n_, nb = n_blocks_;
    ub_.resize(static_cast<std::size_t>(n * nb));
    std::vector<char> opened(static_cast<std::size_t>(nb));
    Index widest = 0;
    for (Index b = 0; b < nb; ++b) widest = std::max(widest, block_start_[b + 1] - block_start_[b]);
    std::vector<double> cheap(static_cast<std::size_t>(widest)), est(cheap.size());
    for (Index i = 0; i < n; ++i) {
      double* ub = ub_.data() + i * nb;
      block_bounds(i, ub);
      std::fill(opened.begin(), opened.end(), 0);
      double best = -kInf;
      Index jb = -1;
      for (;;) {
        Index b_top = -1;
        for (Index b = 0; b < nb; ++b)
          if (!opened[b] && (b_top < 0 || ub[b] > ub[b_top])) b_top = b;
        if (b_top < 0 || (jb >= 0 && ub[b_top] < best)) break;
        opened[b_top] = 1;
        const Index r0 = block_start_[b_top], m = block_start_[b_top + 1] - r0;
        block_estimates(i, r0, m, cheap.data(), est.data());
        for (Index r = 0; r < m; ++r) {  // the first largest, in block order
          if (cheap[r] == -kInf) continue;
          if (jb < 0 || est[r] > best) {
            best = est[r];
            jb = order_[r0 + r];
          }
        }
      }
      j_best_[static_cast<std::size_t>(i)] = jb;
    }
  }

  // For the m components of order_ from r0: cheap[r] (constant, categorical and
  // continuous part of the term) and est[r] = cheap[r] + the estimated log bin masses
  // (midpoint density times width, at most 1, with a coarse log of sigma).
  void block_estimates(Index i, Index r0, Index m, double* cheap, double* est) const {
    const Index k = mix_.k;
    std::copy(P_const_.begin() + r0, P_const_.begin() + r0 + m, cheap);
    for (Index q = 0; q < dc_; ++q) {
      const double* cat = P_cat_.data() + cols_[i * dc_ + q] * k + r0;
      for (Index r = 0; r < m; ++r) cheap[r] += cat[r];
    }
    for (Index d = 0; d < dn_; ++d) {
      if (discrete_[d]) continue;
      const double x = X_low_[i * dn_ + d];
      const double *mu = P_mu_.data() + d * k + r0, *w = P_w_.data() + d * k + r0;
      for (Index r = 0; r < m; ++r) {
        const double z = (x - mu[r]) * w[r];
        cheap[r] -= 0.5 * z * z;
      }
    }
    std::copy(cheap, cheap + m, est);
    const auto nd = static_cast<Index>(disc_.size());
    for (Index q = 0; q < nd; ++q) {
      const Index d = disc_[q];
      const double x = mid_[i * nd + q], lw = log_width_[i * nd + q];
      const double *mu = P_mu_.data() + d * k + r0, *w = P_w_.data() + d * k + r0;
      const double* nls = P_nls_.data() + q * k + r0;
      for (Index r = 0; r < m; ++r) {
        const double z = (x - mu[r]) * w[r];
        est[r] += std::min(0.0, lw + nls[r] - 0.5 * z * z);
      }
    }
  }

  // order_: the components block by block, block b being order_[block_start_[b] ..
  // block_start_[b + 1]); the parameters in that order (P_*); each block's bounds
  // (arrays [d * n_blocks + b]).
  void build_blocks(const ProductSpace& sp) {
    const Index k = mix_.k;
    order_.clear();
    order_.reserve(static_cast<std::size_t>(k));
    block_start_.assign(1, 0);
    // Components wider than a quarter of the range in some dimension: a block each.
    std::vector<Index> rest;
    rest.reserve(static_cast<std::size_t>(k));
    for (Index j = 0; j < k; ++j) {
      bool wide = false;
      for (Index d = 0; d < dn_; ++d) wide = wide || mix_.sigmas[j * dn_ + d] > 0.25 * (sp.high[d] - sp.low[d]);
      if (wide) {
        order_.push_back(j);
        block_start_.push_back(static_cast<Index>(order_.size()));
      } else {
        rest.push_back(j);
      }
    }
    range_inv_.resize(static_cast<std::size_t>(dn_));
    for (Index d = 0; d < dn_; ++d) range_inv_[d] = 1.0 / (sp.high[d] - sp.low[d]);
    z_order_blocks(rest.data(), static_cast<Index>(rest.size()));
    // The parameters in block order.
    const auto nd = static_cast<Index>(disc_.size());
    P_const_.resize(static_cast<std::size_t>(k));
    P_mu_.resize(static_cast<std::size_t>(dn_ * k));
    P_w_.resize(P_mu_.size());
    P_nls_.resize(static_cast<std::size_t>(nd * k));
    P_cat_.resize(static_cast<std::size_t>(n_cols_ * k));
    for (Index r = 0; r < k; ++r) {
      const Index j = order_[r];
      P_const_[r] = constant_[static_cast<std::size_t>(j)];
      for (Index d = 0; d < dn_; ++d) {
        P_mu_[d * k + r] = mix_.mus[j * dn_ + d];
        P_w_[d * k + r] = inv_s_[j * dn_ + d];
      }
      for (Index q = 0; q < nd; ++q) P_nls_[q * k + r] = nls_ub_[j * nd + q] - 0.006;
      for (Index c = 0; c < n_cols_; ++c) P_cat_[c * k + r] = mix_.cat_probs[j * n_cols_ + c];
    }
    // Each block's bounds.
    const Index nb = n_blocks_ = static_cast<Index>(block_start_.size()) - 1;
    b_const_.resize(static_cast<std::size_t>(nb));
    b_lo_.resize(static_cast<std::size_t>(dn_ * nb));
    b_hi_.resize(b_lo_.size());
    b_half_w2_.resize(b_lo_.size());  // 0.5 (min 1 / sigma)^2
    b_log_s_.resize(b_lo_.size());    // 0.01 - log(min sigma) (discrete dimensions)
    b_cat_.resize(static_cast<std::size_t>(n_cols_ * nb));
    for (Index b = 0; b < nb; ++b) {
      const Index r0 = block_start_[b], r1 = block_start_[b + 1];
      b_const_[b] = range_max(P_const_.data(), r0, r1);
      for (Index d = 0; d < dn_; ++d) {
        const double *mu = P_mu_.data() + d * k, *w = P_w_.data() + d * k;
        double lo = kInf, w_min = kInf;
        for (Index r = r0; r < r1; ++r) {
          lo = std::min(lo, mu[r]);
          w_min = std::min(w_min, w[r]);
        }
        b_lo_[d * nb + b] = lo;
        b_hi_[d * nb + b] = range_max(mu, r0, r1);
        b_half_w2_[d * nb + b] = 0.5 * w_min * w_min;
        // log(1 / sigma) <= log(max 1 / sigma), plus the coarse log's error (< 0.0055)
        // so that the estimate stays below the bound.
        if (discrete_[d]) b_log_s_[d * nb + b] = 0.01 + std::log(range_max(w, r0, r1));
      }
      for (Index c = 0; c < n_cols_; ++c) b_cat_[c * nb + b] = range_max(P_cat_.data() + c * k, r0, r1);
    }
  }

  // max(v[r0..r1)), r1 > r0; a branch-free loop (std::max_element branches on the data).
  static double range_max(const double* v, Index r0, Index r1) {
    double m = -kInf;
    for (Index r = r0; r < r1; ++r) m = std::max(m, v[r]);
    return m;
  }

  // Appends the components idx[0..m) to order_ in Z order (Morton order) of their
  // means, in blocks of kBlock consecutive components: the ten dimensions of widest
  // spread, each cut into 8 cells over the means' range, bits interleaved from the most
  // significant, widest dimension first; then a branch-free radix sort of the keys.
  // Consecutive components on the Z curve share its leading cells, so a block's means
  // lie close together in the dimensions that spread them most.
  void z_order_blocks(const Index* idx, Index m) {
    if (m == 0) return;
    std::vector<double> lo(static_cast<std::size_t>(dn_), kInf), hi(lo.size(), -kInf);
    for (Index r = 0; r < m; ++r) {  // dimensions inner: independent min/max chains
      const double* mu = mix_.mus + idx[r] * dn_;
      for (Index d = 0; d < dn_; ++d) {
        lo[d] = std::min(lo[d], mu[d]);
        hi[d] = std::max(hi[d], mu[d]);
      }
    }
    std::vector<Index> dims;
    for (Index d = 0; d < dn_; ++d)
      if (hi[d] > lo[d]) dims.push_back(d);
    std::stable_sort(dims.begin(), dims.end(), [&](Index p, Index q) {
      return (hi[p] - lo[p]) * range_inv_[p] > (hi[q] - lo[q]) * range_inv_[q];
    });
    if (dims.size() > 10) dims.resize(10);
    const auto nu = static_cast<Index>(dims.size());
    // deposit[u * 8 + c]: the three bits of cell c of dimension u at their key positions.
    std::vector<std::uint32_t> deposit(static_cast<std::size_t>(8 * nu)), key(static_cast<std::size_t>(m));
    std::vector<double> scale(static_cast<std::size_t>(nu));
    for (Index u = 0; u < nu; ++u) {
      scale[u] = 8.0 / (hi[dims[u]] - lo[dims[u]]);
      for (std::uint32_t c = 0; c < 8; ++c) {
        std::uint32_t v = 0;
        for (int bit = 2; bit >= 0; --bit)
          v |= ((c >> bit) & 1u) << (bit * nu + (nu - 1 - u));
        deposit[u * 8 + c] = v;
      }
    }
    for (Index r = 0; r < m; ++r) {
      const double* mu = mix_.mus + idx[r] * dn_;
      std::uint32_t k = 0;
      for (Index u = 0; u < nu; ++u) {
        const Index d = dims[u];
        const double c = std::min(7.0, std::max(0.0, (mu[d] - lo[d]) * scale[u]));
        k |= deposit[u * 8 + static_cast<Index>(c)];
      }
      key[r] = k;
    }
    // LSD radix sort, 10-bit digits (stable, so equal keys keep their order).
    std::vector<Index> perm(idx, idx + m), tmp(perm.size());
    std::vector<std::uint32_t> key_tmp(key.size());
    std::vector<Index> count(1025);
    for (Index shift = 0; shift < 3 * nu; shift += 10) {
      std::fill(count.begin(), count.end(), 0);
      for (Index r = 0; r < m; ++r) ++count[((key[r] >> shift) & 1023u) + 1];
      for (Index c = 0; c < 1024; ++c) count[c + 1] += count[c];
      for (Index r = 0; r < m; ++r) {
        const Index at = count[(key[r] >> shift) & 1023u]++;
        tmp[at] = perm[r];
        key_tmp[at] = key[r];
      }
      perm.swap(tmp);
      key.swap(key_tmp);
    }
    for (Index r0 = 0; r0 < m; r0 += kBlock) {
      order_.insert(order_.end(), perm.begin() + r0, perm.begin() + std::min(m, r0 + kBlock));
      block_start_.push_back(static_cast<Index>(order_.size()));
    }
  }

  // ub[b] >= every term (i, j) and every estimate of block b. A NaN bound (a NaN point)
  // becomes +inf: no block is skipped.
  void block_bounds(Index i, double* ub) const {
    const Index nb = n_blocks_;
    std::copy(b_const_.begin(), b_const_.end(), ub);
    for (Index q = 0; q < dc_; ++q) {
      const double* cat = b_cat_.data() + cols_[i * dc_ + q] * nb;
      for (Index b = 0; b < nb; ++b) ub[b] += cat[b];
    }
    for (Index d = 0; d < dn_; ++d) {
      const double xl = X_low_[i * dn_ + d], xh = X_high_[i * dn_ + d];
      const double *lo = b_lo_.data() + d * nb, *hi = b_hi_.data() + d * nb;
      const double* h = b_half_w2_.data() + d * nb;
      if (!discrete_[d]) {
        for (Index b = 0; b < nb; ++b) {
          // Distance from x to the block's interval of means (0 inside it).
          const double g = std::max(std::max(lo[b] - xh, xl - hi[b]), 0.0);
          ub[b] -= h[b] * g * g;
        }
      } else {
        const double lw = std::log(xh - xl) - special::kLogSqrt2Pi;
        const double* ls = b_log_s_.data() + d * nb;
        for (Index b = 0; b < nb; ++b) {
          const double g = std::max(std::max(lo[b] - xh, xl - hi[b]), 0.0);
          ub[b] += std::min(0.0, lw + ls[b] - h[b] * g * g);
        }
      }
    }
    for (Index b = 0; b < nb; ++b)
      if (std::isnan(ub[b])) ub[b] = kInf;
  }

  const double *X_low_, *X_high_;
  const bool* discrete_;
  Index n_, dn_, dc_, n_cols_;
  const ProductMixture& mix_;
  std::vector<double> inv_s_, constant_;
  std::vector<Index> cols_, j_best_, disc_;
  std::vector<double> mid_, log_width_, nls_ub_, nls_;
  Index n_blocks_ = 0;
  std::vector<Index> order_, block_start_;
  std::vector<double> P_const_, P_mu_, P_w_, P_nls_, P_cat_;
  std::vector<double> range_inv_;
  std::vector<double> b_const_, b_lo_, b_hi_, b_half_w2_, b_log_s_, b_cat_, ub_;
  double cut_;
  BinCache bins_;
};

}  // namespace tpe_terms
}  // namespace hpo_core
