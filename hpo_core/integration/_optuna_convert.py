"""Conversions between Optuna's objects and ours: distributions, directions, states and
frozen trials. Shared by the sampler adapter (:mod:`._optuna_sampler`) and the study
import/export (:mod:`._optuna_studies`). Optuna is imported on first use.
"""

from __future__ import annotations

import inspect
from typing import Any

from hpo_core._imports import import_optional
from hpo_core.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import StudyDirection, TrialState

__all__ = [
    "from_optuna_direction",
    "from_optuna_distribution",
    "from_optuna_trial",
    "make_frozen",
    "optuna",
    "to_optuna_direction",
    "to_optuna_distribution",
    "to_optuna_trial",
]


def optuna(feature: str) -> Any:
    """The ``optuna`` module, or an ImportError naming the ``optuna`` extra."""
    return import_optional("optuna", extra="optuna", feature=feature)


def from_optuna_distribution(odist: Any) -> BaseDistribution:
    """Our distribution equal to Optuna's ``odist`` (its deprecated Uniform, LogUniform,
    DiscreteUniform and IntUniform classes are Float/Int distributions there too)."""
    o = optuna("hpo_core.integration")
    if isinstance(odist, o.distributions.FloatDistribution):
        return FloatDistribution(odist.low, odist.high, log=odist.log, step=odist.step)
    if isinstance(odist, o.distributions.IntDistribution):
        return IntDistribution(odist.low, odist.high, log=odist.log, step=odist.step)
    if isinstance(odist, o.distributions.CategoricalDistribution):
        return CategoricalDistribution(list(odist.choices))
    raise TypeError(
        f"`distribution` must be an Optuna Float, Int or Categorical distribution, but got {odist!r}."
    )


def to_optuna_distribution(dist: BaseDistribution) -> Any:
    """Optuna's distribution equal to our ``dist``."""
    od = optuna("hpo_core.integration").distributions
    if isinstance(dist, FloatDistribution):
        return od.FloatDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return od.IntDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, CategoricalDistribution):
        return od.CategoricalDistribution(list(dist.choices))
    raise TypeError(f"`distribution` must be a Float, Int or Categorical distribution, but got {dist!r}.")


def from_optuna_direction(direction: Any) -> StudyDirection:
    """Our direction of Optuna's (the same codes: 1 minimize, 2 maximize)."""
    return StudyDirection(int(direction.value if hasattr(direction, "value") else direction))


def to_optuna_direction(direction: StudyDirection) -> Any:
    return optuna("hpo_core.integration").study.StudyDirection(int(direction))


def make_frozen(**fields: Any) -> FrozenTrial:
    """Our :class:`FrozenTrial` from keyword fields (``values``, not ``value``)."""
    if _FROZEN_HAS_VALUE:
        fields["value"] = None
    return FrozenTrial(**fields)


_FROZEN_HAS_VALUE = "value" in inspect.signature(FrozenTrial.__init__).parameters


def from_optuna_trial(ot: Any, *, number: int | None = None, trial_id: int = -1) -> FrozenTrial:
    """Our :class:`FrozenTrial` of Optuna's frozen trial ``ot`` (the same states, values,
    parameters, distributions, attributes, intermediate values and datetimes)."""
    return make_frozen(
        number=ot.number if number is None else number,
        state=TrialState(int(ot.state.value)),
        values=None if ot.values is None else list(ot.values),
        params=dict(ot.params),
        distributions={k: from_optuna_distribution(d) for k, d in ot.distributions.items()},
        user_attrs=dict(ot.user_attrs),
        system_attrs=dict(ot.system_attrs),
        intermediate_values=dict(ot.intermediate_values),
        datetime_start=ot.datetime_start,
        datetime_complete=ot.datetime_complete,
        trial_id=trial_id,
    )


def to_optuna_trial(t: FrozenTrial) -> Any:
    """Optuna's frozen trial of our ``t`` (for ``optuna.Study.add_trial``: Optuna gives
    it a number and an id of its own)."""
    o = optuna("hpo_core.integration")
    return o.trial.FrozenTrial(
        number=t.number,
        state=o.trial.TrialState(int(t.state)),
        value=None,
        values=None if t.values is None else list(t.values),
        datetime_start=t.datetime_start,
        datetime_complete=t.datetime_complete,
        params=dict(t.params),
        distributions={k: to_optuna_distribution(d) for k, d in t.distributions.items()},
        user_attrs=dict(t.user_attrs),
        system_attrs=dict(t.system_attrs),
        intermediate_values=dict(t.intermediate_values),
        trial_id=t.trial_id,
    )
