"""C++ backend: thin wrappers over the optional nanobind extension ``_hpo_core_ext``.

The extension is a *top-level* module (installed next to the ``hpo_core`` package), so
it is found whether hpo_core is imported from the source tree or from site-packages.
On x86-64 it is built twice, for every CPU (``_hpo_core_ext``) and for x86-64-v3 CPUs
(``_hpo_core_ext_x86_64_v3``); the faster one this CPU runs is loaded (``ISA``; the
environment variable ``HPO_CORE_CEXT_ISA`` can pin one). Its import is optional: when it
fails, or when the build is stale (its ``ABI_VERSION`` differs from ``_EXPECTED_ABI``),
``AVAILABLE`` is False and ``UNAVAILABLE_REASON`` says why; the dispatcher then falls
back to the next backend.

The C++ kernels are single-threaded and release the GIL while they run, so Python
threads calling them run in parallel without competing with BLAS thread pools.
Inputs are converted to C-contiguous float64 here; the bindings reject anything else.
"""

from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType

import numpy as np

from hpo_core._validation import format_error
from hpo_core.exceptions import HpoWarning

__all__ = [
    "categorical_kernel_table",
    "hypervolume",
    "is_pareto_front",
    "log_pdf_product_mixture",
    "nondominated_rank",
    "parzen_bandwidths",
    "sample_product_mixture",
    "tpe_best_candidate",
    "tpe_propose",
]

BACKEND_NAME = "cext"
# Must equal hpo_core::kAbiVersion in csrc/hpo_core/kernels.hpp.
_EXPECTED_ABI = 3


# Which build of the extension to load (CMakeLists.txt builds both on x86-64): "auto"
# (the default) takes the x86-64-v3 module where the CPU has AVX2, FMA and BMI2 and the
# module was built, else the baseline; "baseline" always the baseline; "x86-64-v3" only that
# one. Both give bit-identical results; the v3 build is faster (benchmarks/README.md).
ISA_ENV_VAR = "HPO_CORE_CEXT_ISA"
ISA_CHOICES = ("auto", "baseline", "x86-64-v3")
_MODULE_OF_ISA = {"baseline": "_hpo_core_ext", "x86-64-v3": "_hpo_core_ext_x86_64_v3"}


def cpu_has_x86_64_v3() -> bool:
    """Whether this CPU (and OS) runs x86-64-v3 code, as NumPy's runtime CPU detection sees it."""
    features: dict[str, bool] = {}
    for where in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # NumPy 2, NumPy 1
        try:
            features = importlib.import_module(where).__cpu_features__
            break
        except (ImportError, AttributeError):
            continue
    if "X86_V3" in features:
        return bool(features["X86_V3"])
    return all(features.get(k, False) for k in ("AVX", "AVX2", "FMA3", "F16C", "BMI", "BMI2", "LZCNT", "MOVBE"))


def _import_extension() -> tuple[ModuleType | None, str, str]:
    """The extension module, the ISA of its build, or None and the reason it cannot be used."""
    choice = os.environ.get(ISA_ENV_VAR) or "auto"
    reason = ""
    if choice not in ISA_CHOICES:
        reason = format_error(ISA_ENV_VAR, f"one of {', '.join(map(repr, ISA_CHOICES))}", choice)
    elif choice == "x86-64-v3" and not cpu_has_x86_64_v3():
        reason = f"{ISA_ENV_VAR}=x86-64-v3, but this CPU lacks AVX2, FMA or BMI2"
    if reason:
        # A setting the user made that cannot be followed: said out loud, not only in the
        # debug log of the fallback to the next backend.
        warnings.warn(f"{reason}; the C++ kernels are not used.", HpoWarning, stacklevel=2)
        return None, "", reason
    if choice == "auto":
        tried = ["x86-64-v3", "baseline"] if cpu_has_x86_64_v3() else ["baseline"]
    else:
        tried = [choice]
    errors = []
    for isa in tried:
        name = _MODULE_OF_ISA[isa]
        try:
            ext = importlib.import_module(name)
        except ImportError as e:
            errors.append(f"the C++ extension {name} is not built ({e})")
            continue
        abi = getattr(ext, "ABI_VERSION", None)
        if abi != _EXPECTED_ABI:
            errors.append(
                f"the C++ extension at {getattr(ext, '__file__', '?')} is stale (ABI_VERSION {abi!r}, "
                f"expected {_EXPECTED_ABI}); rebuild it"
            )
            continue
        return ext, isa, ""
    return None, "", "; ".join(errors)


_ext, ISA, UNAVAILABLE_REASON = _import_extension()
AVAILABLE = _ext is not None


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _i64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)  # numpy intp on 64-bit platforms


def _bool(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.bool_)


def _get_ext() -> ModuleType:
    if _ext is None:
        raise ImportError(UNAVAILABLE_REASON)
    return _ext


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Arguments, shapes and complexity as :func:`hpo_core.kernels._reference.nondominated_rank`.
    """
    return _get_ext().nondominated_rank(_f64(values))  # type: ignore[no-any-return]


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Arguments, shapes and complexity as :func:`hpo_core.kernels._reference.is_pareto_front`.
    """
    return _get_ext().is_pareto_front(_f64(values))  # type: ignore[no-any-return]


# --- product mixtures (joint TPE) ------------------------------------------------------
# The C++ loops are those of the Numba backend (same fast paths and cut-offs, TPE's
# proposal summing log l and log g exactly only for the candidates its bounded search
# visits), plus one exact saving: candidates in the same bin of a discrete dimension
# share its log bin masses (computed once per component and distinct bin). The bindings
# also check category indices and column ranges (ValueError), so a bad index never reads
# out of bounds.


def log_pdf_product_mixture(
    X_low: np.ndarray,
    X_high: np.ndarray,
    discrete: np.ndarray,
    C: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_log_probs: np.ndarray,
    cat_offsets: np.ndarray,
) -> np.ndarray:
    """Log density of a mixture of product kernels over numeric and categorical dimensions.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_product_mixture`.
    Components whose partial log term falls more than ``42 + log k`` below a lower bound of
    the maximum term are skipped (together below float64 resolution of the result), as in
    :func:`hpo_core.kernels._numba.log_pdf_product_mixture`.
    """
    return _get_ext().log_pdf_product_mixture(  # type: ignore[no-any-return]
        _f64(X_low), _f64(X_high), _bool(discrete), _f64(C), _f64(mus), _f64(sigmas),
        _f64(log_weights), _f64(low), _f64(high), _f64(cat_log_probs), _i64(cat_offsets),
    )


def sample_product_mixture(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_probs: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """Draw from a mixture of product kernels by inverse CDFs of pre-drawn uniforms.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.sample_product_mixture`.
    """
    return _get_ext().sample_product_mixture(  # type: ignore[no-any-return]
        _f64(u_component), _f64(U), _f64(UC), _f64(mus), _f64(sigmas), _f64(weights),
        _f64(low), _f64(high), _f64(cat_probs), _i64(cat_offsets), _i64(cat_sizes),
    )


def parzen_bandwidths(
    T: np.ndarray, low: np.ndarray, high: np.ndarray, consider_endpoints: bool, magic_clip: bool
) -> np.ndarray:
    """Neighbour-distance bandwidths of TPE's Parzen estimator, every dimension at once.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.parzen_bandwidths`.
    """
    return _get_ext().parzen_bandwidths(  # type: ignore[no-any-return]
        _f64(T), _f64(low), _f64(high), bool(consider_endpoints), bool(magic_clip)
    )


def categorical_kernel_table(
    C: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, prior_weight: float
) -> np.ndarray:
    """Category probabilities of TPE's categorical kernels plus a uniform prior row.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.categorical_kernel_table`.
    """
    return _get_ext().categorical_kernel_table(  # type: ignore[no-any-return]
        _f64(C), _i64(sizes), _i64(offsets), float(prior_weight)
    )


def tpe_best_candidate(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    good: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    bad: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """TPE's proposal: the candidate drawn from ``good`` with the largest ``log l - log g``.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_best_candidate`;
    one C++ call (sampling, snapping and both densities), with the GIL released.
    """
    return _get_ext().tpe_best_candidate(  # type: ignore[no-any-return]
        _f64(u_component), _f64(U), _f64(UC),
        _f64(good[0]), _f64(good[1]), _f64(good[2]), _f64(good[3]),
        _f64(bad[0]), _f64(bad[1]), _f64(bad[2]), _f64(bad[3]),
        _f64(low), _f64(high), _bool(is_log), _f64(step), _f64(grid_low), _f64(grid_high),
        _i64(cat_offsets), _i64(cat_sizes),
    )


def tpe_propose(
    X: np.ndarray,
    rows: np.ndarray,
    n_below: int,
    cols: np.ndarray,
    weights: np.ndarray,
    u: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
    prior_weight: float,
    consider_endpoints: bool,
    magic_clip: bool,
    skip_keys: np.ndarray | None = None,
    key_strides: np.ndarray | None = None,
    skip_rows: np.ndarray | None = None,
    plain_out: np.ndarray | None = None,
    clip_count: int = 0,
) -> np.ndarray:
    """TPE's whole proposal from the history's columns, in one call.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_propose`.
    ``X`` is read in place whatever its strides (the history's Fortran-order matrix is
    not copied); gathering, both estimators, sampling and scoring run in one C++ call
    with the GIL released.
    """
    has_keys = skip_keys is not None and len(skip_keys) > 0 and key_strides is not None
    scalars = (float(prior_weight), bool(consider_endpoints), bool(magic_clip))
    # TPESampler's arrays already have the binding's dtypes and layouts: passed as they are
    # (14 conversions would cost about 1 µs each per ask); the binding rejects any other
    # (TypeError, before the kernel runs), and then every argument is converted.
    try:
        return _propose_call((X, rows, int(n_below), cols, weights, u, low, high, is_log, step, grid_low,
                              grid_high, cat_offsets, cat_sizes, *scalars),
                             (skip_keys, key_strides) if has_keys else None, skip_rows, plain_out, int(clip_count))
    except TypeError:
        pass
    rows_i64 = _i64(rows)
    args = (
        np.asarray(X, dtype=np.float64), rows_i64, int(n_below), _i64(cols), _f64(weights), _f64(u),
        _f64(low), _f64(high), _bool(is_log), _f64(step), _f64(grid_low), _f64(grid_high),
        _i64(cat_offsets), _i64(cat_sizes), *scalars,
    )
    keys = (np.ascontiguousarray(skip_keys, dtype=np.uint64), np.ascontiguousarray(key_strides, dtype=np.uint64)) \
        if has_keys else None
    # rows itself is passed on as the same array, which the binding does not check twice
    return _propose_call(args, keys, None if skip_rows is None else rows_i64 if skip_rows is rows
                         else _i64(skip_rows), plain_out, int(clip_count))


def _propose_call(args: tuple[object, ...], keys: tuple[object, object] | None, skip_rows: object,
                  plain_out: np.ndarray | None, clip_count: int) -> np.ndarray:
    """The binding's ``tpe_propose``: the plain proposal where nothing is skipped (copied
    into ``plain_out`` where given), else with the skip arguments."""
    ext = _get_ext()
    if keys is None and skip_rows is None:
        out = ext.tpe_propose(*args, None, None, None, None, clip_count) if clip_count else ext.tpe_propose(*args)
        if plain_out is not None:
            plain_out[:] = out
        return out  # type: ignore[no-any-return]
    return ext.tpe_propose(*args, *(keys or (None, None)), skip_rows, plain_out, clip_count)  # type: ignore[no-any-return]


# --- hypervolume kernels --------------------------------------------------------------
# C++ for m <= 4 (the algorithms of the Numba backend); m >= 5 runs the Numba backend's
# slicing (the reference's WFG recursion where Numba cannot load).


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation.

    Arguments and accuracy as :func:`hpo_core.kernels._reference.hypervolume`. Compiled
    for m <= 4 (m = 3: O(n f) dimension sweep, f the largest 2-D front; m = 4: slabs
    over f4, O(n^2 f)); m >= 5 runs the Numba backend's slabs over the last objective.
    """
    points, ref = _f64(points), _f64(ref)
    if points.ndim != 2 or not 1 <= points.shape[1] <= 4:
        try:
            from hpo_core.kernels import _numba_pareto as fallback
        except Exception:  # noqa: BLE001 - a broken Numba must not break the extension's kernels
            from hpo_core.kernels import _reference_pareto as fallback  # type: ignore[no-redef]
        return fallback.hypervolume(points, ref)
    return float(_get_ext().hypervolume(points, ref))



# --- fANOVA marginals ------------------------------------------------------------------
# Defined only when the extension has the kernel: a build from before it keeps its ABI
# version, and the dispatcher then takes the kernel from the Numba backend.

if _ext is not None and hasattr(_ext, "fanova_marginal_variances"):

    def fanova_marginal_variances(
        children_left: np.ndarray,
        children_right: np.ndarray,
        feature: np.ndarray,
        threshold: np.ndarray,
        value: np.ndarray,
        tree_offsets: np.ndarray,
        bounds: np.ndarray,
        group_offsets: np.ndarray,
        group_columns: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Variance of each tree and of each parameter's marginal in each tree (fANOVA)."""
        return tuple(_get_ext().fanova_marginal_variances(  # type: ignore[return-value]
            _i64(children_left), _i64(children_right), _i64(feature), _f64(threshold), _f64(value),
            _i64(tree_offsets), _f64(bounds).reshape(-1, 2), _i64(group_offsets), _i64(group_columns)))

    __all__.append("fanova_marginal_variances")
