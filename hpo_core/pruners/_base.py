"""The pruner interface."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import numpy as np

    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["BasePruner", "NopPruner"]


class BasePruner(abc.ABC):
    """Decides from reported intermediate values whether a trial should stop early.

    Pruners read ``study.view`` (a read-only :class:`~hpo_core._view.StudyView`, synced
    once per decision): ``study.view.history.steps`` holds every ``trial.report`` of the
    study indexed by step (``at_step(s)``: the trials that reached step ``s`` and their
    values as arrays; ``last_at_or_before``), so a decision never loops over trial
    objects.

    ``supports_multi_objective`` says whether the pruner handles studies with several
    objectives (vector reports, ``study.view.history.steps`` values ``(k, m)``);
    ``Trial.should_prune`` raises ``NotImplementedError`` for one that does not.
    """

    #: Whether ``prune`` handles multi-objective studies (vector reports).
    supports_multi_objective: ClassVar[bool] = False

    @abc.abstractmethod
    def prune(self, study: Study, trial: Trial) -> bool:
        """Return True if ``trial`` should be stopped (the objective then raises
        ``TrialPruned``)."""

    def sampler_rows(self, study: Study, number: int) -> np.ndarray | None:
        """(n,) bool mask over ``study.view.history``'s rows: the trials that the sampler
        models when it proposes for trial ``number``; None (the default): every trial.

        :class:`~hpo_core.pruners.HyperbandPruner` with ``sampler_scope="bracket"``
        returns the trials of ``number``'s bracket, so that a model-based sampler models
        each bracket apart. Read by the samplers through
        :func:`hpo_core.samplers.visible_rows`.
        """
        return None


class NopPruner(BasePruner):
    """Never prunes (in single- and multi-objective studies)."""

    supports_multi_objective = True

    def prune(self, study: Study, trial: Trial) -> bool:
        return False
