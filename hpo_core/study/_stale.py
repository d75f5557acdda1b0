"""Trials of dead or paused workers: finding them, and what a worker does about them.

Every worker checks for stale trials (``BaseStorage.fail_stale_trials``: the owner
process on this host is gone, or the last heartbeat is older than the grace period)
when ``optimize`` starts and then before an ask at most once per heartbeat interval
(once a minute without heartbeats), so ask-and-tell loops find them as ``optimize``
does. Each trial it marks FAIL goes to the storage's ``heartbeat_stale_trial_callback``
(e.g. :class:`~hpo_core.storages.RetryHeartbeatStaleTrialCallback`), with this study
(:func:`hpo_core.storages.fail_stale_trials`).

A worker that was paused (SIGSTOP, a VM pause, a long call holding the GIL) may find
on resuming that a peer failed its trial meanwhile; it warns with
:class:`~hpo_core.exceptions.StaleTrialWarning` and goes on (:func:`failed_as_stale`).
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

from hpo_core.exceptions import StaleTrialWarning
from hpo_core.storages._heartbeat import fail_stale_trials as storages_fail_stale_trials
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study._study import Study

__all__ = ["STALE_PREFIX", "fail_stale_trials", "failed_as_stale"]

#: How a storage's ``fail_reason`` of a trial failed as stale starts.
STALE_PREFIX = "stale trial"
# Seconds between checks of a study whose storage has no heartbeats (dead local owners).
_PERIOD_WITHOUT_HEARTBEAT = 60.0


def fail_stale_trials(study: Study, *, force: bool = False) -> list[int]:
    """Mark FAIL the study's stale trials (rate-limited unless ``force``), call the
    storage's ``heartbeat_stale_trial_callback`` for each, and return their numbers
    (:func:`hpo_core.storages.fail_stale_trials`)."""
    storage = study._storage
    now = time.monotonic()
    if not force:
        period = storage.heartbeat_interval or _PERIOD_WITHOUT_HEARTBEAT
        if now - study._stale_checked < period:
            return []
    study._stale_checked = now
    study._stale_due = now + (storage.heartbeat_interval or _PERIOD_WITHOUT_HEARTBEAT)
    return storages_fail_stale_trials(study)


def failed_as_stale(study: Study, trial_id: int, what: str) -> bool:
    """True, after a :class:`StaleTrialWarning`, if the trial was failed as stale by a
    worker that thought its owner dead (``what``: the write that found it finished)."""
    try:
        frozen = study._storage.get_trial(trial_id)
    except Exception:  # noqa: BLE001 - the question is only asked after a failed write
        return False
    reason = frozen.system_attrs.get("fail_reason")
    if frozen.state != TrialState.FAIL or not (isinstance(reason, str) and reason.startswith(STALE_PREFIX)):
        return False
    warnings.warn(
        f"Trial {frozen.number} was marked FAIL by another worker while this one was not "
        f"heard from ({reason}); {what} is dropped and this worker goes on. A longer "
        "grace_period avoids this for workers that pause.",
        StaleTrialWarning,
        stacklevel=4,
    )
    return True
