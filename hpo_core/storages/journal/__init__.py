"""The journal storage and its backends, named as in Optuna's ``optuna.storages.journal``.

A journal is an append-only log of storage operations, kept in a file
(:class:`JournalFileBackend`, with :class:`JournalFileSymlinkLock` or
:class:`JournalFileOpenLock` for NFS) or in Redis (:class:`JournalRedisBackend`), and
replayed by every process that opens it (:class:`JournalStorage`). A custom backend
implements :class:`BaseJournalBackend` (and :class:`BaseJournalSnapshot` to keep
snapshots).

Example:
    >>> import os, tempfile
    >>> import hpo_core
    >>> from hpo_core.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage
    >>> path = os.path.join(tempfile.mkdtemp(), "journal.log")
    >>> storage = JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    >>> study = hpo_core.create_study(storage=storage)
    >>> study.optimize(lambda t: t.suggest_int("n", 0, 3) ** 2, n_trials=3)
    >>> len(study.trials)
    3
"""

from hpo_core.storages._journal import (
    BaseJournalBackend,
    BaseJournalFileLock,
    BaseJournalSnapshot,
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
    JournalRedisBackend,
    JournalStorage,
)

__all__ = [
    "BaseJournalBackend",
    "BaseJournalFileLock",
    "BaseJournalSnapshot",
    "JournalFileBackend",
    "JournalFileOpenLock",
    "JournalFileSymlinkLock",
    "JournalRedisBackend",
    "JournalStorage",
]
