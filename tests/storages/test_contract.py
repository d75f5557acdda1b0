"""Every storage passes the same contract (hpo_core.testing.StorageContract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo_core.storages import InMemoryStorage, RDBStorage
from hpo_core.testing import StorageContract


class TestInMemoryStorage(StorageContract):
    persistent = False

    def make_storage(self) -> InMemoryStorage:
        return InMemoryStorage()


class TestSQLiteStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.path = tmp_path / "study.db"

    def make_storage(self) -> RDBStorage:
        return RDBStorage(f"sqlite:///{self.path}")


@pytest.mark.postgres
class TestPostgresStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _url(self, postgres_url: str) -> None:
        self.url = postgres_url

    def make_storage(self) -> RDBStorage:
        return RDBStorage(self.url)
