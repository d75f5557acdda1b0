"""The arrays of one GP proposal: from a search space's finished trials to a ``_proposal.Plan``.

GPSampler selects the rows (COMPLETE trials with every parameter of the space, pending
RUNNING ones) and decides whether to refit; these functions build the models' inputs and
outputs, their warm starts and fit subsets, the trust region past ``max_exact`` rows, the
multi-objective reference point and improvement cells, and draw the candidates. They run
under the sampler's lock: they read its warm starts and draw from its generator, in the
order of a single-threaded ask, and change nothing else.

Notation (as in ``_proposal``):
    n, d, M, k   model rows, dimensions (model coordinates), objectives, constraints.
    X            (n, d) model coordinates of the finished trials (``SpaceCoords.to_model``).
    C            (n, k) their constraint values (NaN: none), or None while no trial has any.
    Xp           (p, d) pending (RUNNING) points in model coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import ModuleType
from typing import NamedTuple

import numpy as np

from hpo_core import kernels
from hpo_core.distributions import SearchSpace
from hpo_core.samplers.gp import _ehvi, _model, _optimize, _proposal

__all__ = ["Ask", "Settings", "constraint_specs", "plan_multi", "plan_single", "taken_keys"]

_MAX_FRONT_INCUMBENTS = 32  # front points whose perturbations join LogEHVI's candidates
# Candidates x model rows^2 per acquisition search. 7.5e7 (was 1.5e8): 800-trial BBOB studies
# (d = 10, 6 functions, 2 seeds) were no worse (6 better, 5 worse) and a prefilled
# 1,000-trial ask about 25 % faster; below about 190 trials the 2,048 candidates are kept.
_CANDIDATE_BUDGET = 7.5e7

# A model's warm-start key: (space, -1 - j) for objective j, (space, j) for constraint j.
Key = tuple[SearchSpace, int]


class Settings(NamedTuple):
    """The GPSampler arguments a plan depends on (validated there; see its docstring)."""

    acquisition: str
    beta: float
    n_candidates: int
    n_starts: int
    max_fit: int
    max_exact: int
    kernel_module: ModuleType | None


class Ask(NamedTuple):
    """A prepared proposal and the warm-start keys of its models (``GPSampler._theta``):
    the objectives' (space, -1 - j), then the constraints' (space, j)."""

    plan: _proposal.Plan
    keys: tuple[Key, ...]


def plan_single(space: SearchSpace, coords: _optimize.SpaceCoords, X: np.ndarray, values: np.ndarray,
                C: np.ndarray | None, Xp: np.ndarray, *, refit: bool, warm: Mapping[Key, np.ndarray],
                rng: np.random.Generator, settings: Settings) -> Ask:
    """One proposal for one objective: ``values`` (n,) are the rows' objective values,
    signed to be maximised; ``refit``: fit the hyperparameters (else keep the warm start)."""
    taken = taken_keys(coords, X, Xp)
    y = _model.warp_outputs(values)
    key = (space, -1)
    theta0 = warm.get(key, _model.default_theta(len(space)))
    n = len(X)
    if n > settings.max_exact:  # trust region: the trials nearest to the best one
        # In the model's own distance (Hamming for categoricals), with the warm-start theta.
        keep = _model.nearest_rows(X, X[int(np.argmax(y))], coords.is_cat, theta0, settings.max_exact,
                                   kernel_module=settings.kernel_module)
        X, y = X[keep], y[keep]
        C = C[keep] if C is not None else None
        n = len(keep)
    fit_subset = None
    if n > settings.max_fit:  # the best quarter and a random sample of the rest
        n_best = settings.max_fit // 4
        order = np.argsort(-y, kind="stable")
        rest = rng.choice(order[n_best:], settings.max_fit - n_best, replace=False)
        fit_subset = np.sort(np.concatenate((order[:n_best], rest)))
    objective = _proposal.ModelSpec(X, y, theta0, fit_subset, refit)
    best = float(y.max())
    feasible = np.ones(len(y), dtype=np.bool_)
    constraints: tuple[tuple[Key, _proposal.ModelSpec], ...] = ()
    if C is not None:
        feasible = np.all(C <= 0.0, axis=1)  # NaN (no values) counts as infeasible
        best = float(y[feasible].max()) if feasible.any() else math.nan
        constraints = constraint_specs(space, X, C, refit, warm=warm, rng=rng, max_fit=settings.max_fit)
    ranked = np.argsort(-np.where(feasible, y, y - 1e6), kind="stable")
    incumbents = X[ranked[: min(5, len(y))]]
    # Each candidate costs O(n^2) (the posterior variance): past about 190 trials in
    # the model the candidate set shrinks to _CANDIDATE_BUDGET / n^2, never below 256.
    n_cand = min(settings.n_candidates, max(256, int(_CANDIDATE_BUDGET / (len(X) ** 2))))
    Z = _optimize.draw_candidates(coords, rng, n_cand, incumbents)
    plan = _proposal.Plan(coords, (objective,), tuple(spec for _, spec in constraints), Xp, Z, settings.n_starts,
                          kind=settings.acquisition, beta=settings.beta, best=best, taken=taken)
    return Ask(plan, (key, *[k for k, _ in constraints]))


def plan_multi(space: SearchSpace, coords: _optimize.SpaceCoords, X: np.ndarray, values: np.ndarray,
               C: np.ndarray | None, Xp: np.ndarray, *, refit: bool, warm: Mapping[Key, np.ndarray],
               rng: np.random.Generator, settings: Settings) -> Ask:
    """One LogEHVI proposal for 2-3 objectives: ``values`` (n, M) are the rows' finite
    objective values, signed to be maximised (n >= 2). A GP per objective (outputs warped
    one by one), the Pareto front of the feasible trials and a reference point below it
    (see the comment where it is set)."""
    d, M = len(space), values.shape[1]
    taken = taken_keys(coords, X, Xp)
    Y = np.column_stack([_model.warp_outputs(values[:, j]) for j in range(M)])
    if len(X) > settings.max_exact:  # the front's trials and a random sample of the rest
        on_front = np.flatnonzero(kernels.is_pareto_front(-Y))[: settings.max_exact]
        others = np.setdiff1d(np.arange(len(X)), on_front)
        extra = rng.choice(others, settings.max_exact - len(on_front), replace=False)
        keep = np.sort(np.concatenate((on_front, extra)))
        X, Y = X[keep], Y[keep]
        C = C[keep] if C is not None else None
    keys, objectives = [], []
    for j in range(M):
        key = (space, -1 - j)
        fit_subset = None
        if len(X) > settings.max_fit:
            fit_subset = np.sort(rng.choice(len(X), settings.max_fit, replace=False))
        keys.append(key)
        objectives.append(_proposal.ModelSpec(X, Y[:, j], warm.get(key, _model.default_theta(d)),
                                              fit_subset, refit or key not in warm))
    feasible = np.ones(len(Y), dtype=np.bool_)
    constraints: tuple[tuple[Key, _proposal.ModelSpec], ...] = ()
    if C is not None:
        feasible = np.all(C <= 0.0, axis=1)
        constraints = constraint_specs(space, X, C, refit, warm=warm, rng=rng, max_fit=settings.max_fit)
    front = _ehvi.pareto_front(Y[feasible]) if feasible.any() else np.empty((0, M))
    # The reference point: halfway between 10 % of each objective's range below its
    # worst value and 10 % of its magnitude below the front's worst value (the nadir).
    # The first alone rewards stretching the front's ends far into values nobody wants
    # (DTLZ2's hypervolume suffers), the second alone never rewards the ends (ZDT1's).
    far = Y.min(axis=0) - 0.1 * np.maximum(Y.max(axis=0) - Y.min(axis=0), 1e-9)
    ref = far
    if len(front):
        nadir = front.min(axis=0)
        ref = 0.5 * (far + nadir - 0.1 * np.maximum(np.abs(nadir), 1e-9))
    lows, highs = _ehvi.improvement_cells(front, ref)
    on_front = np.flatnonzero(feasible & kernels.is_pareto_front(-Y))
    # Perturbations of front points, drawn anew at each ask (a random subset when the
    # front is large), so the candidates cover the whole front, not its first points.
    if len(on_front) > _MAX_FRONT_INCUMBENTS:
        on_front = rng.choice(on_front, _MAX_FRONT_INCUMBENTS, replace=False)
    # Each candidate costs O(M n^2) in the posteriors and O(boxes) in LogEHVI: the set
    # shrinks past a few hundred trials or a thousand boxes (a large 3-objective
    # front), never below 256.
    n_cand = min(settings.n_candidates, max(256, int(_CANDIDATE_BUDGET / (M * len(X) ** 2))),
                 max(256, int(1e6 / max(len(lows), 1))))
    Z = _optimize.draw_candidates(coords, rng, n_cand, X[on_front])
    plan = _proposal.Plan(coords, tuple(objectives), tuple(spec for _, spec in constraints), Xp, Z,
                          settings.n_starts, cells=(lows, highs), taken=taken)
    return Ask(plan, (*keys, *[k for k, _ in constraints]))


def taken_keys(coords: _optimize.SpaceCoords, X: np.ndarray, Xp: np.ndarray) -> frozenset[bytes]:
    """The grid keys of the finished trials X and the pending ones Xp (model
    coordinates) in a space without continuous parameters, not to be proposed again
    (``_optimize``'s module docstring says why); empty where there is a continuous one."""
    if len(coords.continuous):
        return frozenset()
    return frozenset(_optimize.grid_keys(coords, np.concatenate((X, Xp))))


def constraint_specs(space: SearchSpace, X: np.ndarray, C: np.ndarray, refit: bool, *,
                     warm: Mapping[Key, np.ndarray], rng: np.random.Generator,
                     max_fit: int) -> tuple[tuple[Key, _proposal.ModelSpec], ...]:
    """One GP per constraint on the rows that have its value (standardised, with the
    standardised feasibility threshold), with its warm-start key; constraints with
    fewer than 2 values are left out (and, in ``_proposal``, those whose kernel
    matrix cannot be factorised)."""
    out = []
    for j in range(C.shape[1]):
        ok = np.isfinite(C[:, j])
        if ok.sum() < 2:
            continue
        c = C[ok, j]
        mu, sd = float(c.mean()), float(c.std())
        sd = sd if sd > 0 else 1.0
        key = (space, j)
        fit_subset = None
        if ok.sum() > max_fit:
            fit_subset = np.sort(rng.choice(int(ok.sum()), max_fit, replace=False))
        spec = _proposal.ModelSpec(X[ok], (c - mu) / sd, warm.get(key, _model.default_theta(X.shape[1])),
                                   fit_subset, refit or key not in warm, threshold=-mu / sd)
        out.append((key, spec))
    return tuple(out)
