"""Dispatchers of the multi-objective kernels: Pareto ranks and fronts, crowding distance,
hypervolume (exact, Monte-Carlo, the non-dominated boxes) and log EHVI.

References: ``hpo_core.kernels._reference_pareto``, ``_reference_nsga``, ``_reference_ehvi``.
"""

from __future__ import annotations

import numpy as np

from hpo_core._validation import format_error
from hpo_core.kernels._backends import _kernel_module

# The compiled kernels index arrays without bounds checks, so the module-level functions
# check the index-like arguments a caller could get wrong (cheap O(n) tests) before a
# bad value reads out of bounds in Numba.


def _check_points_ref(points: np.ndarray, ref: np.ndarray) -> None:
    points, ref = np.asarray(points), np.asarray(ref)
    if points.ndim != 2 or ref.shape != (points.shape[1],):
        raise ValueError(format_error("points, ref", "arrays of shapes (n, m) and (m,)",
                                      f"shapes {points.shape} and {ref.shape}"))


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation."""
    return _kernel_module("nondominated_rank").nondominated_rank(values)  # type: ignore[no-any-return]


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation."""
    return _kernel_module("is_pareto_front").is_pareto_front(values)  # type: ignore[no-any-return]


def crowding_distance(values: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each point (Deb et al. 2002, Sec. III-B)."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(format_error("values", "an array of shape (n, m)", f"shape {values.shape}"))
    return _kernel_module("crowding_distance").crowding_distance(values)  # type: ignore[no-any-return]


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation."""
    _check_points_ref(points, ref)
    return float(_kernel_module("hypervolume").hypervolume(points, ref))


def hypervolume_mc(points: np.ndarray, ref: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Monte-Carlo estimate of the hypervolume (minimisation) and its standard error."""
    _check_points_ref(points, ref)
    if not np.isfinite(ref).all():
        raise ValueError(format_error("ref", "a finite reference point", ref))
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 2 or u.shape[0] < 1 or u.shape[1] != np.shape(ref)[0] or not ((u >= 0.0) & (u < 1.0)).all():
        raise ValueError(
            format_error(
                "u",
                f"samples in [0, 1) of shape (N >= 1, {np.shape(ref)[0]})",
                f"values from {u.min():g} to {u.max():g}"
                if u.ndim == 2 and u.shape[0] >= 1 and u.shape[1:] == np.shape(ref)
                else f"shape {u.shape}",
            )
        )
    value, error = _kernel_module("hypervolume_mc").hypervolume_mc(points, ref, u)
    return float(value), float(error)


def nondominated_boxes(points: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint boxes that tile the region below ref that no point dominates."""
    _check_points_ref(points, ref)
    if not 1 <= np.shape(ref)[0] <= 3 or not np.isfinite(ref).all():
        raise ValueError(format_error("ref", "a finite reference point of 1 to 3 objectives", ref))
    return _kernel_module("nondominated_boxes").nondominated_boxes(points, ref)  # type: ignore[no-any-return]


def log_ehvi(
    mean: np.ndarray, sd: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, grad: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log expected hypervolume improvement of independent Gaussians over disjoint boxes."""
    mean, sd, lo, hi = (np.asarray(a, dtype=np.float64) for a in (mean, sd, lo, hi))
    if (
        mean.ndim != 2
        or sd.shape != mean.shape
        or lo.ndim != 2
        or hi.shape != lo.shape
        or lo.shape[1] != mean.shape[1]
    ):
        raise ValueError(
            format_error(
                "mean, sd, lo, hi",
                "arrays of shapes (k, m), (k, m), (c, m), (c, m)",
                f"shapes {mean.shape}, {sd.shape}, {lo.shape}, {hi.shape}",
            )
        )
    return _kernel_module("log_ehvi").log_ehvi(mean, sd, lo, hi, grad=grad)  # type: ignore[no-any-return]
