"""Population-based training's exploration: sample, perturb or resample hyperparameters,
and split the population into quantiles.

A *mutation* says how one hyperparameter may change:

- a distribution of :mod:`hpo_core.distributions`: resampled uniformly (log-uniformly
  with ``log``); perturbed by multiplying the value by a perturbation factor, then
  rounded to the step or int grid and clipped into ``[low, high]``; a
  :class:`~hpo_core.distributions.CategoricalDistribution` behaves like the list of its
  choices;
- a list or tuple of values: resampled with a uniform choice; perturbed by moving to a
  neighbouring entry (left or right, staying at an end);
- a callable ``fn(rng) -> value``, with ``rng`` a ``numpy.random.Generator``: resampled
  by calling it; perturbed by multiplying the value by a factor (an int stays an int,
  rounded; a bool is kept).

Every random draw comes from the ``rng`` given, so a seed reproduces the run. The
functions here trust their arguments: :class:`~hpo_core.pbt.PBT` checks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

import numpy as np

from hpo_core.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    SearchSpace,
    unit_to_internal,
)

__all__ = ["Mutation", "explore", "quantiles", "sample_config"]

# The generator's type as a string: `np.random` is imported on first use, not here.
Mutation = Union[BaseDistribution, Sequence[Any], Callable[["np.random.Generator"], Any]]


def _choices(mutation: Mutation) -> Sequence[Any] | None:
    """The values of a list-like mutation, or None for a numeric one."""
    if isinstance(mutation, CategoricalDistribution):
        return mutation.choices
    if isinstance(mutation, (list, tuple)):
        return mutation
    return None


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it stands for (trial attributes are JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def sample_value(mutation: Mutation, rng: np.random.Generator) -> Any:
    """One fresh value of ``mutation`` (resampling)."""
    choices = _choices(mutation)
    if choices is not None:
        return _plain(choices[int(rng.integers(len(choices)))])
    if isinstance(mutation, BaseDistribution):
        return mutation.to_external_repr(unit_to_internal(mutation, float(rng.random())))
    return _plain(mutation(rng))  # type: ignore[operator]


def sample_config(mutations: Mapping[str, Mutation], rng: np.random.Generator) -> dict[str, Any]:
    """A fresh value for every mutated hyperparameter, in the mapping's order."""
    return {name: sample_value(m, rng) for name, m in mutations.items()}


def _index(choices: Sequence[Any], value: Any) -> int:
    """Where ``value`` is among ``choices`` (same type too: 1 is not True), or -1."""
    for i, c in enumerate(choices):
        if type(c) is type(value) and c == value:
            return i
    return -1


def _perturb(value: Any, mutation: Mutation, factor: float, shift: int) -> Any:
    """``value`` moved one step: to a neighbouring choice, or multiplied by ``factor``."""
    choices = _choices(mutation)
    if choices is not None:
        i = min(max(_index(choices, value) + shift, 0), len(choices) - 1)
        return _plain(choices[i])
    if isinstance(mutation, BaseDistribution):
        # Round to the step or int grid and clip into [low, high]: a value outside
        # the distribution would be resampled by the trial's suggest_* with a warning.
        space = SearchSpace({"x": mutation})
        internal = space.snap(np.array([[float(value) * factor]]))[0, 0]
        return mutation.to_external_repr(internal)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, np.integer)):
        return int(round(float(value) * factor))
    return _plain(value * factor)


def explore(
    config: Mapping[str, Any],
    mutations: Mapping[str, Mutation],
    rng: np.random.Generator,
    *,
    resample_probability: float,
    perturbation_factors: Sequence[float],
    custom_explore_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A perturbed copy of ``config`` (Ray Tune's PBT explore step).

    For each mutated hyperparameter, with probability ``resample_probability`` (or
    when the current value is not one of a list's choices) draw a fresh value;
    otherwise perturb it (see the module docstring). ``custom_explore_fn`` then gets
    the new config and returns the final one. Keys of ``config`` that are not mutated
    are kept.

    Example:
        >>> import numpy as np
        >>> from hpo_core.distributions import FloatDistribution
        >>> rng = np.random.default_rng(0)
        >>> new = explore({"lr": 0.1, "bs": 64}, {"lr": FloatDistribution(1e-4, 1.0, log=True),
        ...               "bs": [16, 32, 64, 128]}, rng, resample_probability=0.0,
        ...               perturbation_factors=(1.2, 0.8))
        >>> new["lr"] in (0.1 * 1.2, 0.1 * 0.8), new["bs"] in (32, 128)
        (True, True)
    """
    new = dict(config)
    for name, mutation in mutations.items():
        value = config.get(name)
        choices = _choices(mutation)
        resample = float(rng.random()) < resample_probability
        if resample or value is None or (choices is not None and _index(choices, value) < 0):
            new[name] = sample_value(mutation, rng)
            continue
        factor = float(perturbation_factors[int(rng.integers(len(perturbation_factors)))])
        shift = -1 if float(rng.random()) < 0.5 else 1
        new[name] = _perturb(value, mutation, factor, shift)
    if custom_explore_fn is not None:
        out = custom_explore_fn(dict(new))
        if not isinstance(out, Mapping):
            raise TypeError(f"PBT: `custom_explore_fn` must return a dict of hyperparameters, but returned {out!r}.")
        new = dict(out)
    return new


def quantiles(scores: Sequence[float], fraction: float) -> tuple[list[int], list[int]]:
    """Indices of the bottom and the top ``fraction`` of ``scores`` (higher is better).

    ``k = ceil(n * fraction)`` members in each, at most ``floor(n / 2)``; none when
    ``n <= 1``. Ties keep the order of ``scores`` (a stable sort), so the result is
    reproducible.

    Example:
        >>> quantiles([0.5, 0.9, 0.1, 0.7], 0.25)
        ([2], [1])
    """
    n = len(scores)
    if n <= 1:
        return [], []
    k = math.ceil(n * fraction)
    k = min(k, n // 2)
    order = sorted(range(n), key=lambda i: scores[i])
    return order[:k], order[n - k:]
