"""The storage contract for studies: names, attributes, summaries, deletion, and
two studies in one storage (writes to one never show in the other)."""

from __future__ import annotations

import pytest

from hpo_core.distributions import (
    CategoricalDistribution,
    FloatDistribution,
)
from hpo_core.exceptions import (
    DuplicatedStudyError,
    StudyNotFoundError,
)
from hpo_core.storages import BaseStorage
from hpo_core.testing._storage_contract._base import StorageContractBase
from hpo_core.testing._storage_contract._records import (
    COMPLETE,
    MAX,
    MIN,
    WAITING,
    fill_study,
    history_record,
    study_record,
)
from hpo_core.trial import TrialState, create_trial


class StudyContract(StorageContractBase):
    """Studies: create, look up, attributes, summaries, delete; two studies per storage."""

    # ----------------------------------------------------------- studies
    def test_storage_create_study_and_lookup(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN, MAX], "s1")
        assert storage.get_study_id_from_name("s1") == sid
        assert storage.get_study_name_from_id(sid) == "s1"
        assert storage.get_study_directions(sid) == [MIN, MAX]

    def test_storage_duplicate_study_name_raises(self, storage: BaseStorage) -> None:
        storage.create_new_study([MIN], "dup")
        with pytest.raises(DuplicatedStudyError, match="dup"):
            storage.create_new_study([MIN], "dup")

    def test_storage_unknown_study_raises(self, storage: BaseStorage) -> None:
        with pytest.raises(StudyNotFoundError, match="nope"):
            storage.get_study_id_from_name("nope")

    def test_storage_generated_names_are_unique(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN])
        b = storage.create_new_study([MIN])
        assert storage.get_study_name_from_id(a) != storage.get_study_name_from_id(b)

    def test_storage_study_attrs_round_trip(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "attrs")
        storage.set_study_attr(sid, "user", "k", {"a": [1, 2.5, None]})
        storage.set_study_attr(sid, "user", "k", {"a": [3]})
        storage.set_study_attr(sid, "system", "s", "v")
        assert storage.get_study_attrs(sid, "user") == {"k": {"a": [3]}}
        assert storage.get_study_attrs(sid, "system") == {"s": "v"}

    def test_storage_delete_study(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "gone")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_param(tid, "x", 0.5, FloatDistribution(0, 1))
        storage.delete_study(sid)
        with pytest.raises(StudyNotFoundError):
            storage.get_study_id_from_name("gone")
        storage.create_new_study([MIN], "gone")  # the name is free again

    def test_storage_summaries(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "sum")
        for v in (3.0, 1.0, 2.0):
            tid, _ = storage.create_new_trial(sid)
            storage.set_trial_state_values(tid, TrialState.COMPLETE, [v])
        (summary,) = [s for s in storage.get_all_studies() if s.study_name == "sum"]
        assert summary.n_trials == 3
        assert summary.best_trial is not None and summary.best_trial.value == 1.0

    # ----------------------------------------------------------- two studies
    def test_storage_writes_to_one_study_leave_another_unchanged(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN], "a")
        b = storage.create_new_study([MIN], "b")
        fill_study(storage, b, FloatDistribution(0.0, 1.0))
        before, history_before = study_record(storage, b), history_record(storage.get_history(b))
        fill_study(storage, a, CategoricalDistribution(["p", "q", None]))
        storage.claim_waiting_trial(a)
        storage.fail_stale_trials(a)
        storage.get_history(a)
        assert study_record(storage, b) == before
        assert history_record(storage.get_history(b)) == history_before

    def test_storage_same_param_name_with_other_distribution_in_other_study(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN], "a")
        b = storage.create_new_study([MIN], "b")
        ta, _ = storage.create_new_trial(a)
        storage.set_trial_param(ta, "x", 0.25, FloatDistribution(0.0, 1.0))
        storage.set_trial_state_values(ta, COMPLETE, [1.0])
        storage.get_history(a)  # the storage knows A's "x" now
        tb, _ = storage.create_new_trial(b)
        storage.set_trial_param(tb, "x", 1.0, CategoricalDistribution(["p", "q"]))
        storage.set_trial_state_values(tb, COMPLETE, [2.0])
        assert storage.get_trial(ta).params == {"x": 0.25}
        assert storage.get_trial(tb).params == {"x": "q"}

    def test_storage_same_param_name_with_incompatible_distribution_in_one_study_raises(
        self, storage: BaseStorage
    ) -> None:
        sid = storage.create_new_study([MIN], "s")
        t0, _ = storage.create_new_trial(sid)
        storage.set_trial_param(t0, "x", 0.25, FloatDistribution(0.0, 1.0))
        storage.set_trial_state_values(t0, COMPLETE, [1.0])
        storage.get_history(sid)
        t1, _ = storage.create_new_trial(sid)
        with pytest.raises(ValueError, match="x"):
            storage.set_trial_param(t1, "x", 0.0, CategoricalDistribution(["p", "q"]))

    def test_storage_delete_study_leaves_other_study_unchanged(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN], "a")
        b = storage.create_new_study([MIN], "b")
        fill_study(storage, a, FloatDistribution(0.0, 1.0))
        fill_study(storage, b, FloatDistribution(0.0, 1.0))
        before = study_record(storage, b)
        storage.delete_study(a)
        assert study_record(storage, b) == before
        assert [s.study_name for s in storage.get_all_studies()] == ["b"]

    def test_storage_reserve_is_per_study(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN], "a")
        b = storage.create_new_study([MIN], "b")
        assert storage.reserve(a, "grid:0")
        assert storage.reserve(b, "grid:0")

    def test_storage_claim_waiting_is_per_study(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN], "a")
        b = storage.create_new_study([MIN], "b")
        tb, _ = storage.create_new_trial(b, create_trial(state=WAITING))
        assert storage.claim_waiting_trial(a) is None
        assert storage.get_trial(tb).state == WAITING

    # ----------------------------------------------------------- deletion and names
    def test_storage_deleted_study_is_gone(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        fill_study(storage, sid, FloatDistribution(0.0, 1.0))
        storage.delete_study(sid)
        assert storage.get_all_studies() == []
        with pytest.raises(StudyNotFoundError):
            storage.get_all_trials(sid)

    @pytest.mark.parametrize("name, what", [("n" * 513, "too long"), ("a\x00b", "NUL")])
    def test_storage_bad_study_name_raises(self, storage: BaseStorage, name: str, what: str) -> None:
        with pytest.raises(ValueError, match="study_name"):
            storage.create_new_study([MIN], name)
        assert storage.get_all_studies() == []
