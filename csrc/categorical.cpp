// Categorical mixture kernel; see hpo_core/kernels/_reference.py for the spec.
#include <algorithm>
#include <cmath>
#include <limits>

#include "hpo_core/kernels.hpp"

namespace hpo_core {

void log_pdf_categorical_mixture(const double* x, std::size_t n, const double* log_weights,
                                 const double* log_probs, std::size_t k, std::size_t c,
                                 double* out) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double n_cat = static_cast<double>(c);
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    // The index is int(xi) truncated toward zero; reject before casting (NaN, inf and
    // values whose truncation falls outside [0, c) all fail this test).
    if (!(xi > -1.0 && xi < n_cat)) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const std::size_t idx = static_cast<std::size_t>(static_cast<std::int64_t>(xi));
    double t_max = -kInf;
    for (std::size_t j = 0; j < k; ++j)
      t_max = std::max(t_max, log_weights[j] + log_probs[j * c + idx]);
    if (t_max == -kInf) {
      out[i] = -kInf;
      continue;
    }
    double acc = 0.0;
    for (std::size_t j = 0; j < k; ++j)
      acc += std::exp(log_weights[j] + log_probs[j * c + idx] - t_max);
    out[i] = t_max + std::log(acc);
  }
}

}  // namespace hpo_core
