"""Trials: the define-by-run ``Trial``, its snapshot ``FrozenTrial`` and states."""

from hpo_core.trial._base import BaseTrial
from hpo_core.trial._fixed import FixedTrial
from hpo_core.trial._frozen import FrozenTrial, create_trial
from hpo_core.trial._state import StudyDirection, TrialState
from hpo_core.trial._trial import Trial

__all__ = ["BaseTrial", "FixedTrial", "FrozenTrial", "StudyDirection", "Trial", "TrialState", "create_trial"]
