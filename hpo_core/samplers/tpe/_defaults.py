"""TPE's defaults and Optuna 5.0's argument conventions: the good-group sizes and recency
weights (Optuna's and hyperopt's), the deprecated-argument rule and the log line of an
independently sampled parameter."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hpo_core._deprecation import warn_deprecated
from hpo_core._validation import format_error

__all__ = [
    "default_gamma",
    "default_gamma_multi_objective",
    "default_weight_pair",
    "default_weights",
    "deprecated_argument",
    "hyperopt_default_gamma",
    "hyperopt_parameters",
    "log_independent",
    "weights_of",
]


def deprecated_argument(name: str, value: Any, default: Any, since: str) -> Any:
    """``value``, or ``default`` when None; warns as Optuna 5.0 does when one is given."""
    if value is None:
        return default
    warn_deprecated(f"`{name}`", since, stacklevel=4)
    return value


def log_independent(name: str, number: int) -> None:
    """Optuna's log line when multivariate TPE samples a parameter on its own."""
    logging.getLogger("hpo_core.samplers.tpe").warning(
        f"The parameter '{name}' in trial#{number} is sampled independently instead of being sampled "
        "by multivariate TPE sampler. (optimization performance may be degraded). You can suppress "
        "this warning by setting `warn_independent_sampling` to `False` in the constructor of "
        "`TPESampler`, if this independent sampling is intended behavior."
    )


def default_gamma(n: int) -> int:
    """Size of the good group for ``n`` finished trials: ``min(ceil(0.1 n), 25)`` (Optuna)."""
    return min(math.ceil(0.1 * n), 25)


def default_gamma_multi_objective(n: int) -> int:
    """``ceil(0.1 n)`` (Optuna's multi-objective default)."""
    return math.ceil(0.1 * n)


def hyperopt_default_gamma(n: int) -> int:
    """hyperopt's good-group size: ``min(ceil(0.25 sqrt(n)), 25)``."""
    return min(math.ceil(0.25 * n**0.5), 25)


def default_weights(n: int) -> np.ndarray:
    """Recency weights of ``n`` observations in trial order (Optuna): 1 for the last 25,
    a linear ramp from ``1/n`` up to 1 before them (``linspace(1/n, 1, n - 25)``, built
    without ``linspace``/``concatenate``: this runs on every ask)."""
    w = np.ones(n)
    _ramp_into(w, n)
    return w


def default_weight_pair(n_below: int, n_above: int, multi_objective: bool) -> np.ndarray:
    """The weights of one proposal's observations under :func:`default_weights`: the
    good group's (``default_weights(n_below)``, ones in a multi-objective study), then
    the bad group's, in one array (this runs on every ask: the same values as two
    :func:`default_weights` calls and a ``concatenate``, in fewer NumPy calls)."""
    w = np.ones(n_below + n_above)
    _ramp_into(w[n_below:], n_above)
    if not multi_objective:
        _ramp_into(w[:n_below], n_below)
    return w


_STEPS = np.arange(4096.0)  # 0, 1, 2, ...: np.arange(m) for m up to 4096 as a view


def _ramp_into(w: np.ndarray, n: int) -> None:
    """Writes :func:`default_weights`' ramp into ``w`` (``n`` ones): its first ``m = n - 25``
    values become ``1/n + arange(m) * ((1 - 1/n) / (m - 1))`` (``1/n`` alone when m is 1)."""
    m = n - 25
    if m < 1:
        return
    start = 1.0 / n
    if m == 1:
        w[0] = start
        return
    steps = _STEPS[:m] if m <= len(_STEPS) else np.arange(m, dtype=np.float64)
    np.multiply(steps, (1.0 - start) / (m - 1), out=w[:m])
    w[:m] += start


def weights_of(weights: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    """``weights(n)`` as float64: TPESampler's ``weights``, checked to be ``n`` finite
    non-negative values with a positive sum (:func:`default_weights`' as they are)."""
    w = np.asarray(weights(n), dtype=np.float64)
    if weights is default_weights:
        return w
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or (n and w.sum() <= 0):
        raise ValueError(
            format_error("weights(n)", f"{n} finite non-negative values with a positive sum", w, owner="TPESampler")
        )
    return w


def hyperopt_parameters() -> dict[str, Any]:
    """hyperopt's TPE defaults as ``TPESampler`` keyword arguments (Optuna's values)."""
    return {
        "consider_prior": True,
        "prior_weight": 1.0,
        "consider_magic_clip": True,
        "consider_endpoints": False,
        "n_startup_trials": 20,
        "n_ei_candidates": 24,
        "gamma": hyperopt_default_gamma,
        "weights": default_weights,
    }
