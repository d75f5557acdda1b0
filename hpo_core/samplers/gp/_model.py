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
    L, alpha     lower Cholesky factor of K and ``K^-1 y``; K_inv is ``K^-1``.
    Xp, p        pending points (p, d), conditioned on at their posterior mean.

The GP math (the Matern-5/2 kernel, the log marginal likelihood and its gradient, the
posterior and its gradients) is in ``hpo_core.kernels``: ``matern52``,
``gp_log_marginal_likelihood`` and ``gp_posterior``. This module is the orchestration
around them: the hyperparameter priors and bounds and the L-BFGS-B MAP fit, the
Cholesky factorisation with escalating jitter, K^-1 computed once per model, the output
warping and the conditioning on pending points (a block update of K^-1).

Backends. Every function takes ``kernel_module``, the backend of ``hpo_core.kernels``
whose GP kernels it calls (``kernels.get_backend(name)``: ``"numpy"``, ``"numba"`` or
``"jax"``); None is the NumPy reference (vectorised BLAS and LAPACK, the fastest on a
CPU). The factorisation (SciPy's Cholesky) runs on the host whatever the backend.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np
import scipy.linalg
import scipy.linalg.lapack
import scipy.optimize

from hpo_core import kernels
from hpo_core._validation import format_error

__all__ = ["GPModel", "PRIORS", "fit_model", "warp_outputs", "default_theta", "condition_on_pending", "nearest_rows"]

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


def _gp_kernels(kernel_module: ModuleType | None) -> ModuleType:
    """The backend whose GP kernels are called: ``kernel_module``, or the NumPy reference."""
    return kernel_module if kernel_module is not None else kernels.get_backend("numpy")


class GPModel:
    """A fitted GP: training inputs and outputs, hyperparameters and the factorisation.

    ``posterior`` is the backend's ``gp_posterior`` (the NumPy reference by default) with
    K^-1 computed once per model from L (LAPACK ``potri``, on the first call): an
    acquisition evaluates the posterior thousands of times per proposal (a candidate
    set, then one batch of points per L-BFGS-B step), so each call is a few BLAS
    products, O(m n (n + d)) for m points. The model pickles: the backend is stored by
    name and imported again on unpickling.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta: np.ndarray, L: np.ndarray | None,
                 alpha: np.ndarray, *, kernel_module: ModuleType | None = None, K_inv: np.ndarray | None = None):
        if L is None and K_inv is None:
            raise ValueError(format_error("L, K_inv", "at least one of them", (L, K_inv), owner="GPModel"))
        self.X, self.y, self.is_cat, self.theta, self.L, self.alpha = X, y, is_cat, theta, L, alpha
        self.kernel_module = _gp_kernels(kernel_module)
        self._K_inv = K_inv

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        module = state.pop("kernel_module")  # a module does not pickle: keep its name
        state["_backend_name"] = module.BACKEND_NAME
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        name = state.pop("_backend_name", None)  # None: pickled before every model had one
        state.setdefault("_K_inv", None)
        self.__dict__.update(state)
        self.kernel_module = _gp_kernels(None if name is None else kernels.get_backend(name))

    @property
    def K_inv(self) -> np.ndarray:
        """``K^-1`` (n, n): given, or from L by LAPACK ``potri`` on first use, then cached."""
        if self._K_inv is None:
            assert self.L is not None
            # potri fills the lower triangle and keeps L's strict upper one, which is 0
            # (scipy.linalg.cholesky cleans it): one transposed sum makes K^-1 symmetric.
            lower, _ = scipy.linalg.lapack.dpotri(self.L, lower=1)
            K_inv = lower + lower.T
            np.fill_diagonal(K_inv, lower.diagonal())
            self._K_inv = K_inv
        return self._K_inv

    def posterior(self, Xq: np.ndarray, *,
                  grad: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, var, dmean, dvar)`` of the latent function at Xq (m, d); gradients
        (m, d) with respect to Xq, zero in categorical dimensions. ``grad=False`` skips
        the gradients (returned as zeros): a candidate set needs only the values."""
        return self.kernel_module.gp_posterior(  # type: ignore[no-any-return]
            Xq, self.X, self.is_cat, self.theta, self.K_inv, self.alpha, grad=grad)


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


#: Above this many numeric dimensions their lengthscale prior's mode shrinks from 1 to
#: sqrt(_PRIOR_DIMS / d) (see _log_prior).
_PRIOR_DIMS = 5.0


def default_theta(d: int) -> np.ndarray:
    """Starting hyperparameters: lengthscale 0.5 in every dimension, amplitude 1, noise 1e-2."""
    return np.concatenate((np.full(d, math.log(4.0)), [0.0, math.log(1e-2)]))


#: The hyperparameter priors ``_log_prior`` knows: GPSampler's, and Optuna's GP's (which
#: the terminator's evaluators use, so that their bounds are Optuna's: see below).
PRIORS = ("sampler", "optuna")


def _log_prior(theta: np.ndarray, is_cat: np.ndarray | None = None, *,
               prior: str = "sampler") -> tuple[float, np.ndarray]:
    """Log density (up to a constant) and gradient of the hyperparameter prior, in theta.

    ``prior="optuna"`` is Optuna's GP prior exactly (``optuna/_gp/prior.py``): the
    lengthscale term below without the shift in more than 5 dimensions, and the two gamma
    densities of a and s2 themselves (``(shape - 1) t - rate e^t``, no log-Jacobian), so
    the noise's mode is 0.1 / 30 ~ 0.0033 and small noise is barely penalised. The
    terminator's evaluators fit with it: with GPSampler's prior below, their regret
    bounds came out 1.1-1.5x and EMMR 1.5-3.5x Optuna's on the same trials (nearly
    noiseless 3-D studies of 30-80 trials), with Optuna's within 1.01-1.16x.
    The rest of this docstring is ``prior="sampler"`` (the default), GPSampler's.

    * Each log inverse squared lengthscale ``t = log rho``: ``-0.1 (e^-t + e^t) = -0.2
      cosh(t)``, the prior of Optuna's GP (``optuna/_gp/prior.py``, there written in rho).
      Its mode is lengthscale 1 and it is nearly flat from lengthscale 0.4 to 2.6 (within
      0.5 of the mode), so a dimension the data do not use is free to grow a long
      lengthscale and drop out of the model; beyond that it falls off steeply (about -1
      at lengthscales 0.3 and 3, -10 at 0.1 and 10).
    * Gamma(2, 1) on the amplitude a and Gamma(1.1, 30) on the noise variance s2, as
      densities of their logs (the log-Jacobian ``t`` included: ``shape t - rate e^t``),
      so their modes in theta are a = 2 and s2 = 1.1 / 30 ~ 0.037.

    * With more than 5 numeric dimensions (``is_cat`` False; all when ``is_cat`` is None)
      their lengthscale term is shifted so that its mode is lengthscale ``sqrt(5 / d)``,
      d the numeric dimensions (0.71 in 10-D): ``-0.2 cosh(t - log(d / 5))``; categorical
      dimensions keep mode 1 (on the all-categorical 10-D ``syn_cat_chain`` the shift
      lost 2/7, 1/9, 3/7 at 25/50/100 trials, 10 seeds). Measured on COCO BBOB
      in 10-D (24 functions x 10 seeds, ``benchmarks/README.md``, issue 11), against the
      mode 1 of 5-D and below: seed wins 141/73, 142/86 and 133/96 at 25, 50 and 100
      trials (Wilcoxon p < 0.001, 0.0005, 0.075); the opposite shift, mode
      ``sqrt(d / 5)`` (longer lengthscales in more dimensions, as Hvarfner et al. 2024
      propose for BoTorch's GP), lost 86/124 and 101/128 at 25 and 50. Up to 5 numeric
      dimensions the prior is Optuna's.

    The lengthscale term replaced a Gamma(2, 0.5) density of log rho (mode rho = 4,
    lengthscale 0.5), which at 15-25 trials held every lengthscale near 0.5-1, irrelevant
    dimensions included (Optuna's prior lets them grow to 2-4 on the same data): the
    acquisition then explored dimensions that do not matter, and hpo_core's GP trailed
    Optuna's at 25 trials on model tuning (``benchmarks/README.md``, GP section, issue 11).
    The noise term was kept: Optuna's (Gamma(1.1, 30) as a density of s2 itself, about
    1e-3 on the same data) was worse on mlp_digits in that measurement.
    """
    d = len(theta) - 2
    grad = np.zeros_like(theta)
    numeric = np.ones(d, dtype=bool) if is_cat is None else ~np.asarray(is_cat, dtype=bool)
    d_num = int(numeric.sum())
    # Mode lengthscale sqrt(5 / d_num) on the numeric dimensions above 5 of them.
    shift = math.log(max(1.0, d_num / _PRIOR_DIMS)) if prior == "sampler" else 0.0
    jacobian = 1.0 if prior == "sampler" else 0.0
    t = theta[:d] - np.where(numeric, shift, 0.0)
    total = float(np.sum(-0.1 * np.exp(-t) - 0.1 * np.exp(t)))
    grad[:d] = 0.1 * np.exp(-t) - 0.1 * np.exp(t)
    for idx, shape, rate in ((slice(d, d + 1), 2.0, 1.0), (slice(d + 1, d + 2), 1.1, 30.0)):
        t = theta[idx]
        # log Gamma(x; a, b) + log x (Jacobian) with x = e^t: a t - b e^t (Optuna's: no Jacobian)
        a = shape - 1.0 + jacobian
        total += float(np.sum(a * t - rate * np.exp(t)))
        grad[idx] = a - rate * np.exp(t)
    return total, grad


def _bounds(d: int, deterministic: bool) -> list[tuple[float, float]]:
    noise_min = _NOISE_MIN_DETERMINISTIC if deterministic else _NOISE_MIN
    return [_LOG_INV_SQ_LS] * d + [_LOG_AMP, (math.log(noise_min), _LOG_NOISE_MAX)]


def fit_theta(X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta0: np.ndarray, *,
              deterministic: bool = False, max_iter: int = 200,
              kernel_module: ModuleType | None = None, prior: str = "sampler") -> np.ndarray:
    """MAP hyperparameters by L-BFGS-B with analytic gradients, started at theta0, under
    the hyperparameter ``prior`` (one of PRIORS, see ``_log_prior``).

    The likelihood is the backend's ``gp_log_marginal_likelihood`` (the NumPy reference
    when ``kernel_module`` is None). Returns theta0 (clipped into the bounds) if no step
    improves the posterior, e.g. when every evaluation fails to factorise.
    """
    lml_of = _gp_kernels(kernel_module).gp_log_marginal_likelihood
    bounds = _bounds(X.shape[1], deterministic)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    start = np.clip(theta0, lo, hi)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        lml, grad = lml_of(X, y, is_cat, theta)
        lp, gp = _log_prior(theta, is_cat, prior=prior)
        value = -(lml + lp)
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return float(value), -(grad + gp)

    res = scipy.optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": max_iter})
    theta = np.clip(res.x, lo, hi)
    return theta if objective(theta)[0] <= objective(start)[0] else start


def factorize(X: np.ndarray, is_cat: np.ndarray, theta: np.ndarray, *,
              kernel_module: ModuleType | None = None) -> np.ndarray | None:
    """Lower Cholesky factor of K = amplitude * matern52 + noise * I (the backend's
    ``matern52``), with jitter escalated tenfold from 1e-10 to 1e-3 of the amplitude when
    K is not numerically positive definite; None if even that fails."""
    d = X.shape[1]
    amp, noise = math.exp(theta[d]), math.exp(theta[d + 1])
    K = amp * _gp_kernels(kernel_module).matern52(X, X, np.exp(theta[:d]), is_cat)
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
              kernel_module: ModuleType | None = None, prior: str = "sampler") -> GPModel | None:
    """Fit the hyperparameters (on ``fit_subset`` rows if given; kept at theta0 when not
    ``refit``; under ``prior``, see ``_log_prior``) and factorise K on all rows; None when
    K cannot be factorised even with jitter (the caller falls back). ``kernel_module``:
    see the module docstring."""
    Xf, yf = (X, y) if fit_subset is None else (X[fit_subset], y[fit_subset])
    theta = fit_theta(Xf, yf, is_cat, theta0, deterministic=deterministic, max_iter=max_iter,
                      kernel_module=kernel_module, prior=prior) if refit else theta0
    L = factorize(X, is_cat, theta, kernel_module=kernel_module)
    if L is None:
        return None
    alpha = scipy.linalg.cho_solve((L, True), y, check_finite=False)
    return GPModel(X, y, is_cat, theta, L, alpha, kernel_module=kernel_module)


def condition_on_pending(model: GPModel, Xp: np.ndarray) -> GPModel:
    """The model with pending points Xp (p, d) added at their posterior mean ("kriging
    believer"): the mean is unchanged, the variance at and near them shrinks, so a batch
    and parallel workers spread out. Hyperparameters and kernel backend are kept.

    K^-1 of the enlarged matrix ``[[K, k], [k^T, c]]`` (``k = a k(X, Xp)``, ``c = a
    k(Xp, Xp) + s2 I``) by blocks from the model's K^-1: with ``E = K^-1 k`` and the Schur
    complement ``S = c - k^T E``, it is ``[[K^-1 + E S^-1 E^T, -E S^-1], [-S^-1 E^T,
    S^-1]]``: O(n^2 p) instead of a new O((n + p)^3) factorisation and inverse (13 ms of
    a 1,000-trial ask with one pending trial). And ``alpha`` is ``[alpha, 0]`` exactly:
    the pending outputs are the posterior mean ``k^T alpha``, so ``E^T y`` equals them and
    the update of alpha vanishes. When S is not numerically positive definite (a pending
    point on top of an observation with tiny noise), K is factorised anew with jitter;
    if even that fails, the model is returned unchanged.
    """
    if len(Xp) == 0:
        return model
    n, d = model.X.shape
    theta, module = model.theta, model.kernel_module
    rho, amp, noise = np.exp(theta[:d]), math.exp(theta[d]), math.exp(theta[d + 1])
    X = np.concatenate((model.X, Xp))
    k = amp * module.matern52(model.X, Xp, rho, model.is_cat)  # (n, p)
    c = amp * module.matern52(Xp, Xp, rho, model.is_cat)
    c[np.diag_indices_from(c)] += noise
    K_inv = model.K_inv
    E = K_inv @ k
    mean = k.T @ model.alpha  # the posterior mean at Xp
    y = np.concatenate((model.y, mean))
    S = c - k.T @ E
    try:
        L_S = scipy.linalg.cholesky(0.5 * (S + S.T), lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        L = factorize(X, model.is_cat, theta, kernel_module=module)
        if L is None:
            return model
        alpha = scipy.linalg.cho_solve((L, True), y, check_finite=False)
        return GPModel(X, y, model.is_cat, theta, L, alpha, kernel_module=module)
    S_inv = scipy.linalg.cho_solve((L_S, True), np.eye(len(Xp)), check_finite=False)
    F = E @ S_inv  # (n, p)
    big = np.empty((n + len(Xp), n + len(Xp)))
    np.matmul(F, E.T, out=big[:n, :n])
    big[:n, :n] += K_inv
    big[:n, n:] = -F
    big[n:, :n] = -F.T
    big[n:, n:] = S_inv
    alpha = np.concatenate((model.alpha, np.zeros(len(Xp))))
    return GPModel(X, y, model.is_cat, theta, None, alpha, kernel_module=module, K_inv=big)


def nearest_rows(X: np.ndarray, center: np.ndarray, is_cat: np.ndarray, theta: np.ndarray, count: int, *,
                 kernel_module: ModuleType | None = None) -> np.ndarray:
    """Sorted indices of the ``count`` rows of X (n, d) nearest to ``center`` (d,) in the
    kernel's lengthscale-scaled distance r (Hamming for categoricals), i.e. with the
    largest unit-amplitude prior covariance ``matern52`` with it (k decreases with r).
    Ties, e.g. rows so far away that k underflows to 0 (r > ~330 lengthscales), go to
    the lower index."""
    d = X.shape[1]
    k = _gp_kernels(kernel_module).matern52(X, center[None, :], np.exp(theta[:d]), is_cat)[:, 0]
    return np.sort(np.argsort(-k, kind="stable")[:count])
