"""Callbacks a storage calls on a trial found stale: :class:`RetryFailedTrialCallback`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpo_core._validation import check_bool, check_int
from hpo_core.trial._frozen import FrozenTrial, create_trial
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["RetryFailedTrialCallback"]


class RetryFailedTrialCallback:
    """Run a trial again when its worker died: queue a WAITING copy with its parameters.

    Set it as a storage's ``failed_trial_callback``; a worker that marks a trial FAIL
    as stale (its process is gone, or its heartbeat is older than the grace period)
    calls it with the failed trial. The copy keeps the parameters, their
    distributions and the user attributes, and records the chain in its system
    attributes: ``failed_trial``, the number of the first trial of the chain, and
    ``retry_history``, the numbers of every failed attempt in order. Optuna's
    ``RetryFailedTrialCallback`` does the same with the same names.

    Args:
        max_retry: The most retries of one chain; None retries without limit.
        inherit_intermediate_values: Copy the failed trial's reported values (a
            resumed training can then skip the steps it has).

    Example:
        >>> import hpo_core
        >>> from hpo_core.storages import RDBStorage, RetryFailedTrialCallback
        >>> storage = RDBStorage(
        ...     "sqlite:///retry_example.db", heartbeat_interval=60, grace_period=120,
        ...     failed_trial_callback=RetryFailedTrialCallback(max_retry=3),
        ... )
    """

    def __init__(self, max_retry: int | None = None, inherit_intermediate_values: bool = False) -> None:
        self._max_retry = check_int("max_retry", max_retry, low=0, allow_none=True, owner="RetryFailedTrialCallback")
        self._inherit_intermediate_values = check_bool(
            "inherit_intermediate_values", inherit_intermediate_values, owner="RetryFailedTrialCallback")

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        system_attrs: dict[str, Any] = {"failed_trial": trial.number, "retry_history": [], **trial.system_attrs}
        system_attrs["retry_history"] = [*system_attrs["retry_history"], trial.number]
        if self._max_retry is not None and len(system_attrs["retry_history"]) > self._max_retry:
            return
        study.add_trial(create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=trial.user_attrs,
            system_attrs=system_attrs,
            intermediate_values=trial.intermediate_values if self._inherit_intermediate_values else None,
        ))

    @staticmethod
    def retried_trial_number(trial: FrozenTrial) -> int | None:
        """The number of the first trial of the chain ``trial`` retries; None if it is no retry."""
        number = trial.system_attrs.get("failed_trial")
        return None if number is None else int(number)

    @staticmethod
    def retry_history(trial: FrozenTrial) -> list[int]:
        """The numbers of the failed attempts before ``trial``, oldest first."""
        return [int(n) for n in trial.system_attrs.get("retry_history", [])]
