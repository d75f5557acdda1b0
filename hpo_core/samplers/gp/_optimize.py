"""Maximisation of GPSampler's acquisition over a mixed space.

Model coordinates (see ``SpaceCoords``): numeric parameters in the unit cube of
``SearchSpace.to_unit`` (log space where log), categorical ones as category indices.

1. Candidates: a scrambled Sobol set over the numeric dimensions (uniform categories),
   plus Gaussian perturbations of the best observed points; every candidate is snapped
   to the parameter grid, so ints and steps are evaluated exactly where they can land.
2. The best ``n_starts`` candidates start a local search: L-BFGS-B with analytic
   gradients over the continuous dimensions (discrete and categorical ones fixed; all
   starts in one batched run, at most 50 iterations), then a coordinate search over the
   discrete ones (grid neighbours within two steps, every category of a categorical with
   at most 32 choices, all starts' neighbours in one evaluation); a start that moved on
   the grid is optimised again, up to three rounds.
3. The best point found is returned, on the grid.

In a space without continuous parameters (ints, stepped floats and categoricals only) the
configurations already evaluated or running (``taken``) are excluded from steps 1-3 while
an untried candidate remains: there the acquisition often peaks on a known point (the
GP's noise keeps some variance at the incumbent), and a repeat of a deterministic
objective returns a known value. On the discrete suite the GP had repeated up to 40 % of
its proposals on some tables (``benchmarks/README.md``, GP section, issue 11).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.optimize
from scipy.stats import qmc

from hpo_core.distributions import KIND_CATEGORICAL, SearchSpace

__all__ = ["SpaceCoords", "draw_candidates", "grid_keys", "maximize"]

# acq(Z (m, d), grad) -> value (m,), gradient (m, d) (zeros when grad is False: values only)
# L-BFGS-B's relative tolerance on the summed acquisition of a batched local search.
FTOL = 1e-5
Acquisition = Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray]]


class SpaceCoords:
    """Maps between a space's internal values and the model's coordinates."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.is_cat = space.kinds == KIND_CATEGORICAL
        self.num = np.flatnonzero(~self.is_cat)
        self.cat = np.flatnonzero(self.is_cat)
        self.discrete = (space.step > 0) & ~self.is_cat  # ints and stepped floats
        self.continuous = np.flatnonzero(~self.is_cat & ~self.discrete)
        self.n_choices = space.n_choices

    def to_model(self, X: np.ndarray) -> np.ndarray:
        """(n, d) internal values -> model coordinates."""
        out = np.empty_like(X, dtype=np.float64)
        if len(self.num):
            out[:, self.num] = self.space.to_unit(X)[:, self.num]
        out[:, self.cat] = X[:, self.cat]
        return out

    def to_internal(self, Z: np.ndarray) -> np.ndarray:
        """(n, d) model coordinates -> internal values on the grid."""
        U = np.clip(Z, 0.0, 1.0)
        U[:, self.cat] = (np.floor(Z[:, self.cat]) + 0.5) / self.n_choices[self.cat]
        return self.space.from_unit(np.minimum(U, np.nextafter(1.0, 0.0)))

    def snap(self, Z: np.ndarray) -> np.ndarray:
        """Model coordinates of the grid points nearest to Z."""
        return self.to_model(self.to_internal(Z))


def grid_keys(coords: SpaceCoords, Z: np.ndarray) -> list[bytes]:
    """Hashable keys of the grid points of Z (m, d) (model coordinates): the bytes of their
    internal values, recomputed by ``to_internal``, so a configuration reached by other
    arithmetic (a neighbour ``x + step``, an enqueued value) gets the same key."""
    return [row.tobytes() for row in np.ascontiguousarray(coords.to_internal(Z))]


def _drop_taken(values: np.ndarray, coords: SpaceCoords, Z: np.ndarray, taken: frozenset[bytes]) -> np.ndarray:
    """``values`` (m,) with -inf where the row of Z is a taken configuration."""
    if not taken:
        return values
    hit = np.fromiter((key in taken for key in grid_keys(coords, Z)), dtype=np.bool_, count=len(Z))
    return np.where(hit, -np.inf, values)


def draw_candidates(coords: SpaceCoords, rng: np.random.Generator, n: int, incumbents: np.ndarray) -> np.ndarray:
    """The candidate set of step 1, snapped to the grid: (n + n // 4, d) model coordinates
    when there are incumbents (k, d), (n, d) when k = 0. All of a proposal's randomness
    is drawn here, so that ``maximize`` needs no generator (GPSampler draws under its
    lock and maximises outside it)."""
    d = len(coords.is_cat)
    Z = np.empty((n, d))
    n_num = len(coords.num)
    if n_num:
        sobol = qmc.Sobol(n_num, scramble=True, seed=rng)
        Z[:, coords.num] = sobol.random_base2(max(0, (n - 1).bit_length()))[:n]  # a power-of-2 prefix
    for j in coords.cat:
        Z[:, j] = rng.integers(0, coords.n_choices[j], n)
    if len(incumbents):  # local perturbations of the best points (a quarter of the set)
        k = n // 4
        base = incumbents[rng.integers(0, len(incumbents), k)]
        local = base.copy()
        local[:, coords.num] += rng.normal(0.0, 0.05, (k, n_num))
        Z = np.concatenate((Z, local))
    return coords.snap(Z)


def _local_continuous(acq: Acquisition, Z: np.ndarray, cont: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """L-BFGS-B from every row of Z at once over its continuous dimensions: the sum of
    the rows' acquisitions is maximised jointly (its gradient separates by row, so each
    row follows its own ascent), one posterior call per step for all starts instead of
    one per start (as Optuna's batched acquisition optimisation)."""
    s, c = Z.shape[0], len(cont)

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        ZZ = Z.copy()
        ZZ[:, cont] = x.reshape(s, c)
        value, grad = acq(ZZ, True)
        value = np.where(np.isfinite(value), value, -1e300)
        return -float(value.sum()), -np.nan_to_num(grad[:, cont]).ravel()

    res = scipy.optimize.minimize(negative, Z[:, cont].ravel(), jac=True, method="L-BFGS-B",
                                  bounds=[(0.0, 1.0)] * (s * c),
                                  # Stop at a relative decrease of 1e-5 of the summed log EI
                                  # (~1e-4 per start, 0.01 % in EI). 1e-7 took about twice
                                  # the posterior calls (110 against 53 per ask at 1,000
                                  # trials) for no measured gain: BBOB 5-D/10-D and the
                                  # model-tuning suite, paired seed by seed, in
                                  # benchmarks/README.md ("GP at 1,000 trials").
                                  options={"maxiter": max_iter, "ftol": FTOL})
    out = Z.copy()
    out[:, cont] = np.clip(res.x.reshape(s, c), 0.0, 1.0)
    return out, acq(out, False)[0]


def _neighbours(coords: SpaceCoords, z: np.ndarray) -> np.ndarray:
    """Grid neighbours of z (one coordinate changed), as model coordinates."""
    space = coords.space
    x = coords.to_internal(z[None])[0]
    rows = []
    for j in np.flatnonzero(coords.discrete):
        for k in (-2, -1, 1, 2):
            v = x[j] + k * space.step[j]
            if space.low[j] <= v <= space.high[j]:
                row = x.copy()
                row[j] = v
                rows.append(row)
    for j in coords.cat:
        if coords.n_choices[j] <= 32:
            for c in range(int(coords.n_choices[j])):
                if c != x[j]:
                    row = x.copy()
                    row[j] = c
                    rows.append(row)
    if not rows:
        return np.empty((0, len(z)))
    return coords.to_model(np.array(rows))


def maximize(acq: Acquisition, coords: SpaceCoords, Z: np.ndarray, *, n_starts: int = 10, max_iter: int = 50,
             max_rounds: int = 3, taken: frozenset[bytes] = frozenset()) -> np.ndarray:
    """The model coordinates (d,) of the best point found for the acquisition, from the
    candidates Z (m >= 1, d) of ``draw_candidates`` (deterministic given Z).

    ``taken``: ``grid_keys`` of configurations not to propose again; used only when the
    space has no continuous dimension (every point searched is then a grid point), and
    ignored when every candidate and neighbour is taken (a grid exhausted).
    """
    if len(coords.continuous):
        taken = frozenset()
    values = acq(Z, False)[0]
    values = _drop_taken(np.where(np.isnan(values), -np.inf, values), coords, Z, taken)
    best = int(np.argmax(values))
    best_z, best_v = Z[best], float(values[best])
    if n_starts == 0:
        return best_z
    starts = np.argsort(-values, kind="stable")[:n_starts]
    S, V = Z[starts].copy(), values[starts].copy()
    cont = coords.continuous
    active = np.arange(len(S))  # starts whose continuous part is to be (re)optimised
    for _ in range(max_rounds):
        if len(cont) and len(active):
            S_new, V_new = _local_continuous(acq, S[active], cont, max_iter)
            better = V_new > V[active]
            S[active[better]], V[active[better]] = S_new[better], V_new[better]
        # The grid neighbours of the active starts, evaluated in one call.
        nbs = [_neighbours(coords, S[i]) for i in active]
        counts = np.array([len(nb) for nb in nbs])
        if not counts.any():
            break
        all_nbs = np.concatenate(nbs)
        nv = acq(all_nbs, False)[0]
        nv = _drop_taken(np.where(np.isnan(nv), -np.inf, nv), coords, all_nbs, taken)
        moved = []
        for j, (lo, hi) in enumerate(zip(np.cumsum(counts) - counts, np.cumsum(counts))):
            i = int(active[j])
            if hi > lo:
                k = lo + int(np.argmax(nv[lo:hi]))
                if nv[k] > V[i]:
                    S[i], V[i] = nbs[j][k - lo], nv[k]
                    moved.append(i)
        if not moved:
            break
        # Only a start that moved on the grid can improve: the others' neighbours were
        # checked. (Refining only the best few moved starts was measured: 1.3x faster at
        # 1,000 trials, but worse on a model-tuning task with four int parameters.)
        active = np.array(moved, dtype=np.intp)
    i = int(np.argmax(V))
    return S[i] if V[i] > best_v else best_z
