"""Storages keep studies and trials: in memory, in a database (SQLite by default), or in a
journal of operations (a file or Redis, :mod:`hpo_core.storages.journal`)."""

from __future__ import annotations

from typing import Any

from hpo_core._validation import format_error
from hpo_core.storages._base import BaseStorage, FrozenStudy, detach_trials
from hpo_core.storages._callbacks import RetryFailedTrialCallback
from hpo_core.storages._in_memory import InMemoryStorage

__all__ = [
    "BaseStorage", "FrozenStudy", "InMemoryStorage", "RDBStorage", "RetryFailedTrialCallback", "detach_trials",
    "get_storage",
]


def __getattr__(name: str) -> Any:
    # SQLAlchemy is imported only when a database storage is used.
    if name == "RDBStorage":
        from hpo_core.storages._rdb import RDBStorage

        return RDBStorage
    if name == "JournalStorage":
        from hpo_core.storages._journal import JournalStorage

        return JournalStorage
    raise AttributeError(name)


def get_storage(storage: str | BaseStorage | None) -> BaseStorage:
    """None -> a new in-memory storage; a URL -> an RDB storage; a storage -> itself."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, str):
        from hpo_core.storages._rdb import RDBStorage

        return RDBStorage(storage)
    raise TypeError(format_error("storage", "None, a database URL (str) or a BaseStorage", storage))
