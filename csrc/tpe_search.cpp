// TPE's choice of candidate: the first maximum of log l - log g, computing both densities
// at a few candidates only, so that hundreds of candidates cost little more than tens;
// the candidate is the one the full evaluation (hpo_core/kernels/_reference_tpe.py's
// tpe_best_candidate) returns, from the same values where they decide.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/tpe_terms.hpp"

namespace hpo_core {

using tpe_terms::Index;
using tpe_terms::kInf;
using tpe_terms::LazyTerms;
using tpe_terms::MixtureTerms;
using tpe_terms::Points;

Index argmax_log_ratio(const double* X_low, const double* X_high, const bool* discrete,
                       const double* C, Index n, const ProductSpace& sp, const ProductMixture& good,
                       const ProductMixture& good_log, const ProductMixture& bad_log,
                       const Index* drawn) {
  const Index dn = sp.dn, dc = sp.dc;
  const Points pts(X_low, X_high, discrete, C, n, sp, true);
  MixtureTerms good_terms(pts, sp, good_log);
  std::vector<double> l_ub(static_cast<std::size_t>(n));
  good_terms.upper_bounds(l_ub.data());
  LazyTerms bad_terms(pts, sp, bad_log);
  const Index kb = bad_terms.k(), kg = good.k;
  // neighbours (kg - 1, kNeighbours): per observation component c of l (all but the
  // prior, the last), the components of g that score highest at c's mean and category.
  constexpr Index kNeighbours = 8;
  const bool use_lists = kb > kNeighbours && kg > 1;
  std::vector<Index> neighbours;
  if (use_lists) {
    neighbours.resize(static_cast<std::size_t>((kg - 1) * kNeighbours));
    std::vector<Index> cats(static_cast<std::size_t>(dc));
    std::vector<float> score(static_cast<std::size_t>(kb));
    for (Index c = 0; c + 1 < kg; ++c) {
      for (Index q = 0; q < dc; ++q) {  // the observed category: the row's largest entry
        const double* probs = good.cat_probs + c * sp.n_cols + sp.cat_offsets[q];
        cats[static_cast<std::size_t>(q)] =
            static_cast<Index>(std::max_element(probs, probs + sp.cat_sizes[q]) - probs);
      }
      bad_terms.score_all(good.mus + c * dn, cats.data(), score.data());
      Index* top = neighbours.data() + c * kNeighbours;  // kept sorted, best first
      Index filled = 0;
      for (Index j = 0; j < kb; ++j) {
        const float v = score[static_cast<std::size_t>(j)];
        if (filled == kNeighbours && !(v > score[static_cast<std::size_t>(top[kNeighbours - 1])])) continue;
        Index r = filled < kNeighbours ? filled++ : kNeighbours - 1;
        for (; r > 0 && v > score[static_cast<std::size_t>(top[r - 1])]; --r) top[r] = top[r - 1];
        top[r] = j;
      }
    }
  }
  // A candidate drawn from the prior of l takes the list of the observation component
  // nearest to it (transformed coordinates over the range).
  const auto list_of = [&](Index i) -> const Index* {
    Index c = drawn[i];
    if (c + 1 == kg) {
      double best_d = kInf;
      for (Index cc = 0; cc + 1 < kg; ++cc) {
        double dist = 0.0;
        for (Index d = 0; d < dn; ++d) {
          const double z = (X_low[i * dn + d] - good.mus[cc * dn + d]) / (sp.high[d] - sp.low[d]);
          dist += z * z;
        }
        if (dist < best_d) {
          best_d = dist;
          c = cc;
        }
      }
    }
    return neighbours.data() + c * kNeighbours;
  };
  // Per candidate, an upper bound of log l - log g: l's bound minus a lower bound of
  // one term of g, the listed component with the best estimate (every component
  // without lists).
  std::vector<double> bound(static_cast<std::size_t>(n));
  std::vector<Index> j_first(static_cast<std::size_t>(n), -1), order(static_cast<std::size_t>(n));
  bool any_nan = false;
  for (Index i = 0; i < n; ++i) {
    const Index* list = use_lists ? list_of(i) : nullptr;
    double best_est = -kInf;
    Index jb = -1;
    for (Index r = 0; r < (list ? kNeighbours : kb); ++r) {
      const Index j = list ? list[r] : r;
      const double e = bad_terms.estimate(i, j);
      if (e == -kInf) continue;
      if (jb < 0 || e > best_est) {
        best_est = e;
        jb = j;
      }
    }
    for (Index j = 0; j < kb && jb < 0; ++j)  // every listed component has zero weight
      if (bad_terms.estimate(i, j) > -kInf) jb = j;
    j_first[static_cast<std::size_t>(i)] = jb;
    const double lb = jb < 0 ? -kInf : bad_terms.lower_term(i, jb);
    bound[static_cast<std::size_t>(i)] = l_ub[static_cast<std::size_t>(i)] - lb;
    any_nan = any_nan || std::isnan(bound[static_cast<std::size_t>(i)]);
    order[static_cast<std::size_t>(i)] = i;
  }
  const auto value = [&](Index i) {
    return good_terms.log_density(i) - bad_terms.log_density(i, j_first[static_cast<std::size_t>(i)]);
  };
  Index best = -1;
  double best_acq = -kInf;
  if (any_nan) {  // no bounds to trust: every value, in index order
    for (Index i = 0; i < n; ++i) {
      const double acq = value(i);
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
  // Candidates by decreasing bound; the search stops at the first bound below the best
  // value found (rounding is monotonic and l's bound padded, so no computed value
  // exceeds its computed bound). The result is numpy.argmax's over the full values: the
  // first maximum, a NaN counting as the maximum.
  std::stable_sort(order.begin(), order.end(), [&](Index p, Index q) { return bound[p] > bound[q]; });
  for (const Index i : order) {
    if (best >= 0 && bound[i] < best_acq) break;  // every later bound is lower still
    const double acq = value(i);
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
}

}  // namespace hpo_core
