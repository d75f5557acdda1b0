// nanobind module _hpo_core_ext: thin bindings over the plain C++ kernels in csrc/.
//
// The ndarray types fix dtype (float64), ndim, C contiguity and the CPU device, and the
// array arguments are .noconvert(), so a wrong array fails here with a TypeError instead
// of being silently copied (hpo_core.kernels._cext converts once, on purpose); lengths
// that must agree are checked (ValueError). Results are new NumPy arrays. The GIL is released
// while a kernel runs, so Python threads calling kernels run in parallel.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "hpo_core/fanova.hpp"
#include "hpo_core/kernels.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using Vec = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Mat = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using BoolVec = nb::ndarray<const bool, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using IdxVec = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using KeyVec = nb::ndarray<const std::uint64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
// A writable (d,) float64 array the kernel fills (tpe_propose's plain_out).
using OutVec = nb::ndarray<double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <class T>
using Out = nb::ndarray<nb::numpy, T, nb::ndim<1>>;
using Out2 = nb::ndarray<nb::numpy, double, nb::ndim<2>>;

// A new 1-d NumPy array of n elements owned by a capsule; *data points at its buffer.
template <class T>
Out<T> new_array(std::size_t n, T** data) {
  T* buf = new T[n > 0 ? n : 1];
  nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  *data = buf;
  return Out<T>(buf, {n}, owner);
}

// A new (rows, cols) float64 NumPy array owned by a capsule; *data points at its buffer.
Out2 new_matrix(std::size_t rows, std::size_t cols, double** data) {
  const std::size_t size = rows * cols;
  double* buf = new double[size > 0 ? size : 1];
  nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<double*>(p); });
  *data = buf;
  return Out2(buf, {rows, cols}, owner);
}

void check_len(const char* name, std::size_t got, const char* ref_name, std::size_t want) {
  if (got != want)
    throw std::invalid_argument(std::string("`") + name + "` must have the length of `" +
                                ref_name + "` (" + std::to_string(want) + "), but got " +
                                std::to_string(got) + ".");
}

Out<std::int64_t> nondominated_rank(Mat values) {
  const std::size_t n = values.shape(0), m = values.shape(1);
  std::int64_t* out = nullptr;
  Out<std::int64_t> result = new_array<std::int64_t>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::nondominated_rank(values.data(), n, m, out);
  }
  return result;
}

Out<bool> is_pareto_front(Mat values) {
  const std::size_t n = values.shape(0), m = values.shape(1);
  bool* out = nullptr;
  Out<bool> result = new_array<bool>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::is_pareto_front(values.data(), n, m, out);
  }
  return result;
}


// --- product mixtures (joint TPE) -------------------------------------------------------
// Index arrays are int64 (numpy intp on 64-bit platforms). Category indices and column
// ranges are checked here, so a bad index is a ValueError, never an out-of-bounds read.

using Index = std::ptrdiff_t;

void check_shape2(const char* name, const Mat& a, std::size_t rows, std::size_t cols) {
  if (a.shape(0) != rows || a.shape(1) != cols)
    throw std::invalid_argument(std::string("`") + name + "` must have shape (" +
                                std::to_string(rows) + ", " + std::to_string(cols) +
                                "), but got (" + std::to_string(a.shape(0)) + ", " +
                                std::to_string(a.shape(1)) + ").");
}

[[noreturn]] void bad_category(const char* name, std::size_t t) {
  throw std::invalid_argument(std::string("`") + name + "` holds a category index outside its " +
                              "dimension's range in column " + std::to_string(t) + ".");
}

// Every C[i, t] is an integer-valued index in [0, limit[t]).
void check_categories(const char* name, const Mat& C, const std::vector<Index>& limit) {
  const std::size_t n = C.shape(0), dc = C.shape(1);
  const double* c = C.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t t = 0; t < dc; ++t) {
      const double v = c[i * dc + t];
      if (!(v >= 0.0 && v < static_cast<double>(limit[t]))) bad_category(name, t);
    }
}

// Mixture (mus, sigmas, weights, cat_probs) of k components over space's dimensions.
hpo_core::ProductMixture mixture(const char* owner, const Mat& mus, const Mat& sigmas,
                                 const Vec& weights, const Mat& cat_probs,
                                 const hpo_core::ProductSpace& sp) {
  const std::size_t k = mus.shape(0);
  const std::string o(owner);
  check_shape2((o + "mus").c_str(), mus, k, static_cast<std::size_t>(sp.dn));
  check_shape2((o + "sigmas").c_str(), sigmas, k, static_cast<std::size_t>(sp.dn));
  check_len((o + "weights").c_str(), weights.shape(0), (o + "mus").c_str(), k);
  check_shape2((o + "cat_probs").c_str(), cat_probs, k, static_cast<std::size_t>(sp.n_cols));
  return {static_cast<Index>(k), mus.data(), sigmas.data(), weights.data(), cat_probs.data()};
}

// Space of dn numeric dims (low, high) and the categorical columns; sizes may be absent.
hpo_core::ProductSpace space(const Vec& low, const Vec& high, const IdxVec& offsets,
                             const IdxVec* sizes, std::size_t n_cols) {
  const std::size_t dn = low.shape(0), dc = offsets.shape(0);
  check_len("high", high.shape(0), "low", dn);
  if (sizes != nullptr) {
    check_len("cat_sizes", sizes->shape(0), "cat_offsets", dc);
    for (std::size_t t = 0; t < dc; ++t) {
      const std::int64_t off = offsets.data()[t], size = sizes->data()[t];
      if (off < 0 || size < 1 || off + size > static_cast<std::int64_t>(n_cols))
        throw std::invalid_argument("`cat_offsets` and `cat_sizes` must describe column ranges "
                                    "inside the " + std::to_string(n_cols) +
                                    " category columns, but dimension " + std::to_string(t) +
                                    " does not.");
    }
  }
  return {static_cast<Index>(dn), static_cast<Index>(dc), static_cast<Index>(n_cols),
          low.data(), high.data(), offsets.data(), sizes ? sizes->data() : nullptr};
}

Out<double> log_pdf_product_mixture(Mat X_low, Mat X_high, BoolVec discrete, Mat C, Mat mus,
                                    Mat sigmas, Vec log_weights, Vec low, Vec high,
                                    Mat cat_log_probs, IdxVec cat_offsets) {
  const std::size_t n = X_low.shape(0), dn = X_low.shape(1), dc = C.shape(1);
  const std::size_t n_cols = cat_log_probs.shape(1);
  check_shape2("X_high", X_high, n, dn);
  check_len("discrete", discrete.shape(0), "low", dn);
  check_len("low", low.shape(0), "X_low's columns", dn);
  check_shape2("C", C, n, dc);
  check_len("cat_offsets", cat_offsets.shape(0), "C's columns", dc);
  const hpo_core::ProductSpace sp = space(low, high, cat_offsets, nullptr, n_cols);
  const hpo_core::ProductMixture mix = mixture("", mus, sigmas, log_weights, cat_log_probs, sp);
  std::vector<Index> limit(dc);
  for (std::size_t t = 0; t < dc; ++t) {
    const std::int64_t off = cat_offsets.data()[t];
    if (off < 0 || off >= static_cast<std::int64_t>(n_cols)) bad_category("cat_offsets", t);
    limit[t] = static_cast<Index>(n_cols) - static_cast<Index>(off);
  }
  check_categories("C", C, limit);
  double* out = nullptr;
  Out<double> result = new_array<double>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::log_pdf_product_mixture(X_low.data(), X_high.data(), discrete.data(), C.data(),
                                      static_cast<Index>(n), sp, mix, out);
  }
  return result;
}

void check_uniforms(const Vec& u_component, const Mat& U, const Mat& UC,
                    const hpo_core::ProductSpace& sp) {
  const std::size_t n = u_component.shape(0);
  check_shape2("U", U, n, static_cast<std::size_t>(sp.dn));
  check_shape2("UC", UC, n, static_cast<std::size_t>(sp.dc));
}

Out2 sample_product_mixture(Vec u_component, Mat U, Mat UC, Mat mus, Mat sigmas, Vec weights,
                            Vec low, Vec high, Mat cat_probs, IdxVec cat_offsets,
                            IdxVec cat_sizes) {
  const hpo_core::ProductSpace sp = space(low, high, cat_offsets, &cat_sizes, cat_probs.shape(1));
  const hpo_core::ProductMixture mix = mixture("", mus, sigmas, weights, cat_probs, sp);
  if (mix.k < 1) throw std::invalid_argument("`mus` must have at least one row, but got 0.");
  check_uniforms(u_component, U, UC, sp);
  const std::size_t n = u_component.shape(0);
  double* out = nullptr;
  Out2 result = new_matrix(n, static_cast<std::size_t>(sp.dn + sp.dc), &out);
  {
    nb::gil_scoped_release release;
    hpo_core::sample_product_mixture(u_component.data(), U.data(), UC.data(),
                                     static_cast<Index>(n), sp, mix, out);
  }
  return result;
}

Out2 parzen_bandwidths(Mat T, Vec low, Vec high, bool consider_endpoints, bool magic_clip) {
  const std::size_t n = T.shape(0), dn = T.shape(1);
  check_len("low", low.shape(0), "T's columns", dn);
  check_len("high", high.shape(0), "T's columns", dn);
  // The kernel sorts each column; NaN has no place in that order.
  for (std::size_t e = 0; e < n * dn; ++e)
    if (std::isnan(T.data()[e]))
      throw std::invalid_argument("`T` must be NaN-free, but got NaN in column " +
                                  std::to_string(e % dn) + ".");
  double* out = nullptr;
  Out2 result = new_matrix(n, dn, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::parzen_bandwidths(T.data(), static_cast<Index>(n), static_cast<Index>(dn),
                                low.data(), high.data(), consider_endpoints, magic_clip, out);
  }
  return result;
}

Out2 categorical_kernel_table(Mat C, IdxVec sizes, IdxVec offsets, double prior_weight) {
  const std::size_t n = C.shape(0), dc = C.shape(1);
  check_len("sizes", sizes.shape(0), "C's columns", dc);
  check_len("offsets", offsets.shape(0), "C's columns", dc);
  std::int64_t total = 0;
  std::vector<Index> limit(dc);
  for (std::size_t t = 0; t < dc; ++t) {
    if (sizes.data()[t] < 1) bad_category("sizes", t);
    total += sizes.data()[t];
    limit[t] = static_cast<Index>(sizes.data()[t]);
  }
  for (std::size_t t = 0; t < dc; ++t)
    if (offsets.data()[t] < 0 || offsets.data()[t] + sizes.data()[t] > total)
      bad_category("offsets", t);
  check_categories("C", C, limit);
  double* out = nullptr;
  Out2 result = new_matrix(n + 1, static_cast<std::size_t>(total), &out);
  {
    nb::gil_scoped_release release;
    hpo_core::categorical_kernel_table(C.data(), static_cast<Index>(n), static_cast<Index>(dc),
                                       sizes.data(), offsets.data(), prior_weight, out);
  }
  return result;
}

Out<double> tpe_best_candidate(Vec u_component, Mat U, Mat UC, Mat g_mus, Mat g_sigmas,
                               Vec g_weights, Mat g_cat_probs, Mat b_mus, Mat b_sigmas,
                               Vec b_weights, Mat b_cat_probs, Vec low, Vec high, BoolVec is_log,
                               Vec step, Vec grid_low, Vec grid_high, IdxVec cat_offsets,
                               IdxVec cat_sizes) {
  const hpo_core::ProductSpace sp =
      space(low, high, cat_offsets, &cat_sizes, g_cat_probs.shape(1));
  const hpo_core::ProductMixture good = mixture("good ", g_mus, g_sigmas, g_weights, g_cat_probs, sp);
  const hpo_core::ProductMixture bad = mixture("bad ", b_mus, b_sigmas, b_weights, b_cat_probs, sp);
  if (good.k < 1) throw std::invalid_argument("`good mus` must have at least one row, but got 0.");
  check_uniforms(u_component, U, UC, sp);
  const std::size_t n = u_component.shape(0), dn = static_cast<std::size_t>(sp.dn);
  if (n < 1) throw std::invalid_argument("`u_component` must hold at least one candidate, but got 0.");
  check_len("is_log", is_log.shape(0), "low", dn);
  check_len("step", step.shape(0), "low", dn);
  check_len("grid_low", grid_low.shape(0), "low", dn);
  check_len("grid_high", grid_high.shape(0), "low", dn);
  double* out = nullptr;
  Out<double> result = new_array<double>(dn + static_cast<std::size_t>(sp.dc), &out);
  {
    nb::gil_scoped_release release;
    hpo_core::tpe_best_candidate(u_component.data(), U.data(), UC.data(), static_cast<Index>(n),
                                 sp, good, bad, is_log.data(), step.data(), grid_low.data(),
                                 grid_high.data(), out);
  }
  return result;
}


using AnyMat = nb::ndarray<const double, nb::ndim<2>, nb::device::cpu>;  // any strides

Out<double> tpe_propose(AnyMat X, IdxVec rows, std::int64_t n_below, IdxVec cols, Vec weights,
                        Mat u, Vec low, Vec high, BoolVec is_log, Vec step, Vec grid_low,
                        Vec grid_high, IdxVec cat_offsets, IdxVec cat_sizes, double prior_weight,
                        bool consider_endpoints, bool magic_clip, std::optional<KeyVec> skip_keys,
                        std::optional<KeyVec> key_strides, std::optional<IdxVec> skip_rows,
                        std::optional<OutVec> plain_out, std::int64_t clip_count) {
  if (clip_count < 0)
    throw std::invalid_argument("`clip_count` must be >= 0, but got " + std::to_string(clip_count) + ".");
  const std::size_t dn = low.shape(0), dc = cat_offsets.shape(0), n_rows = rows.shape(0);
  std::size_t n_cols = 0;
  for (std::size_t t = 0; t < cat_sizes.shape(0); ++t)
    n_cols += static_cast<std::size_t>(std::max<std::int64_t>(cat_sizes.data()[t], 0));
  const hpo_core::ProductSpace sp = space(low, high, cat_offsets, &cat_sizes, n_cols);
  check_len("cols", cols.shape(0), "low and cat_offsets together", dn + dc);
  check_len("weights", weights.shape(0), "rows", n_rows);
  check_len("is_log", is_log.shape(0), "low", dn);
  check_len("step", step.shape(0), "low", dn);
  check_len("grid_low", grid_low.shape(0), "low", dn);
  check_len("grid_high", grid_high.shape(0), "low", dn);
  if (n_below < 0 || static_cast<std::size_t>(n_below) > n_rows)
    throw std::invalid_argument("`n_below` must be in [0, " + std::to_string(n_rows) +
                                "] (the number of rows), but got " + std::to_string(n_below) + ".");
  if (u.shape(0) < 1 || u.shape(1) != 1 + dn + dc)
    throw std::invalid_argument("`u` must have shape (n_candidates >= 1, " +
                                std::to_string(1 + dn + dc) + "), but got (" +
                                std::to_string(u.shape(0)) + ", " + std::to_string(u.shape(1)) + ").");
  for (std::size_t i = 0; i < n_rows; ++i)
    if (rows.data()[i] < 0 || static_cast<std::size_t>(rows.data()[i]) >= X.shape(0))
      throw std::invalid_argument("`rows` must index rows of `X` (" + std::to_string(X.shape(0)) +
                                  "), but got " + std::to_string(rows.data()[i]) + ".");
  for (std::size_t j = 0; j < dn + dc; ++j)
    if (cols.data()[j] < 0 || static_cast<std::size_t>(cols.data()[j]) >= X.shape(1))
      throw std::invalid_argument("`cols` must index columns of `X` (" + std::to_string(X.shape(1)) +
                                  "), but got " + std::to_string(cols.data()[j]) + ".");
  const std::uint64_t* skip = nullptr;
  const std::uint64_t* strides = nullptr;
  std::size_t n_skip = 0;
  if (skip_keys && skip_keys->shape(0) > 0) {
    if (!key_strides) throw std::invalid_argument("`key_strides` must be given with `skip_keys`.");
    check_len("key_strides", key_strides->shape(0), "low and cat_offsets together", dn + dc);
    skip = skip_keys->data();
    n_skip = skip_keys->shape(0);
    strides = key_strides->data();
  }
  const std::int64_t* skip_row_data = nullptr;
  std::size_t n_skip_rows = 0;
  if (skip_rows && skip_rows->shape(0) > 0) {
    n_skip_rows = skip_rows->shape(0);
    skip_row_data = skip_rows->data();
    if (skip_row_data != rows.data())  // rows itself (TPESampler's usual case) is checked above
      for (std::size_t i = 0; i < n_skip_rows; ++i)
        if (skip_row_data[i] < 0 || static_cast<std::size_t>(skip_row_data[i]) >= X.shape(0))
          throw std::invalid_argument("`skip_rows` must index rows of `X` (" + std::to_string(X.shape(0)) +
                                      "), but got " + std::to_string(skip_row_data[i]) + ".");
  }
  if (n_skip > 0 || n_skip_rows > 0)
    for (std::size_t d = 0; d < dn; ++d)
      if (!(step.data()[d] > 0.0))
        throw std::invalid_argument("`step` must be > 0 in every numeric dimension with `skip_keys` or "
                                    "`skip_rows`, but got " + std::to_string(step.data()[d]) + ".");
  double* plain = nullptr;
  if (plain_out) {
    check_len("plain_out", plain_out->shape(0), "low and cat_offsets together", dn + dc);
    plain = plain_out->data();
  }
  double* out = nullptr;
  Out<double> result = new_array<double>(dn + dc, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::tpe_propose(X.data(), static_cast<Index>(X.stride(0)), static_cast<Index>(X.stride(1)),
                          rows.data(), static_cast<Index>(n_rows), static_cast<Index>(n_below),
                          cols.data(), weights.data(), u.data(), static_cast<Index>(u.shape(0)), sp,
                          is_log.data(), step.data(), grid_low.data(), grid_high.data(), prior_weight,
                          consider_endpoints, magic_clip, static_cast<Index>(clip_count), skip,
                          static_cast<Index>(n_skip), strides,
                          skip_row_data, static_cast<Index>(n_skip_rows), out, plain);
  }
  return result;
}

// --- hypervolume (m <= 4; _cext.py sends m >= 5 to the reference) ---------------------

void check_hv(const Mat& points, const Vec& ref) {
  const std::size_t m = points.shape(1);
  check_len("ref", ref.shape(0), "points' columns", m);
  if (m < 1 || m > 4)
    throw std::invalid_argument("`points` must have between 1 and 4 columns, but got " +
                                std::to_string(m) + ".");
}

double hypervolume(Mat points, Vec ref) {
  check_hv(points, ref);
  nb::gil_scoped_release release;
  return hpo_core::hypervolume(points.data(), static_cast<Index>(points.shape(0)),
                               static_cast<Index>(points.shape(1)), ref.data());
}

// --- fANOVA marginals (index ranges are checked by hpo_core.kernels) -----------------

nb::tuple fanova_marginal_variances(IdxVec children_left, IdxVec children_right, IdxVec feature,
                                    Vec threshold, Vec value, IdxVec tree_offsets, Mat bounds,
                                    IdxVec group_offsets, IdxVec group_columns) {
  const std::size_t n = feature.shape(0);
  check_len("children_left", children_left.shape(0), "feature", n);
  check_len("children_right", children_right.shape(0), "feature", n);
  check_len("threshold", threshold.shape(0), "feature", n);
  check_len("value", value.shape(0), "feature", n);
  if (tree_offsets.shape(0) < 1 || group_offsets.shape(0) < 1 || bounds.shape(1) != 2)
    throw std::invalid_argument("`tree_offsets` and `group_offsets` must be non-empty and `bounds` (D, 2).");
  const std::size_t n_trees = tree_offsets.shape(0) - 1, n_groups = group_offsets.shape(0) - 1;
  double* tree_var = nullptr;
  double* marg_var = nullptr;
  Out<double> tv = new_array<double>(n_trees, &tree_var);
  Out2 mv = new_matrix(n_groups, n_trees, &marg_var);
  {
    nb::gil_scoped_release release;
    hpo_core::fanova_marginal_variances(children_left.data(), children_right.data(), feature.data(),
                                        threshold.data(), value.data(), tree_offsets.data(),
                                        static_cast<Index>(n_trees), bounds.data(),
                                        static_cast<Index>(bounds.shape(0)), group_offsets.data(),
                                        group_columns.data(), static_cast<Index>(n_groups), tree_var, marg_var);
  }
  return nb::make_tuple(tv, mv);
}

}  // namespace

// The module's name: _hpo_core_ext, or the name of another build of the same kernels
// (CMakeLists.txt: _hpo_core_ext_x86_64_v3).
#ifndef HPO_CORE_EXT_NAME
#define HPO_CORE_EXT_NAME _hpo_core_ext
#endif

NB_MODULE(HPO_CORE_EXT_NAME, m) {
  m.doc() = "hpo_core's compiled kernels (C++17, nanobind); use them through hpo_core.kernels.";
  // _cext.py compares this with the value it was written for and ignores a stale build.
  m.attr("ABI_VERSION") = hpo_core::kAbiVersion;

  m.def("nondominated_rank", &nondominated_rank, "values"_a.noconvert(),
        "Non-dominated sorting rank of each point for minimisation.");
  m.def("is_pareto_front", &is_pareto_front, "values"_a.noconvert(),
        "Whether each point is on the Pareto front (non-dominated) for minimisation.");
  m.def("log_pdf_product_mixture", &log_pdf_product_mixture, "X_low"_a.noconvert(),
        "X_high"_a.noconvert(), "discrete"_a.noconvert(), "C"_a.noconvert(), "mus"_a.noconvert(),
        "sigmas"_a.noconvert(), "log_weights"_a.noconvert(), "low"_a.noconvert(),
        "high"_a.noconvert(), "cat_log_probs"_a.noconvert(), "cat_offsets"_a.noconvert(),
        "Log density of a mixture of product kernels over numeric and categorical dimensions.");
  m.def("sample_product_mixture", &sample_product_mixture, "u_component"_a.noconvert(),
        "U"_a.noconvert(), "UC"_a.noconvert(), "mus"_a.noconvert(), "sigmas"_a.noconvert(),
        "weights"_a.noconvert(), "low"_a.noconvert(), "high"_a.noconvert(),
        "cat_probs"_a.noconvert(), "cat_offsets"_a.noconvert(), "cat_sizes"_a.noconvert(),
        "Draw from a mixture of product kernels by inverse CDFs of pre-drawn uniforms.");
  m.def("parzen_bandwidths", &parzen_bandwidths, "T"_a.noconvert(), "low"_a.noconvert(),
        "high"_a.noconvert(), "consider_endpoints"_a, "magic_clip"_a,
        "Neighbour-distance bandwidths of TPE's Parzen estimator, every dimension at once.");
  m.def("categorical_kernel_table", &categorical_kernel_table, "C"_a.noconvert(),
        "sizes"_a.noconvert(), "offsets"_a.noconvert(), "prior_weight"_a,
        "Category probabilities of TPE's categorical kernels plus a uniform prior row.");
  m.def("tpe_best_candidate", &tpe_best_candidate, "u_component"_a.noconvert(), "U"_a.noconvert(),
        "UC"_a.noconvert(), "g_mus"_a.noconvert(), "g_sigmas"_a.noconvert(),
        "g_weights"_a.noconvert(), "g_cat_probs"_a.noconvert(), "b_mus"_a.noconvert(),
        "b_sigmas"_a.noconvert(), "b_weights"_a.noconvert(), "b_cat_probs"_a.noconvert(),
        "low"_a.noconvert(), "high"_a.noconvert(), "is_log"_a.noconvert(), "step"_a.noconvert(),
        "grid_low"_a.noconvert(), "grid_high"_a.noconvert(), "cat_offsets"_a.noconvert(),
        "cat_sizes"_a.noconvert(),
        "TPE's proposal: the candidate drawn from ``good`` with the largest ``log l - log g``.");
  m.def("tpe_propose", &tpe_propose, "X"_a.noconvert(), "rows"_a.noconvert(), "n_below"_a,
        "cols"_a.noconvert(), "weights"_a.noconvert(), "u"_a.noconvert(), "low"_a.noconvert(),
        "high"_a.noconvert(), "is_log"_a.noconvert(), "step"_a.noconvert(),
        "grid_low"_a.noconvert(), "grid_high"_a.noconvert(), "cat_offsets"_a.noconvert(),
        "cat_sizes"_a.noconvert(), "prior_weight"_a, "consider_endpoints"_a, "magic_clip"_a,
        "skip_keys"_a.noconvert().none() = nb::none(), "key_strides"_a.noconvert().none() = nb::none(),
        "skip_rows"_a.noconvert().none() = nb::none(), "plain_out"_a.noconvert().none() = nb::none(),
        "clip_count"_a = 0, "TPE's whole proposal from the history's columns, in one call.");
  m.def("hypervolume", &hypervolume, "points"_a.noconvert(), "ref"_a.noconvert(),
        "Hypervolume dominated by points and bounded by the reference point, for minimisation.");
  m.def("fanova_marginal_variances", &fanova_marginal_variances, "children_left"_a.noconvert(),
        "children_right"_a.noconvert(), "feature"_a.noconvert(), "threshold"_a.noconvert(),
        "value"_a.noconvert(), "tree_offsets"_a.noconvert(), "bounds"_a.noconvert(),
        "group_offsets"_a.noconvert(), "group_columns"_a.noconvert(),
        "Variance of each tree and of each parameter's marginal in each tree (fANOVA).");
}
