// Internal to the TPE kernels (csrc/tpe.cpp, tpe_terms.cpp, tpe_search.cpp), not part
// of the API: the terms of product mixtures at a set of points, and the search for TPE's
// candidate. Row-major arrays as in kernels.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/special.hpp"

namespace hpo_core {
namespace tpe_terms {

using Index = std::ptrdiff_t;
using special::kInf;

// (k,) log w_j - sum_d log Z_jd - sum_{d continuous} (log s_jd + log sqrt(2 pi)).
std::vector<double> product_constants(const bool* discrete, const ProductSpace& sp,
                                      const ProductMixture& mix);

// log(Phi(b) - Phi(a)) for a < b.
double log_bin_mass(double a, double b);

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

// A bound of |coarse_log(x) - log(x)| (the largest error is about 0.0053).
inline constexpr double kCoarseLogError = 0.01;

// The points at which mixtures are evaluated, with what every mixture's terms need of
// them, computed once however many mixtures are evaluated there.
struct Points {
  const double *X_low, *X_high, *C;  // (n, dn) bin edges (continuous: both the value), (n, dc)
  const bool* discrete;
  Index n, dn, dc;
  std::vector<double> XLT, XHT;  // (dn, n): the edges, dimension-major
  std::vector<double> LW;        // (dn, n): log(high - low) - log sqrt(2 pi), discrete dimensions
  std::vector<Index> CT;         // (dc, n): category table columns cat_offsets[q] + C[i, q]
  std::vector<Index> disc_dims;
  // Per discrete dimension, a bin number per point (equal edges, equal number); none
  // when an edge is NaN (no order).
  std::vector<Index> table_of;  // (dn,): the dimension's table, -1 for continuous ones
  std::vector<Index> n_bins, bin_of;  // (tables,), (tables, n)
  bool binned = true;

  // search: for argmax_log_ratio, which evaluates few points fully: no bin numbers (each
  // bin mass is computed where needed) and LW from coarse_log (within kCoarseLogError).
  Points(const double* X_low_, const double* X_high_, const bool* discrete_, const double* C_,
         Index n_, const ProductSpace& sp, bool search)
      : X_low(X_low_), X_high(X_high_), C(C_), discrete(discrete_), n(n_), dn(sp.dn), dc(sp.dc),
        XLT(static_cast<std::size_t>(dn * n)), XHT(XLT.size()), LW(XLT.size()),
        CT(static_cast<std::size_t>(dc * n)), table_of(static_cast<std::size_t>(dn), -1) {
    for (Index i = 0; i < n; ++i)
      for (Index d = 0; d < dn; ++d) {
        XLT[static_cast<std::size_t>(d * n + i)] = X_low[i * dn + d];
        XHT[static_cast<std::size_t>(d * n + i)] = X_high[i * dn + d];
      }
    for (Index q = 0; q < dc; ++q)
      for (Index i = 0; i < n; ++i)
        CT[static_cast<std::size_t>(q * n + i)] =
            static_cast<Index>(sp.cat_offsets[q]) + static_cast<Index>(C[i * dc + q]);
    for (Index d = 0; d < dn; ++d) {
      if (!discrete[d]) continue;
      disc_dims.push_back(d);
      for (Index i = 0; i < n; ++i) {
        const double width = X_high[i * dn + d] - X_low[i * dn + d];
        LW[static_cast<std::size_t>(d * n + i)] =
            (search ? coarse_log(width) : std::log(width)) - special::kLogSqrt2Pi;
      }
    }
    binned = !search;
    for (Index e = 0; e < n * dn && binned; ++e)
      if (std::isnan(X_low[e]) || std::isnan(X_high[e])) binned = false;  // no order
    if (!binned) return;
    struct Edge {
      double lo, hi;
      Index i;
    };
    std::vector<Edge> edges(static_cast<std::size_t>(n));
    for (const Index d : disc_dims) {
      const double *lo = XLT.data() + d * n, *hi = XHT.data() + d * n;
      for (Index i = 0; i < n; ++i) edges[static_cast<std::size_t>(i)] = {lo[i], hi[i], i};
      std::sort(edges.begin(), edges.end(), [](const Edge& p, const Edge& q) {
        return p.lo < q.lo || (p.lo == q.lo && p.hi < q.hi);
      });
      const auto t = static_cast<Index>(n_bins.size());
      table_of[static_cast<std::size_t>(d)] = t;
      bin_of.resize(static_cast<std::size_t>((t + 1) * n));
      Index bins = 0;  // distinct (lo, hi) pairs so far
      for (Index r = 0; r < n; ++r) {
        const Edge& e = edges[static_cast<std::size_t>(r)];
        if (r == 0 || e.lo != edges[static_cast<std::size_t>(r - 1)].lo ||
            e.hi != edges[static_cast<std::size_t>(r - 1)].hi)
          ++bins;
        bin_of[static_cast<std::size_t>(t * n + e.i)] = bins - 1;
      }
      n_bins.push_back(bins);
    }
  }
};

// Log bin masses log(Phi(b) - Phi(a)) per (discrete dimension, component, distinct bin),
// computed on first use. Candidates snapped to a grid share bins, so this saves most
// erfc calls of TPE's proposals without changing a result: equal bins give equal
// inputs. Used while the table stays small (kMaxEntries); otherwise nothing is cached.
class BinCache {
 public:
  static constexpr Index kMaxEntries = Index{1} << 18;  // 2 MB of doubles

  BinCache(const Points& pts, Index k) : pts_(pts) {
    if (!pts.binned) return;
    for (const Index bins : pts.n_bins) {
      bases_.push_back(entries_);
      entries_ += k * bins;
    }
    if (entries_ > 0 && entries_ <= kMaxEntries) {
      // Uninitialised values and one "computed" bit per entry: clearing the bits is
      // 64 times less memory traffic than filling the table with a sentinel.
      values_.reset(new double[static_cast<std::size_t>(entries_)]);
      known_.assign(static_cast<std::size_t>((entries_ + 63) / 64), 0);
    }
  }

  // log_bin_mass(a, b) of point i, component j, discrete dimension d.
  double get(Index i, Index j, Index d, double a, double b) {
    if (!values_) return log_bin_mass(a, b);
    const Index t = pts_.table_of[static_cast<std::size_t>(d)];
    const auto e = static_cast<std::size_t>(bases_[static_cast<std::size_t>(t)] +
                                            j * pts_.n_bins[static_cast<std::size_t>(t)] +
                                            pts_.bin_of[static_cast<std::size_t>(t * pts_.n + i)]);
    const std::uint64_t bit = std::uint64_t{1} << (e & 63);
    if (!(known_[e >> 6] & bit)) {
      values_[e] = log_bin_mass(a, b);
      known_[e >> 6] |= bit;
    }
    return values_[e];
  }

 private:
  const Points& pts_;
  Index entries_ = 0;
  std::vector<Index> bases_;
  std::unique_ptr<double[]> values_;
  std::vector<std::uint64_t> known_;
};

// The online log-sum-exp of log_density: adds exp(t) to acc * exp(t_max).
inline void lse_add(double t, double& t_max, double& acc) {
  if (t > t_max) {
    acc = t_max > -kInf ? acc * std::exp(t_max - t) + 1.0 : 1.0;
    t_max = t;
  } else {
    acc += std::exp(t - t_max);
  }
}

// The log terms log(w_j f_j(x_i)) of one mixture at the points, evaluated lazily: the
// cheap part of every term (constant, categorical and continuous dimensions) up front,
// component-major so the loops over points vectorise; the (erfc-based) bin masses of
// discrete dimensions only where they can matter.
class MixtureTerms {
 public:
  MixtureTerms(const Points& pts, const ProductSpace& sp, const ProductMixture& mix)
      : pts_(pts), n_(pts.n), dn_(sp.dn), mix_(mix),
        inv_s_(static_cast<std::size_t>(mix.k * sp.dn)),
        cheap_(static_cast<std::size_t>(mix.k * pts.n)),
        j_best_(static_cast<std::size_t>(pts.n), -1),
        // Exact cut-off: the bin factors still to add are <= 0 in log space, so a partial
        // sum below (max - cut) bounds the whole term, and k such terms together change
        // the sum by less than k e^-cut = e^-42 relative, below float64 resolution.
        cut_(42.0 + std::log(static_cast<double>(std::max<Index>(mix.k, 1)))),
        bins_(pts, mix.k) {
    const Index k = mix.k, n = n_;
    for (Index e = 0; e < k * dn_; ++e) inv_s_[static_cast<std::size_t>(e)] = 1.0 / mix.sigmas[e];  // multiply, not divide
    const std::vector<double> constant = product_constants(pts.discrete, sp, mix);
    for (Index j = 0; j < k; ++j) {
      double* row = cheap_.data() + j * n;
      const double c0 = constant[static_cast<std::size_t>(j)];
      std::fill(row, row + n, c0);
      if (c0 == -kInf) continue;
      const double* lp = mix.cat_probs + j * sp.n_cols;
      for (Index q = 0; q < sp.dc; ++q) {
        const Index* cols = pts.CT.data() + q * n;
        for (Index i = 0; i < n; ++i) row[i] += lp[cols[i]];
      }
      for (Index d = 0; d < dn_; ++d) {
        if (pts.discrete[d]) continue;
        const double m = mix.mus[j * dn_ + d], w = inv_s_[static_cast<std::size_t>(j * dn_ + d)];
        const double* x = pts.XLT.data() + d * n;
        for (Index i = 0; i < n; ++i) {
          const double z = (x[i] - m) * w;
          row[i] -= 0.5 * z * z;
        }
      }
    }
    // Per point, the component whose term is probably the largest: the cheap part plus
    // an estimate of each bin's log mass (the density at the bin's midpoint times its
    // width, at most 1), with a coarse log of the sigma. Only the choice depends on the
    // estimate: any component's exact term is a lower bound of the largest, which is
    // all the cut-off and lower_bound need; a good choice makes both tight.
    std::vector<double> best(static_cast<std::size_t>(n), -kInf), est(static_cast<std::size_t>(n));
    for (Index j = 0; j < k; ++j) {
      const double* row = cheap_.data() + j * n;
      std::copy(row, row + n, est.begin());
      for (const Index d : pts.disc_dims) {
        const double mu = mix.mus[j * dn_ + d], w = inv_s_[static_cast<std::size_t>(j * dn_ + d)];
        const double log_w = -coarse_log(mix.sigmas[j * dn_ + d]);
        const double *lo = pts.XLT.data() + d * n, *hi = pts.XHT.data() + d * n, *lw = pts.LW.data() + d * n;
        for (Index i = 0; i < n; ++i) {
          const double z = (0.5 * (lo[i] + hi[i]) - mu) * w;
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
      lse_add(t, t_max, acc);
    }
    return t_max > -kInf ? t_max + std::log(acc) : -kInf;
  }

  // out[i] >= log_density(i) at every point, without an erfc: each bin mass
  // Phi(b) - Phi(a) is at most min(1, (b - a) phi(z*)), z* the point of [a, b] nearest 0,
  // and the bounded terms are summed in log space; padded by 1e-9 (relative) so that
  // rounding cannot put the computed density above the computed bound. Equal to the
  // density up to the pad in a space without discrete dimensions.
  //
  // The sum skips terms more than kSkip below the largest bounded term, counting each
  // as exp(-kSkip) of it (so the bound stays one): most of l's components are far from
  // a candidate, and this leaves few calls to exp.
  void upper_bounds(double* out) const {
    const Index k = mix_.k, n = n_;
    constexpr double kSkip = 30.0;
    // A coarse LW may be up to kCoarseLogError below the exact log.
    const double pad = pts_.binned ? 0.0 : kCoarseLogError;
    std::vector<double> ub(static_cast<std::size_t>(k * n));  // (k, n) bounded terms
    std::vector<double> t_max(static_cast<std::size_t>(n), -kInf);
    for (Index j = 0; j < k; ++j) {
      double* row = ub.data() + j * n;
      std::copy(cheap_.data() + j * n, cheap_.data() + (j + 1) * n, row);
      for (const Index d : pts_.disc_dims) {
        const double mu = mix_.mus[j * dn_ + d], w = inv_s_[static_cast<std::size_t>(j * dn_ + d)];
        const double shift = pad - std::log(mix_.sigmas[j * dn_ + d]);
        const double *lo = pts_.XLT.data() + d * n, *hi = pts_.XHT.data() + d * n, *lw = pts_.LW.data() + d * n;
        for (Index i = 0; i < n; ++i) {
          // z*: a when the bin lies above 0, b when below, else 0 (then a <= 0 <= b).
          const double z = std::max((lo[i] - mu) * w, 0.0) + std::min((hi[i] - mu) * w, 0.0);
          row[i] += std::min(0.0, lw[i] + shift - 0.5 * z * z);
        }
      }
      for (Index i = 0; i < n; ++i) t_max[static_cast<std::size_t>(i)] = std::max(t_max[static_cast<std::size_t>(i)], row[i]);
    }
    std::vector<double> acc(static_cast<std::size_t>(n), 0.0);
    std::vector<Index> skipped(static_cast<std::size_t>(n), 0);
    for (Index j = 0; j < k; ++j) {
      const double* row = ub.data() + j * n;
      for (Index i = 0; i < n; ++i) {
        const auto ui = static_cast<std::size_t>(i);
        const double t = row[i] - t_max[ui];
        if (t >= -kSkip)
          acc[ui] += std::exp(t);
        else if (row[i] != -kInf)
          ++skipped[ui];
      }
    }
    const double e_skip = std::exp(-kSkip);
    for (Index i = 0; i < n; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const double v = t_max[ui] > -kInf
                           ? t_max[ui] + std::log(acc[ui] + static_cast<double>(skipped[ui]) * e_skip)
                           : -kInf;
      out[i] = v + 1e-9 * std::max(1.0, std::fabs(v));
    }
  }

 private:
  // Term (i, j): the cheap part plus the bin masses, in dimension order; stops early
  // (with a value below floor) once the partial sum is below floor.
  double term(Index i, Index j, double floor) {
    double t = cheap_[static_cast<std::size_t>(j * n_ + i)];
    if (t == -kInf || t < floor) return t;
    for (const Index d : pts_.disc_dims) {
      const double w = inv_s_[static_cast<std::size_t>(j * dn_ + d)], mu = mix_.mus[j * dn_ + d];
      t += bins_.get(i, j, d, (pts_.X_low[i * dn_ + d] - mu) * w, (pts_.X_high[i * dn_ + d] - mu) * w);
      if (t < floor) break;
    }
    return t;
  }

  const Points& pts_;
  Index n_, dn_;
  const ProductMixture& mix_;
  std::vector<double> inv_s_, cheap_;
  std::vector<Index> j_best_;
  double cut_;
  BinCache bins_;
};

// The terms of one mixture at the points, computed one point at a time when asked,
// with no table over every (point, component) pair: for g in best_candidate, whose k
// reaches max_bad_components while a few candidates need the full sum. Parameters are
// stored dimension-major so that one point's terms over all components vectorise. The
// terms, the order of log_density's sum and its cut-off are MixtureTerms's (the same
// operations in the same order), so the two give equal sums.
class LazyTerms {
 public:
  LazyTerms(const Points& pts, const ProductSpace& sp, const ProductMixture& mix)
      : pts_(pts), sp_(sp), mix_(mix), k_(mix.k), dn_(sp.dn),
        constant_(product_constants(pts.discrete, sp, mix)),
        muT_(static_cast<std::size_t>(mix.k * sp.dn)),
        wT_(muT_.size()),
        nlsT_(muT_.size()),
        buf_(static_cast<std::size_t>(mix.k)),
        ub_(static_cast<std::size_t>(mix.k)),
        cut_(42.0 + std::log(static_cast<double>(std::max<Index>(mix.k, 1)))),
        bins_(pts, mix.k) {
    for (Index j = 0; j < k_; ++j)
      for (Index d = 0; d < dn_; ++d) {
        const auto e = static_cast<std::size_t>(d * k_ + j);
        const double s = mix.sigmas[j * dn_ + d];
        muT_[e] = mix.mus[j * dn_ + d];
        wT_[e] = 1.0 / s;
        nlsT_[e] = pts.discrete[d] ? -coarse_log(s) : 0.0;
      }
  }

  Index k() const { return k_; }

  // out[j] (k,): a rough log density of each component at the point x (dn,) with
  // category indices cats (dc,), bins taken as densities (coarse logs), in single
  // precision (twice the lanes); for choosing neighbours only.
  void score_all(const double* x, const Index* cats, float* out) {
    if (muF_.empty()) {
      muF_.assign(muT_.begin(), muT_.end());
      wF_.assign(wT_.begin(), wT_.end());
      nlsF_.assign(nlsT_.begin(), nlsT_.end());
    }
    for (Index j = 0; j < k_; ++j) {
      // -inf stays -inf; the float range holds any other constant that can win.
      const double c = std::max(constant_[static_cast<std::size_t>(j)], -1e30);
      out[j] = static_cast<float>(c);
    }
    for (Index q = 0; q < sp_.dc; ++q) {
      const double* lp = mix_.cat_probs + sp_.cat_offsets[q] + cats[q];
      for (Index j = 0; j < k_; ++j) out[j] += static_cast<float>(std::max(lp[j * sp_.n_cols], -1e30));
    }
    for (Index d = 0; d < dn_; ++d) {
      const float *mu = muF_.data() + d * k_, *w = wF_.data() + d * k_, *nls = nlsF_.data() + d * k_;
      const auto xd = static_cast<float>(x[d]);
      for (Index j = 0; j < k_; ++j) {
        const float z = (xd - mu[j]) * w[j];
        out[j] += nls[j] - 0.5f * z * z;
      }
    }
  }

  // MixtureTerms's estimate of term (i, j) (bin masses from the midpoint density).
  double estimate(Index i, Index j) const {
    double t = cheap(i, j);
    if (t == -kInf) return t;
    const Index n = pts_.n;
    for (const Index d : pts_.disc_dims) {
      const auto e = static_cast<std::size_t>(d * k_ + j);
      const auto p = static_cast<std::size_t>(d * n + i);
      const double z = (0.5 * (pts_.XLT[p] + pts_.XHT[p]) - muT_[e]) * wT_[e];
      t += std::min(0.0, pts_.LW[p] + nlsT_[e] - 0.5 * z * z);
    }
    return t;
  }

  // A lower bound of term (i, j) without an erfc: each bin mass Phi(b) - Phi(a) is at
  // least (b - a) min(phi(a), phi(b)) (phi is unimodal), with the coarse logs' error
  // taken off and a 1e-9 (relative) pad against rounding.
  double lower_term(Index i, Index j) const {
    double t = cheap(i, j);
    if (t == -kInf) return t;
    const Index n = pts_.n;
    const double pad = 2.0 * kCoarseLogError;  // coarse LW and coarse log sigma
    for (const Index d : pts_.disc_dims) {
      const auto e = static_cast<std::size_t>(d * k_ + j);
      const auto p = static_cast<std::size_t>(d * n + i);
      const double a = (pts_.XLT[p] - muT_[e]) * wT_[e], b = (pts_.XHT[p] - muT_[e]) * wT_[e];
      t += std::min(0.0, pts_.LW[p] + nlsT_[e] - pad - 0.5 * std::max(a * a, b * b));
    }
    return t - 1e-9 * std::max(1.0, std::fabs(t));
  }

  // log sum_j exp(term(i, j)) as MixtureTerms::log_density, term j_first taken first.
  double log_density(Index i, Index j_first) {
    if (j_first < 0) return -kInf;
    double* cheap = buf_.data();  // the cheap parts of every term of point i
    std::copy(constant_.begin(), constant_.end(), cheap);
    for (Index q = 0; q < sp_.dc; ++q) {
      const double* lp = mix_.cat_probs + pts_.CT[static_cast<std::size_t>(q * pts_.n + i)];
      for (Index j = 0; j < k_; ++j) cheap[j] += lp[j * sp_.n_cols];
    }
    for (Index d = 0; d < dn_; ++d) {
      if (pts_.discrete[d]) continue;
      const double x = pts_.XLT[static_cast<std::size_t>(d * pts_.n + i)];
      const double *mu = muT_.data() + d * k_, *w = wT_.data() + d * k_;
      for (Index j = 0; j < k_; ++j) {
        const double z = (x - mu[j]) * w[j];
        cheap[j] -= 0.5 * z * z;
      }
    }
    // An upper bound of each term (MixtureTerms::upper_bounds's, without its pad: only
    // compared with the floor, which is cut_ below the largest exact term): a term whose
    // bound is below the floor would be cut off anyway, so it is skipped before its erfc.
    double* ub = ub_.data();
    std::copy(cheap, cheap + k_, ub);
    for (const Index d : pts_.disc_dims) {
      const auto p = static_cast<std::size_t>(d * pts_.n + i);
      const double lo = pts_.XLT[p], hi = pts_.XHT[p], lw = pts_.LW[p] + 2.0 * kCoarseLogError;
      const double *mu = muT_.data() + d * k_, *w = wT_.data() + d * k_, *nls = nlsT_.data() + d * k_;
      for (Index j = 0; j < k_; ++j) {
        const double z = std::max((lo - mu[j]) * w[j], 0.0) + std::min((hi - mu[j]) * w[j], 0.0);
        ub[j] += std::min(0.0, lw + nls[j] - 0.5 * z * z);
      }
    }
    double t_max = -kInf, acc = 0.0;
    for (Index jj = -1; jj < k_; ++jj) {
      const Index j = jj < 0 ? j_first : jj;
      if (jj == j_first) continue;
      const double floor = t_max - cut_;
      double t = cheap[j];
      if (t == -kInf || t < floor || ub[j] < floor - 1e-6) continue;
      t = add_bins(i, j, t, floor);
      if (t < floor) continue;
      lse_add(t, t_max, acc);
    }
    return t_max > -kInf ? t_max + std::log(acc) : -kInf;
  }

 private:
  // The constant, categorical and continuous part of term (i, j).
  double cheap(Index i, Index j) const {
    double t = constant_[static_cast<std::size_t>(j)];
    if (t == -kInf) return t;
    const Index n = pts_.n;
    for (Index q = 0; q < sp_.dc; ++q) t += mix_.cat_probs[j * sp_.n_cols + pts_.CT[static_cast<std::size_t>(q * n + i)]];
    for (Index d = 0; d < dn_; ++d) {
      if (pts_.discrete[d]) continue;
      const auto e = static_cast<std::size_t>(d * k_ + j);
      const double z = (pts_.XLT[static_cast<std::size_t>(d * n + i)] - muT_[e]) * wT_[e];
      t -= 0.5 * z * z;
    }
    return t;
  }

  // t plus the bin masses of term (i, j) in dimension order; stops once below floor.
  double add_bins(Index i, Index j, double t, double floor) {
    for (const Index d : pts_.disc_dims) {
      const auto e = static_cast<std::size_t>(d * k_ + j);
      const double w = wT_[e], mu = muT_[e];
      t += bins_.get(i, j, d, (pts_.X_low[i * dn_ + d] - mu) * w, (pts_.X_high[i * dn_ + d] - mu) * w);
      if (t < floor) break;
    }
    return t;
  }

  const Points& pts_;
  const ProductSpace& sp_;
  const ProductMixture& mix_;
  Index k_, dn_;
  std::vector<double> constant_, muT_, wT_, nlsT_, buf_, ub_;
  std::vector<float> muF_, wF_, nlsF_;  // single-precision copies for score_all
  double cut_;
  BinCache bins_;
};

}  // namespace tpe_terms

// The first index maximising log l(x_i) - log g(x_i) over the n candidates (numpy.argmax:
// a NaN counts as the maximum), as tpe_best_candidate defines it. X_low, X_high (n, dn):
// the bins' transformed edges (continuous dimensions: both the value); C (n, dc) category
// indices; good: l in linear form (weights, category probabilities), good_log and
// bad_log: l and g in log form; drawn (n,): the component of l each candidate was drawn
// from (the last is the prior).
std::ptrdiff_t argmax_log_ratio(const double* X_low, const double* X_high, const bool* discrete,
                                const double* C, std::ptrdiff_t n, const ProductSpace& space,
                                const ProductMixture& good, const ProductMixture& good_log,
                                const ProductMixture& bad_log, const std::ptrdiff_t* drawn);

}  // namespace hpo_core
