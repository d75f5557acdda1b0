"""Optuna's ``BaseGASampler``: generations and parent populations for user-defined
genetic-algorithm samplers, kept in trial and study system attributes.

Our NSGA-II/III samplers keep their generations in the history's typed columns
(``hpo_core/samplers/nsga``); this class is for samplers written against Optuna's
interface, with its keys (``"<ClassName>:generation"``, ``"<ClassName>:parent:<g>"``), so
that a study written by an Optuna GA sampler reads back the same way.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from hpo_core._validation import check_int
from hpo_core.samplers._base import BaseSampler
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial

__all__ = ["BaseGASampler"]


def _trial_id(trial: Any) -> int:
    return int(trial.trial_id)


class BaseGASampler(BaseSampler, abc.ABC):
    """Base class of genetic-algorithm samplers (Optuna's interface).

    A subclass implements :meth:`select_parent` (the parents of a generation from the
    trials so far); this class numbers the generations and caches each generation's
    parents in the study, so that every worker on a storage sees the same ones.

    A trial's generation is set the first time :meth:`get_trial_generation` is asked
    for it: the latest generation with COMPLETE trials, or the next one once that
    generation has ``population_size`` COMPLETE trials.

    Example:
        >>> import hpo_core
        >>> class BestHalf(BaseGASampler):
        ...     def select_parent(self, study, generation):
        ...         pop = self.get_population(study, generation - 1)
        ...         return sorted(pop, key=lambda t: t.value)[: len(pop) // 2]
        ...     def sample_independent(self, study, trial, param_name, param_distribution):
        ...         generation = self.get_trial_generation(study, trial)
        ...         parents = self.get_parent_population(study, generation)
        ...         if parents:
        ...             return parents[trial.number % len(parents)].params[param_name]
        ...         return hpo_core.samplers.RandomSampler(seed=trial.number).sample_independent(
        ...             study, trial, param_name, param_distribution)
        >>> study = hpo_core.create_study(sampler=BestHalf(population_size=4))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=12)
        >>> sorted({t.system_attrs["BestHalf:generation"] for t in study.trials})
        [0, 1, 2]
    """

    _GENERATION_KEY = "BaseGASampler:generation"
    _PARENT_CACHE_KEY_PREFIX = "BaseGASampler:parent:"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._GENERATION_KEY = f"{cls.__name__}:generation"
        cls._PARENT_CACHE_KEY_PREFIX = f"{cls.__name__}:parent:"

    @classmethod
    def _get_generation_key(cls) -> str:
        return cls._GENERATION_KEY

    @classmethod
    def _get_parent_cache_key_prefix(cls) -> str:
        return cls._PARENT_CACHE_KEY_PREFIX

    def __init__(self, population_size: int | None):
        self._population_size = check_int("population_size", population_size, low=1, allow_none=True,
                                          owner=type(self).__name__)

    @property
    def population_size(self) -> int | None:
        return self._population_size

    @population_size.setter
    def population_size(self, value: int) -> None:
        self._population_size = check_int("population_size", value, low=1, owner=type(self).__name__)

    @abc.abstractmethod
    def select_parent(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The parents of ``generation`` (called once per generation; the result is
        cached in the study's system attributes by :meth:`get_parent_population`)."""
        raise NotImplementedError

    def get_trial_generation(self, study: Study, trial: Any) -> int:
        """``trial``'s generation, set (and stored in its system attributes) on first ask."""
        key = self._get_generation_key()
        attrs = getattr(trial, "system_attrs", None)  # a FrozenTrial's; a live Trial's from the storage
        if attrs is None:
            attrs = study._storage.get_trial_system_attrs(_trial_id(trial))
        generation = attrs.get(key)
        if generation is not None:
            return int(generation)
        top, count = 0, 0
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            g = t.system_attrs.get(key, -1)
            if g > top:
                top, count = g, 1
            elif g == top:
                count += 1
        if self._population_size is None:
            raise ValueError(
                f"{type(self).__name__}: `population_size` must be set before generations are counted."
            )
        generation = top if count < self._population_size else top + 1
        study._storage.set_trial_system_attr(_trial_id(trial), key, generation)
        return generation

    def get_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The COMPLETE trials of ``generation``."""
        key = self._get_generation_key()
        return [
            t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.system_attrs.get(key) == generation
        ]

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The parents of ``generation`` (none for generation 0), from the study's cache
        or from :meth:`select_parent`, whose choice is then cached."""
        if generation == 0:
            return []
        key = self._get_parent_cache_key_prefix() + str(generation)
        cached = study.system_attrs.get(key)
        if cached is not None:
            ids = set(cached)
            return [t for t in study.get_trials(deepcopy=False) if _trial_id(t) in ids]
        parents = self.select_parent(study, generation)
        study.set_system_attr(key, [_trial_id(t) for t in parents])
        return parents
