"""Uniform random sampling (log-uniform for log parameters)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int
from hpo_core.distributions import BaseDistribution, SearchSpace, unit_to_internal
from hpo_core.samplers._base import BaseSampler

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["RandomSampler"]

_BLOCK = 256


class RandomSampler(BaseSampler):
    """Samples every parameter independently and uniformly (in log space where ``log``).

    Args:
        seed: Seed of the generator; the same seed and the same sequence of asks give
            the same parameters. ``None`` draws a seed from the OS.

    Joint asks on a fixed space are served from pre-drawn blocks of ``256`` points, so
    the tight ``ask(fixed_distributions)`` loop costs one array row per trial. The
    generator's state and the unused part of the block are part of the pickled state,
    so a pickled sampler continues the same stream.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=10)
    """

    _joint_uses_trial = False

    def __init__(self, seed: int | None = None):
        check_int("seed", seed, low=0, allow_none=True, owner="RandomSampler")
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._block_space: SearchSpace | None = None
        self._block: np.ndarray = np.empty((0, 0))
        self._block_rows: list[np.ndarray] = []
        self._block_pos = _BLOCK
        # Uniforms for per-parameter (define-by-run) sampling, drawn _BLOCK at a time
        # and consumed from the end of the list.
        self._u: list[float] = []

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_block_rows"]  # views of _block, rebuilt on load
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._block_rows = list(self._block)

    def reseed_rng(self) -> None:
        with self._lock:
            self._rng = np.random.default_rng()
            self._block_space = None
            self._u = []

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        with self._lock:
            us = self._u
            if not us:
                us = self._u = self._rng.random(_BLOCK).tolist()
            u = us.pop()
        return param_distribution.to_external_repr(unit_to_internal(param_distribution, u))

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        with self._lock:
            pos = self._block_pos
            if self._block_space is not space or pos >= _BLOCK:
                self._block = space.from_unit(self._rng.random((_BLOCK, len(space))))
                self._block_rows = list(self._block)  # row views, split once per block
                self._block_space = space
                pos = 0
            self._block_pos = pos + 1
            return self._block_rows[pos]

    def sample_joint_batch(self, study: Study, numbers: np.ndarray, space: SearchSpace) -> np.ndarray:
        with self._lock:
            return space.from_unit(self._rng.random((len(numbers), len(space))))
