"""The storage contract: subclass :class:`StorageContract` and implement ``make_storage``.

The suite covers every operation of :class:`~hpo_core.storages.BaseStorage`, two studies
in one storage (writes to one never show in the other), and, for storages whose data
outlives the storage object (a database, a file), a second storage object on the same
data: it sees the first one's writes, including a RUNNING trial's ``suggest_*``
parameters once the first one synced or its flush delay passed, and an interrupted sync
(Ctrl-C while applying the changes) leaves its history exactly as it was.

Example::

    from hpo_core.testing import StorageContract

    class TestMyStorage(StorageContract):
        def make_storage(self):
            return MyStorage(self.url)  # the same data on every call

Storages that keep their data in the storage object set ``persistent = False``.

This module puts the suite together from parts by topic, in ``_storage_contract/``:
studies and two studies per storage (``_studies.py``), trial writes and the history
(``_trials.py``), end states (``_end_states.py``), a second storage object and
interrupted syncs (``_sync.py``), Optuna's storage method set (``_optuna.py``), on a
base holding the fixtures (``_base.py``); the records they compare live in
``_records.py``.
"""

from hpo_core.testing._storage_contract._end_states import EndStateContract
from hpo_core.testing._storage_contract._optuna import OptunaMethodsContract
from hpo_core.testing._storage_contract._records import (
    assert_rows_blank,
    fill_study,
    history_record,
    study_record,
    trial_record,
)
from hpo_core.testing._storage_contract._studies import StudyContract
from hpo_core.testing._storage_contract._sync import SyncContract
from hpo_core.testing._storage_contract._trials import TrialContract

__all__ = [
    "StorageContract",
    "assert_rows_blank",
    "fill_study",
    "history_record",
    "study_record",
    "trial_record",
]


class StorageContract(StudyContract, TrialContract, EndStateContract, SyncContract, OptunaMethodsContract):
    """Behaviour every storage must have. Subclasses implement :meth:`make_storage`."""
