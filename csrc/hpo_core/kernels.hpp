// hpo_core kernels in plain C++17: the compiled twin of hpo_core/kernels/_reference.py.
//
// Notation (as in the reference): n points x, k mixture components (mus, sigmas,
// log_weights), c categories, m objectives; arrays are C-contiguous double buffers
// whose lengths are passed alongside, outputs are caller-allocated with n entries.
// Every function is pure, single-threaded and touches no global state, so callers
// may run them from several threads at once (the bindings release the GIL).
// Input is trusted: sigmas > 0, low < high, finite NaN-free objective values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hpo_core {

// Bumped whenever a signature or a result changes; _cext.py refuses other values.
constexpr int kAbiVersion = 1;

// out[i] = log sum_j w_j phi((x_i - mu_j)/s_j) / (s_j Z_j); -inf outside [low, high].
void log_pdf_truncnorm_mixture(const double* x, std::size_t n, const double* mus,
                               const double* sigmas, const double* log_weights,
                               std::size_t k, double low, double high, double* out);

// Grid masses of the mixture discretised with spacing step; -inf outside [low, high].
void log_pmf_discrete_truncnorm_mixture(const double* x, std::size_t n, const double* mus,
                                        const double* sigmas, const double* log_weights,
                                        std::size_t k, double low, double high, double step,
                                        double* out);

// Inverse-CDF samples from pre-drawn uniforms; every output inside [low, high].
void sample_truncnorm_mixture(const double* u_component, const double* u_value,
                              std::size_t n, const double* mus, const double* sigmas,
                              const double* weights, std::size_t k, double low, double high,
                              double* out);

// out[i] = log sum_j w_j p_j[x_i], log_probs row-major (k, c); NaN for a bad index.
void log_pdf_categorical_mixture(const double* x, std::size_t n, const double* log_weights,
                                 const double* log_probs, std::size_t k, std::size_t c,
                                 double* out);

// Non-dominated sorting ranks (0 = Pareto front) of the rows of values (n, m).
void nondominated_rank(const double* values, std::size_t n, std::size_t m, std::int64_t* out);

// out[i] = whether row i is non-dominated (minimisation).
void is_pareto_front(const double* values, std::size_t n, std::size_t m, bool* out);

}  // namespace hpo_core
