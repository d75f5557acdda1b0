"""The journal storage passes the storage contract on each backend: a file with either
lock, and Redis (a key prefix per test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo_core.storages.journal import (
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
    JournalRedisBackend,
    JournalStorage,
)
from hpo_core.testing import StorageContract


class TestJournalFileSymlinkLock(StorageContract):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "journal.log")

    def make_storage(self) -> JournalStorage:
        return JournalStorage(JournalFileBackend(self.path, lock_obj=JournalFileSymlinkLock(self.path)))


class TestJournalFileOpenLock(StorageContract):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "journal.log")

    def make_storage(self) -> JournalStorage:
        return JournalStorage(JournalFileBackend(self.path, lock_obj=JournalFileOpenLock(self.path)))


@pytest.mark.redis
class TestJournalRedis(StorageContract):
    @pytest.fixture(autouse=True)
    def _prefix(self, redis_url: str, redis_prefix: str) -> None:
        self.url, self.prefix = redis_url, redis_prefix

    def make_storage(self) -> JournalStorage:
        return JournalStorage(JournalRedisBackend(self.url, prefix=self.prefix))
