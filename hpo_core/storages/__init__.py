"""Storages keep studies and trials: in memory, in a database (SQLite by default), or in a
journal of operations (a file or Redis, :mod:`hpo_core.storages.journal`).

Every storage has Optuna's storage methods (``get_trial_params``,
``set_trial_user_attr``, ``get_best_trial``, ...; see ``BaseStorage``).
``JournalFileStorage``, ``JournalRedisStorage``, ``BaseJournalLogStorage`` and the
``JournalFileOpenLock`` / ``JournalFileSymlinkLock`` import paths here are Optuna's
deprecated names (a FutureWarning); use :mod:`hpo_core.storages.journal`.
"""

from __future__ import annotations

from typing import Any

from hpo_core._validation import format_error
from hpo_core.storages._base import BaseStorage, FrozenStudy, detach_trials
from hpo_core.storages._callbacks import RetryFailedTrialCallback, RetryHeartbeatStaleTrialCallback
from hpo_core.storages._heartbeat import fail_stale_trials
from hpo_core.storages._in_memory import InMemoryStorage

__all__ = [
    "BaseJournalLogStorage", "BaseStorage", "FrozenStudy", "InMemoryStorage", "JournalFileOpenLock",
    "JournalFileStorage", "JournalFileSymlinkLock", "JournalRedisStorage", "JournalStorage", "RDBStorage",
    "RetryFailedTrialCallback", "RetryHeartbeatStaleTrialCallback", "detach_trials", "fail_stale_trials",
    "get_storage",
]

_DEPRECATED_JOURNAL = (
    "BaseJournalLogStorage", "JournalFileOpenLock", "JournalFileStorage", "JournalFileSymlinkLock", "JournalRedisStorage",
)


def __getattr__(name: str) -> Any:
    # SQLAlchemy is imported only when a database storage is used.
    if name == "RDBStorage":
        from hpo_core.storages._rdb import RDBStorage

        return RDBStorage
    if name == "JournalStorage":
        from hpo_core.storages._journal import JournalStorage

        return JournalStorage
    if name in _DEPRECATED_JOURNAL:
        from hpo_core.storages._journal import _deprecated

        return getattr(_deprecated, name)
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
