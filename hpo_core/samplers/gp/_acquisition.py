"""Acquisition functions of GPSampler (maximised), with gradients in the inputs.

All take the posterior ``(mean, var, dmean, dvar)`` at m points (``GPModel.posterior``)
and return ``(value (m,), grad (m, d))``; they never see the model itself.

* ``logei``: log expected improvement over ``best`` (Ament et al. 2023, "Unexpected
  Improvements to Expected Improvement", arXiv 2310.20708): ``log s + log_ei(z)`` with
  ``z = (mean - best) / s``; ``kernels.log_ei`` stays accurate far into the lower tail,
  where plain EI underflows to 0 and gives no gradient.
* ``ucb``: ``mean + sqrt(beta) s``.
* ``pi``: log probability of improvement, ``log Phi(z)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr

from hpo_core import kernels

__all__ = ["ACQUISITIONS", "acquisition", "log_feasibility"]

ACQUISITIONS = ("logei", "ucb", "pi")


def acquisition(kind: str, mean: np.ndarray, var: np.ndarray, dmean: np.ndarray, dvar: np.ndarray, *,
                best: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Value (m,) and gradient (m, d) of the acquisition ``kind`` (one of ACQUISITIONS).

    ``var`` must be positive (``gp_posterior`` floors it); ``best`` is the incumbent
    (largest observed output) for logei and pi; ``beta`` the UCB weight.
    """
    s = np.sqrt(var)
    ds = dvar / (2.0 * s)[:, None]  # d s / d x
    if kind == "ucb":
        root = np.sqrt(beta)
        return mean + root * s, dmean + root * ds
    z = (mean - best) / s
    dz = (dmean - z[:, None] * ds) / s[:, None]
    if kind == "logei":
        value, dlog = kernels.log_ei(z)
        return np.log(s) + value, dlog[:, None] * dz + ds / s[:, None]
    if kind == "pi":
        log_phi = -0.5 * z * z - 0.5 * np.log(2.0 * np.pi)
        value = log_ndtr(z)
        return value, np.exp(log_phi - value)[:, None] * dz
    raise ValueError(f"unknown acquisition {kind!r}")  # validated by GPSampler


def log_feasibility(mean: np.ndarray, var: np.ndarray, dmean: np.ndarray, dvar: np.ndarray, *,
                    threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """log P(c(x) <= threshold) under a constraint's posterior, and its gradient:
    ``log Phi(z)`` with ``z = (threshold - mean) / s`` (log_ndtr: accurate deep in the
    lower tail, where a nearly infeasible region still has a usable gradient)."""
    s = np.sqrt(var)
    ds = dvar / (2.0 * s)[:, None]
    z = (threshold - mean) / s
    dz = (-dmean - z[:, None] * ds) / s[:, None]
    value = log_ndtr(z)
    log_phi = -0.5 * z * z - 0.5 * np.log(2.0 * np.pi)
    return value, np.exp(log_phi - value)[:, None] * dz
