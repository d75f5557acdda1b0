"""The Gaussian-process model of GPSampler: output warping, hyperparameter fit, posterior.

Notation:
    n, d         observations and dimensions.
    X            (n, d) inputs: numeric parameters in the unit cube (log space where the
                 parameter is log), categorical ones as category indices.
    is_cat       (d,) bool, which dimensions are categorical (a Hamming distance).
    y            (n,) warped, standardised outputs, to be *maximised* (the sampler
                 flips the sign of minimised objectives before warping).
    theta        (d + 2,) log inverse squared lengthscales, log amplitude, log noise
                 variance: the kernel ``amplitude * matern52 + noise * I``.
    L, alpha     lower Cholesky factor of K and ``K^-1 y``.

The specification of the math is in ``hpo_core.kernels`` (``matern52``,
``gp_log_marginal_likelihood``, ``gp_posterior``: NumPy reference, Numba, JAX). This
module runs the same formulas as BLAS/LAPACK products (``sq_dists``,
``log_marginal_likelihood``, ``GPModel.posterior``), which is what makes an ask fast at
hundreds of trials; tests pin them to the kernels. It adds the priors, bounds, jitter and
warping around them.

Backends. ``fit_theta``, ``fit_model`` and ``GPModel`` take ``kernel_module``: None (the
default) is the BLAS path above; a kernel backend module (``kernels.get_backend(name)``)
computes the likelihood and the posterior with its ``gp_log_marginal_likelihood`` and
``gp_posterior`` instead. The Cholesky factorisation with jitter (``factorize``) always
runs here, on the host, and L and alpha are handed to the backend.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
import scipy.linalg.lapack
import scipy.optimize

from hpo_core import kernels


__all__ = ["GPModel", "fit_model", "warp_outputs", "default_theta", "condition_on_pending"]

# Bounds of theta. Inverse squared lengthscales in [1e-3, 1e4]: a lengthscale from about
# 0.01 (1 % of the unit range) to 30 (a dimension with no effect). Amplitude in
# [1e-2, 1e2] on standardised outputs. Noise variance from 1e-6 (1e-9 for a
# deterministic objective) to 1: above that the data are pure noise.
_LOG_INV_SQ_LS = (math.log(1e-3), math.log(1e4))
_LOG_AMP = (math.log(1e-2), math.log(1e2))
_LOG_NOISE_MAX = 0.0
_NOISE_MIN = 1e-6
_NOISE_MIN_DETERMINISTIC = 1e-9
# Jitter added to the diagonal, relative to the amplitude, when the Cholesky of K fails
# (duplicated points with tiny noise): escalated tenfold up to 1e-3.
_JITTER_START = 1e-10


_SQRT5 = math.sqrt(5.0)
_VAR_FLOOR = 1e-12  # relative to the amplitude, as kernels.gp_posterior


def sq_dists(X1: np.ndarray, X2: np.ndarray, rho: np.ndarray, is_cat: np.ndarray) -> np.ndarray:
    """(n1, n2) scaled squared distances r^2 of ``kernels.matern52`` by matrix products:
    |a|^2 + |b|^2 - 2 a.b over lengthscale-scaled continuous coordinates, clipped at 0
    (rounding ~1e-16 |a|^2, far below what moves a fit or an acquisition), plus rho_j
    where categorical dimension j differs."""
    c = np.flatnonzero(~is_cat)
    w = np.sqrt(rho[c])
    A, B = X1[:, c] * w, X2[:, c] * w
    r2 = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2.0 * (A @ B.T)
    np.maximum(r2, 0.0, out=r2)
    for j in np.flatnonzero(is_cat):
        r2 += rho[j] * (X1[:, j][:, None] != X2[:, j][None, :])
    return r2


def _matern(r2: np.ndarray, *, slope: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Unit-amplitude Matern-5/2 values and slopes d k / d(r^2) at r^2 (None when not
    ``slope``), with as few temporaries as the formula allows: the posterior calls this
    on (candidates x trials) matrices."""
    r = np.sqrt(r2)
    e = np.exp(-_SQRT5 * r)
    r *= _SQRT5
    r += 1.0  # 1 + sqrt5 r
    k = r2 * (5.0 / 3.0)
    k += r
    k *= e
    if not slope:
        return k, None
    r *= e
    r *= -5.0 / 6.0
    return k, r


def log_marginal_likelihood(X: np.ndarray, y: np.ndarray, is_cat: np.ndarray,
                            theta: np.ndarray) -> tuple[float, np.ndarray]:
    """``kernels.gp_log_marginal_likelihood`` (the tests pin them together) with LAPACK:
    one Cholesky (dpotrf), K^-1 from it (dpotri), the gradient 0.5 tr(W dK/dtheta) with
    W = alpha alpha^T - K^-1 as elementwise products: O(n^3 / 3 + n^2 d), no Python
    loop over pairs. (-inf, zeros) when K is not numerically positive definite."""
    n, d = X.shape
    rho, amp, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
    k, slope = _matern(sq_dists(X, X, rho, is_cat))
    assert slope is not None
    K = amp * k
    K[np.diag_indices_from(K)] += noise
    if not np.isfinite(K).all():
        return -math.inf, np.zeros(d + 2)
    L, info = scipy.linalg.lapack.dpotrf(K, lower=1, clean=1)
    if info != 0:
        return -math.inf, np.zeros(d + 2)
    alpha = scipy.linalg.cho_solve((L, True), y, check_finite=False)
    Kinv, info = scipy.linalg.lapack.dpotri(L, lower=1)
    if info != 0:
        return -math.inf, np.zeros(d + 2)
    Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
    value = -0.5 * float(y @ alpha) - float(np.log(np.diag(L)).sum()) - 0.5 * n * math.log(2.0 * math.pi)
    W = np.outer(alpha, alpha) - Kinv
    grad = np.empty(d + 2)
    WS = W * (amp * slope)
    for j in range(d):  # dK/dlog rho_j = amp * slope * rho_j * delta_j
        if is_cat[j]:
            delta = (X[:, j][:, None] != X[:, j][None, :]).astype(np.float64)
        else:
            diff = X[:, j][:, None] - X[:, j][None, :]
            delta = diff * diff
        grad[j] = 0.5 * rho[j] * float(np.einsum("ij,ij->", WS, delta))
    grad[d] = 0.5 * float(np.einsum("ij,ij->", W, K)) - 0.5 * noise * float(np.trace(W))  # dK/dlog amp = amp k
    grad[d + 1] = 0.5 * noise * float(np.trace(W))
    return value, grad


class GPModel:
    """A fitted GP: training inputs and outputs, hyperparameters and the factorisation.

    ``posterior`` is ``kernels.gp_posterior`` (the tests pin them together) written with
    matrix products: the squared distances by :func:`sq_dists` and the variance with K^-1
    computed once per model. An acquisition evaluates the posterior
    thousands of times per proposal (a candidate set, then one point per L-BFGS-B step),
    so each call is a few BLAS products: O(m n (n + d)) for m points. With a
    ``kernel_module`` (a backend of ``hpo_core.kernels``), ``posterior`` is that backend's
    ``gp_posterior`` on L and alpha instead. The model pickles: the module is stored by
    its backend name and imported again on unpickling.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta: np.ndarray, L: np.ndarray,
                 alpha: np.ndarray, *, kernel_module: ModuleType | None = None):
        self.X, self.y, self.is_cat, self.theta, self.L, self.alpha = X, y, is_cat, theta, L, alpha
        self.kernel_module = kernel_module
        d = X.shape[1]
        self._rho = np.exp(theta[:d])
        self._amp = math.exp(theta[d])
        self._cont = np.flatnonzero(~is_cat)
        self._cat = np.flatnonzero(is_cat)
        self._Kinv: np.ndarray | None = None
        # The training side of sq_dists, computed once per model: lengthscale-scaled
        # continuous coordinates and their squared norms.
        self._w = np.sqrt(self._rho[self._cont])
        self._Xs = X[:, self._cont] * self._w
        self._Xs_sq = (self._Xs * self._Xs).sum(axis=1)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        module = state.pop("kernel_module")  # a module does not pickle: keep its name
        state["_backend_name"] = None if module is None else module.BACKEND_NAME
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        name = state.pop("_backend_name", None)
        self.__dict__.update(state)
        self.kernel_module = None if name is None else kernels.get_backend(name)

    def posterior(self, Xq: np.ndarray, *,
                  grad: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, var, dmean, dvar)`` of the latent function at Xq (m, d); gradients
        (m, d) with respect to Xq, zero in categorical dimensions. ``grad=False`` skips
        the gradients (returned as zeros): a candidate set needs only the values."""
        if self.kernel_module is not None:
            return self.kernel_module.gp_posterior(  # type: ignore[no-any-return]
                Xq, self.X, self.is_cat, self.theta, self.L, self.alpha)
        if self._Kinv is None:
            Kinv, _ = scipy.linalg.lapack.dpotri(self.L, lower=1)
            self._Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
        c, amp = self._cont, self._amp
        k, slope = _matern(self._r2(Xq), slope=grad)
        k *= amp
        mean = k @ self.alpha
        B = k @ self._Kinv  # (K^-1 k_q)^T
        var = amp - np.einsum("ij,ij->i", B, k)
        floor = _VAR_FLOOR * amp
        clipped = var < floor
        var = np.where(clipped, floor, var)
        m, d = Xq.shape
        dmean = np.zeros((m, d))
        dvar = np.zeros((m, d))
        if slope is not None and len(c):
            slope *= amp  # dk / d(r^2)
            # d r^2 / d xq_p = 2 rho_p (xq_p - x_p) for continuous p.
            Sa = slope * self.alpha[None, :]
            dmean[:, c] = 2.0 * self._rho[c] * (Xq[:, c] * Sa.sum(axis=1)[:, None] - Sa @ self.X[:, c])
            SB = B
            SB *= slope
            dvar[:, c] = -4.0 * self._rho[c] * (Xq[:, c] * SB.sum(axis=1)[:, None] - SB @ self.X[:, c])
            dvar[clipped] = 0.0
        return mean, var, dmean, dvar

    def _r2(self, Xq: np.ndarray) -> np.ndarray:
        """(m, n) scaled squared distances r^2 from the queries to the training points:
        :func:`sq_dists` with the training side cached."""
        A = Xq[:, self._cont] * self._w
        r2 = A @ self._Xs.T
        r2 *= -2.0
        r2 += (A * A).sum(axis=1)[:, None]
        r2 += self._Xs_sq[None, :]
        np.maximum(r2, 0.0, out=r2)
        for j in self._cat:  # Hamming: rho_j where the categories differ
            r2 += self._rho[j] * (Xq[:, j][:, None] != self.X[:, j][None, :])
        return r2


def warp_outputs(values: np.ndarray) -> np.ndarray:
    """Robust standardisation of objective values to be maximised: (n,) -> (n,).

    Non-finite values: -inf and NaN (a diverged run, after the sign flip) become the worst
    finite value, +inf the best one. The
    values are centred on their median and scaled by a robust spread (the interquartile
    range / 1.349, the standard deviation if that is 0, else 1); then the bad tail below
    -2 is compressed logarithmically (``-2 - log1p(-2 - z)``), which keeps the order but
    stops a few huge losses from flattening the rest of the surface; finally the result
    is standardised to mean 0, standard deviation 1. The map is monotone, so the best
    observation stays the best.
    """
    v = np.asarray(values, dtype=np.float64).copy()
    finite = np.isfinite(v)
    if not finite.all():
        worst = v[finite].min() if finite.any() else 0.0
        v[~finite] = np.where(v[~finite] > 0, v[finite].max() if finite.any() else 0.0, worst)
    q25, q50, q75 = np.percentile(v, [25.0, 50.0, 75.0])
    scale = (q75 - q25) / 1.349
    if not scale > 0:
        scale = float(v.std())
    if not scale > 0:
        scale = 1.0
    z = (v - q50) / scale
    tail = z < -2.0
    z[tail] = -2.0 - np.log1p(-2.0 - z[tail])
    sd = z.std()
    return (z - z.mean()) / (sd if sd > 0 else 1.0)  # type: ignore[no-any-return]


def default_theta(d: int) -> np.ndarray:
    """Starting hyperparameters: lengthscale 0.5 in every dimension, amplitude 1, noise 1e-2."""
    return np.concatenate((np.full(d, math.log(4.0)), [0.0, math.log(1e-2)]))


def _log_prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Log density (up to a constant) and gradient of the hyperparameter prior.

    Gamma(2, 0.5) on each inverse squared lengthscale (mode 2: lengthscale ~0.7; it keeps
    unused dimensions from collapsing to tiny lengthscales), Gamma(2, 1) on the amplitude
    and Gamma(1.1, 30) on the noise variance (mode ~3e-3), all expressed in log space
    (the log-Jacobian is included, so the density is that of theta).
    """
    d = len(theta) - 2
    grad = np.zeros_like(theta)
    total = 0.0
    for idx, shape, rate in ((slice(0, d), 2.0, 0.5), (slice(d, d + 1), 2.0, 1.0), (slice(d + 1, d + 2), 1.1, 30.0)):
        t = theta[idx]
        # log Gamma(x; a, b) + log x (Jacobian) with x = e^t: a t - b e^t
        total += float(np.sum(shape * t - rate * np.exp(t)))
        grad[idx] = shape - rate * np.exp(t)
    return total, grad


def _bounds(d: int, deterministic: bool) -> list[tuple[float, float]]:
    noise_min = _NOISE_MIN_DETERMINISTIC if deterministic else _NOISE_MIN
    return [_LOG_INV_SQ_LS] * d + [_LOG_AMP, (math.log(noise_min), _LOG_NOISE_MAX)]


def fit_theta(X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta0: np.ndarray, *,
              deterministic: bool = False, max_iter: int = 200,
              kernel_module: ModuleType | None = None) -> np.ndarray:
    """MAP hyperparameters by L-BFGS-B with analytic gradients, started at theta0.

    The likelihood is :func:`log_marginal_likelihood` (BLAS), or ``kernel_module``'s
    ``gp_log_marginal_likelihood`` when given. Returns theta0 (clipped into the bounds)
    if no step improves the posterior, e.g. when every evaluation fails to factorise.
    """
    lml_of = log_marginal_likelihood if kernel_module is None else kernel_module.gp_log_marginal_likelihood
    bounds = _bounds(X.shape[1], deterministic)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    start = np.clip(theta0, lo, hi)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        lml, grad = lml_of(X, y, is_cat, theta)
        lp, gp = _log_prior(theta)
        value = -(lml + lp)
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return float(value), -(grad + gp)

    res = scipy.optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": max_iter})
    theta = np.clip(res.x, lo, hi)
    return theta if objective(theta)[0] <= objective(start)[0] else start


def factorize(X: np.ndarray, is_cat: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor of K = amplitude * matern52 + noise * I, with jitter escalated
    tenfold from 1e-10 to 1e-3 of the amplitude when K is not numerically positive
    definite; None if even that fails."""
    d = X.shape[1]
    amp, noise = math.exp(theta[d]), math.exp(theta[d + 1])
    K = amp * _matern(sq_dists(X, X, np.exp(theta[:d]), is_cat), slope=False)[0]
    diag = np.diag_indices_from(K)
    base = K[diag] + noise
    for jitter in [0.0] + [_JITTER_START * amp * 10.0**i for i in range(8)]:  # up to 1e-3 amp
        K[diag] = base + jitter
        try:
            return np.asarray(scipy.linalg.cholesky(K, lower=True, check_finite=False))
        except np.linalg.LinAlgError:
            continue
    return None


def fit_model(X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta0: np.ndarray, *,
              deterministic: bool = False, fit_subset: np.ndarray | None = None,
              max_iter: int = 200, refit: bool = True,
              kernel_module: ModuleType | None = None) -> GPModel | None:
    """Fit the hyperparameters (on ``fit_subset`` rows if given; kept at theta0 when not
    ``refit``) and factorise K on all rows; None when K cannot be factorised even with
    jitter (the caller falls back). ``kernel_module``: see :func:`fit_theta`, :class:`GPModel`."""
    Xf, yf = (X, y) if fit_subset is None else (X[fit_subset], y[fit_subset])
    theta = fit_theta(Xf, yf, is_cat, theta0, deterministic=deterministic, max_iter=max_iter,
                      kernel_module=kernel_module) if refit else theta0
    L = factorize(X, is_cat, theta)
    if L is None:
        return None
    alpha = scipy.linalg.cho_solve((L, True), y, check_finite=False)
    return GPModel(X, y, is_cat, theta, L, alpha, kernel_module=kernel_module)


def condition_on_pending(model: GPModel, Xp: np.ndarray) -> GPModel:
    """The model with pending points Xp (p, d) added at their posterior mean ("kriging
    believer"): the mean is unchanged, the variance at and near them shrinks, so a batch
    and parallel workers spread out. Hyperparameters and kernel backend are kept;
    None-safe: if the enlarged K cannot be factorised, the model is returned unchanged."""
    if len(Xp) == 0:
        return model
    mean = model.posterior(Xp)[0]
    X = np.concatenate((model.X, Xp))
    y = np.concatenate((model.y, mean))
    L = factorize(X, model.is_cat, model.theta)
    if L is None:
        return model
    alpha = scipy.linalg.cho_solve((L, True), y, check_finite=False)
    return GPModel(X, y, model.is_cat, model.theta, L, alpha, kernel_module=model.kernel_module)
