"""The storage contract on MySQL/MariaDB (a fresh database per test)."""

from __future__ import annotations

import pytest

from hpo_core.storages import RDBStorage
from hpo_core.testing import StorageContract


@pytest.mark.mysql
class TestMySQLStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _url(self, mysql_url: str) -> None:
        self.url = mysql_url

    def make_storage(self) -> RDBStorage:
        return RDBStorage(self.url)

