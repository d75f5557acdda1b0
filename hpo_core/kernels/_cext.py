"""C++ backend: thin wrappers over the optional nanobind extension ``_hpo_core_ext``.

The extension is a *top-level* module (installed next to the ``hpo_core`` package), so
it is found whether hpo_core is imported from the source tree or from site-packages.
Its import is optional: when it fails, or when the build is stale (its ``ABI_VERSION``
differs from ``_EXPECTED_ABI``), ``AVAILABLE`` is False and ``UNAVAILABLE_REASON`` says
why; the dispatcher then falls back to the next backend.

The C++ kernels are single-threaded and release the GIL while they run, so Python
threads calling them run in parallel without competing with BLAS thread pools.
Inputs are converted to C-contiguous float64 here; the bindings reject anything else.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

__all__ = [
    "hypervolume",
    "hypervolume_contributions",
    "is_pareto_front",
    "log_pdf_categorical_mixture",
    "log_pdf_truncnorm_mixture",
    "log_pmf_discrete_truncnorm_mixture",
    "nondominated_rank",
    "sample_truncnorm_mixture",
]

BACKEND_NAME = "cext"
# Must equal hpo_core::kAbiVersion in csrc/hpo_core/kernels.hpp.
_EXPECTED_ABI = 1

def _import_extension() -> tuple[ModuleType | None, str]:
    """The extension module, or None and the reason it cannot be used."""
    try:
        import _hpo_core_ext as ext
    except ImportError as e:
        return None, f"the C++ extension _hpo_core_ext is not built ({e})"
    abi = getattr(ext, "ABI_VERSION", None)
    if abi != _EXPECTED_ABI:
        return None, (
            f"the C++ extension at {getattr(ext, '__file__', '?')} is stale (ABI_VERSION {abi!r}, "
            f"expected {_EXPECTED_ABI}); rebuild it"
        )
    return ext, ""


_ext, UNAVAILABLE_REASON = _import_extension()
AVAILABLE = _ext is not None


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _get_ext() -> ModuleType:
    if _ext is None:
        raise ImportError(UNAVAILABLE_REASON)
    return _ext


def log_pdf_truncnorm_mixture(
    x: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Log density of a mixture of normals, each truncated to [low, high].

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_truncnorm_mixture`.
    """
    return _get_ext().log_pdf_truncnorm_mixture(  # type: ignore[no-any-return]
        _f64(x), _f64(mus), _f64(sigmas), _f64(log_weights), float(low), float(high)
    )


def log_pmf_discrete_truncnorm_mixture(
    x: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: float,
    high: float,
    step: float,
) -> np.ndarray:
    """Log probability mass of a mixture of normals discretised on a grid with spacing step.

    Arguments, shapes and accuracy as
    :func:`hpo_core.kernels._reference.log_pmf_discrete_truncnorm_mixture`.
    """
    return _get_ext().log_pmf_discrete_truncnorm_mixture(  # type: ignore[no-any-return]
        _f64(x), _f64(mus), _f64(sigmas), _f64(log_weights), float(low), float(high), float(step)
    )


def sample_truncnorm_mixture(
    u_component: np.ndarray,
    u_value: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Draw from a mixture of truncated normals by inverse CDF of pre-drawn uniforms.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.sample_truncnorm_mixture`.
    """
    return _get_ext().sample_truncnorm_mixture(  # type: ignore[no-any-return]
        _f64(u_component), _f64(u_value), _f64(mus), _f64(sigmas), _f64(weights), float(low), float(high)
    )


def log_pdf_categorical_mixture(
    x: np.ndarray, log_weights: np.ndarray, log_probs: np.ndarray
) -> np.ndarray:
    """Log probability of categories under a mixture of categorical distributions.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_categorical_mixture`.
    """
    return _get_ext().log_pdf_categorical_mixture(_f64(x), _f64(log_weights), _f64(log_probs))  # type: ignore[no-any-return]


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


# --- hypervolume kernels: no C++ version; the Numba kernels serve this backend -----
# (The sweeps are compiled by Numba already; a C++ port has not been measured to help.) The results are therefore those of the Numba backend.


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation.

    Arguments and accuracy as :func:`hpo_core.kernels._reference.hypervolume`; runs
    :func:`hpo_core.kernels._numba.hypervolume`.
    """
    from hpo_core.kernels import _numba

    return _numba.hypervolume(points, ref)


def hypervolume_contributions(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exclusive hypervolume contribution of each point, for minimisation.

    Arguments and accuracy as :func:`hpo_core.kernels._reference.hypervolume_contributions`;
    runs :func:`hpo_core.kernels._numba.hypervolume_contributions`.
    """
    from hpo_core.kernels import _numba

    return _numba.hypervolume_contributions(points, ref)
