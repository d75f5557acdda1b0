"""Heartbeats of the RUNNING trials a process owns, for every persistent storage.

One daemon thread per storage object and process beats, every ``interval`` seconds,
all the RUNNING trials this process created or claimed through that storage object:
trials of ``Study.optimize``, of ``Study.ask`` (ask-and-tell loops), of ``ask(n=...)``
and ``ask_array``, and claimed WAITING trials alike. The storage records one heartbeat
write per interval for all of them (``record_heartbeats``), not one per trial, and
the storage's first write of a trial (its creation or its claim) carries the first
beat, so that a process that dies before its first interval is still found.

The thread runs only while this process owns a RUNNING trial through the storage and
ends when the last one finishes, so an idle storage object holds no thread. A failed
beat (the database away for a moment) is logged and tried again at the next interval;
the storage's own retries ride out restarts.

Which trials are stale is decided by the storage's ``fail_stale_trials`` (owner
process gone on this host, or a last heartbeat older than the grace period); what
happens to them by :func:`fail_stale_trials` here (Optuna's
``optuna.storages.fail_stale_trials``: mark them FAIL, call the storage's
``heartbeat_stale_trial_callback`` for each), which the study runs before asks
(``hpo_core.study._stale``, rate-limited).
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["Heartbeats", "fail_stale_trials"]

_logger = logging.getLogger("hpo_core")


class Heartbeats:
    """The heartbeat thread of one storage object in one process.

    Args:
        beat: Records a heartbeat, now, for the given trial ids (one storage write).
        interval: Seconds between beats; None turns heartbeats off (``track`` is a no-op).
    """

    def __init__(self, beat: Callable[[list[int]], None], interval: float | None):
        self._beat = beat
        self.interval = interval
        self._reset()

    def _reset(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    @property
    def enabled(self) -> bool:
        return self.interval is not None

    def tracked(self) -> list[int]:
        """The trial ids being beaten, sorted."""
        with self._lock:
            return sorted(self._ids)

    def track(self, trial_id: int) -> None:
        """Beat ``trial_id`` from now on (its first beat was written with its creation or claim)."""
        self.track_many([trial_id])

    def track_many(self, trial_ids: list[int]) -> None:
        if self.interval is None or not trial_ids:
            return
        if self._pid != os.getpid():
            self.after_fork()
        with self._lock:
            self._ids.update(trial_ids)
            if self._thread is None:
                self._wake.clear()
                self._thread = threading.Thread(target=self._run, name="hpo_core-heartbeat", daemon=True)
                self._thread.start()

    def untrack(self, trial_id: int) -> None:
        """Stop beating ``trial_id`` (it finished, or was found finished)."""
        with self._lock:
            self._ids.discard(trial_id)

    def untrack_many(self, trial_ids: list[int]) -> None:
        with self._lock:
            self._ids.difference_update(trial_ids)

    def _run(self) -> None:
        assert self.interval is not None
        while not self._wake.wait(self.interval):
            with self._lock:
                ids = sorted(self._ids)
                if not ids:
                    self._thread = None
                    return
            try:
                self._beat(ids)
            except Exception:  # noqa: BLE001 - a failed beat must not end the thread
                _logger.warning("Heartbeat of trials %s failed (tried again in %g s):\n%s",
                                ids[:8], self.interval, traceback.format_exc())
        with self._lock:
            self._thread = None

    def after_fork(self) -> None:
        """In a forked child: the parent's trials are not the child's, nor its thread."""
        self._reset()

    def close(self) -> None:
        """Stop the thread (the trials stay RUNNING: their grace period decides)."""
        with self._lock:
            thread = self._thread
            self._ids.clear()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)


def fail_stale_trials(study: Study) -> list[int]:
    """Mark FAIL the study's stale RUNNING trials and call the storage's
    ``heartbeat_stale_trial_callback`` (if any) with each; return their numbers.

    A trial is stale when its owner process on this host is gone, or, with heartbeats
    on, when its last heartbeat is older than the storage's ``grace_period``. Workers
    run this before asking for trials (``optimize`` and ``ask`` alike); call it to
    check now, as with Optuna's ``optuna.storages.fail_stale_trials``. A raising
    callback is logged and the next trial's callback still runs.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study()
        >>> hpo_core.storages.fail_stale_trials(study)
        []
    """
    storage, study_id = study._storage, study._study_id
    failed = storage.fail_stale_trials(study_id)
    if not failed:
        return []
    _logger.warning("Marked FAIL the trials %s, whose workers are gone.", failed)
    callback = storage.failed_trial_callback
    if callback is not None:
        for number in failed:
            try:
                callback(study, storage.get_trial(storage.get_trial_id_from_number(study_id, number)))
            except Exception:  # noqa: BLE001 - a failing callback must not stop the worker
                _logger.warning("heartbeat_stale_trial_callback raised for trial %d:\n%s", number,
                                traceback.format_exc())
    return failed
