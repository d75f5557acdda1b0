// Categorical mixture kernel; see hpo_core/kernels/_reference.py for the spec.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "hpo_core/kernels.hpp"

namespace hpo_core {

void log_pdf_categorical_mixture(const double* x, std::size_t n, const double* log_weights,
                                 const double* log_probs, std::size_t k, std::size_t c,
                                 double* out) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // One logsumexp over the components per category: O(k c + n), rows of log_probs read
  // contiguously, terms summed in component order as in the reference.
  std::vector<double> t_max(c, -kInf), acc(c, 0.0);
  for (std::size_t j = 0; j < k; ++j)
    for (std::size_t cat = 0; cat < c; ++cat)
      t_max[cat] = std::max(t_max[cat], log_weights[j] + log_probs[j * c + cat]);
  for (std::size_t j = 0; j < k; ++j)
    for (std::size_t cat = 0; cat < c; ++cat)
      if (t_max[cat] != -kInf) acc[cat] += std::exp(log_weights[j] + log_probs[j * c + cat] - t_max[cat]);
  const double n_cat = static_cast<double>(c);
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    // The index is int(xi) truncated toward zero; reject before casting (NaN, inf and
    // values whose truncation falls outside [0, c) all fail this test).
    if (!(xi > -1.0 && xi < n_cat)) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const std::size_t cat = static_cast<std::size_t>(static_cast<std::int64_t>(xi));
    out[i] = t_max[cat] == -kInf ? -kInf : t_max[cat] + std::log(acc[cat]);
  }
}

}  // namespace hpo_core
