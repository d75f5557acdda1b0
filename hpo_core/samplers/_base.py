"""The sampler interface.

A sampler proposes parameter values. Two entry points:

* **joint** sampling over a :class:`~hpo_core.distributions.SearchSpace`:
  :meth:`BaseSampler.infer_relative_search_space` names the parameters a sampler
  models together (for model-based samplers, those shared by the finished trials);
  :meth:`BaseSampler.sample_joint` returns their internal values as one array.
  ``Study.ask(fixed_distributions=...)`` also goes through ``sample_joint``.
* **independent** sampling of one parameter (:meth:`BaseSampler.sample_independent`),
  for parameters outside the joint space (conditional ones, first trials).

Samplers read the study through ``study.view``, a read-only
:class:`~hpo_core._view.StudyView`: the columnar history (RUNNING trials included, so
batches and parallel workers can be taken into account, synced once per ask), typed
per-trial columns, attributes and ``reserve``. They never see a storage.
"""

from __future__ import annotations

import abc
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._deprecation import warn_deprecated
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = [
    "BaseSampler", "CONSTRAINTS_KEY", "EMPTY_SPACE", "HistoryBound", "check_constraints_func", "store_constraints",
    "visible_rows",
]

EMPTY_SPACE = SearchSpace({})
# System attribute holding a finished trial's constraint values (``<= 0`` feasible), written
# by samplers with a ``constraints_func`` when the trial finishes, read by every worker.
CONSTRAINTS_KEY = "constraints"


def check_constraints_func(func: Any, owner: str, *, stacklevel: int = 3) -> Any:
    """``constraints_func`` checked (a callable or None, TypeError naming it otherwise).

    Given, it warns ``FutureWarning`` with Optuna 5.0's text: Optuna deprecates it for
    ``Trial.set_constraint``, whose values every constrained sampler reads the same way
    (the history's constraint column), and still honours it; so does hpo_core.
    ``stacklevel``: the caller's frame for the warning, counted from this function's caller.
    """

    from hpo_core._validation import check_callable

    func = check_callable("constraints_func", func, allow_none=True, owner=owner)
    if func is not None:
        warn_deprecated("`constraints_func`", "5.0.0", removed="7.0.0",
                        instead="Use `optuna.trial.Trial.set_constraint` instead.", stacklevel=stacklevel)
    return func


def store_constraints(study: Study, trial: Trial, func: Any, owner: str) -> list[float]:
    """Call ``func(FrozenTrial)`` for a finishing trial, check that it returned a sequence
    of numbers (TypeError naming ``constraints_func(trial)`` otherwise) and store the values
    in the trial's system attribute :data:`CONSTRAINTS_KEY`."""
    from hpo_core._validation import format_error

    frozen = study.view.sync().frozen(trial.number)
    result = func(frozen)
    try:
        constraints = [float(c) for c in result]
    except (TypeError, ValueError) as e:
        raise TypeError(format_error("constraints_func(trial)", "a sequence of numbers", result, owner=owner)) from e
    trial.set_system_attr(CONSTRAINTS_KEY, constraints)
    return constraints


def visible_rows(study: Study, trial: Trial | None) -> np.ndarray | None:
    """(n,) bool mask over ``study.view.history``'s rows: the trials a model-based sampler
    models when it proposes for ``trial``; None: every trial (always, for ``trial=None``).

    The study's pruner decides (:meth:`~hpo_core.pruners.BasePruner.sampler_rows`): under
    ``HyperbandPruner(sampler_scope="bracket")`` a trial's sampler sees the trials of its
    own bracket only; other pruners, and Hyperband's default ``"study"`` (Optuna 5.0's
    behaviour), leave every trial.

    Example:
        >>> import hpo_core
        >>> from hpo_core.pruners import HyperbandPruner
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", 0, 1)
        ...     trial.report(x, 0)
        ...     trial.should_prune()  # the first decision sets up the brackets
        ...     return x
        >>> study = hpo_core.create_study(pruner=HyperbandPruner(max_resource=9, sampler_scope="bracket"))
        >>> study.optimize(objective, n_trials=20)
        >>> mask = visible_rows(study, study.ask())  # 21 rows: the new trial's too
        >>> mask.shape, 0 < int(mask.sum()) < 21
        ((21,), True)
    """
    if trial is None:
        return None
    pruner = getattr(study, "pruner", None)
    return None if pruner is None else pruner.sampler_rows(study, trial.number)


class BaseSampler(abc.ABC):
    """Base class of samplers."""

    def infer_relative_search_space(self, study: Study, trial: Trial) -> SearchSpace:
        """Parameters to sample jointly for ``trial`` (default: none). A plain dict
        ``{name: distribution}`` (as Optuna samplers return) is accepted too."""
        return EMPTY_SPACE

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        """Sample every parameter of ``space`` for ``trial``.

        Returns:
            (d,) float64 internal values, in the order of ``space.names``.

        The default calls :meth:`sample_relative` when a subclass overrides it (a sampler
        written against Optuna's ``BaseSampler``), and samples the parameters it leaves
        out, or all of them otherwise, with :meth:`sample_independent`.
        """
        relative: dict[str, Any] = {}
        if type(self).sample_relative is not BaseSampler.sample_relative:
            relative = dict(self.sample_relative(study, trial, dict(space.items())) or {})
        out = np.empty(len(space))
        for j, (name, dist) in enumerate(space.items()):
            value = relative[name] if name in relative else self.sample_independent(study, trial, name, dist)
            out[j] = dist.to_internal_repr(value)
        return out

    def sample_relative(
        self, study: Study, trial: Trial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Optuna's name for joint sampling: ``{name: external value}`` for the
        parameters of ``search_space`` (those it leaves out are sampled with
        :meth:`sample_independent`). Samplers written for Optuna override this; ours
        override :meth:`sample_joint`, which this default calls."""
        if not search_space:
            return {}
        space = search_space if isinstance(search_space, SearchSpace) else SearchSpace(dict(search_space))
        X = np.asarray(self.sample_joint(study, trial, space), dtype=np.float64)
        return dict(zip(space.names, space.external_row(X)))

    def sample_joint_batch(self, study: Study, numbers: np.ndarray, space: SearchSpace) -> np.ndarray:
        """Sample ``space`` for ``len(numbers)`` new trials at once: (n, d) internal values.

        Only samplers whose proposals do not depend on one another in a batch implement
        this (random, quasi-random); the study otherwise asks one trial at a time so
        that each proposal sees the earlier ones as RUNNING.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        """Sample one parameter; returns its external value."""

    def before_trial(self, study: Study, trial: Trial) -> None:
        """Called when ``trial`` starts, before any parameter is sampled."""

    def after_trial(
        self, study: Study, trial: Trial, state: TrialState, values: list[float] | None
    ) -> None:
        """Called when ``trial`` finishes (before its state is stored)."""

    def is_exhausted(self, study: Study) -> bool:
        """True when the sampler has nothing left to propose (``optimize`` then stops
        before creating another trial). Finite samplers (grid) override this."""
        return False

    def reseed_rng(self) -> None:
        """Draw a fresh seed (used when copies of a sampler run in several processes)."""

    #: False when :meth:`sample_joint` ignores its ``trial`` argument and
    #: :meth:`before_trial` does nothing, so the study may sample before creating the
    #: trial and write both in one storage call.
    _joint_uses_trial: bool = True

    @property
    def has_batch(self) -> bool:
        return type(self).sample_joint_batch is not BaseSampler.sample_joint_batch


class HistoryBound:
    """Mixin for samplers that cache facts about one study's history (per-row values read
    once, warm starts, the split of the current ask).

    :meth:`_bind` ties those caches to a history by a weak reference: a sampler reused
    for another study, or a history rebuilt by its storage, calls
    ``_reset_history_caches`` (which the sampler implements) and starts afresh. Call it,
    holding the sampler's lock, before the caches are read. Pickles drop the reference.
    """

    _history_ref: weakref.ref[History] | None = None

    def _reset_history_caches(self) -> None:  # pragma: no cover - implemented by samplers
        raise NotImplementedError

    def _bind(self, h: History) -> None:
        ref = self._history_ref
        if ref is None or ref() is not h:
            self._reset_history_caches()
            self._history_ref = weakref.ref(h)
