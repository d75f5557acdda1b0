"""Callbacks a storage calls on a trial found stale: :class:`RetryHeartbeatStaleTrialCallback`
(and its deprecated name :class:`RetryFailedTrialCallback`, as in Optuna 5.0), and the
storages' ``heartbeat_stale_trial_callback`` / ``failed_trial_callback`` argument."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from hpo_core._deprecation import deprecation_message
from hpo_core._validation import check_bool, check_callable, check_int
from hpo_core.trial._frozen import FrozenTrial, create_trial
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["RetryFailedTrialCallback", "RetryHeartbeatStaleTrialCallback", "stale_trial_callback"]


def stale_trial_callback(heartbeat_stale_trial_callback: Any, failed_trial_callback: Any, owner: str) -> Any:
    """The callback a storage calls for each trial failed as stale, from its two
    arguments: ``heartbeat_stale_trial_callback`` (Optuna 5.0's name) or
    ``failed_trial_callback`` (deprecated in Optuna 4.9: warns with a FutureWarning).

    Raises:
        ValueError: both are given.
        TypeError: the one given is not callable.
    """
    if heartbeat_stale_trial_callback is not None and failed_trial_callback is not None:
        raise ValueError(
            f"{owner}: specify only one of `heartbeat_stale_trial_callback` and `failed_trial_callback`."
        )
    if failed_trial_callback is not None:
        warnings.warn(
            deprecation_message("`failed_trial_callback`", "4.9.0", instead="Use `heartbeat_stale_trial_callback` instead."),
            FutureWarning,
            stacklevel=3,
        )
        return check_callable("failed_trial_callback", failed_trial_callback, owner=owner)
    return check_callable(
        "heartbeat_stale_trial_callback", heartbeat_stale_trial_callback, allow_none=True, owner=owner
    )


class RetryHeartbeatStaleTrialCallback:
    """Run a trial again when its worker died: queue a WAITING copy with its parameters.

    Set it as a storage's ``heartbeat_stale_trial_callback``; a worker that marks a trial FAIL
    as stale (its process is gone, or its heartbeat is older than the grace period)
    calls it with the failed trial. The copy keeps the parameters, their
    distributions and the user attributes, and records the chain in its system
    attributes: ``failed_trial``, the number of the first trial of the chain, and
    ``retry_history``, the numbers of every failed attempt in order. Optuna's
    ``RetryHeartbeatStaleTrialCallback`` does the same with the same names.

    Args:
        max_retry: The most retries of one chain; None retries without limit.
        inherit_intermediate_values: Copy the failed trial's reported values (a
            resumed training can then skip the steps it has).

    Example:
        >>> import hpo_core
        >>> from hpo_core.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
        >>> storage = RDBStorage(
        ...     "sqlite:///retry_example.db", heartbeat_interval=60, grace_period=120,
        ...     heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
        ... )
    """

    def __init__(self, max_retry: int | None = None, inherit_intermediate_values: bool = False) -> None:
        owner = type(self).__name__
        self._max_retry = check_int("max_retry", max_retry, low=0, allow_none=True, owner=owner)
        self._inherit_intermediate_values = check_bool(
            "inherit_intermediate_values", inherit_intermediate_values, owner=owner)

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


class RetryFailedTrialCallback(RetryHeartbeatStaleTrialCallback):
    """Deprecated name of :class:`RetryHeartbeatStaleTrialCallback` (as in Optuna 4.9+):
    the same callback, with a FutureWarning when constructed."""

    def __init__(self, max_retry: int | None = None, inherit_intermediate_values: bool = False) -> None:
        warnings.warn(
            deprecation_message("RetryFailedTrialCallback", "4.9.0", instead="Use `RetryHeartbeatStaleTrialCallback` instead."),
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(max_retry, inherit_intermediate_values)
