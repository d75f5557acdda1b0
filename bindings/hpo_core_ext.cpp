// nanobind module _hpo_core_ext: thin bindings over the plain C++ kernels in csrc/.
//
// The ndarray types fix dtype (float64), ndim, C contiguity and the CPU device, and the
// array arguments are .noconvert(), so a wrong array fails here with a TypeError instead
// of being silently copied (hpo_core.kernels._cext converts once, on purpose); lengths
// that must agree are checked (ValueError). Results are new NumPy arrays. The GIL is released
// while a kernel runs, so Python threads calling kernels run in parallel.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "hpo_core/kernels.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using Vec = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Mat = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using Out = nb::ndarray<nb::numpy, T, nb::ndim<1>>;

// A new 1-d NumPy array of n elements owned by a capsule; *data points at its buffer.
template <class T>
Out<T> new_array(std::size_t n, T** data) {
  T* buf = new T[n > 0 ? n : 1];
  nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  *data = buf;
  return Out<T>(buf, {n}, owner);
}

void check_len(const char* name, std::size_t got, const char* ref_name, std::size_t want) {
  if (got != want)
    throw std::invalid_argument(std::string("`") + name + "` must have the length of `" +
                                ref_name + "` (" + std::to_string(want) + "), but got " +
                                std::to_string(got) + ".");
}

Out<double> log_pdf_truncnorm_mixture(Vec x, Vec mus, Vec sigmas, Vec log_weights,
                                      double low, double high) {
  const std::size_t n = x.shape(0), k = mus.shape(0);
  check_len("sigmas", sigmas.shape(0), "mus", k);
  check_len("log_weights", log_weights.shape(0), "mus", k);
  double* out = nullptr;
  Out<double> result = new_array<double>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::log_pdf_truncnorm_mixture(x.data(), n, mus.data(), sigmas.data(),
                                        log_weights.data(), k, low, high, out);
  }
  return result;
}

Out<double> log_pmf_discrete_truncnorm_mixture(Vec x, Vec mus, Vec sigmas, Vec log_weights,
                                               double low, double high, double step) {
  const std::size_t n = x.shape(0), k = mus.shape(0);
  check_len("sigmas", sigmas.shape(0), "mus", k);
  check_len("log_weights", log_weights.shape(0), "mus", k);
  double* out = nullptr;
  Out<double> result = new_array<double>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::log_pmf_discrete_truncnorm_mixture(x.data(), n, mus.data(), sigmas.data(),
                                                 log_weights.data(), k, low, high, step, out);
  }
  return result;
}

Out<double> sample_truncnorm_mixture(Vec u_component, Vec u_value, Vec mus, Vec sigmas,
                                     Vec weights, double low, double high) {
  const std::size_t n = u_component.shape(0), k = mus.shape(0);
  check_len("u_value", u_value.shape(0), "u_component", n);
  check_len("sigmas", sigmas.shape(0), "mus", k);
  check_len("weights", weights.shape(0), "mus", k);
  double* out = nullptr;
  Out<double> result = new_array<double>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::sample_truncnorm_mixture(u_component.data(), u_value.data(), n, mus.data(),
                                       sigmas.data(), weights.data(), k, low, high, out);
  }
  return result;
}

Out<double> log_pdf_categorical_mixture(Vec x, Vec log_weights, Mat log_probs) {
  const std::size_t n = x.shape(0), k = log_probs.shape(0), c = log_probs.shape(1);
  check_len("log_weights", log_weights.shape(0), "log_probs", k);
  double* out = nullptr;
  Out<double> result = new_array<double>(n, &out);
  {
    nb::gil_scoped_release release;
    hpo_core::log_pdf_categorical_mixture(x.data(), n, log_weights.data(), log_probs.data(),
                                          k, c, out);
  }
  return result;
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

}  // namespace

NB_MODULE(_hpo_core_ext, m) {
  m.doc() = "hpo_core's compiled kernels (C++17, nanobind); use them through hpo_core.kernels.";
  // _cext.py compares this with the value it was written for and ignores a stale build.
  m.attr("ABI_VERSION") = hpo_core::kAbiVersion;

  m.def("log_pdf_truncnorm_mixture", &log_pdf_truncnorm_mixture, "x"_a.noconvert(), "mus"_a.noconvert(), "sigmas"_a.noconvert(),
        "log_weights"_a.noconvert(), "low"_a, "high"_a,
        "Log density of a mixture of normals, each truncated to [low, high].");
  m.def("log_pmf_discrete_truncnorm_mixture", &log_pmf_discrete_truncnorm_mixture, "x"_a.noconvert(),
        "mus"_a.noconvert(), "sigmas"_a.noconvert(), "log_weights"_a.noconvert(), "low"_a, "high"_a, "step"_a,
        "Log probability mass of a mixture of normals discretised on a grid with spacing step.");
  m.def("sample_truncnorm_mixture", &sample_truncnorm_mixture, "u_component"_a.noconvert(), "u_value"_a.noconvert(),
        "mus"_a.noconvert(), "sigmas"_a.noconvert(), "weights"_a.noconvert(), "low"_a, "high"_a,
        "Draw from a mixture of truncated normals by inverse CDF of pre-drawn uniforms.");
  m.def("log_pdf_categorical_mixture", &log_pdf_categorical_mixture, "x"_a.noconvert(), "log_weights"_a.noconvert(),
        "log_probs"_a.noconvert(), "Log probability of categories under a mixture of categorical distributions.");
  m.def("nondominated_rank", &nondominated_rank, "values"_a.noconvert(),
        "Non-dominated sorting rank of each point for minimisation.");
  m.def("is_pareto_front", &is_pareto_front, "values"_a.noconvert(),
        "Whether each point is on the Pareto front (non-dominated) for minimisation.");
}
