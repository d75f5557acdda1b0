"""Dispatchers of the Gaussian-process kernels: Matern-5/2, the log marginal likelihood,
the posterior and log EI.

Reference: ``hpo_core.kernels._reference_gp``. The compiled kernels index without bounds
checks, so the shapes are checked here.
"""

from __future__ import annotations

import numpy as np

from hpo_core._validation import format_error
from hpo_core.kernels._backends import _kernel_module


def _check_gp_shapes(X: np.ndarray, is_categorical: np.ndarray, *, theta: np.ndarray | None = None,
                     name: str = "X") -> None:
    X, is_categorical = np.asarray(X), np.asarray(is_categorical)
    if X.ndim != 2 or is_categorical.shape != (X.shape[1],):
        raise ValueError(format_error(f"{name}, is_categorical", "arrays of shapes (n, d) and (d,)",
                                      f"shapes {X.shape} and {is_categorical.shape}"))
    if theta is not None and np.shape(theta) != (X.shape[1] + 2,):
        raise ValueError(format_error("theta", f"an array of shape (d + 2,) = ({X.shape[1] + 2},)",
                                      f"shape {np.shape(theta)}"))


def matern52(
    X1: np.ndarray, X2: np.ndarray, inv_sq_lengthscales: np.ndarray, is_categorical: np.ndarray
) -> np.ndarray:
    """ARD Matern-5/2 kernel matrix with unit amplitude between two sets of points."""
    _check_gp_shapes(X1, is_categorical, name="X1")
    _check_gp_shapes(X2, is_categorical, name="X2")
    if np.shape(inv_sq_lengthscales) != np.shape(is_categorical):
        raise ValueError(format_error("inv_sq_lengthscales", f"an array of shape {np.shape(is_categorical)}",
                                      f"shape {np.shape(inv_sq_lengthscales)}"))
    return _kernel_module("matern52").matern52(X1, X2, inv_sq_lengthscales, is_categorical)  # type: ignore[no-any-return]


def gp_log_marginal_likelihood(
    X: np.ndarray, y: np.ndarray, is_categorical: np.ndarray, theta: np.ndarray
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of a zero-mean GP with a Matern-5/2 kernel, and its gradient."""
    _check_gp_shapes(X, is_categorical, theta=theta)
    if np.shape(y) != (len(X),):
        raise ValueError(format_error("y", f"an array of shape (n,) = ({len(X)},)", f"shape {np.shape(y)}"))
    return _kernel_module("gp_log_marginal_likelihood").gp_log_marginal_likelihood(  # type: ignore[no-any-return]
        X, y, is_categorical, theta
    )


def gp_posterior(
    Xq: np.ndarray,
    X: np.ndarray,
    is_categorical: np.ndarray,
    theta: np.ndarray,
    K_inv: np.ndarray,
    alpha: np.ndarray,
    *,
    grad: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and variance of the latent GP at query points, and their gradients."""
    _check_gp_shapes(X, is_categorical, theta=theta)
    _check_gp_shapes(Xq, is_categorical, name="Xq")
    n = len(X)
    if np.shape(K_inv) != (n, n) or np.shape(alpha) != (n,):
        raise ValueError(format_error("K_inv, alpha", f"arrays of shapes (n, n) and (n,) with n = {n}",
                                      f"shapes {np.shape(K_inv)} and {np.shape(alpha)}"))
    return _kernel_module("gp_posterior").gp_posterior(  # type: ignore[no-any-return]
        Xq, X, is_categorical, theta, K_inv, alpha, grad=grad
    )


def log_ei(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement of a standard normal over a threshold, and its derivative."""
    return _kernel_module("log_ei").log_ei(z)  # type: ignore[no-any-return]
