"""Callbacks for ``Study.optimize`` (Optuna's ``optuna.study.MaxTrialsCallback``)."""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING

from hpo_core._validation import check_int
from hpo_core.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hpo_core.study._study import Study

__all__ = ["MaxTrialsCallback"]


class MaxTrialsCallback:
    """Stop the study once it holds ``n_trials`` trials in ``states``, as Optuna's.

    Every worker of a study on one storage counts the same trials, so with several
    workers (processes or machines) the study as a whole stops near ``n_trials``, where
    ``optimize(n_trials=...)`` counts one worker's trials. The count comes from the
    history's per-state counters, not from a list of trials.

    Args:
        n_trials: The number of trials after which the study stops, an int ``>= 0``.
        states: The states counted; ``None`` counts every trial. Default: COMPLETE.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study()
        >>> cb = MaxTrialsCallback(5, states=(hpo_core.TrialState.COMPLETE,))
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=50, callbacks=[cb])
        >>> len(study.trials)
        5
    """

    def __init__(self, n_trials: int, states: Container[TrialState] | None = (TrialState.COMPLETE,)) -> None:
        self._n_trials = check_int("n_trials", n_trials, low=0, owner="MaxTrialsCallback")
        self._states = states

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        history = study.view.sync()
        if self._states is None:
            n = history.n
        else:
            n = sum(history.count(state) for state in TrialState if state in self._states)
        if n >= self._n_trials:  # type: ignore[operator]
            study.stop()
