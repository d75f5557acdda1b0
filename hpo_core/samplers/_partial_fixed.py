"""``PartialFixedSampler``: some parameters fixed, the others from a base sampler (Optuna's)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.exceptions import HpoWarning
from hpo_core.samplers._base import BaseSampler

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial, TrialState

__all__ = ["PartialFixedSampler"]


class PartialFixedSampler(BaseSampler):
    """Fix some parameters to given values and let ``base_sampler`` propose the rest,
    as Optuna's: the fixed parameters leave the base sampler's joint space, and a fixed
    value outside the distribution the objective asks for is used anyway, with a warning.

    Args:
        fixed_params: ``{name: external value}``.
        base_sampler: The sampler of the other parameters.

    Example:
        >>> import hpo_core
        >>> sampler = PartialFixedSampler({"y": 0}, hpo_core.samplers.TPESampler(seed=0))
        >>> study = hpo_core.create_study(sampler=sampler)
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + t.suggest_int("y", -3, 3), n_trials=15)
        >>> {t.params["y"] for t in study.trials}
        {0}
    """

    def __init__(self, fixed_params: Mapping[str, Any], base_sampler: BaseSampler) -> None:
        owner = "PartialFixedSampler"
        if not isinstance(fixed_params, Mapping) or not all(isinstance(k, str) for k in fixed_params):
            raise TypeError(format_error("fixed_params", "a mapping of parameter names to values", fixed_params,
                                         owner=owner))
        if not isinstance(base_sampler, BaseSampler):
            raise TypeError(format_error("base_sampler", "an hpo_core BaseSampler", base_sampler, owner=owner))
        self._fixed_params = dict(fixed_params)
        self._base_sampler = base_sampler
        self._spaces: dict[SearchSpace, SearchSpace] = {}

    def reseed_rng(self) -> None:
        self._base_sampler.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        space = self._base_sampler.infer_relative_search_space(study, trial)
        if not isinstance(space, SearchSpace):
            space = SearchSpace(dict(space))
        free = self._spaces.get(space)
        if free is None:
            if len(self._spaces) > 64:
                self._spaces.clear()
            free = self._spaces[space] = SearchSpace(
                {n: d for n, d in space.items() if n not in self._fixed_params})
        return free

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        return self._base_sampler.sample_joint(study, trial, space)

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if param_name not in self._fixed_params:
            return self._base_sampler.sample_independent(study, trial, param_name, param_distribution)
        value = self._fixed_params[param_name]
        if not param_distribution.contains(param_distribution.to_internal_repr(value)):
            warnings.warn(f"Fixed parameter '{param_name}' with value {value} is out of range for distribution "
                          f"{param_distribution}.", HpoWarning, stacklevel=2)
        return value

    def before_trial(self, study: Study, trial: Trial) -> None:
        self._base_sampler.before_trial(study, trial)

    def after_trial(self, study: Study, trial: Trial, state: TrialState, values: list[float] | None) -> None:
        self._base_sampler.after_trial(study, trial, state, values)
