"""The pruner interface."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    """

    @abc.abstractmethod
    def prune(self, study: Study, trial: Trial) -> bool:
        """Return True if ``trial`` should be stopped (the objective then raises
        ``TrialPruned``)."""


class NopPruner(BasePruner):
    """Never prunes."""

    def prune(self, study: Study, trial: Trial) -> bool:
        return False
