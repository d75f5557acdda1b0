"""NSGAIISampler and NSGAIIISampler: the survival of each (``_selection.py``) on the
generation bookkeeping and variation they share (``_ga.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hpo_core._validation import check_int, format_error
from hpo_core.distributions import BaseDistribution
from hpo_core.samplers.nsga import _selection
from hpo_core.samplers.nsga._crossovers import BaseCrossover
from hpo_core.samplers.nsga._ga import GASampler
from hpo_core.samplers.nsga._mutations import BaseMutation
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import FrozenTrial

__all__ = ["NSGAIIISampler", "NSGAIISampler"]


_COMMON_ARGS = """
    Args:
        population_size: Trials per generation, >= 2 and >= ``crossover.n_parents``.
        mutation: Mutation of numeric parameters (:class:`~hpo_core.samplers.nsgaii.PolynomialMutation`);
            None: a parameter chosen for mutation is drawn afresh at random.
        mutation_prob: Probability of mutating each parameter, in [0, 1] (None:
            ``1 / number of parameters``).
        crossover: A :class:`~hpo_core.samplers.nsgaii.BaseCrossover` for numeric
            parameters (default :class:`~hpo_core.samplers.nsgaii.UniformCrossover`);
            categorical parameters always use uniform crossover.
        crossover_prob: Probability that a child is a crossover of parents rather than a
            copy of one, in [0, 1].
        swapping_prob: Probability of taking each parameter from the first parent in a
            uniform crossover, in [0, 1].
        seed: Seed of the sampler's draws; equal seeds give equal studies, and the trials
            Optuna 5.0's sampler proposes for that seed, value for value: its two random
            streams are drawn in Optuna's order (a child is bred at the trial's first
            suggest; the first generation and mutated parameters are drawn at their own
            suggest, or in the order of the space with ``ask(space)``).
        constraints_func: ``f(FrozenTrial) -> sequence of floats`` (``<= 0`` feasible),
            called when a trial finishes COMPLETE or PRUNED; the values are stored in
            the trial's system attribute ``"constraints"`` (every worker reads them
            there) and trials are compared by constrained domination: feasible before
            infeasible, infeasible ones by their summed violation.
        elite_population_selection_strategy: ``f(study, population) -> elite`` (lists
            of FrozenTrial), replacing the default survival (experimental, as in Optuna).
        child_generation_strategy: ``f(study, search_space, parents) -> {name: value}``,
            replacing the default variation; parameters it leaves out are drawn at random
            (experimental).
        after_trial_strategy: ``f(study, frozen_trial, state, values)`` called when a trial
            finishes, replacing the default (which stores the constraints) (experimental).
"""


class NSGAIISampler(GASampler):
    """Multi-objective genetic algorithm NSGA-II (Deb et al., IEEE TEVC 6(2), 2002), with
    Optuna 5.0's arguments, defaults, generations and operators.

    Each generation of ``population_size`` trials is bred from the previous generation's
    elite: the fronts of non-dominated sorting while they fit, then the most isolated
    members (crowding distance) of the front that does not. A child takes, with
    probability ``crossover_prob``, a crossover of parents picked by binary tournament,
    else a copy of one parent; then each parameter mutates with probability
    ``mutation_prob``. The first generation, mutated parameters without a ``mutation``,
    and parameters outside the joint search space are drawn at random.

    Generations live in the history's ``"generation"`` column and the parents of each
    generation in the study (``"NSGAIISampler:parent:<g>"``), so workers on one storage
    share the generations, and an ask reads only the trials new since the last one.
    {args}
    Raises:
        ValueError: An argument is out of range.
        TypeError: An argument has the wrong type.

    Example:
        >>> import hpo_core
        >>> from hpo_core.samplers import NSGAIISampler
        >>> study = hpo_core.create_study(directions=["minimize", "minimize"],
        ...                               sampler=NSGAIISampler(population_size=10, seed=0))
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", 0, 1)
        ...     y = trial.suggest_float("y", 0, 1)
        ...     return x, (1 - x) + y
        >>> study.optimize(objective, n_trials=60)
        >>> len(study.best_trials) > 0
        True
    """

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation: BaseMutation | None = None,
        mutation_prob: float | None = None,
        crossover: BaseCrossover | None = None,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        elite_population_selection_strategy: Callable[[Study, list[FrozenTrial]], list[FrozenTrial]] | None = None,
        child_generation_strategy: Callable[[Study, dict[str, BaseDistribution], list[FrozenTrial]],
                                            dict[str, Any]] | None = None,
        after_trial_strategy: Callable[[Study, FrozenTrial, TrialState, Sequence[float] | None], None]
        | None = None,
    ) -> None:
        super().__init__(
            "NSGAIISampler", population_size=population_size, mutation=mutation, mutation_prob=mutation_prob,
            crossover=crossover, crossover_prob=crossover_prob, swapping_prob=swapping_prob, seed=seed,
            constraints_func=constraints_func, elite_population_selection_strategy=elite_population_selection_strategy,
            child_generation_strategy=child_generation_strategy, after_trial_strategy=after_trial_strategy)

    def _select_indices(self, study: Study, loss: np.ndarray, raw: np.ndarray,
                        penalty: np.ndarray | None) -> np.ndarray:
        return _selection.select_nsga2(loss, raw, penalty, self._population_size)


class NSGAIIISampler(GASampler):
    """Many-objective genetic algorithm NSGA-III (Deb and Jain, IEEE TEVC 18(4), 2014),
    with Optuna 5.0's arguments, defaults, generations and operators.

    As :class:`NSGAIISampler`, but the front that does not fit is cut by reference-point
    niching instead of crowding distance: objectives are normalised (ideal point and the
    intercepts of the extreme points), each trial is associated with its closest
    reference line, and trials are taken from the reference points with the fewest
    members so far, which keeps the population spread along the front with many
    objectives. Trials are compared in the minimised objectives (values times the
    study's signs).
    {args}
        reference_points: (p, m) reference points, m the number of objectives (None:
            the Das and Dennis points with ``dividing_parameter`` divisions per axis).
        dividing_parameter: Divisions per axis of the default reference points, >= 1.

    Raises:
        ValueError: An argument is out of range, or the reference points do not have one
            column per objective (at the first selection).
        TypeError: An argument has the wrong type.

    Example:
        >>> import hpo_core
        >>> from hpo_core.samplers import NSGAIIISampler
        >>> study = hpo_core.create_study(directions=["minimize"] * 3,
        ...                               sampler=NSGAIIISampler(population_size=10, seed=0))
        >>> def objective(trial):
        ...     x = [trial.suggest_float(f"x{{i}}", 0, 1) for i in range(3)]
        ...     return x[0], x[1], 2 - x[0] - x[1] + x[2]
        >>> study.optimize(objective, n_trials=40)
        >>> len(study.best_trials) > 0
        True
    """

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation: BaseMutation | None = None,
        mutation_prob: float | None = None,
        crossover: BaseCrossover | None = None,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        reference_points: np.ndarray | None = None,
        dividing_parameter: int = 3,
        elite_population_selection_strategy: Callable[[Study, list[FrozenTrial]], list[FrozenTrial]] | None = None,
        child_generation_strategy: Callable[[Study, dict[str, BaseDistribution], list[FrozenTrial]],
                                            dict[str, Any]] | None = None,
        after_trial_strategy: Callable[[Study, FrozenTrial, TrialState, Sequence[float] | None], None]
        | None = None,
    ) -> None:
        owner = "NSGAIIISampler"
        self._dividing = cast(int, check_int("dividing_parameter", dividing_parameter, low=1, owner=owner))
        self._reference_points = _check_reference_points(reference_points, owner)
        super().__init__(
            owner, population_size=population_size, mutation=mutation, mutation_prob=mutation_prob,
            crossover=crossover, crossover_prob=crossover_prob, swapping_prob=swapping_prob, seed=seed,
            constraints_func=constraints_func, elite_population_selection_strategy=elite_population_selection_strategy,
            child_generation_strategy=child_generation_strategy, after_trial_strategy=after_trial_strategy)

    def _select_indices(self, study: Study, loss: np.ndarray, raw: np.ndarray,
                        penalty: np.ndarray | None) -> np.ndarray:
        m = loss.shape[1]
        ref = self._reference_points
        if ref is None:
            ref = self._reference_points = _selection.default_reference_points(m, self._dividing)
        elif ref.shape[1] != m:
            raise ValueError(format_error("reference_points", f"an array of shape (p, {m}): one column per objective",
                                          f"shape {ref.shape}", owner=self._owner))
        return _selection.select_nsga3(loss, penalty, self._population_size, ref, self._stream.sync())


def _check_reference_points(points: Any, owner: str) -> np.ndarray | None:
    if points is None:
        return None
    try:
        ref = np.array(points, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(format_error("reference_points", "a 2-D array of numbers or None", points, owner=owner)) from e
    if ref.ndim != 2 or ref.shape[0] == 0 or ref.shape[1] == 0 or not np.isfinite(ref).all() \
            or (np.linalg.norm(ref, axis=1) == 0).any():
        raise ValueError(format_error("reference_points", "a (p, m) array of finite, non-zero points",
                                      f"shape {ref.shape}", owner=owner))
    return ref


NSGAIISampler.__doc__ = cast(str, NSGAIISampler.__doc__).format(args=_COMMON_ARGS)
NSGAIIISampler.__doc__ = cast(str, NSGAIIISampler.__doc__).format(args=_COMMON_ARGS.rstrip("\n"))
