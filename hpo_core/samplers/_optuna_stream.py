"""Optuna's random stream: one parameter drawn exactly as Optuna 5.0's ``RandomSampler``.

Optuna's ``RandomSampler.sample_independent`` builds ``_SearchSpaceTransform({name:
dist})`` (log space for log parameters, the interval widened by half a step for
stepped and int ones, one ``[0, 1]`` column per choice of a categorical), draws
``rng.uniform(low, high)`` of those bounds from a ``numpy.random.RandomState`` and maps
the draw back. :func:`sample_optuna_random` repeats those formulas operation by
operation, so a ``RandomState`` seeded alike gives bit-identical values, and
:class:`OptunaStreamRandomSampler` is a sampler on it (``RandomState(seed)``, one draw
per parameter in the order they are sampled, as Optuna's). Samplers whose Optuna
counterparts start with ``RandomSampler(seed)`` (CMA-ES) use it for their startup
trials so that the same seed gives Optuna's trials; ``hpo_core.samplers.RandomSampler``
keeps its own, faster stream.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int
from hpo_core.distributions import BaseDistribution, CategoricalDistribution, IntDistribution, SearchSpace
from hpo_core.samplers._base import BaseSampler

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["OptunaStreamRandomSampler", "sample_optuna_random"]


def sample_optuna_random(rng: np.random.RandomState, dist: BaseDistribution) -> Any:
    """Draw one external value of ``dist`` from ``rng`` as Optuna's
    ``RandomSampler.sample_independent`` does (the same draws, the same floats).

    Args:
        rng: The generator (Optuna's ``LazyRandomState.rng``); advanced by one uniform
            draw (``len(choices)`` draws for a categorical).
        dist: A float, int or categorical distribution.

    Returns:
        The external value: a float, an int, or one of the choices.
    """
    if isinstance(dist, CategoricalDistribution):
        n = len(dist.choices)
        # One [0, 1] column per choice; the highest draw wins (one-hot untransform).
        return dist.choices[int(np.argmax(rng.uniform(np.zeros(n), np.ones(n))))]
    low, high, step, log = dist.low, dist.high, dist.step, dist.log  # type: ignore[attr-defined]
    if isinstance(dist, IntDistribution):
        half = 0.5 * step
        if log:
            t = _uniform(rng, math.log(low - half), math.log(high + half))
            return min(max(int(round(math.exp(t))), low), high)
        t = _uniform(rng, float(low) - half, float(high) + half)
        return min(max(math.floor((t - low) / step + 0.5) * step + low, low), high)
    if log:
        t = math.exp(_uniform(rng, math.log(low), math.log(high)))
        return t if dist.single() else float(np.clip(t, low, np.nextafter(high, high - 1)))
    if step is not None:
        t = _uniform(rng, float(low) - 0.5 * step, float(high) + 0.5 * step)
        return float(np.clip(np.round((t - low) / step) * step + low, low, high))
    t = _uniform(rng, float(low), float(high))
    return t if dist.single() else float(min(t, np.nextafter(high, high - 1)))


def _uniform(rng: np.random.RandomState, low: float, high: float) -> float:
    # Optuna passes (1,) arrays of bounds; RandomState.uniform computes
    # low + (high - low) * u elementwise either way, so a scalar draw is the same float.
    return float(rng.uniform(low, high))


class OptunaStreamRandomSampler(BaseSampler):
    """Random sampling on Optuna's stream: the same seed gives Optuna's
    ``RandomSampler(seed)``'s values, parameter by parameter in sampling order.

    Joint sampling draws the parameters one by one in the space's order (as Optuna
    samples a fixed space's parameters in the order of its dict). Slower per draw than
    :class:`~hpo_core.samplers.RandomSampler` (a ``RandomState`` call per parameter);
    meant for the few startup trials of samplers whose Optuna counterparts start with
    ``RandomSampler(seed)``.

    Args:
        seed: Seed of the ``numpy.random.RandomState``; None seeds it from the OS.

    Example:
        >>> import hpo_core
        >>> from hpo_core.samplers._optuna_stream import OptunaStreamRandomSampler
        >>> study = hpo_core.create_study(sampler=OptunaStreamRandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
    """

    def __init__(self, seed: int | None = None):
        check_int("seed", seed, low=0, allow_none=True, owner="OptunaStreamRandomSampler")
        self._rng = np.random.RandomState(seed)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def reseed_rng(self) -> None:
        with self._lock:
            self._rng.seed()

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        with self._lock:
            return sample_optuna_random(self._rng, param_distribution)

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        with self._lock:
            return np.array([dist.to_internal_repr(sample_optuna_random(self._rng, dist))
                             for dist in space.values()], dtype=np.float64)
