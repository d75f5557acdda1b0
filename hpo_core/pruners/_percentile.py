"""Percentile and median stopping rules (Optuna's ``PercentilePruner``, ``MedianPruner``)."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_real
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._steps import best_so_far, check_schedule_args, is_first_in_interval, own_reports
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["MedianPruner", "PercentilePruner"]

_COMPLETE = int(TrialState.COMPLETE)
_RUNNING, _WAITING = int(TrialState.RUNNING), int(TrialState.WAITING)
_HISTORY = "history"  # the cache key of the history the cached steps belong to
_ROLLBACKS = "rollbacks"  # and of its rollback count then
_CACHED_STEPS = 32


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

    Reads one bucket of the step index and the trial's own reports: O(k + L), no loop
    over trials.

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
        # step -> (COMPLETE rows reported there (k,), their percentile); see _percentile_at.
        self._cache: dict[Any, Any] = {}

    def prune(self, study: Study, trial: Trial) -> bool:
        history = study.view.history
        n_complete = history.count(_COMPLETE)
        if n_complete == 0 or n_complete < self._n_startup_trials:
            return False
        _, steps, values = own_reports(study, trial)
        if len(steps) == 0:
            return False
        step = int(steps[-1])
        warmup, interval = self._n_warmup_steps, self._interval_steps
        if step < warmup or not is_first_in_interval(steps, warmup, interval):
            return False
        maximize = bool(study.view.signs[0] < 0)
        best = best_so_far(values, maximize)
        if math.isnan(best):
            return True
        p = self._percentile_at(history, step, maximize)
        if math.isnan(p):
            return False
        return best < p if maximize else best > p

    def _percentile_at(self, history: History, step: int, maximize: bool) -> float:
        """The percentile of the values COMPLETE trials reported at ``step``; NaN when
        fewer than ``n_min_trials`` reported (NaNs counted) or all are NaN.

        Cached per step. A step's reports only accumulate (in report order; the first
        report of a step wins) and a finished trial stays finished, so until a batch is
        rolled back (``history.rollbacks``) the COMPLETE rows at ``step`` change only when
        the step gets a report from a COMPLETE trial or one of its rows that was
        unfinished (RUNNING, WAITING or unknown) at the last look completes: a hit checks
        those rows and the reports new since, O(unfinished + new), instead of the O(k)
        state lookup. Past that, the percentile is reused while the COMPLETE rows are the
        same (say a PRUNED row): the O(k) selection, not ``nanpercentile``'s O(k)
        partition (~0.15 ms at k = 10,000).
        """
        rows, at = history.steps.at_step(step)
        cache = self._cache
        if cache.get(_HISTORY) is not history or cache.get(_ROLLBACKS) != history.rollbacks:
            cache.clear()  # a pruner reused by another study, or a rolled-back batch
            cache[_HISTORY], cache[_ROLLBACKS] = history, history.rollbacks
        states = history.states
        hit = cache.get(step)
        if hit is not None:
            # Rows cached as unfinished, and the step's new reports (appended since).
            recheck = rows[hit[0]:] if len(hit[1]) == 0 else np.concatenate((hit[1], rows[hit[0]:]))
            still_open = _unless_complete(states, recheck)
            if still_open is not None:  # no new COMPLETE row: the same percentile
                cache[step] = (len(rows), still_open, hit[2], hit[3])
                return hit[3]  # type: ignore[no-any-return]
        at_states = states.take(rows)
        keep = np.flatnonzero(at_states == _COMPLETE)
        kept = rows.take(keep)
        unfinished = rows[(at_states == _RUNNING) | (at_states == _WAITING) | (at_states < 0)]
        if len(keep) < self._n_min_trials:
            p = math.nan
        elif hit is not None and np.array_equal(hit[2], kept):
            p = hit[3]
        else:
            q = 100.0 - self._percentile if maximize else self._percentile
            with warnings.catch_warnings():
                # All-NaN slice (NaN, as Optuna), and inf - inf in the interpolation (NaN too).
                warnings.simplefilter("ignore", RuntimeWarning)
                p = float(np.nanpercentile(at[:, 0].take(keep), q))
        if hit is None and len(cache) > _CACHED_STEPS + 1:
            del cache[next(k for k in cache if k not in (_HISTORY, _ROLLBACKS))]  # the oldest step
        cache[step] = (len(rows), unfinished, kept, p)
        return p

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}  # arrays of row numbers and a history: rebuilt on use
        return state


def _unless_complete(states: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """None if any of ``rows`` (q,) is COMPLETE now, else those still unfinished."""
    s = states.take(rows)
    if (s == _COMPLETE).any():
        return None
    return rows[(s == _RUNNING) | (s == _WAITING) | (s < 0)]


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
