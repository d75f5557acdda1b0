"""Studies: ask/tell, optimize, and the module-level study functions."""

from hpo_core.study._api import (
    copy_study,
    create_study,
    delete_study,
    get_all_study_names,
    get_all_study_summaries,
    load_study,
)
from hpo_core.study._callbacks import MaxTrialsCallback
from hpo_core.study._honest import HeldOut, HeldOutAccessError, reevaluate_top_k
from hpo_core.study._study import Study, TrialBatch
from hpo_core.study._summary import StudySummary
from hpo_core.trial import StudyDirection

__all__ = [
    "HeldOut",
    "HeldOutAccessError",
    "MaxTrialsCallback",
    "Study",
    "StudyDirection",
    "StudySummary",
    "TrialBatch",
    "copy_study",
    "create_study",
    "delete_study",
    "get_all_study_names",
    "get_all_study_summaries",
    "load_study",
    "reevaluate_top_k",
]
