"""Prune when the last report leaves a fixed range (Optuna's ``ThresholdPruner``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hpo_core._validation import check_int, check_real, format_error
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._steps import is_first_in_interval, own_reports

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["ThresholdPruner"]


class ThresholdPruner(BasePruner):
    """Prunes a trial whose last reported value is below ``lower``, above ``upper`` or NaN.

    Checks only at pruning steps: ``step >= n_warmup_steps`` and the first report at or
    after ``n_warmup_steps + k * interval_steps``, as :class:`PercentilePruner`. Reads the
    trial's own reports only. The decisions are Optuna 5.0's.

    Args:
        lower: prune below this; None for no lower bound.
        upper: prune above this; None for no upper bound. At least one must be given.
        n_warmup_steps: no pruning at steps below this.
        interval_steps: steps between pruning checks, counted from ``n_warmup_steps``.

    Raises:
        TypeError: both bounds are None, or an argument has the wrong type.
        ValueError: ``lower > upper``, or a count out of range.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study(pruner=ThresholdPruner(upper=1.0))
        >>> trial = study.ask()
        >>> trial.report(0.5, 0)
        >>> trial.should_prune()
        False
        >>> trial.report(2.0, 1)
        >>> trial.should_prune()
        True
    """

    def __init__(
        self,
        lower: float | None = None,
        upper: float | None = None,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
    ) -> None:
        owner = "ThresholdPruner"
        if lower is None and upper is None:
            raise TypeError(format_error("lower", "a number when `upper` is None", lower, owner=owner))
        low = check_real("lower", lower, allow_none=True, allow_inf=True, owner=owner)
        high = check_real("upper", upper, allow_none=True, allow_inf=True, owner=owner)
        self._lower = -math.inf if low is None else low
        self._upper = math.inf if high is None else high
        if self._lower > self._upper:
            raise ValueError(format_error("lower", f"at most `upper` ({self._upper!r})", lower, owner=owner))
        self._n_warmup_steps: int = check_int("n_warmup_steps", n_warmup_steps, low=0, owner=owner)  # type: ignore[assignment]
        self._interval_steps: int = check_int("interval_steps", interval_steps, low=1, owner=owner)  # type: ignore[assignment]

    def prune(self, study: Study, trial: Trial) -> bool:
        if self._interval_steps == 1:
            # Every report at or after the warm-up is a check: only the last one is read
            # (two scalars, no arrays; the O(1) floor of a decision, see benchmarks/README.md).
            step, latest = study.view.history.steps.last_value(trial.number)
            if step < self._n_warmup_steps:  # -1: no report yet
                return False
        else:
            _, steps, values = own_reports(study, trial)
            if len(steps) == 0 or steps[-1] < self._n_warmup_steps:
                return False
            if not is_first_in_interval(steps, self._n_warmup_steps, self._interval_steps):
                return False
            latest = float(values[-1])
        return latest != latest or latest < self._lower or latest > self._upper  # NaN != NaN
