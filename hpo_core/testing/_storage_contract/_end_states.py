"""The storage contract for ending trials: each end state, bad or missing values, batch
ends, and what a finished trial refuses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpo_core.distributions import FloatDistribution
from hpo_core.exceptions import UpdateFinishedTrialError
from hpo_core.storages import BaseStorage
from hpo_core.testing._storage_contract._base import StorageContractBase
from hpo_core.testing._storage_contract._records import (
    COMPLETE,
    FAIL,
    MIN,
    PRUNED,
    RUNNING,
    SPACE,
    WAITING,
    history_record,
)
from hpo_core.trial import TrialState, create_trial


class EndStateContract(StorageContractBase):
    """Ending trials, one by one and in batches."""

    # ----------------------------------------------------------- end states
    @pytest.mark.parametrize("state", [COMPLETE, PRUNED, FAIL])
    def test_storage_finish_with_state(self, storage: BaseStorage, state: TrialState) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, number = storage.create_new_trial(sid)
        values = [2.5] if state == COMPLETE else None
        assert storage.set_trial_state_values(tid, state, values)
        t = storage.get_trial(tid)
        assert (t.state, t.values) == (state, values)
        assert t.datetime_start is not None and t.datetime_complete is not None
        assert t.datetime_complete >= t.datetime_start
        h = storage.get_history(sid)
        assert h.states[number] == int(state) and h.state_counts[int(state)] == 1
        assert h.best_row == (number if state == COMPLETE else -1)

    def test_storage_finish_complete_without_values_raises(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        before = history_record(storage.get_history(sid))
        with pytest.raises(ValueError, match="values"):
            storage.set_trial_state_values(tid, COMPLETE)
        assert history_record(storage.get_history(sid)) == before
        assert storage.get_trial(tid).state == RUNNING
        assert storage.set_trial_state_values(tid, COMPLETE, [1.0])

    def test_storage_finish_with_wrong_number_of_values_raises(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN, MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        with pytest.raises(ValueError, match="values"):
            storage.set_trial_state_values(tid, COMPLETE, [1.0])
        assert storage.get_trial(tid).state == RUNNING

    @pytest.mark.parametrize("values, error", [
        ([10**400], ValueError), ([True], TypeError), (["1.0"], TypeError), ([1.0, 2.0], ValueError),
    ], ids=["int-beyond-float", "bool", "str", "two-values"])
    def test_storage_finish_with_bad_values_raises(
        self, storage: BaseStorage, values: list[Any], error: type[Exception]
    ) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        with pytest.raises(error, match="values"):
            storage.set_trial_state_values(tid, COMPLETE, values)
        assert storage.get_trial(tid).state == RUNNING

    def test_storage_finish_with_64bit_int_value(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_state_values(tid, COMPLETE, [2**63])
        assert storage.get_trial(tid).values == [9.223372036854776e18]

    def test_storage_finish_batch_complete_without_values_raises(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        ids, _ = storage.create_new_trials(sid, 2)
        with pytest.raises(ValueError, match="values"):
            storage.set_trials_state_values(ids, COMPLETE, None)
        with pytest.raises(ValueError, match="values"):
            storage.set_trials_state_values(ids, COMPLETE, np.ones((2, 2)))
        assert [storage.get_trial(int(t)).state for t in ids] == [RUNNING] * 2

    def test_storage_finish_batch_keeps_params_set_one_by_one(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        ids, _ = storage.create_new_trials(sid, 2)
        for k, tid in enumerate(ids.tolist()):
            storage.set_trial_param(tid, "x", k / 2, FloatDistribution(0.0, 1.0))
        storage.set_trials_state_values(ids, COMPLETE, np.array([[1.0], [2.0]]))
        assert [storage.get_trial(int(t)).params for t in ids] == [{"x": 0.0}, {"x": 0.5}]

    def test_storage_batch_params_of_finished_trial_raise(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        ids, _ = storage.create_new_trials(sid, 2)
        storage.set_trial_state_values(int(ids[1]), FAIL)
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trials_params(ids, SPACE, np.zeros((2, 3)))
        assert [storage.get_trial(int(t)).params for t in ids] == [{}, {}]

    def test_storage_running_trial_set_running_returns_false(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        assert storage.set_trial_state_values(tid, RUNNING) is False
        assert storage.get_trial(tid).state == RUNNING

    def test_storage_waiting_trial_set_running(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid, create_trial(state=WAITING))
        assert storage.set_trial_state_values(tid, RUNNING) is True
        assert storage.get_trial(tid).state == RUNNING
        assert storage.claim_waiting_trial(sid) is None

    def test_storage_finished_trial_rejects_reports(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_state_values(tid, PRUNED)
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trial_intermediate_value(tid, 1, 1.0)
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trial_params(tid, SPACE, np.array([0.0, 1.0, 0.0]))
        assert storage.get_trial(tid).intermediate_values == {}
