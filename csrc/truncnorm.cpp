// Truncated-normal mixture kernels; see hpo_core/kernels/_reference_truncnorm.py for the spec.
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

namespace {

// Per component over [low, high]: G_j (log_zs), c_j, and bound_j with c_j = (bound_j - mu_j) / s_j.
void component_shifts(const double* mus, const double* sigmas, std::size_t k, double low,
                      double high, std::vector<double>& log_zs, std::vector<double>& c,
                      std::vector<double>& bound) {
  for (std::size_t j = 0; j < k; ++j) {
    const double s = sigmas[j];
    const double a = (low - mus[j]) / s, b = (high - mus[j]) / s;
    log_zs[j] = special::log_gauss_mass_scaled(a, b, (high - low) / s);
    c[j] = special::shift(a, b);
    bound[j] = b <= 0.0 ? high : (a > 0.0 ? low : mus[j]);
  }
}

}  // namespace

void log_pdf_truncnorm_mixture(const double* x, std::size_t n, const double* mus,
                               const double* sigmas, const double* log_weights,
                               std::size_t k, double low, double high, double* out) {
  // log Z_j = G_j - c_j^2/2 and z^2 - c_j^2 = (z - c_j)(z + c_j) with z - c_j from
  // x - bound_j: a component far outside [low, high] (tiny Z_j, or tiny s_j) does not
  // cancel two huge terms.
  std::vector<double> log_coef(k), c(k), bound(k), inv_s(k), t(k);
  component_shifts(mus, sigmas, k, low, high, log_coef, c, bound);
  for (std::size_t j = 0; j < k; ++j) {
    // No mass even in log space: the component contributes nothing.
    if (log_coef[j] != -kInf)
      log_coef[j] = log_weights[j] - std::log(sigmas[j]) - log_coef[j] - special::kLogSqrt2Pi;
    // Multiplying by 1/s (1 ulp from dividing) keeps divisions out of the O(n k) loop.
    inv_s[j] = 1.0 / sigmas[j];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    if (xi < low || xi > high) {
      out[i] = -kInf;
      continue;
    }
    double t_max = -kInf;
    for (std::size_t j = 0; j < k; ++j) {
      t[j] = log_coef[j] - 0.5 * ((xi - bound[j]) * inv_s[j]) * ((xi - mus[j]) * inv_s[j] + c[j]);
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
