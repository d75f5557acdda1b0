"""One GP proposal from prepared arrays: fit the models, condition them on the pending
points, maximise the acquisition.

Pure: no sampler, no cache, no lock and no generator (the candidates come pre-drawn), so
GPSampler runs it outside its lock and the proposals of two threads overlap
(``optimize(n_jobs=2)``; the BLAS/LAPACK calls and SciPy's L-BFGS-B release the GIL for
much of an ask). GPSampler's lock covers what is shared: the warm starts, the refit
schedule, the coordinate cache and the generator, whose draws (fit subsets, candidates)
are made, in the order of a single-threaded ask, before this runs.

Notation:
    n, d, M      model rows, dimensions (model coordinates) and objectives (1 to 3).
    X            (n, d) model coordinates of the trials (``SpaceCoords.to_model``).
    Y            (n, M) warped outputs, each to be maximised (``_model.warp_outputs``).
    Xp           (p, d) pending (RUNNING) points, conditioned on at the posterior mean.
    Z            (m, d) the acquisition search's candidates (``_optimize.draw_candidates``).
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import NamedTuple

import numpy as np

from hpo_core.samplers.gp import _ehvi, _model, _optimize
from hpo_core.samplers.gp._acquisition import acquisition, log_feasibility

__all__ = ["ModelSpec", "Plan", "Outcome", "propose"]


class ModelSpec(NamedTuple):
    """One GP to fit: inputs X (m, d) and outputs y (m,), the warm start theta0 (d + 2,),
    the rows of the MAP fit (None: all), whether to refit or keep theta0, and for a
    constraint the standardised threshold (feasible where the constraint is <= it)."""

    X: np.ndarray
    y: np.ndarray
    theta0: np.ndarray
    fit_subset: np.ndarray | None
    refit: bool
    threshold: float = math.nan


class Plan(NamedTuple):
    """Everything a proposal needs, prepared under the sampler's lock.

    ``objectives`` has one model (an acquisition of ``kind``: logei, ucb or pi, with
    ``beta``) or 2-3 (LogEHVI over the improvement ``cells``, (lows, highs) of
    ``_ehvi.improvement_cells``); ``constraints`` are multiplied in as probabilities of
    feasibility. ``best`` is the best feasible warped value (single objective; NaN when
    no trial is feasible: the acquisition is then the probability of feasibility).
    ``taken``: the ``_optimize.grid_keys`` of the finished and running trials, not to be
    proposed again (filled only for a space without continuous parameters).
    """

    coords: _optimize.SpaceCoords
    objectives: tuple[ModelSpec, ...]
    constraints: tuple[ModelSpec, ...]
    Xp: np.ndarray
    Z: np.ndarray
    n_starts: int
    kind: str = "logei"
    beta: float = 2.0
    best: float = math.nan
    cells: tuple[np.ndarray, np.ndarray] | None = None
    taken: frozenset[bytes] = frozenset()


class Outcome(NamedTuple):
    """``z`` (d,): the proposal in model coordinates, None when an objective's kernel
    matrix could not be factorised even with jitter. The fitted hyperparameters, for the
    next warm starts: one per objective fitted (fewer than the plan's when one failed),
    one per constraint (None where its factorisation failed)."""

    z: np.ndarray | None
    objective_thetas: list[np.ndarray]
    constraint_thetas: list[np.ndarray | None]


def _fit(spec: ModelSpec, coords: _optimize.SpaceCoords, *, deterministic: bool,
         kernel_module: ModuleType | None) -> _model.GPModel | None:
    return _model.fit_model(spec.X, spec.y, coords.is_cat, spec.theta0, deterministic=deterministic,
                            fit_subset=spec.fit_subset, refit=spec.refit, kernel_module=kernel_module)


def propose(plan: Plan, *, deterministic: bool, kernel_module: ModuleType | None) -> Outcome:
    """Fit the plan's models, condition the objectives' on ``plan.Xp`` and maximise the
    acquisition from ``plan.Z``. Deterministic given the plan; trusts it (built by
    GPSampler: shapes consistent, at least two rows per model)."""
    models: list[_model.GPModel] = []
    for spec in plan.objectives:
        model = _fit(spec, plan.coords, deterministic=deterministic, kernel_module=kernel_module)
        if model is None:
            return Outcome(None, [m.theta for m in models], [])
        models.append(model)
    fitted = [_fit(spec, plan.coords, deterministic=deterministic, kernel_module=kernel_module)
              for spec in plan.constraints]
    constraint_models = [(m, spec.threshold) for m, spec in zip(fitted, plan.constraints) if m is not None]
    thetas = [m.theta for m in models]
    if len(plan.Xp):
        models = [_model.condition_on_pending(m, plan.Xp) for m in models]

    def acq(Z: np.ndarray, grad: bool = True) -> tuple[np.ndarray, np.ndarray]:
        if len(models) > 1:
            assert plan.cells is not None
            post = [m.posterior(Z, grad=grad) for m in models]
            value, gradient = _ehvi.log_ehvi(
                np.column_stack([p[0] for p in post]),
                np.column_stack([p[1] for p in post]),
                np.stack([p[2] for p in post], axis=1),
                np.stack([p[3] for p in post], axis=1),
                *plan.cells,
                grad=grad,
            )
        elif math.isnan(plan.best):  # nothing feasible yet: the probability of feasibility alone
            value, gradient = np.zeros(len(Z)), np.zeros(Z.shape)
        else:
            value, gradient = acquisition(plan.kind, *models[0].posterior(Z, grad=grad), best=plan.best,
                                          beta=plan.beta)
        for cmodel, threshold in constraint_models:
            v, g = log_feasibility(*cmodel.posterior(Z, grad=grad), threshold=threshold)
            value, gradient = value + v, gradient + g
        return value, gradient

    z = _optimize.maximize(acq, plan.coords, plan.Z, n_starts=plan.n_starts, taken=plan.taken)
    return Outcome(z, thetas, [None if m is None else m.theta for m in fitted])
