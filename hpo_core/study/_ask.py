"""Starting trials: ``Study.ask`` (one, ``n``, define-and-run) and ``Study.ask_array``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int, format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.samplers import BaseSampler
from hpo_core.study._stale import fail_stale_trials
from hpo_core.trial import Trial, TrialState

if TYPE_CHECKING:
    from hpo_core.study._study import Study

__all__ = ["TrialBatch", "ask", "ask_array", "as_space", "batch_trials"]

_WAITING = int(TrialState.WAITING)
# The system attribute of a WAITING trial (``Study.enqueue_trial``) with the parameters
# its ``suggest_*`` calls return.
FIXED_PARAMS_ATTR = "fixed_params"
# The most trials one ask(n=...) or ask_array creates: bounds the memory a typo can take.
MAX_BATCH = 10_000_000


@dataclass
class TrialBatch:
    """Trials created by :meth:`Study.ask_array`.

    Attributes:
        numbers: (n,) int64 trial numbers.
        trial_ids: (n,) int64 storage ids.
        params: (n, d) float64 *internal* values in ``space.names`` order (the value
            itself for float and int parameters, the choice index for categoricals).
        space: the :class:`SearchSpace` sampled.
    """

    numbers: np.ndarray
    trial_ids: np.ndarray
    params: np.ndarray
    space: SearchSpace

    def __len__(self) -> int:
        return len(self.numbers)

    def to_dicts(self) -> list[dict[str, Any]]:
        """The parameters as ``{name: external value}`` dicts, one per trial."""
        names = self.space.names
        return [dict(zip(names, r)) for r in self.space.external_rows(self.params)]


def as_space(study: Study, fixed: Mapping[str, BaseDistribution] | SearchSpace) -> SearchSpace:
    if type(fixed) is SearchSpace:
        return fixed
    cached = study._space_cache
    # Reuse the SearchSpace built for an equal dict. Dict equality runs in C and
    # compares identical distribution objects without calling __eq__; a dict that
    # was changed in place since (other keys or distributions) gets a new space.
    if cached is not None and cached[0] is fixed and fixed == cached[1]:
        return cached[2]
    if isinstance(fixed, SearchSpace):
        return fixed
    if not isinstance(fixed, Mapping):
        raise TypeError(format_error("fixed_distributions", "a mapping name -> distribution", fixed))
    space = SearchSpace(fixed)
    study._space_cache = (fixed, dict(fixed), space)
    return space


def ask(
    study: Study,
    fixed_distributions: Mapping[str, BaseDistribution] | SearchSpace | None,
    n: int | None,
) -> Any:
    """:meth:`Study.ask`: a new :class:`Trial`, or a list of ``n``."""
    if monotonic() >= study._stale_due:
        fail_stale_trials(study)
    space = None if fixed_distributions is None else as_space(study, fixed_distributions)
    if n is not None:
        check_int("n", n, low=1, high=MAX_BATCH)
        if space is not None and study.sampler.has_batch and not _has_waiting(study):
            return batch_trials(study, study.ask_array(space, n))
        return [study.ask(space) for _ in range(n)]
    storage = study._storage
    sampler = study.sampler
    waiting = _has_waiting(study)
    if (space is not None and not waiting and not sampler._joint_uses_trial and len(space)
            and type(sampler).before_trial is BaseSampler.before_trial):  # a subclass may add one
        # Fast path: the sampler ignores the trial when sampling jointly, so sample
        # first and create the trial with its parameters in one storage write.
        X = sampler.sample_joint(study, None, space)  # type: ignore[arg-type]
        trial_id, number = storage.new_trial(study._study_id, space=space, internal=X)
        trial = Trial(
            study, trial_id, number, space=space,
            row=space.external_row(X),
        )
        return trial
    claimed = storage.claim_waiting_trial(study._study_id) if waiting else None
    if claimed is None:
        trial_id, number = storage.new_trial(study._study_id)
        trial = Trial(study, trial_id, number)
    else:
        trial_id, number = claimed
        trial = Trial(study, trial_id, number)
        queued = storage.get_trial(trial_id)
        fixed = queued.system_attrs.get(FIXED_PARAMS_ATTR)
        if fixed:
            trial._fixed = dict(fixed)
        if queued.params:
            # A queued trial with parameters (a retry of a failed trial, add_trial of a
            # WAITING trial): its suggest_* calls return them, as in Optuna.
            trial._params, trial._dists = dict(queued.params), dict(queued.distributions)
    study.sampler.before_trial(study, trial)
    if space is not None and len(space):
        X = study.sampler.sample_joint(study, trial, space)
        if trial._fixed:
            X = _apply_fixed(trial._fixed, space, X)
        storage.set_trial_params(trial_id, space, X)
        trial._space = space
        trial._row = space.external_row(X)
        trial._params = trial._dists = None  # rebuilt from (space, row) when read
    return trial


def _has_waiting(study: Study) -> bool:
    """Sync the history (the one sync of this ask: the sampler reads it as it is
    now) and say whether a WAITING trial may be claimed."""
    return study._view.sync().state_counts[_WAITING] > 0


def _apply_fixed(fixed: dict[str, Any], space: SearchSpace, X: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=float)
    for j, (name, dist) in enumerate(space.items()):
        if name in fixed:
            try:
                internal = dist.to_internal_repr(fixed[name])
            except (TypeError, ValueError):
                continue
            if dist.contains(internal):
                X[j] = internal
    return X


def batch_trials(study: Study, batch: TrialBatch) -> list[Trial]:
    """One :class:`Trial` per trial of ``batch``."""
    return [Trial(study, tid, num, space=batch.space, row=row) for tid, num, row in zip(
        batch.trial_ids.tolist(), batch.numbers.tolist(), batch.space.external_rows(batch.params))]


def ask_array(study: Study, space: Mapping[str, BaseDistribution] | SearchSpace, n: int) -> TrialBatch:
    """:meth:`Study.ask_array`: ``n`` trials on a fixed space, one sampler call and one
    storage write."""
    space = as_space(study, space)
    check_int("n", n, low=1, high=MAX_BATCH)
    if not study.sampler.has_batch:
        raise NotImplementedError(
            f"{type(study.sampler).__name__} has no batch path; use study.ask(n=...) "
            "to get a batch of trials one proposal at a time."
        )
    if monotonic() >= study._stale_due:
        fail_stale_trials(study)
    study._view._stale = True
    ids, numbers = study._storage.create_new_trials(study._study_id, n)
    sampler = study.sampler
    if type(sampler).before_trial is not BaseSampler.before_trial:
        for tid, num in zip(ids.tolist(), numbers.tolist()):
            sampler.before_trial(study, Trial(study, tid, num))
    X = sampler.sample_joint_batch(study, numbers, space)
    study._storage.set_trials_params(ids, space, X)
    return TrialBatch(numbers, ids, X, space)
