"""hpo_core: hyperparameter optimization with a compiled core and a columnar history.

Example:
    >>> import hpo_core
    >>> def objective(trial):
    ...     x = trial.suggest_float("x", -10, 10)
    ...     return (x - 2) ** 2
    >>> study = hpo_core.create_study(storage="sqlite:///example.db", study_name="demo",
    ...                               load_if_exists=True)  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=50)  # doctest: +SKIP
"""

from hpo_core import (  # distributed registers executor="process" and "ray" with study
    artifacts,
    distributed,
    distributions,
    exceptions,
    logging,
    pbt,
    pruners,
    samplers,
    search_space,
    storages,
    trial,
    version,
)
from hpo_core.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
)
from hpo_core.exceptions import TrialPruned
from hpo_core.study import (
    HeldOut,
    Study,
    TrialBatch,
    copy_study,
    create_study,
    delete_study,
    get_all_study_names,
    get_all_study_summaries,
    load_study,
    reevaluate_top_k,
)
from hpo_core.trial import FrozenTrial, StudyDirection, Trial, TrialState, create_trial
from hpo_core.version import __version__

__all__ = [
    "CategoricalDistribution",
    "__version__",
    "FloatDistribution",
    "FrozenTrial",
    "HeldOut",
    "IntDistribution",
    "SearchSpace",
    "Study",
    "StudyDirection",
    "Trial",
    "TrialBatch",
    "TrialPruned",
    "TrialState",
    "artifacts",
    "copy_study",
    "create_study",
    "create_trial",
    "delete_study",
    "distributed",
    "distributions",
    "exceptions",
    "get_all_study_names",
    "get_all_study_summaries",
    "importance",
    "integration",
    "load_study",
    "logging",
    "pbt",
    "pruners",
    "reevaluate_top_k",
    "samplers",
    "search_space",
    "storages",
    "terminator",
    "trial",
    "version",
]


def __getattr__(name: str) -> object:
    # hpo_core.importance (as optuna.importance) loads on first use: it reads studies, so
    # nothing below it imports it, and importing hpo_core stays as fast as it was. So does
    # hpo_core.integration (as optuna.integration), which sits above study and distributed,
    # and hpo_core.terminator (as optuna.terminator), which reads studies through the GP,
    # and hpo_core.visualization (as optuna.visualization), which imports plotting libraries.
    if name in ("importance", "integration", "terminator", "visualization"):
        import importlib

        return importlib.import_module(f"hpo_core.{name}")
    raise AttributeError(f"module 'hpo_core' has no attribute {name!r}")
