"""The storage contract: subclass :class:`StorageContract` and implement ``make_storage``."""

from __future__ import annotations

import math
import pickle
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
    DuplicatedStudyError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from hpo_core.storages import BaseStorage
from hpo_core.trial import StudyDirection, TrialState, create_trial

MIN, MAX = StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE
SPACE = SearchSpace({
    "x": FloatDistribution(-1.0, 1.0),
    "n": IntDistribution(1, 8, log=True),
    "c": CategoricalDistribution(["a", None, 3]),
})


class StorageContract:
    """Behaviour every storage must have. Subclasses implement :meth:`make_storage`."""

    def make_storage(self) -> BaseStorage:
        raise NotImplementedError

    @pytest.fixture
    def storage(self) -> Any:
        s = self.make_storage()
        yield s
        s.close()

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

    # ----------------------------------------------------------- trials
    def test_storage_trial_numbers_are_dense_per_study(self, storage: BaseStorage) -> None:
        a = storage.create_new_study([MIN], "a")
        b = storage.create_new_study([MIN], "b")
        nums_a = [storage.create_new_trial(a)[1] for _ in range(3)]
        nums_b = [storage.create_new_trial(b)[1] for _ in range(2)]
        assert nums_a == [0, 1, 2] and nums_b == [0, 1]

    def test_storage_trial_lifecycle(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "life")
        tid, number = storage.create_new_trial(sid)
        assert storage.get_trial(tid).state == TrialState.RUNNING
        storage.set_trial_param(tid, "x", 0.25, FloatDistribution(0, 1))
        storage.set_trial_param(tid, "c", 1.0, CategoricalDistribution(["a", "b"]))
        storage.set_trial_attr(tid, "user", "u", [1, 2])
        storage.set_trial_intermediate_value(tid, 0, 5.0)
        storage.set_trial_intermediate_value(tid, 3, float("nan"))
        assert storage.set_trial_state_values(tid, TrialState.COMPLETE, [float("inf")])
        t = storage.get_trial(tid)
        assert t.number == number and t.state == TrialState.COMPLETE
        assert t.params == {"x": 0.25, "c": "b"}
        assert t.values == [math.inf]
        assert t.user_attrs == {"u": [1, 2]}
        assert t.intermediate_values[0] == 5.0 and math.isnan(t.intermediate_values[3])
        assert t.datetime_start is not None and t.datetime_complete is not None
        assert storage.get_trial_id_from_number(sid, number) == tid

    def test_storage_finished_trial_is_immutable(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "imm")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_state_values(tid, TrialState.FAIL)
        with pytest.raises(UpdateFinishedTrialError, match="finished"):
            storage.set_trial_state_values(tid, TrialState.COMPLETE, [1.0])
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trial_param(tid, "x", 0.1, FloatDistribution(0, 1))
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trial_attr(tid, "user", "k", 1)
        assert storage.get_trial(tid).state == TrialState.FAIL

    def test_storage_joint_params_and_batches(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "joint")
        X = SPACE.from_unit(np.random.default_rng(0).random((5, 3)))
        tid, _ = storage.create_new_trial(sid, space=SPACE, internal=X[0])
        ids, numbers = storage.create_new_trials(sid, 4)
        assert numbers.tolist() == [1, 2, 3, 4]
        storage.set_trials_params(ids, SPACE, X[1:])
        storage.set_trial_state_values(tid, TrialState.COMPLETE, [0.0])
        storage.set_trials_state_values(ids, TrialState.COMPLETE, np.arange(4.0)[:, None] + 1)
        trials = storage.get_all_trials(sid)
        for k, t in enumerate(trials):
            assert t.params == SPACE.to_external(X[k])
            assert t.value == float(k)
        with pytest.raises(UpdateFinishedTrialError):
            storage.set_trials_state_values(ids[:2], TrialState.FAIL, None)

    def test_storage_template_trial_round_trip(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "tmpl")
        template = create_trial(
            value=2.5, params={"x": 0.5, "c": None},
            distributions={"x": FloatDistribution(0, 1), "c": CategoricalDistribution(["a", None])},
            user_attrs={"u": 1}, intermediate_values={1: 3.0},
        )
        tid, _ = storage.create_new_trial(sid, template)
        t = storage.get_trial(tid)
        assert (t.state, t.value, t.params, t.user_attrs, t.intermediate_values) == (
            TrialState.COMPLETE, 2.5, {"x": 0.5, "c": None}, {"u": 1}, {1: 3.0})

    def test_storage_waiting_trials_claimed_once_in_order(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "wait")
        for k in range(2):
            storage.create_new_trial(sid, create_trial(state=TrialState.WAITING, system_attrs={"k": k}))
        first = storage.claim_waiting_trial(sid)
        second = storage.claim_waiting_trial(sid)
        assert first is not None and second is not None
        assert (first[1], second[1]) == (0, 1)
        assert storage.claim_waiting_trial(sid) is None
        assert storage.get_trial(first[0]).state == TrialState.RUNNING

    def test_storage_reserve_is_exclusive(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "res")
        assert storage.reserve(sid, "grid:1")
        assert not storage.reserve(sid, "grid:1")
        assert storage.reserve(sid, "grid:2")

    def test_storage_get_all_trials_filters_states(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "filt")
        for state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED):
            tid, _ = storage.create_new_trial(sid)
            storage.set_trial_state_values(tid, state, [1.0] if state == TrialState.COMPLETE else None)
        storage.create_new_trial(sid)
        got = storage.get_all_trials(sid, states=[TrialState.FAIL, TrialState.RUNNING])
        assert [t.state for t in got] == [TrialState.FAIL, TrialState.RUNNING]
        assert storage.get_n_trials(sid) == 4
        assert storage.get_n_trials(sid, [TrialState.COMPLETE]) == 1

    # ----------------------------------------------------------- history
    def test_storage_history_is_columnar_and_incremental(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MAX], "hist")
        dist = FloatDistribution(0, 10)
        for k in range(5):
            tid, _ = storage.create_new_trial(sid)
            storage.set_trial_param(tid, "x", float(k), dist)
            if k != 4:
                storage.set_trial_state_values(tid, TrialState.COMPLETE, [float(k % 3)])
        h = storage.get_history(sid)
        assert h.n == 5
        np.testing.assert_array_equal(h.param_column("x"), np.arange(5.0))
        assert h.states[:5].tolist() == [1, 1, 1, 1, 0]
        assert h.best_row == 2  # maximize: value 2.0
        assert list(h.intersection_search_space()) == ["x"]
        storage.set_trial_state_values(int(h.trial_ids[4]), TrialState.COMPLETE, [7.0])
        h = storage.get_history(sid)
        assert h.best_row == 4 and h.count(TrialState.COMPLETE) == 5

    def test_storage_own_live_trials_are_not_stale(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "live")
        tid, _ = storage.create_new_trial(sid)
        assert storage.fail_stale_trials(sid) == []
        assert storage.get_trial(tid).state == TrialState.RUNNING

    def test_storage_pickle_round_trip(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "pick")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_state_values(tid, TrialState.COMPLETE, [1.5])
        clone = pickle.loads(pickle.dumps(storage))
        assert clone.get_trial(clone.get_trial_id_from_number(clone.get_study_id_from_name("pick"), 0)).value == 1.5
