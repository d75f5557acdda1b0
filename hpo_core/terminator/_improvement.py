"""Improvement evaluators: how much the study may still improve (Optuna 5.0's
``optuna.terminator.improvement``): the regret bound and the best value's stagnation."""

from __future__ import annotations

import abc
import warnings
from typing import cast

import numpy as np

from hpo_core._validation import check_int, check_real
from hpo_core.exceptions import ExperimentalWarning
from hpo_core.samplers.gp._threads import limited_threads
from hpo_core.terminator import _arrays as A
from hpo_core.trial import FrozenTrial, StudyDirection

__all__ = [
    "BaseImprovementEvaluator",
    "BestValueStagnationEvaluator",
    "RegretBoundEvaluator",
    "DEFAULT_MIN_N_TRIALS",
    "DEFAULT_TOP_TRIALS_RATIO",
]

DEFAULT_TOP_TRIALS_RATIO = 0.5
DEFAULT_MIN_N_TRIALS = 20


class BaseImprovementEvaluator(metaclass=abc.ABCMeta):
    """Base class for improvement evaluators: ``evaluate`` returns the room left for
    improvement, compared by :class:`~hpo_core.terminator.Terminator` with an error."""

    @abc.abstractmethod
    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        pass


def warn_experimental(name: str, since: str) -> None:
    """Optuna's ExperimentalWarning for its experimental terminator classes."""
    warnings.warn(f"{name} is experimental (supported from {since}). The interface can change in the future.",
                  ExperimentalWarning, stacklevel=3)


class RegretBoundEvaluator(BaseImprovementEvaluator):
    """A high-probability upper bound on the regret of the best trial (Makarova et al.,
    "Automatic Termination for Hyperparameter Optimization", AutoML 2022,
    https://proceedings.mlr.press/v188/makarova22a.html).

    A GP (GPSampler's model, under Optuna's prior) is fitted to the top ``top_trials_ratio`` of the COMPLETE
    trials (at least ``min_n_trials`` of them, all when fewer), their values
    standardised; the bound is the maximum of the UCB over the search space minus the
    maximum of the LCB over those trials, in the objective's units.

    Differences from Optuna's: the GP is GPSampler's (Matern-5/2, MAP fit under Optuna's
    hyperparameter prior, its own hyperparameter bounds and optimiser), and the UCB is
    maximised by GPSampler's acquisition search instead of at 2,048 random points only
    (so ours is a little larger on the same fit). Measured on the same trials (3-D, 30-80
    trials, 3 seeds each): 1.04-1.16x Optuna's on nearly noiseless studies (1.2-1.4x at
    500 and 1,000 trials, one seed); 1.00-1.03x on
    pure-noise ones but for two of nine at 1.8x and 2.2x, where the likelihood has two
    modes (noise, or a wiggly function) and the two fits land in different ones. The
    decisions agree in clear cases (``tests/terminator``).

    Args:
        top_trials_ratio: The fraction of the best trials the GP is fitted to.
        min_n_trials: The least number of trials fitted (all of them when fewer).
        seed: Seed of the acquisition search's candidates.

    Threads: the GP runs with one BLAS thread, as GPSampler's (``samplers/gp/_threads.py``):
    at 500 trials an evaluation took 0.4 s here against 15 s with OpenBLAS's default
    threads on the 2-core machine of ``benchmarks/README.md``.

    Raises:
        ValueError: ``evaluate`` on trials with none COMPLETE, or with an empty
            intersection search space.

    Example:
        >>> import hpo_core
        >>> from hpo_core.terminator import RegretBoundEvaluator
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=30)
        >>> RegretBoundEvaluator(seed=0).evaluate(study.trials, study.direction) >= 0
        True
    """

    def __init__(
        self,
        top_trials_ratio: float = DEFAULT_TOP_TRIALS_RATIO,
        min_n_trials: int = DEFAULT_MIN_N_TRIALS,
        seed: int | None = None,
    ) -> None:
        owner = "RegretBoundEvaluator"
        warn_experimental(owner, "v3.2.0")
        self._top_trials_ratio = cast(
            float,
            check_real("top_trials_ratio", top_trials_ratio, low=0.0, high=1.0, low_open=True, owner=owner),
        )
        self._min_n_trials = cast(int, check_int("min_n_trials", min_n_trials, low=1, owner=owner))
        check_int("seed", seed, low=0, allow_none=True, owner=owner)
        self._optimize_n_samples = 2048
        self._rng = np.random.default_rng(seed)

    def _get_top_n(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the top ``clip(n * ratio, min_n_trials, n)`` values (ties at the
        cut all kept, as Optuna's)."""
        n = len(y)
        top_n = int(np.clip(int(n * self._top_trials_ratio), self._min_n_trials, n))
        cut = np.partition(y, n - top_n)[n - top_n]
        keep = y >= cut
        return X[keep], y[keep]

    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        arrays = A.trial_arrays(trials, study_direction)
        if len(arrays.y) == 0:
            raise ValueError("Because no trial has been completed yet, the regret bound cannot be evaluated.")
        if arrays.coords is None:
            raise ValueError(
                "The intersection search space is empty. This condition is not supported by "
                f"{type(self).__name__}."
            )
        X, y = self._get_top_n(arrays.X, arrays.y)
        std = max(1e-10, float(y.std()))
        with limited_threads(1):  # GPSampler's measured setting (samplers/gp/_threads.py)
            model = A.fit_gp(X, (y - y.mean()) / std, arrays.coords.is_cat)
            if model is None:  # K not factorisable even with jitter: no bound, no termination
                return A.DO_NOT_TERMINATE
            bound = A.standardized_regret_bound(
                model, arrays.coords, X, self._rng, n_samples=self._optimize_n_samples
            )
        return bound * std


class BestValueStagnationEvaluator(BaseImprovementEvaluator):
    """The trials left before the best value has stagnated for ``max_stagnation_trials``
    COMPLETE trials: ``max_stagnation_trials - (trials since the best one)``. With
    :class:`~hpo_core.terminator.Terminator` its default error is
    ``StaticErrorEvaluator(constant=0)``, so the study stops when this drops below 0.

    Args:
        max_stagnation_trials: The COMPLETE trials allowed without improvement.

    Raises:
        ValueError: ``max_stagnation_trials`` is negative; ``evaluate`` on trials with
            none COMPLETE.
    """

    def __init__(self, max_stagnation_trials: int = 30) -> None:
        self._max_stagnation_trials = cast(
            int,
            check_int(
                "max_stagnation_trials", max_stagnation_trials, low=0, owner="BestValueStagnationEvaluator"
            ),
        )

    def evaluate(self, trials: list[FrozenTrial], study_direction: StudyDirection) -> float:
        values = np.array([t.value for t in A.complete(trials)], dtype=np.float64)
        if len(values) == 0:
            raise ValueError("Because no trial has been completed yet, the improvement cannot be evaluated.")
        signed = values if study_direction == StudyDirection.MAXIMIZE else -values
        # The first of equal best values (argmax's first index): Optuna's loop moves the
        # best step only on a strict improvement.
        best_step = int(np.argmax(signed))
        return self._max_stagnation_trials - (len(values) - 1 - best_step)
