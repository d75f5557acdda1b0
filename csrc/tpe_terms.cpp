// Product mixtures (joint TPE) evaluated at points: the per-component constants, bin
// masses and log densities; see hpo_core/kernels/_reference_tpe.py for the spec. The
// loops, fast paths and cut-offs are those of hpo_core/kernels/_numba_tpe.py, so the two
// compiled backends agree to rounding; the tests pin both to the reference at 1e-10.
// The classes that hold the terms are in hpo_core/tpe_terms.hpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/special.hpp"
#include "hpo_core/tpe_terms.hpp"

namespace hpo_core {
namespace tpe_terms {

using special::kSqrt1_2;

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

}  // namespace tpe_terms

void log_pdf_product_mixture(const double* X_low, const double* X_high, const bool* discrete,
                             const double* C, std::ptrdiff_t n, const ProductSpace& sp,
                             const ProductMixture& mix, double* out) {
  // As _numba_tpe._log_pdf_product.
  const tpe_terms::Points pts(X_low, X_high, discrete, C, n, sp, false);
  tpe_terms::MixtureTerms terms(pts, sp, mix);
  for (std::ptrdiff_t i = 0; i < n; ++i) out[i] = terms.log_density(i);
}

}  // namespace hpo_core
