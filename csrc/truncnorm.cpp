// Truncated-normal mixture kernels; see hpo_core/kernels/_reference.py for the spec.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "hpo_core/kernels.hpp"
#include "hpo_core/special.hpp"

namespace hpo_core {
namespace {

using special::kInf;

// log sum exp(t[0..k)) given t_max = max(t); -inf when every term is -inf.
double logsumexp(const std::vector<double>& t, double t_max) {
  if (t_max == -kInf) return -kInf;
  double acc = 0.0;
  for (double v : t) acc += std::exp(v - t_max);  // shifted: the largest term is 1
  return t_max + std::log(acc);
}

}  // namespace

void log_pdf_truncnorm_mixture(const double* x, std::size_t n, const double* mus,
                               const double* sigmas, const double* log_weights,
                               std::size_t k, double low, double high, double* out) {
  // Per-component constant log(w_j / (s_j Z_j sqrt(2 pi))), with log Z_j from the
  // left-tail formula so a component far outside [low, high] keeps a finite value.
  std::vector<double> log_coef(k), t(k);
  for (std::size_t j = 0; j < k; ++j) {
    const double s = sigmas[j];
    const double log_z = special::log_gauss_mass((low - mus[j]) / s, (high - mus[j]) / s);
    // No mass even in log space: the component contributes nothing.
    log_coef[j] = log_z == -kInf ? -kInf
                                 : log_weights[j] - std::log(s) - log_z - special::kLogSqrt2Pi;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    if (xi < low || xi > high) {
      out[i] = -kInf;
      continue;
    }
    double t_max = -kInf;
    for (std::size_t j = 0; j < k; ++j) {
      const double z = (xi - mus[j]) / sigmas[j];
      t[j] = log_coef[j] - 0.5 * z * z;
      t_max = std::max(t_max, t[j]);
    }
    out[i] = logsumexp(t, t_max);
  }
}

void log_pmf_discrete_truncnorm_mixture(const double* x, std::size_t n, const double* mus,
                                        const double* sigmas, const double* log_weights,
                                        std::size_t k, double low, double high, double step,
                                        double* out) {
  const double half = 0.5 * step;
  std::vector<double> log_coef(k), t(k);
  for (std::size_t j = 0; j < k; ++j) {
    const double s = sigmas[j];
    const double log_z =
        special::log_gauss_mass((low - half - mus[j]) / s, (high + half - mus[j]) / s);
    log_coef[j] = log_z == -kInf ? -kInf : log_weights[j] - log_z;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    if (xi < low || xi > high) {
      out[i] = -kInf;
      continue;
    }
    double t_max = -kInf;
    for (std::size_t j = 0; j < k; ++j) {
      // Bin mass as a log-space difference of log_ndtr: finite far in the tails.
      const double lo = (xi - half - mus[j]) / sigmas[j];
      const double hi = (xi + half - mus[j]) / sigmas[j];
      t[j] = log_coef[j] + special::log_gauss_mass(lo, hi);
      t_max = std::max(t_max, t[j]);
    }
    out[i] = logsumexp(t, t_max);
  }
}

void sample_truncnorm_mixture(const double* u_component, const double* u_value,
                              std::size_t n, const double* mus, const double* sigmas,
                              const double* weights, std::size_t k, double low, double high,
                              double* out) {
  if (k == 0) {
    std::fill(out, out + n, std::numeric_limits<double>::quiet_NaN());
    return;
  }
  // Sequential cumulative sums divided by the total, exactly as numpy.cumsum and /=.
  std::vector<double> cum(k);
  double acc = 0.0;
  for (std::size_t j = 0; j < k; ++j) {
    acc += weights[j];
    cum[j] = acc;
  }
  for (double& c : cum) c /= acc;
  for (std::size_t i = 0; i < n; ++i) {
    // Number of cum <= u (numpy.searchsorted side="right"), capped at k - 1.
    const double u = u_component[i];
    const std::size_t idx = static_cast<std::size_t>(
        std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
    const std::size_t j = std::min(idx, k - 1);
    const double mu = mus[j], s = sigmas[j];
    const double v =
        mu + s * special::ppf_std_truncnorm(u_value[i], (low - mu) / s, (high - mu) / s);
    out[i] = v < low ? low : (v > high ? high : v);  // clip against rounding
  }
}

}  // namespace hpo_core
