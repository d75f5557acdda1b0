"""JAX backend: the reference kernels as ``jax.jit`` functions (CPU or accelerator).

Importing this module enables 64-bit mode (``jax_enable_x64``) for the process: the
kernels are specified in float64. Each kernel is jitted once at module level; shapes
are the only static information, so a new shape compiles once and is then cached by
JAX.

The Pareto kernels are O(n^2 m) loops (``lax.fori_loop``): JAX has no efficient
data-dependent sweep, so prefer another backend for them at large n. The hypervolume
and product-mixture kernels have no JAX version (data-dependent sweeps and cut-offs do
not fit ``jax.jit``'s static shapes): the dispatcher serves them from the fastest
available backend that has them.

The Gaussian-process kernels are in ``_jax_gp.py`` (re-exported here), which pads the
row counts that grow with a study so that they compile about ``6 + n / 64`` times.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

from hpo_core.kernels._jax_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52  # noqa: E402

__all__ = [
    "gp_log_marginal_likelihood",
    "gp_posterior",
    "is_pareto_front",
    "log_ei",
    "matern52",
    "nondominated_rank",
]

BACKEND_NAME = "jax"
AVAILABLE = True

Array = Any  # jax.Array; kept loose so the module type-checks without jax stubs


def _dominated_by(v: Array, p: Array) -> Array:
    """(n,) bool: which rows of v dominate the point p (minimisation)."""
    return jnp.all(v <= p, axis=1) & jnp.any(v < p, axis=1)


@jax.jit
def _nondominated_rank(values):  # type: ignore[no-untyped-def]
    # rank(p) = 1 + max rank of p's dominators; in lexicographic order those are all
    # earlier, so one pass over the sorted points fills the ranks (O(n^2 m)).
    n = values.shape[0]
    order = jnp.lexsort(values.T[::-1])
    v = values[order]
    positions = jnp.arange(n)

    def body(i, rank):  # type: ignore[no-untyped-def]
        dom = _dominated_by(v, v[i]) & (positions < i)
        return rank.at[i].set(jnp.max(jnp.where(dom, rank, -1)) + 1)

    rank = lax.fori_loop(0, n, body, jnp.zeros(n, dtype=jnp.int64))
    return jnp.zeros(n, dtype=jnp.int64).at[order].set(rank)


@jax.jit
def _is_pareto_front(values):  # type: ignore[no-untyped-def]
    n = values.shape[0]

    def body(j, dominated):  # type: ignore[no-untyped-def]
        # Points that values[j] dominates.
        return dominated | (jnp.all(values[j] <= values, axis=1) & jnp.any(values[j] < values, axis=1))

    return ~lax.fori_loop(0, n, body, jnp.zeros(n, dtype=jnp.bool_))


# --- public wrappers ---------------------------------------------------------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Arguments and shapes as :func:`hpo_core.kernels._reference.nondominated_rank`;
    O(n^2 m) time here.
    """
    values = _f64(values)
    if values.shape[0] == 0 or values.shape[1] == 0:
        return np.zeros(values.shape[0], dtype=np.int64)
    return np.asarray(_nondominated_rank(values))


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Arguments and shapes as :func:`hpo_core.kernels._reference.is_pareto_front`;
    O(n^2 m) time here.
    """
    values = _f64(values)
    if values.shape[0] == 0 or values.shape[1] == 0:
        return np.ones(values.shape[0], dtype=np.bool_)
    return np.asarray(_is_pareto_front(values))
