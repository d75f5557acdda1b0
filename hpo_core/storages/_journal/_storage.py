"""The journal storage: studies kept as a log of operations that every process replays.

:class:`JournalStorage` appends each write as one entry to a
:class:`~hpo_core.storages.journal.BaseJournalBackend` (a file, Redis) and keeps, per
storage object, the state that replaying the log builds
(:class:`~hpo_core.storages._journal._replay.ReplayState`), each study's history
included. A sync reads only the entries after the last one it applied and applies them
in order, in batches, each atomically. A writer learns the outcome of its entry (a
trial number, a refusal) by syncing up to and including it: the decision is the
replay's, the same in every process. Every so many entries, the process whose entry
ends such a stretch saves a snapshot of the replayed state (when the backend keeps
snapshots), so that opening a long journal replays only what follows the snapshot.
The trial methods are in :mod:`~hpo_core.storages._journal._trial_ops`.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import threading
import time
import uuid
import warnings
import weakref
from collections.abc import Sequence
from typing import Any

from hpo_core._validation import check_int, check_real, format_error
from hpo_core.exceptions import HpoWarning, StorageError, StudyNotFoundError
from hpo_core.history import History
from hpo_core.storages._base import FrozenStudy, check_attr, is_local_worker_dead
from hpo_core.storages._callbacks import stale_trial_callback
from hpo_core.storages._checks import check_name, encode_json
from hpo_core.storages._heartbeat import Heartbeats
from hpo_core.storages._journal import _snapshot
from hpo_core.storages._journal._base import BaseJournalBackend, BaseJournalSnapshot
from hpo_core.storages._journal._replay import ReplayState
from hpo_core.storages._journal._trial_ops import JournalTrialOps
from hpo_core.storages._pending import PendingParams
from hpo_core.trial._state import StudyDirection

__all__ = ["DEFAULT_SNAPSHOT_INTERVAL", "JournalStorage", "snapshot_due"]

_logger = logging.getLogger("hpo_core")

#: Entries between snapshots (see ``benchmarks/journal.py`` for the measurement).
DEFAULT_SNAPSHOT_INTERVAL = 10_000
# Entries replayed per atomic batch (bounds the memory of one batch).
_BATCH = 50_000
# How long a writer waits for its own entry to show in the journal after appending it.
_AWAIT_TIMEOUT = 60.0
_MISSING = object()


def snapshot_due(pos: int, interval: int) -> bool:
    """Whether the writer of entry ``pos`` saves a snapshot after it.

    Every ``interval`` entries, and every ``interval * 2**k`` once the journal holds
    ``40 * interval * 2**(k-1)`` entries or more: a snapshot costs time in proportion to
    the journal's size, so spacing them out with its size bounds that cost per entry,
    while a reopen still replays at most 1/20 of the journal after the snapshot. One
    rule for every process, so each stretch has one writer that saves it.
    """
    n, spacing = pos + 1, interval
    while n >= 40 * spacing:
        spacing *= 2
    return n % spacing == 0


class JournalStorage(JournalTrialOps):
    """Storage in an append-only journal of operations: a file or a Redis server.

    The drop-in for Optuna's ``optuna.storages.JournalStorage``: the same backends and
    locks (:mod:`hpo_core.storages.journal`), argument names and defaults. Every write
    is one journal entry; each process replays the journal to rebuild the studies, so
    every reader reaches the same decisions (trial numbers, which worker claimed a
    WAITING trial, a trial finished twice). Suited to file systems where SQLite's locks
    are unreliable (NFS) and to many workers on several machines sharing a Redis server.

    Args:
        log_storage: The backend: :class:`~hpo_core.storages.journal.JournalFileBackend`,
            :class:`~hpo_core.storages.journal.JournalRedisBackend`, or any object with
            ``read_logs`` and ``append_logs`` (Optuna's backend interface).
        heartbeat_interval: Seconds between heartbeats of the RUNNING trials this
            process owns (one journal entry per interval for all of them); None turns
            heartbeats off. Default 60, as for ``RDBStorage`` (Optuna's journal has
            none). With heartbeats, a trial whose last heartbeat is older than
            ``grace_period`` is marked FAIL by :meth:`fail_stale_trials`; without, only
            trials whose process on this host is gone are.
        grace_period: Seconds without a heartbeat after which a RUNNING trial is stale.
            Default ``2 * heartbeat_interval``.
        heartbeat_stale_trial_callback: Called as ``callback(study, frozen_trial)``
            for each trial the study finds stale and marks FAIL; None (default) or a
            callable, e.g. ``RetryHeartbeatStaleTrialCallback()``.
        failed_trial_callback: The deprecated name of ``heartbeat_stale_trial_callback``
            (a FutureWarning, as for ``RDBStorage``); give only one of them.
        snapshot_interval: Entries between snapshots of the replayed state, for
            backends that keep them (the file and Redis backends); None saves none.
            Default 10,000; the spacing doubles each time the journal doubles past
            20 times it, so a reopen replays at most 1/20 of the journal.
        flush_delay: Parameters set by ``suggest_*`` are written with the trial's next
            write (a report, an attribute, its end), before this process reads the
            study again, and at the latest after this many seconds (default 0.1).

    Example:
        >>> import os, tempfile
        >>> import hpo_core
        >>> from hpo_core.storages.journal import JournalFileBackend
        >>> path = os.path.join(tempfile.mkdtemp(), "journal.log")
        >>> storage = hpo_core.storages.JournalStorage(JournalFileBackend(path))
        >>> study = hpo_core.create_study(storage=storage, study_name="demo")
        >>> trial = study.ask()
        >>> _ = study.tell(trial, (trial.suggest_float("x", -1.0, 1.0) - 0.5) ** 2)
        >>> again = hpo_core.load_study(study_name="demo", storage=hpo_core.storages.JournalStorage(JournalFileBackend(path)))
        >>> len(again.trials)
        1
    """

    def __init__(
        self,
        log_storage: BaseJournalBackend,
        *,
        heartbeat_interval: float | None = 60.0,
        grace_period: float | None = None,
        heartbeat_stale_trial_callback: Any = None,
        failed_trial_callback: Any = None,
        snapshot_interval: int | None = DEFAULT_SNAPSHOT_INTERVAL,
        flush_delay: float = 0.1,
    ) -> None:
        owner = "JournalStorage"
        if not isinstance(log_storage, BaseJournalBackend) and not (
                callable(getattr(log_storage, "read_logs", None)) and callable(getattr(log_storage, "append_logs", None))):
            raise TypeError(format_error(
                "log_storage", "a journal backend (JournalFileBackend, JournalRedisBackend or a "
                "BaseJournalBackend)", log_storage, owner=owner))
        self.heartbeat_interval = check_real("heartbeat_interval", heartbeat_interval, low=0.0, low_open=True,
                                             allow_none=True, owner=owner)
        if grace_period is None and heartbeat_interval is not None:
            grace_period = 2.0 * heartbeat_interval
        self.grace_period = check_real("grace_period", grace_period, low=0.0, low_open=True, allow_none=True,
                                       owner=owner)
        self.failed_trial_callback = stale_trial_callback(heartbeat_stale_trial_callback, failed_trial_callback, owner)
        self.snapshot_interval = check_int("snapshot_interval", snapshot_interval, low=1, allow_none=True,
                                           owner=owner)
        self.flush_delay: float = check_real("flush_delay", flush_delay, low=0.0, owner=owner)  # type: ignore[assignment]
        self._backend = log_storage
        self._setup()

    # ------------------------------------------------------------ lifetime
    def _setup(self) -> None:
        backend = self._backend
        has_snapshots = isinstance(backend, BaseJournalSnapshot) or (
            callable(getattr(backend, "save_snapshot", None)) and callable(getattr(backend, "load_snapshot", None)))
        self._snapshots: Any = backend if has_snapshots else None
        self._lock = threading.Lock()  # held while syncing (replaying) and snapshotting
        self._state = ReplayState()
        self._opened = False
        self._token = uuid.uuid4().hex[:16]  # names this object's entries (per process)
        self._counter = itertools.count()
        self._outcomes: dict[int, Any] = {}
        self._pending = PendingParams(self._flush_pending, self.flush_delay)
        self._heartbeats = Heartbeats(self.record_heartbeats, self.heartbeat_interval)
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)

            def after_in_child() -> None:
                storage = ref()
                if storage is not None:
                    storage._after_fork()

            os.register_at_fork(after_in_child=after_in_child)

    def _after_fork(self) -> None:
        """In a forked child: a process of its own (new token, no parent threads). A
        state the parent was changing while it forked is rebuilt from the journal."""
        if self._lock.locked():
            self._state, self._opened = ReplayState(), False
        self._lock = threading.Lock()
        self._token = uuid.uuid4().hex[:16]
        self._counter = itertools.count()
        self._outcomes = {}
        self._pending.after_fork()
        self._heartbeats.after_fork()

    def __getstate__(self) -> dict[str, Any]:
        return {
            "_backend": self._backend, "heartbeat_interval": self.heartbeat_interval,
            "grace_period": self.grace_period, "failed_trial_callback": self.failed_trial_callback,
            "snapshot_interval": self.snapshot_interval, "flush_delay": self.flush_delay,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup()

    def close(self) -> None:
        """Stop the heartbeats of this process's trials and write the waiting
        ``suggest_*`` parameters."""
        self._heartbeats.close()
        self._pending.close()

    # ------------------------------------------------------------ the journal
    def _append(self, op: dict[str, Any]) -> None:
        op["w"] = self._token
        self._backend.append_logs([op])

    def _write(self, op: dict[str, Any]) -> Any:
        n = next(self._counter)
        op["w"], op["n"] = self._token, n
        self._backend.append_logs([op])
        deadline, sleep = None, 1e-3
        while True:
            self._sync()
            out = self._outcomes.pop(n, _MISSING)
            if out is not _MISSING:
                break
            # A backend may show an append to readers a moment later (a replica).
            now = time.monotonic()
            if deadline is None:
                deadline = now + _AWAIT_TIMEOUT
            elif now > deadline:
                raise StorageError(f"JournalStorage: the entry this process appended to {self._backend!r} "
                                   f"did not show when reading the journal for {_AWAIT_TIMEOUT:g} s.")
            time.sleep(sleep)
            sleep = min(2 * sleep, 0.05)
        if isinstance(out, BaseException):
            raise out
        return out

    def _sync(self) -> None:
        with self._lock:
            if not self._opened:
                self._open()
            state = self._state
            entries = iter(self._backend.read_logs(state.log_pos))
            due = False
            while True:
                batch = list(itertools.islice(entries, _BATCH))
                if not batch:
                    break
                outcomes, own = state.apply(batch, self._token)
                self._outcomes.update(outcomes)
                interval = self.snapshot_interval
                if own and interval is not None and any(snapshot_due(p, interval) for p in own):
                    due = True
                if len(batch) < _BATCH:
                    break
            if due and self._snapshots is not None:
                self._save_snapshot()

    def _open(self) -> None:
        """Start from the backend's snapshot when there is a usable one."""
        self._opened = True
        if self._snapshots is None:
            return
        try:
            data = self._snapshots.load_snapshot()
        except Exception as e:  # noqa: BLE001 - any unusable snapshot: replay instead
            warnings.warn(f"JournalStorage: the journal's snapshot is not usable ({e}); replaying the "
                          "whole journal instead.", HpoWarning, stacklevel=4)
            return
        if data:
            self._restore(bytes(data), stacklevel=5)

    def _restore(self, data: bytes, stacklevel: int) -> bool:
        """Start from the snapshot ``data`` if it is one of this journal (holding the
        sync lock); else warn and keep the state."""
        try:
            state, last = _snapshot.load(data)
            if state.log_pos:
                entry = next(iter(self._backend.read_logs(state.log_pos - 1)), None)
                if entry is None or _snapshot.entry_digest(entry) != last:
                    raise ValueError(f"its entry {state.log_pos - 1} does not match the journal's")
        except Exception as e:  # noqa: BLE001 - any unusable snapshot: replay instead
            warnings.warn(f"JournalStorage: the journal's snapshot is not usable ({e}); replaying the "
                          "whole journal instead.", HpoWarning, stacklevel=stacklevel)
            return False
        if state.log_pos < self._state.log_pos:
            return False  # this process has replayed further already
        self._state = state
        return True

    def restore_replay_result(self, snapshot: bytes) -> None:
        """Start from ``snapshot``, the bytes a backend's ``save_snapshot`` received
        (Optuna's name; opening the journal already loads the backend's snapshot).

        A snapshot of another journal, a damaged one, or one behind what this storage
        has replayed is not used (the first two with a warning); the entries after it
        are replayed at the next read.
        """
        with self._lock:
            self._opened = True
            self._restore(bytes(snapshot), stacklevel=4)

    def _save_snapshot(self) -> None:
        """Save the replayed state (holding the sync lock); a failure is logged."""
        try:
            self._snapshots.save_snapshot(_snapshot.dump(self._state))
        except Exception as e:  # noqa: BLE001 - a snapshot is an optimization
            _logger.warning("JournalStorage: saving a snapshot failed (%s: %s); the journal is intact.",
                            type(e).__name__, e)

    # --------------------------------------------------------------- studies
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        name = study_name if study_name is not None else f"no-name-{uuid.uuid4().hex}"
        check_name(name, "study_name")
        dirs = [int(d) for d in directions]
        return self._write({"op": "study", "name": name, "dirs": dirs, "t": time.time()})  # type: ignore[no-any-return]

    def delete_study(self, study_id: int) -> None:
        self._write({"op": "delete_study", "sid": study_id})

    def set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        text = encode_json(check_attr(kind, key, value), f"{kind}_attrs[{key!r}]")
        self._write({"op": "study_attr", "sid": study_id, "kind": kind, "key": key, "v": text})

    def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        if kind not in ("user", "system"):
            raise ValueError(f"`kind` must be 'user' or 'system', but got {kind!r}.")
        self._sync()
        return copy.deepcopy(self._record(study_id).attrs[kind])

    def get_study_id_from_name(self, study_name: str) -> int:
        self._sync()
        sid = self._state.names.get(study_name)
        if sid is None:
            raise StudyNotFoundError(f"No study named {study_name!r} in this storage.")
        return sid

    def get_study_name_from_id(self, study_id: int) -> str:
        self._sync()
        return self._record(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        self._sync()
        return list(self._record(study_id).directions)

    def get_all_studies(self) -> list[FrozenStudy]:
        self._sync()
        out = []
        with self._lock:
            for sid, rec in sorted(self._state.studies.items()):
                h = rec.history
                out.append(FrozenStudy(
                    study_name=rec.name, study_id=sid, directions=list(rec.directions),
                    n_trials=int(sum(h.state_counts)),
                    user_attrs=copy.deepcopy(rec.attrs["user"]), system_attrs=copy.deepcopy(rec.attrs["system"]),
                    datetime_start=h.frozen(0).datetime_start if h.n and h.states[0] >= 0 else None,
                    best_trial=h.frozen(h.best_row) if h.best_row >= 0 else None,
                ))
        return out

    def reserve(self, study_id: int, key: str) -> bool:
        return bool(self._write({"op": "reserve", "sid": study_id, "key": key}))

    def get_history(self, study_id: int, *, sync: bool = True) -> History:
        if sync:
            self._pending.flush_study(study_id)
            self._sync()
        return self._record(study_id).history

    # --------------------------------------------------------------- liveness
    def record_heartbeats(self, trial_ids: list[int]) -> None:
        """Record, in one entry, that the owner of these RUNNING trials is alive now
        (finished trials are left as they are; no-op without heartbeats)."""
        if self.heartbeat_interval is None or not trial_ids:
            return
        self._append({"op": "heartbeat", "ids": [int(i) for i in trial_ids], "t": time.time()})

    def fail_stale_trials(self, study_id: int) -> list[int]:
        """Mark FAIL the RUNNING trials of the study whose worker process on this host is
        gone, or whose last heartbeat is older than ``grace_period``; returns their
        numbers. The system attribute ``fail_reason`` says why."""
        self._sync()
        self._record(study_id)
        state, now, grace = self._state, time.time(), self.grace_period
        ids, reasons = [], []
        for tid, (owner, beat) in list(state.running.items()):
            if state.trial_study[tid] != study_id:
                continue
            if is_local_worker_dead(owner):
                reason = f"its worker process {owner} is gone"
            elif beat is not None and grace is not None and now - beat > grace:
                reason = f"no heartbeat for {now - beat:.0f} s (grace period {grace:g} s)"
            else:
                continue
            ids.append(tid)
            reasons.append(f"stale trial: {reason}")
        if not ids:
            return []
        return self._write({"op": "stale", "ids": ids, "reasons": reasons, "t": now})  # type: ignore[no-any-return]
