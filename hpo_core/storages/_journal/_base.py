"""The two interfaces of a journal backend: an append-only log, and optional snapshots.

These are the interfaces of Optuna's ``optuna.storages.journal.BaseJournalBackend``
and ``BaseJournalSnapshot``, with the same method names and arguments, so a backend
written for Optuna's journal storage works with :class:`JournalStorage` unchanged.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

__all__ = ["BaseJournalBackend", "BaseJournalSnapshot"]


class BaseJournalBackend(abc.ABC):
    """An append-only log of JSON objects, shared by processes.

    Entries are numbered from 0 in the order the log holds them. Implementations must
    be safe for several processes (and threads) that call :meth:`read_logs` and
    :meth:`append_logs` at once: every reader sees the entries in the same order, and
    an entry, once read, never changes. A backend without mutual exclusion of its own
    can use :class:`~hpo_core.storages.journal.JournalFileSymlinkLock` or
    :class:`~hpo_core.storages.journal.JournalFileOpenLock`.
    """

    @abc.abstractmethod
    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        """The entries numbered ``log_number_from`` and later, in log order.

        Args:
            log_number_from: The first entry to read (0 reads the whole log), a
                non-negative int.

        Returns:
            The entries, as dicts; an entry that cannot be read (a damaged line) is an
            empty dict, so that entry numbers stay the same for every reader.
        """

    @abc.abstractmethod
    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append ``logs`` (JSON-serializable dicts) at the end of the log, atomically:
        a concurrent reader sees all of them or none."""


class BaseJournalSnapshot(abc.ABC):
    """A backend that can also keep one snapshot (opaque bytes) of the replayed log.

    :class:`JournalStorage` saves the state it rebuilt from the log every so many
    entries and, when it opens the log, starts from the snapshot and reads only the
    entries after it.
    """

    @abc.abstractmethod
    def save_snapshot(self, snapshot: bytes) -> None:
        """Replace the saved snapshot with ``snapshot`` (atomically)."""

    @abc.abstractmethod
    def load_snapshot(self) -> bytes | None:
        """The last saved snapshot, or None if there is none."""
