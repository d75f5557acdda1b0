"""Elite population selection of NSGA-II and NSGA-III, on arrays.

Notation (``n`` trials in the pool, ``m`` objectives):

* ``loss``: (n, m) float64 objective values to be minimised (values times the study's
  signs), NaN-free, +-inf allowed.
* ``raw``: (n, m) the values as reported (Optuna's crowding distance sorts those).
* ``penalty``: (n,) the summed positive constraint values (0: feasible), or None in an
  unconstrained study.

The pool is the previous generation followed by its parents, each in trial order; the
selected indices come back in the order Optuna's strategies return their trials, so that
a seeded run draws the same parents from the list.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations_with_replacement

import numpy as np

from hpo_core import kernels

__all__ = ["default_reference_points", "rank", "select_nsga2", "select_nsga3"]

# NSGA-III: a +-inf objective is replaced by the finite range stretched this many times.
_INF_MARGIN = 3


def rank(loss: np.ndarray, penalty: np.ndarray | None) -> np.ndarray:
    """(n,) non-domination rank under constrained domination (Deb et al. 2002, Sec. VI):
    the feasible trials by Pareto rank first, then the infeasible ones by their penalty
    (equal penalties share a rank)."""
    if penalty is None:
        return kernels.nondominated_rank(loss)
    ranks = np.empty(len(loss), dtype=np.int64)
    feasible = penalty <= 0
    ranks[feasible] = kernels.nondominated_rank(loss[feasible])
    top = int(ranks[feasible].max()) + 1 if feasible.any() else 0
    ranks[~feasible] = top + kernels.nondominated_rank(penalty[~feasible][:, None])
    return ranks


def _fronts(loss: np.ndarray, penalty: np.ndarray | None) -> list[np.ndarray]:
    r = rank(loss, penalty)
    if len(r) == 0:
        return []
    order = np.argsort(r, kind="stable")
    bounds = np.flatnonzero(np.diff(r[order])) + 1
    return np.split(order, bounds)  # each front in pool order


def _crowding_order(raw: np.ndarray) -> np.ndarray:
    """Indices into ``raw`` (f, m), most isolated first: by crowding distance, descending;
    ties in the reverse of the order the distance computation leaves the list in."""
    dist = kernels.crowding_distance(raw)
    order = np.arange(len(raw))
    for i in range(raw.shape[1]):  # the successive stable sorts of the computation
        order = order[np.argsort(raw[order, i], kind="stable")]
    return order[np.argsort(dist[order], kind="stable")][::-1]  # type: ignore[no-any-return]


def _survivors(loss: np.ndarray, penalty: np.ndarray | None, population_size: int,
               cut: Callable[[np.ndarray, list[np.ndarray], int], np.ndarray]) -> np.ndarray:
    """Whole fronts while they fit, then ``cut(front, elite_fronts, k)``: k members of the
    front that does not fit."""
    elite: list[np.ndarray] = []
    size = 0
    for front in _fronts(loss, penalty):
        if size + len(front) < population_size:
            elite.append(front)
            size += len(front)
            continue
        elite.append(cut(front, elite, population_size - size))
        break
    return np.concatenate(elite) if elite else np.zeros(0, dtype=np.int64)


def select_nsga2(loss: np.ndarray, raw: np.ndarray, penalty: np.ndarray | None, population_size: int) -> np.ndarray:
    """Indices of the NSGA-II elite: whole fronts while they fit, then the most isolated
    members (crowding distance) of the front that does not fit."""
    return _survivors(loss, penalty, population_size,
                      lambda front, elite, k: front[_crowding_order(raw[front])][:k])


def default_reference_points(n_objectives: int, dividing_parameter: int) -> np.ndarray:
    """(p, m) Das and Dennis points: every point of the simplex sum = ``dividing_parameter``
    with integer coordinates (unnormalised, as Optuna's)."""
    combos = list(combinations_with_replacement(range(n_objectives), dividing_parameter))
    points = np.zeros((len(combos), n_objectives))
    for r, combo in enumerate(combos):
        for j in combo:
            points[r, j] += 1.0
    return points


def _filter_inf(F: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(F), F, np.nan)
    with np.errstate(all="ignore"):
        hi, lo = np.nanmax(finite, axis=0), np.nanmin(finite, axis=0)
    margin = _INF_MARGIN * (hi - lo)
    return np.clip(F, lo - margin, hi + margin)


def _normalize(F: np.ndarray) -> np.ndarray:
    """Deb and Jain 2014, Sec. IV-C: translate by the ideal point, find the extreme
    point of each axis by the achievement scalarizing function with weights 1e-6 off the
    axis, and divide by the intercepts of their hyperplane (the largest values where the
    extreme points are degenerate)."""
    m = F.shape[1]
    F = F - F.min(axis=0)
    weights = np.where(np.eye(m) == 1, 1.0, 1e6)
    asf = np.max(F[None, :, :] * weights[:, None, :], axis=2)  # (m, n)
    extreme = F[np.argmin(asf, axis=1)]
    if np.all(np.isfinite(extreme)) and np.linalg.matrix_rank(extreme) == m:
        inv = np.linalg.solve(extreme, np.ones(m))
    else:
        intercepts = F.max(axis=0)
        inv = 1.0 / np.where(intercepts == 0, 1.0, intercepts)
    return F * np.where(np.isfinite(inv), inv, 1.0)  # type: ignore[no-any-return]


def _associate(F: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest reference line of each row of F (n, m) and the perpendicular distance
    (computed as the norm of the rejection, as Optuna does, so ties fall alike)."""
    coef = (F @ ref.T) / np.einsum("pm,pm->p", ref, ref)  # (n, p) projections onto the lines
    rejection = F[:, None, :] - coef[:, :, None] * ref[None, :, :]  # (n, p, m)
    dist = np.linalg.norm(rejection, axis=2)
    closest = np.argmin(dist, axis=1)
    return closest, dist[np.arange(len(F)), closest]


def _niching(k: int, n_elite: int, closest: np.ndarray, dist: np.ndarray,
             rng: np.random.RandomState) -> list[int]:
    """Deb and Jain 2014, Algorithm 4: ``k`` members of the last front (indices into it),
    each from a reference point with the fewest members chosen so far; among a point's
    members the closest first while it has none, a random one after."""
    members: dict[int, list[tuple[float, int]]] = {}
    for i, (c, d) in enumerate(zip(closest[n_elite:].tolist(), dist[n_elite:].tolist())):
        members.setdefault(c, []).append((d, i))
    counts: dict[int, int] = {}
    for c in closest[:n_elite].tolist():
        counts[c] = counts.get(c, 0) + 1
    by_count: dict[int, list[int]] = {}
    for c in members:
        by_count.setdefault(counts.get(c, 0), []).append(c)
    count = -1
    chosen: list[int] = []
    shuffled: set[int] = set()
    while len(chosen) < k:
        bucket = by_count.setdefault(count, [])
        if not bucket:
            count += 1
            rng.shuffle(by_count.setdefault(count, []))
            continue
        c = bucket.pop()
        if count > 0 and c not in shuffled:
            rng.shuffle(members[c])
            shuffled.add(c)
        elif count == 0:
            members[c].sort(reverse=True)
        chosen.append(members[c].pop()[1])
        if members[c]:
            by_count.setdefault(count + 1, []).append(c)
    return chosen


def select_nsga3(loss: np.ndarray, penalty: np.ndarray | None, population_size: int,
                 reference_points: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Indices of the NSGA-III elite (Deb and Jain 2014): whole fronts while they fit,
    then members of the front that does not fit by reference-point niching."""

    def cut(front: np.ndarray, elite: list[np.ndarray], k: int) -> np.ndarray:
        pool = np.concatenate([*elite, front])
        closest, dist = _associate(_normalize(_filter_inf(loss[pool])), reference_points)
        return front[np.array(_niching(k, len(pool) - len(front), closest, dist, rng), dtype=np.int64)]

    return _survivors(loss, penalty, population_size, cut)
