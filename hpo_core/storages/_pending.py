"""Parameters suggested in running trials, waiting to be written (RDB and journal storages).

A define-by-run trial sets its parameters one ``suggest_*`` at a time. Writing each in
its own transaction made a 10-parameter trial cost ten commits. Instead each suggestion
waits here and is written in the same transaction as the trial's next write (a report,
an attribute, its end), before this process reads the study again, or by a background
thread after at most ``delay`` seconds, whichever comes first. So other workers see a
RUNNING trial's parameters (constant liar reads them) within ``delay`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["PendingParams"]

_logger = logging.getLogger(__name__)

# (name, internal value, distribution JSON) of one suggestion.
Row = tuple[str, float, str]


class PendingParams:
    """Per-trial buffers of suggestions, flushed by ``flush(study_id, {trial_id: rows})``.

    Args:
        flush: Writes the rows of several trials of one study in one transaction.
        delay: The longest a suggestion waits, in seconds.
    """

    def __init__(self, flush: Callable[[int, dict[int, list[Row]]], None], delay: float):
        self._flush = flush
        self.delay = delay
        self._lock = threading.Condition()
        # trial_id -> (study_id, time of the first waiting row, rows)
        self._rows: dict[int, tuple[int, float, list[Row]]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False
        # Held from taking rows until they are committed, so that a reader flushing
        # before it syncs waits for rows the background thread has taken but not yet
        # written (read-your-writes).
        self._writing = threading.Lock()

    def add(self, study_id: int, trial_id: int, row: Row) -> None:
        with self._lock:
            entry = self._rows.get(trial_id)
            if entry is None:
                self._rows[trial_id] = (study_id, time.monotonic(), [row])
                if self._thread is None:
                    self._start()
                self._lock.notify()
            else:
                entry[2].append(row)

    def pop(self, trial_id: int) -> list[Row]:
        """The rows of ``trial_id``, taken out (the caller writes them with the trial's
        next write).

        A background flush being written may hold rows of this trial: wait for it to
        commit first, or the trial's end could commit before them and they would be
        dropped as rows of a finished trial."""
        if not self._rows and not self._writing.locked():
            return []
        with self._writing:
            with self._lock:
                entry = self._rows.pop(trial_id, None)
        return [] if entry is None else entry[2]

    def restore(self, study_id: int, trial_id: int, rows: list[Row]) -> None:
        """Put back rows whose write failed (they are written with the next one)."""
        if rows:
            with self._lock:
                entry = self._rows.get(trial_id)
                old = [] if entry is None else entry[2]
                self._rows[trial_id] = (study_id, time.monotonic(), rows + old)

    def flush_study(self, study_id: int | None = None) -> None:
        """Write every waiting row (of ``study_id``, or of all studies) now."""
        if not self._rows and not self._writing.locked():
            return
        with self._writing:
            with self._lock:
                taken = {tid: e for tid, e in self._rows.items() if study_id is None or e[0] == study_id}
                for tid in taken:
                    del self._rows[tid]
            self._write(taken)

    def _write(self, taken: dict[int, tuple[int, float, list[Row]]]) -> None:
        by_study: dict[int, dict[int, list[Row]]] = {}
        for tid, (sid, _, rows) in taken.items():
            by_study.setdefault(sid, {})[tid] = rows
        for sid, per_trial in by_study.items():
            try:
                self._flush(sid, per_trial)
            except BaseException:
                for tid, rows in per_trial.items():
                    self.restore(sid, tid, rows)
                raise

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hpo_core-param-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._rows and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                now = time.monotonic()
                oldest = min(e[1] for e in self._rows.values())
                if now - oldest < self.delay:
                    self._lock.wait(self.delay - (now - oldest))
                    continue
            with self._writing:
                with self._lock:
                    taken = {tid: e for tid, e in self._rows.items() if now - e[1] >= self.delay}
                    for tid in taken:
                        del self._rows[tid]
                try:
                    self._write(taken)
                except Exception as e:  # noqa: BLE001 - the rows were put back; retried later
                    _logger.warning("Writing suggested parameters failed (retrying): %s", e)
                    failed = True
                else:
                    failed = False
            if failed:
                time.sleep(self.delay)

    def close(self) -> None:
        """Write what waits and stop the thread."""
        try:
            self.flush_study(None)
        finally:
            with self._lock:
                self._closed = True
                self._lock.notify_all()

    def after_fork(self) -> None:
        """In a forked child: the parent writes its own rows; the thread is not copied."""
        self._lock = threading.Condition()
        self._writing = threading.Lock()
        self._rows = {}
        self._thread = None

    def state(self) -> dict[str, Any]:
        return {"delay": self.delay}
