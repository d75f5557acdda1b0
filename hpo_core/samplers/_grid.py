"""Exhaustive grid search, each point run once across all workers."""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int, format_error
from hpo_core.distributions import BaseDistribution
from hpo_core.exceptions import HpoWarning
from hpo_core.samplers._base import BaseSampler
from hpo_core.samplers._random import RandomSampler

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["GridSampler"]

_ATTR = "grid_id"


class GridSampler(BaseSampler):
    """Runs every combination of the given values exactly once.

    Grid point ``i`` (mixed-radix index over ``search_space``) is handed to a trial only
    after the storage reserves ``"grid:<i>"`` for the study, an atomic operation, so
    several threads, processes or machines sharing a storage never run a point twice.
    Points are visited in a random order drawn from ``seed``. When every point is
    taken, the study is stopped after the running trials finish; a trial asked after
    that gets a repeated point and a warning.

    Args:
        search_space: ``{name: [values...]}``; values are None, bool, int, float or str.
            The objective must ``suggest_*`` each name with a distribution containing
            the grid values (for categoricals, the same choices).
        seed: Seed of the visiting order.

    Example:
        >>> import hpo_core
        >>> sampler = hpo_core.samplers.GridSampler({"x": [0, 1, 2], "y": ["a", "b"]})
        >>> study = hpo_core.create_study(sampler=sampler)
        >>> study.optimize(lambda t: t.suggest_int("x", 0, 2) + len(t.suggest_categorical("y", ["a", "b"])))
        >>> len(study.trials)
        6
    """

    def __init__(self, search_space: Mapping[str, Sequence[Any]], seed: int | None = None):
        owner = "GridSampler"
        if not isinstance(search_space, Mapping) or not search_space:
            raise ValueError(format_error("search_space", "a non-empty mapping name -> values", search_space, owner=owner))
        check_int("seed", seed, low=0, allow_none=True, owner=owner)
        self._names = sorted(search_space)
        self._values: list[tuple[Any, ...]] = []
        for name in self._names:
            values = search_space[name]
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
                raise ValueError(format_error(f"search_space[{name!r}]", "a non-empty sequence of values", values, owner=owner))
            for v in values:
                if v is not None and not isinstance(v, (bool, int, float, str)):
                    raise TypeError(format_error(f"search_space[{name!r}]", "values of None, bool, int, float or str", v, owner=owner))
            self._values.append(tuple(values))
        self._radix = [len(v) for v in self._values]
        self.n_grid = math.prod(self._radix)
        self._seed = seed
        self._order = np.random.default_rng(seed).permutation(self.n_grid)
        self._cursor = 0
        self._exhausted = False
        self._lock = threading.Lock()
        self._local = threading.local()  # a point claimed by is_exhausted, per thread
        self._fallback = RandomSampler(seed)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"], state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._local = threading.local()

    def grid_point(self, grid_id: int) -> dict[str, Any]:
        """The parameters of grid point ``grid_id`` (0 <= grid_id < n_grid)."""
        out = {}
        for name, values, r in zip(reversed(self._names), reversed(self._values), reversed(self._radix)):
            grid_id, k = divmod(grid_id, r)
            out[name] = values[k]
        return {n: out[n] for n in self._names}

    def _claim(self, study: Study) -> int | None:
        with self._lock:
            while self._cursor < self.n_grid:
                gid = int(self._order[self._cursor])
                self._cursor += 1
                if study.view.reserve(f"grid:{gid}"):
                    return gid
            self._exhausted = True
            return None

    def is_exhausted(self, study: Study) -> bool:
        # Claim the next point now, so that a worker finding the grid done stops
        # without creating a trial; before_trial then uses the claimed point.
        if getattr(self._local, "pending", None) is not None:
            return False
        gid = self._claim(study)
        self._local.pending = gid
        return gid is None

    def before_trial(self, study: Study, trial: Trial) -> None:
        gid = getattr(self._local, "pending", None)
        self._local.pending = None
        if gid is None:
            gid = self._claim(study)
        if gid is None:
            study.stop()
            gid = int(np.random.default_rng().integers(self.n_grid))
            warnings.warn(
                f"GridSampler: all {self.n_grid} grid points are taken; trial {trial.number} "
                "repeats a random one.",
                HpoWarning,
                stacklevel=2,
            )
        trial.set_system_attr(_ATTR, gid)
        fixed = self.grid_point(gid)
        trial._fixed = {**fixed, **(trial._fixed or {})}

    def after_trial(self, study: Study, trial: Trial, state: Any, values: Any) -> None:
        if self._exhausted or self._cursor >= self.n_grid:
            # Every point this worker could try is taken: stop when this trial ends.
            study.stop()

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        # Reached only for a parameter not on the grid.
        warnings.warn(
            f"GridSampler: `{param_name}` is not in the grid's search space; sampling it at random.",
            HpoWarning,
            stacklevel=3,
        )
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)
