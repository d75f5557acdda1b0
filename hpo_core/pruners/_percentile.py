"""Percentile and median stopping rules (Optuna's ``PercentilePruner``, ``MedianPruner``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hpo_core._validation import check_real
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._step_values import StepValues
from hpo_core.pruners._steps import best_so_far, check_schedule_args, is_first_in_interval, own_reports
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    import numpy as np

    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["MedianPruner", "PercentilePruner"]

_COMPLETE = int(TrialState.COMPLETE)


class PercentilePruner(BasePruner):
    """Prunes a trial whose best value so far is worse than a percentile of the completed
    trials' values at the same step.

    At the trial's last reported step ``s`` (a pruning check: ``s >= n_warmup_steps`` and
    the first report at or after ``n_warmup_steps + k * interval_steps``), the trial's best
    report so far (NaNs ignored; a trial whose reports are all NaN is pruned) is compared
    with the ``percentile`` of the values that COMPLETE trials reported at exactly ``s``
    (NaNs ignored; the trial is kept when fewer than ``n_min_trials`` of them reported at
    ``s``, NaNs counted, or when all those are NaN). For a maximized study the comparison
    uses the ``100 - percentile`` percentile. The decisions are Optuna 5.0's.

    Reads the trial's own reports and the step's COMPLETE values, which are kept sorted
    per step and updated with the reports and completions new since the last decision
    (``_step_values.py``): O(L + new + unfinished) and O(log k) per decision, not the
    O(k) of the step's reports, in a loop that asks at every step too; memory at most
    ~32 MB (4,000,000 values) over at most 4,096 steps, the least recently used dropped
    beyond.

    Args:
        percentile: in ``[0, 100]``; 25.0 keeps the best quarter.
        n_startup_trials: no pruning until this many trials have completed.
        n_warmup_steps: no pruning at steps below this.
        interval_steps: steps between pruning checks, counted from ``n_warmup_steps``; a
            check whose step had no report is made at the next report.
        n_min_trials: keep the trial when fewer completed trials reported at the step.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(pruner=PercentilePruner(25.0, n_startup_trials=1))
        >>> for slope in (1.0, 2.0):
        ...     trial = study.ask()
        ...     for step in range(3):
        ...         trial.report(slope * (3 - step), step)
        ...     print(trial.should_prune())
        ...     study.tell(trial, slope)
        False
        True
    """

    def __init__(
        self,
        percentile: float,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        owner = type(self).__name__
        self._percentile: float = check_real("percentile", percentile, low=0.0, high=100.0, owner=owner)  # type: ignore[assignment]
        self._n_startup_trials, self._n_warmup_steps, self._interval_steps, self._n_min_trials = check_schedule_args(
            owner, n_startup_trials, n_warmup_steps, interval_steps, n_min_trials)
        # The COMPLETE values per step, sorted and kept up to date (see _step_values.py).
        self._values = StepValues()

    def prune(self, study: Study, trial: Trial) -> bool:
        history, steps, values = own_reports(study, trial)
        return self._prune_reports(study, history, steps, values, None)

    def _prune_reports(
        self, study: Study, history: History, steps: np.ndarray, values: np.ndarray, best: float | None
    ) -> bool:
        """:meth:`prune` on the trial's reports ``steps``, ``values`` (:func:`own_reports`)
        and ``best``, their :func:`best_so_far` where the caller knows it (None: computed),
        so that :class:`~hpo_core.pruners.PatientPruner` reads and reduces them once."""
        n_complete = history.count(_COMPLETE)
        if n_complete == 0 or n_complete < self._n_startup_trials or len(steps) == 0:
            return False
        step = int(steps[-1])
        warmup, interval = self._n_warmup_steps, self._interval_steps
        if step < warmup or not is_first_in_interval(steps, warmup, interval):
            return False
        maximize = study.view.signs.item(0) < 0
        if best is None:
            best = best_so_far(values, maximize)
        if best != best:
            return True
        q = 100.0 - self._percentile if maximize else self._percentile
        p = self._values.percentile(history, step, q, self._n_min_trials)
        if math.isnan(p):
            return False
        return best < p if maximize else best > p

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_values"] = StepValues()  # holds a history: rebuilt on use
        return state


class MedianPruner(PercentilePruner):
    """Prunes a trial whose best value so far is worse than the median of the completed
    trials' values at the same step: :class:`PercentilePruner` at 50.

    Args:
        n_startup_trials: no pruning until this many trials have completed.
        n_warmup_steps: no pruning at steps below this.
        interval_steps: steps between pruning checks, counted from ``n_warmup_steps``.
        n_min_trials: keep the trial when fewer completed trials reported at the step.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(pruner=MedianPruner(n_startup_trials=2))
        >>> decisions = []
        >>> for slope in (1.0, 3.0, 2.5):
        ...     trial = study.ask()
        ...     trial.report(slope, 0)
        ...     decisions.append(trial.should_prune())
        ...     study.tell(trial, slope)
        >>> decisions
        [False, False, True]
    """

    def __init__(
        self,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        super().__init__(50.0, n_startup_trials, n_warmup_steps, interval_steps, n_min_trials=n_min_trials)
