"""The storage contract across storage objects: a second object on the same data (opened
again or unpickled) sees the first one's writes, and an interrupted sync (Ctrl-C while
applying the changes, by fault injection) leaves its history exactly as it was."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hpo_core.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
)
from hpo_core.exceptions import (
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from hpo_core.storages import BaseStorage
from hpo_core.testing._storage_contract._base import StorageContractBase
from hpo_core.testing._storage_contract._records import (
    COMPLETE,
    FAIL,
    MAX,
    MIN,
    PRUNED,
    RUNNING,
    WAITING,
    assert_rows_blank,
    fill_study,
    history_record,
    study_record,
    trial_record,
)
from hpo_core.trial import create_trial


def _fail_after(k: int, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` that raises KeyboardInterrupt on its call number ``k`` (from 0): fault
    injection, as Ctrl-C would arrive in the middle of a sync."""
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        if calls[0] == k:
            raise KeyboardInterrupt
        calls[0] += 1
        return method(*args, **kwargs)

    return failing


class SyncContract(StorageContractBase):
    """A second storage object on the same data, and interrupted syncs."""

    # ----------------------------------------------------------- a second storage object
    def test_storage_second_object_sees_every_write(self, storage: BaseStorage, second: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        fill_study(storage, sid, FloatDistribution(0.0, 1.0))
        expected = study_record(storage, sid)
        assert study_record(second, second.get_study_id_from_name("s")) == expected

    def test_storage_second_object_sees_running_params_after_sync(
        self, storage: BaseStorage, second: BaseStorage
    ) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_param(tid, "x", 0.25, FloatDistribution(0.0, 1.0))
        storage.set_trial_param(tid, "c", 1.0, CategoricalDistribution(["a", "b"]))
        storage.get_history(sid)
        t = second.get_trial(tid)
        assert (t.state, t.params) == (RUNNING, {"x": 0.25, "c": "b"})

    def test_storage_second_object_keeps_suggest_order_of_params(
        self, storage: BaseStorage, second: BaseStorage
    ) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        for name in ("x", "c", "b"):  # neither alphabetical nor reversed
            storage.set_trial_param(tid, name, 0.5, FloatDistribution(0.0, 1.0))
        storage.set_trial_state_values(tid, COMPLETE, [1.0])
        assert list(second.get_trial(tid).params) == ["x", "c", "b"]

    def test_storage_second_object_sees_running_params_after_flush_delay(
        self, storage: BaseStorage, second: BaseStorage
    ) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_param(tid, "x", 0.25, FloatDistribution(0.0, 1.0))
        deadline = time.monotonic() + 10.0
        while second.get_trial(tid).params != {"x": 0.25} and time.monotonic() < deadline:
            time.sleep(0.02)
        assert second.get_trial(tid).params == {"x": 0.25}

    def test_storage_second_object_writes_reach_the_first(
        self, storage: BaseStorage, second: BaseStorage
    ) -> None:
        sid = storage.create_new_study([MAX], "s")
        tid, number = storage.create_new_trial(sid)
        assert storage.get_history(sid).n == 1
        second.set_trial_param(tid, "x", 0.5, FloatDistribution(0.0, 1.0))
        second.set_trial_intermediate_value(tid, 2**40, 1.0)
        second.set_trial_attr(tid, "user", "k", "v")
        second.set_trial_state_values(tid, COMPLETE, [3.0])
        t2, _ = second.create_new_trial(sid)
        h = storage.get_history(sid)
        assert h.n == 2 and h.best_row == number and h.states[: 2].tolist() == [int(COMPLETE), int(RUNNING)]
        t = storage.get_trial(tid)
        assert (t.params, t.intermediate_values, t.user_attrs, t.values) == ({"x": 0.5}, {2**40: 1.0}, {"k": "v"}, [3.0])
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trial_state_values(tid, FAIL)
        assert storage.get_trial(t2).state == RUNNING

    def test_storage_second_object_claims_each_waiting_trial_once(
        self, storage: BaseStorage, second: BaseStorage
    ) -> None:
        sid = storage.create_new_study([MIN], "s")
        storage.create_new_trial(sid, create_trial(state=WAITING))
        storage.get_history(sid)
        assert second.claim_waiting_trial(sid) is not None
        assert storage.claim_waiting_trial(sid) is None
        assert not second.reserve(sid, "k") or not storage.reserve(sid, "k")

    def test_storage_second_object_sees_study_deleted(self, storage: BaseStorage, second: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        storage.create_new_trial(sid)
        second.get_history(second.get_study_id_from_name("s"))
        storage.delete_study(sid)
        with pytest.raises(StudyNotFoundError):
            second.get_history(sid)
        with pytest.raises(StudyNotFoundError):
            second.get_study_id_from_name("s")

    def test_storage_own_writes_between_others_match_a_fresh_read(
        self, storage: BaseStorage, second: BaseStorage
    ) -> None:
        # A storage may apply its own writes to its history as they commit (the RDB
        # storage does when no other write came in between). Interleaved with another
        # object's writes, before and after syncs, the history must always equal what
        # a fresh object reads.
        sid = storage.create_new_study([MIN], "s")
        space = SearchSpace({"x": FloatDistribution(0.0, 1.0), "c": CategoricalDistribution(["a", "b"])})
        X = space.from_unit(np.random.default_rng(2).random((12, 2)))
        x = FloatDistribution(-1.0, 1.0)
        for i in range(12):
            writer = second if i % 3 == 2 else storage
            if i % 2:
                tid, _ = writer.create_new_trial(sid, space=space, internal=X[i])
            else:
                tid, _ = writer.create_new_trial(sid)
                writer.set_trial_param(tid, "y", 0.5 - i / 24, x)
            if i % 4 == 1:
                storage.get_history(sid)  # a sync between the two writes of a trial
            if i % 5 != 4:  # some stay RUNNING
                writer.set_trial_state_values(tid, COMPLETE if i % 6 else PRUNED, [float(i % 7)] if i % 6 else None)
            fresh = self.reopen(storage)
            try:
                assert history_record(storage.get_history(sid)) == history_record(fresh.get_history(sid)), i
            finally:
                fresh.close()

    # ----------------------------------------------------------- interrupted sync
    @pytest.mark.parametrize("method, k", [
        ("add_intermediate", 0), ("add_intermediate", 150), ("set_state", 1000), ("set_param", 1500),
        ("add_row", 1999), ("set_attr", 30),
    ])
    def test_storage_interrupted_sync_leaves_history_unchanged(
        self, storage: BaseStorage, method: str, k: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if not self.persistent:
            pytest.skip("the storage keeps its data in the storage object (persistent = False)")
        reader = self.reopen(storage)
        try:
            sid = storage.create_new_study([MIN], "s")
            running = self._write_trials(storage, sid, 20)
            h = reader.get_history(sid)
            before = history_record(h)
            self._write_more(storage, sid, running, 2000)
            monkeypatch.setattr(h, method, _fail_after(k, getattr(h, method)))
            with pytest.raises(KeyboardInterrupt):
                reader.get_history(sid)
            assert history_record(h) == before
            assert_rows_blank(h)
            monkeypatch.undo()
            assert history_record(reader.get_history(sid)) == history_record(storage.get_history(sid))
        finally:
            reader.close()

    def test_storage_interrupted_sync_then_later_sync_brings_everything(
        self, storage: BaseStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if not self.persistent:
            pytest.skip("the storage keeps its data in the storage object (persistent = False)")
        reader = self.reopen(storage)
        try:
            sid = storage.create_new_study([MIN], "s")
            running = self._write_trials(storage, sid, 20)
            h = reader.get_history(sid)
            self._write_more(storage, sid, running, 2000)
            monkeypatch.setattr(h, "set_state", _fail_after(500, h.set_state))
            with pytest.raises(KeyboardInterrupt):
                reader.get_history(sid)
            monkeypatch.undo()
            h = reader.get_history(sid)
            assert h.n == 2020 and sum(h.state_counts) == 2020
            assert [trial_record(t) for t in reader.get_all_trials(sid)] == [
                trial_record(t) for t in storage.get_all_trials(sid)]
        finally:
            reader.close()

    @staticmethod
    def _write_trials(storage: BaseStorage, study_id: int, n: int) -> list[int]:
        """``n`` trials, every other one COMPLETE, the rest RUNNING with parameters and
        reports; returns the ids of the RUNNING ones."""
        running = []
        for i in range(n):
            tid, _ = storage.create_new_trial(study_id)
            storage.set_trial_param(tid, "x", i / n, FloatDistribution(0.0, 1.0))
            storage.set_trial_intermediate_value(tid, 1, float(i))
            if i % 2:
                running.append(tid)
            else:
                storage.set_trial_state_values(tid, COMPLETE, [float(n - i)])
        return running

    @staticmethod
    def _write_more(storage: BaseStorage, study_id: int, running: list[int], n: int) -> None:
        """Finish ``running`` (one becomes the best) and add ``n`` trials in batches, with
        parameters, attributes and reports, in every finished state."""
        for j, tid in enumerate(running):
            storage.set_trial_intermediate_value(tid, 2, 0.5)
            storage.set_trial_attr(tid, "system", "constraints", [float(j)])
            storage.set_trial_state_values(tid, COMPLETE, [-1.0 - j])
        space = SearchSpace({"x": FloatDistribution(0.0, 1.0), "y": IntDistribution(0, 9)})
        ids, _ = storage.create_new_trials(study_id, n)
        X = space.from_unit(np.random.default_rng(1).random((n, 2)))
        storage.set_trials_params(ids, space, X)
        for j, tid in enumerate(ids[:200].tolist()):
            storage.set_trial_intermediate_value(tid, 2**40 + j % 3, float(j))
        for tid in ids[:40].tolist():
            storage.set_trial_attr(tid, "user", "k", [tid, "v"])
        storage.set_trials_state_values(ids[: n - 100], COMPLETE, np.arange(n - 100.0)[:, None])
        storage.set_trials_state_values(ids[n - 100 : n - 50], PRUNED, None)
        storage.set_trials_state_values(ids[n - 50 :], FAIL, None)
