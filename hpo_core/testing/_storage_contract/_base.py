"""The base of the storage contract: the storage under test and a second storage
object on its data."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from hpo_core.storages import BaseStorage


class StorageContractBase:
    """What every part of the contract uses. Subclasses implement :meth:`make_storage`."""

    #: Whether the data outlives the storage object: a second object made by
    #: :meth:`reopen`, or by pickling, reads and writes the same studies.
    persistent = True

    def make_storage(self) -> BaseStorage:
        raise NotImplementedError

    def reopen(self, storage: BaseStorage) -> BaseStorage:
        """A second storage object on the data of ``storage`` (persistent storages).

        The default calls :meth:`make_storage` again, which must then open the same
        data (the same URL or file) within one test.
        """
        return self.make_storage()

    @pytest.fixture
    def storage(self) -> Any:
        s = self.make_storage()
        yield s
        s.close()

    @pytest.fixture(params=["make_storage", "pickle"])
    def second(self, request: pytest.FixtureRequest, storage: BaseStorage) -> Iterator[BaseStorage]:
        """Another storage object on the data of ``storage``: opened again, or a pickle
        round trip of ``storage``."""
        if not self.persistent:
            pytest.skip("the storage keeps its data in the storage object (persistent = False)")
        other = self.reopen(storage) if request.param == "make_storage" else pickle.loads(pickle.dumps(storage))
        yield other
        other.close()
