"""Trials -> the arrays the terminator's GP evaluators fit, and the GP quantities they
share (the confidence-bound regret bound of Makarova et al. 2022).

Notation:
    n, d      COMPLETE trials and dimensions of their intersection search space.
    X         (n, d) model coordinates (``samplers.gp._optimize.SpaceCoords``: numeric
              parameters in the unit cube, log space where log; categoricals as indices).
    y         (n,) objective values signed to be *maximised* (minimised ones negated),
              infinities replaced by the finite extremes.

The GP is GPSampler's (``samplers.gp._model``: its kernel, MAP fit and posterior), fitted
under Optuna's hyperparameter prior (``prior="optuna"``); the maximisation of the UCB over the search space is GPSampler's
acquisition search (``samplers.gp._optimize``: Sobol candidates, L-BFGS-B and a grid
neighbour search). Nothing here loops in Python over trials except the one conversion
of ``FrozenTrial`` parameters to internal values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from hpo_core.distributions import SearchSpace
from hpo_core.samplers.gp import _model, _optimize
from hpo_core.samplers.gp._acquisition import acquisition
from hpo_core.search_space import intersection_search_space
from hpo_core.trial import FrozenTrial, StudyDirection, TrialState

__all__ = [
    "TrialArrays",
    "trial_arrays",
    "fit_gp",
    "posterior_at",
    "posterior_cov",
    "standardized_regret_bound",
    "DO_NOT_TERMINATE",
]

#: Optuna's "do not terminate" improvement: a huge finite value (a plot can still scale).
DO_NOT_TERMINATE = 1.7976931348623157e308 * 0.1  # sys.float_info.max * 0.1


class TrialArrays(NamedTuple):
    """The COMPLETE trials of a list as model arrays (see the module's notation)."""

    coords: _optimize.SpaceCoords | None  # None: the intersection search space is empty
    X: np.ndarray
    y: np.ndarray


def complete(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    return [t for t in trials if t.state == TrialState.COMPLETE]


def trial_arrays(trials: Sequence[FrozenTrial], direction: StudyDirection) -> TrialArrays:
    """The COMPLETE trials of ``trials`` (in their given order) over their intersection
    search space (parameters with a single value left out: they add nothing to a kernel);
    ``coords`` is None and X has no columns when that space is empty."""
    done = complete(trials)
    sign = -1.0 if direction == StudyDirection.MINIMIZE else 1.0
    y = sign * np.array([t.value for t in done], dtype=np.float64)
    finite = np.isfinite(y)
    if len(y) and not finite.all():  # Optuna's warn_and_convert_inf: clip to the finite range
        lo, hi = (float(y[finite].min()), float(y[finite].max())) if finite.any() else (0.0, 0.0)
        y = np.clip(np.nan_to_num(y, nan=lo), lo, hi)
    dists = {n: d for n, d in intersection_search_space(done).items() if not d.single()}
    if not dists:
        return TrialArrays(None, np.empty((len(done), 0)), y)
    space = SearchSpace(dists)
    internal = np.array(
        [[dist.to_internal_repr(t.params[name]) for name, dist in dists.items()] for t in done],
        dtype=np.float64,
    ).reshape(len(done), len(dists))
    coords = _optimize.SpaceCoords(space)
    return TrialArrays(coords, coords.to_model(internal), y)


def fit_gp(
    X: np.ndarray,
    y: np.ndarray,
    is_cat: np.ndarray,
    *,
    deterministic: bool = False,
    warm: _model.GPModel | None = None,
) -> _model.GPModel | None:
    """GPSampler's GP (MAP hyperparameters, started at ``warm``'s or the default) on X
    (n >= 1, d) and y (n,) already standardised, under Optuna's hyperparameter prior
    (``_model._log_prior``: with GPSampler's, the bounds came out up to 3.5x Optuna's);
    None if K cannot be factorised."""
    theta0 = warm.theta if warm is not None else _model.default_theta(X.shape[1])
    return _model.fit_model(X, y, is_cat, theta0, deterministic=deterministic, prior="optuna")


def posterior_at(model: _model.GPModel, x: np.ndarray) -> tuple[float, float]:
    """Posterior mean and variance of the latent function at one point x (d,)."""
    mean, var = model.posterior(x[None, :], grad=False)[:2]
    return float(mean[0]), float(var[0])


def posterior_cov(model: _model.GPModel, a: np.ndarray, b: np.ndarray) -> float:
    """Posterior covariance of the latent function between points a and b (d,):
    ``s k(a, b) - s k(a, X) K^-1 s k(X, b)`` with s the amplitude."""
    d = model.X.shape[1]
    rho, amp = np.exp(model.theta[:d]), math.exp(model.theta[d])
    k = model.kernel_module.matern52
    k_ab = amp * float(k(a[None, :], b[None, :], rho, model.is_cat)[0, 0])
    k_aX = amp * k(a[None, :], model.X, rho, model.is_cat)[0]
    k_Xb = amp * k(model.X, b[None, :], rho, model.is_cat)[:, 0]
    return k_ab - float(k_aX @ model.K_inv @ k_Xb)


def _beta(n_params: int, n_trials: int, delta: float) -> float:
    """The confidence width of GP-UCB (Srinivas et al. 2010, Theorem 1:
    ``2 log(|D| t^2 pi^2 / (6 delta))``), scaled down by 5 as in Makarova et al.'s
    experiments; Optuna's ``_get_beta`` (|D| taken as the dimension)."""
    return 2.0 * math.log(n_params * n_trials**2 * math.pi**2 / 6.0 / delta) / 5.0


def standardized_regret_bound(
    model: _model.GPModel,
    coords: _optimize.SpaceCoords,
    X_top: np.ndarray,
    rng: np.random.Generator,
    *,
    delta: float = 0.1,
    n_samples: int = 2048,
) -> float:
    """max over the space of UCB minus max over the top trials of LCB, in the model's
    (standardised) units: the regret bound of Makarova et al. 2022 for a maximised f
    (the paper minimises: min LCB over the space and min UCB over the top trials).

    The UCB's maximum over the space is GPSampler's acquisition search from
    ``n_samples`` Sobol candidates (Optuna evaluates 2,048 random points only, so its
    maximum is a little lower and its bound a little tighter than ours); the top trials'
    own UCB counts too. X_top (n, d) are the top trials the model was fitted on.
    """
    n, d = X_top.shape
    beta = _beta(d, n, delta)
    root = math.sqrt(beta)
    mean, var = model.posterior(X_top, grad=False)[:2]
    sd = np.sqrt(var)

    def ucb(Z: np.ndarray, grad: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return acquisition("ucb", *model.posterior(Z, grad=grad), best=0.0, beta=beta)

    order = np.argsort(-mean, kind="stable")[:5]
    Z = _optimize.draw_candidates(coords, rng, n_samples, X_top[order])
    z = _optimize.maximize(ucb, coords, Z)
    ucb_max = max(float((mean + root * sd).max()), float(ucb(z[None, :], False)[0][0]))
    lcb_max = float((mean - root * sd).max())
    return ucb_max - lcb_max
