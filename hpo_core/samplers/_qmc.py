"""Quasi-Monte Carlo sampling: scrambled Sobol and Halton sequences."""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_bool, check_choice, check_int, format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.exceptions import HpoWarning
from hpo_core.samplers._base import EMPTY_SPACE, BaseSampler
from hpo_core.samplers._random import RandomSampler

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial, TrialState

__all__ = ["QMCSampler"]

_BLOCK = 1024
_SEED_ATTR = "qmc:seed"


class QMCSampler(BaseSampler):
    """Low-discrepancy sampling of the joint search space.

    As in Optuna, the first trial is sampled by the independent sampler and trial number
    ``i`` gets point ``i - 1`` of one sequence, so trials asked by several workers (or in
    a batch) never repeat a point and together fill the space evenly. The sequence's seed is stored in the study on first use so every worker
    uses the same one.

    The joint space is the fixed space of ``ask(fixed_distributions=...)`` or, for
    define-by-run objectives, the parameters shared by all completed trials (the first
    trial samples at random). Parameters outside it are sampled at random.

    Args:
        qmc_type: ``"sobol"`` or ``"halton"``.
        scramble: Randomize the sequence (Owen scrambling / random permutations). Off by
            default, as in Optuna: the first point is then the lower corner of the space.
        seed: Seed of the scrambling and of the random fallback.
        independent_sampler: Samples the parameters outside the joint space (default: a
            ``RandomSampler`` with ``seed``).
        warn_asynchronous_seeding: Accepted for Optuna's signature. Optuna warns when a
            scrambled sequence has no seed, because workers would draw different
            sequences; here the first worker stores the seed in the study and the others
            read it, so they share one sequence and there is nothing to warn about.
        warn_independent_sampling: Warn when a parameter falls back to the independent
            sampler.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.QMCSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=8)
    """

    def __init__(
        self,
        *,
        qmc_type: str = "sobol",
        scramble: bool = False,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
        warn_asynchronous_seeding: bool = True,
        warn_independent_sampling: bool = True,
    ):
        owner = "QMCSampler"
        check_choice("qmc_type", qmc_type, ("sobol", "halton"), owner=owner)
        check_bool("scramble", scramble, owner=owner)
        check_int("seed", seed, low=0, allow_none=True, owner=owner)
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise TypeError(format_error("independent_sampler", "a sampler or None", independent_sampler,
                                         owner=owner))
        check_bool("warn_asynchronous_seeding", warn_asynchronous_seeding, owner=owner)
        check_bool("warn_independent_sampling", warn_independent_sampling, owner=owner)
        self._qmc_type = qmc_type
        self._scramble = scramble
        self._seed = seed
        self._warn = warn_independent_sampling
        self._random: BaseSampler = independent_sampler if independent_sampler is not None else RandomSampler(seed)
        self._first_rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._blocks: dict[tuple[int, int, int], np.ndarray] = {}
        self._study_seed: dict[int, int] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_first_rng", np.random.default_rng(self._seed))  # pickled before it existed
        self._lock = threading.Lock()

    def _sequence_seed(self, study: Study) -> int:
        key = id(study.view)
        seed = self._study_seed.get(key)
        if seed is None:
            stored = study.system_attrs.get(_SEED_ATTR)
            if stored is None:
                stored = self._seed if self._seed is not None else int(np.random.default_rng().integers(2**31))
                study.set_system_attr(_SEED_ATTR, stored)
            seed = self._study_seed[key] = int(stored)
        return seed

    def _unit_points(self, seed: int, d: int, numbers: np.ndarray) -> np.ndarray:
        """Rows ``numbers`` of the d-dimensional sequence: (n, d) in [0, 1)."""
        from scipy.stats import qmc

        out = np.empty((len(numbers), d))
        block_ids = numbers // _BLOCK
        with self._lock:
            for b in np.unique(block_ids).tolist():
                key = (seed, d, b)
                block = self._blocks.get(key)
                if block is None:
                    if self._qmc_type == "sobol":
                        engine: Any = qmc.Sobol(d, scramble=self._scramble, seed=seed)
                    else:
                        engine = qmc.Halton(d, scramble=self._scramble, seed=seed)
                    if b:
                        engine.fast_forward(b * _BLOCK)
                    with warnings.catch_warnings():
                        # Sobol warns unless the total drawn is a power of two; the
                        # union of the blocks a study uses is what matters.
                        warnings.simplefilter("ignore", UserWarning)
                        block = engine.random(_BLOCK)
                    if len(self._blocks) > 64:
                        self._blocks.clear()
                    self._blocks[key] = block
                mask = block_ids == b
                out[mask] = block[numbers[mask] - b * _BLOCK]
        return out

    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        space = study.view.history.intersection_search_space()
        if not len(space):
            return EMPTY_SPACE
        return SearchSpace({n: d for n, d in space.items() if not d.single()})

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        return self.sample_joint_batch(study, np.array([trial.number]), space)[0]

    def sample_joint_batch(self, study: Study, numbers: np.ndarray, space: SearchSpace) -> np.ndarray:
        if not len(space):
            return np.empty((len(numbers), 0))
        # Optuna's order: the first trial goes to the independent sampler, trial i takes
        # point i - 1 of the sequence (point 0, the lower corner when unscrambled, at trial 1).
        idx = np.asarray(numbers, dtype=np.int64) - 1
        out = np.empty((len(idx), len(space)))
        on = idx >= 0
        if on.any():
            out[on] = space.from_unit(self._unit_points(self._sequence_seed(study), len(space), idx[on]))
        if not on.all():
            first = np.asarray(numbers, dtype=np.int64)[~on]
            if self._random.has_batch:
                out[~on] = self._random.sample_joint_batch(study, first, space)
            else:  # an independent sampler without batches: uniform draws
                with self._lock:
                    out[~on] = space.from_unit(self._first_rng.random((len(first), len(space))))
        return out

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if self._warn and study.view.history.count(1) > 0:
            warnings.warn(
                f"QMCSampler: `{param_name}` is not in the joint search space of trial "
                f"{trial.number}; it is sampled by {type(self._random).__name__}.",
                HpoWarning,
                stacklevel=3,
            )
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: Trial) -> None:
        self._random.before_trial(study, trial)

    def after_trial(self, study: Study, trial: Trial, state: TrialState, values: list[float] | None) -> None:
        self._random.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._random.reseed_rng()
