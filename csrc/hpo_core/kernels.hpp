// hpo_core kernels in plain C++17: the compiled twin of hpo_core/kernels/_reference.py.
//
// Notation (as in the reference): n points, k mixture components (mus, sigmas,
// weights), c categories, m objectives; arrays are C-contiguous double buffers
// whose lengths are passed alongside, outputs are caller-allocated with n entries.
// Every function is pure, single-threaded and touches no global state, so callers
// may run them from several threads at once (the bindings release the GIL).
// Input is trusted: sigmas > 0, low < high, finite NaN-free objective values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hpo_core {

// Bumped whenever a signature or a result changes; _cext.py refuses other values.
constexpr int kAbiVersion = 3;

// Non-dominated sorting ranks (0 = Pareto front) of the rows of values (n, m).
void nondominated_rank(const double* values, std::size_t n, std::size_t m, std::int64_t* out);

// out[i] = whether row i is non-dominated (minimisation).
void is_pareto_front(const double* values, std::size_t n, std::size_t m, bool* out);

// Hypervolume of the rows of points (n, m), 1 <= m <= 4, bounded by ref (m,), minimised;
// +inf when a box is unbounded. (m >= 5 is left to the Python reference's WFG recursion.)
double hypervolume(const double* points, std::ptrdiff_t n, std::ptrdiff_t m, const double* ref);

// --- product mixtures (joint TPE); see the notation block of _reference_tpe.py --------
// Row-major arrays; indices are std::ptrdiff_t, index arrays int64 (numpy intp).

// The numeric and categorical dimensions shared by a TPE proposal's two mixtures.
struct ProductSpace {
  std::ptrdiff_t dn = 0;                   // numeric dimensions
  std::ptrdiff_t dc = 0;                   // categorical dimensions
  std::ptrdiff_t n_cols = 0;               // sum of the category counts
  const double* low = nullptr;             // (dn,) finite transformed bounds, low < high
  const double* high = nullptr;            // (dn,)
  const std::int64_t* cat_offsets = nullptr;  // (dc,) first column of each dimension
  const std::int64_t* cat_sizes = nullptr;    // (dc,) category counts (sampling only)
};

// k product kernels. `weights` / `cat_probs` hold logs where a function says so.
struct ProductMixture {
  std::ptrdiff_t k = 0;
  const double* mus = nullptr;        // (k, dn), inside [low, high]
  const double* sigmas = nullptr;     // (k, dn), > 0
  const double* weights = nullptr;    // (k,)
  const double* cat_probs = nullptr;  // (k, n_cols)
};

// out[i] = log sum_j w_j prod_d f_jd prod_t p_jt[C[i, t]] (mixture in log form), (n,).
// X_low, X_high: (n, dn); discrete: (dn,); C: (n, dc) category indices in range.
// Components more than 42 + log k below a lower bound of the max are skipped.
void log_pdf_product_mixture(const double* X_low, const double* X_high, const bool* discrete,
                             const double* C, std::ptrdiff_t n, const ProductSpace& space,
                             const ProductMixture& log_mixture, double* out);

// Inverse-CDF samples (n, dn + dc) of the mixture (linear weights/probs, k >= 1).
void sample_product_mixture(const double* u_component, const double* U, const double* UC,
                            std::ptrdiff_t n, const ProductSpace& space,
                            const ProductMixture& mixture, double* out);

// Neighbour-distance bandwidths (n, dn) of the observations T (n, dn).
void parzen_bandwidths(const double* T, std::ptrdiff_t n, std::ptrdiff_t dn, const double* low,
                       const double* high, bool consider_endpoints, bool magic_clip,
                       double* out);

// Categorical kernel table (n + 1, sum sizes) of the observed indices C (n, dc).
void categorical_kernel_table(const double* C, std::ptrdiff_t n, std::ptrdiff_t dc,
                              const std::int64_t* sizes, const std::int64_t* offsets,
                              double prior_weight, double* out);

// TPE's proposal (dn + dc,): the candidate drawn from good maximising log l - log g
// (linear weights/probs in both mixtures; n >= 1, good.k >= 1).
void tpe_best_candidate(const double* u_component, const double* U, const double* UC,
                        std::ptrdiff_t n, const ProductSpace& space, const ProductMixture& good,
                        const ProductMixture& bad, const bool* is_log, const double* step,
                        const double* grid_low, const double* grid_high, double* out);

// TPE's whole proposal from the history (dn + dc,): gathers rows x cols of X (strides in
// elements; numeric columns first, logged where is_log and clipped into [low, high]),
// builds the good (rows[:n_below]) and bad (the rest) Parzen estimators with their prior
// components and runs tpe_best_candidate on the uniforms u (n_candidates, 1 + dn + dc).
// Candidates whose grid key (sum_d index_d * key_strides[d] modulo 2^64; index_d =
// rint((v_d - grid_low_d) / step_d) for the numeric dimensions, which must all have
// step > 0 when n_skip > 0, then the category indices) is among the n_skip sorted
// skip_keys, or whose grid indices are those of one of the n_skip_rows rows skip_rows of
// X (a NaN equals nothing; skip_rows may be rows itself), are passed over unless all are;
// neither given: the plain argmax. Evaluated candidates are found lazily, as the search
// reaches them (usually one or two candidates are checked). out_plain (may be null): the
// plain argmax, the result without skipping (TPESampler records the repeat it passed over).
// clip_count: with magic_clip, each group's clip floor in the continuous dimensions (step 0)
// counts max(its size, clip_count) observations (0: its size, Optuna's; see the reference).
// Throws std::invalid_argument when a categorical value is not an index below its size.
void tpe_propose(const double* X, std::ptrdiff_t x_stride_row, std::ptrdiff_t x_stride_col,
                 const std::int64_t* rows, std::ptrdiff_t n_rows, std::ptrdiff_t n_below,
                 const std::int64_t* cols, const double* weights, const double* u,
                 std::ptrdiff_t n_candidates, const ProductSpace& space, const bool* is_log,
                 const double* step, const double* grid_low, const double* grid_high,
                 double prior_weight, bool consider_endpoints, bool magic_clip,
                 std::ptrdiff_t clip_count,
                 const std::uint64_t* skip_keys, std::ptrdiff_t n_skip,
                 const std::uint64_t* key_strides, const std::int64_t* skip_rows,
                 std::ptrdiff_t n_skip_rows, double* out, double* out_plain = nullptr);

}  // namespace hpo_core
