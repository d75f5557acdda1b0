"""The journal storage's implementation; the public names are in
:mod:`hpo_core.storages.journal`."""

from hpo_core.storages._journal._base import BaseJournalBackend, BaseJournalSnapshot
from hpo_core.storages._journal._file import JournalFileBackend
from hpo_core.storages._journal._lock import BaseJournalFileLock, JournalFileOpenLock, JournalFileSymlinkLock
from hpo_core.storages._journal._redis import JournalRedisBackend
from hpo_core.storages._journal._storage import JournalStorage

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
