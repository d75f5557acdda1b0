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
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from hpo_core.distributions import (
    BaseDistribution,
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
from hpo_core.history import History
from hpo_core.storages import BaseStorage
from hpo_core.trial import FrozenTrial, StudyDirection, TrialState, create_trial

MIN, MAX = StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE
RUNNING, WAITING, COMPLETE, PRUNED, FAIL = (
    TrialState.RUNNING, TrialState.WAITING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
SPACE = SearchSpace({
    "x": FloatDistribution(-1.0, 1.0),
    "n": IntDistribution(1, 8, log=True),
    "c": CategoricalDistribution(["a", None, 3]),
})
BIG_STEPS = (2**31, 2**40, 2**63 - 1)


# --------------------------------------------------------------------------- records
def trial_record(t: FrozenTrial) -> str:
    """Everything a trial holds, as text: NaN matches NaN, dict order does not count."""
    return repr((
        t.number, t.trial_id, t.state, t.values,
        sorted(t.params.items()), sorted((k, repr(d)) for k, d in t.distributions.items()),
        sorted(t.user_attrs.items()), sorted(t.system_attrs.items()),
        sorted(t.intermediate_values.items()), t.datetime_start, t.datetime_complete,
    ))


def study_record(storage: BaseStorage, study_id: int) -> str:
    """Everything a study holds, as read through the storage's API."""
    return repr((
        storage.get_study_name_from_id(study_id), storage.get_study_directions(study_id),
        sorted(storage.get_study_attrs(study_id, "user").items()),
        sorted(storage.get_study_attrs(study_id, "system").items()),
        [trial_record(t) for t in storage.get_all_trials(study_id)],
        [storage.get_n_trials(study_id, [s]) for s in TrialState],
    ))


def history_record(h: History) -> str:
    """The rows of a history and its summaries (counts, best row, reports)."""
    rows = np.flatnonzero(h.states[: h.n] >= 0).tolist()
    rows_, steps, values = h.steps.log()
    return repr((
        h.n, list(h.state_counts), h.best_row, h.states[: h.n].tolist(),
        [trial_record(h.frozen(r)) for r in rows],
        h.steps.n_reports, rows_.tolist(), steps.tolist(), values.tolist(),
        sorted(h.intersection_search_space().names),
    ))


def assert_rows_blank(h: History) -> None:
    """Rows at or past ``h.n`` hold nothing (no half-applied trial)."""
    n = h.n
    assert (h.states[n:] == -1).all() and (h.trial_ids[n:] == -1).all()
    assert np.isnan(h.values[n:]).all() and np.isnan(h.X[n:]).all() and (h.codes[n:] == -1).all()
    assert all(a is None for a in h.user_attrs[n:]) and all(a is None for a in h.system_attrs[n:])
    assert not np.isin(h.steps.log()[0], np.arange(n, h.states.shape[0])).any()


def fill_study(storage: BaseStorage, study_id: int, x_dist: BaseDistribution) -> None:
    """Writes of every kind into one study (single objective): study attributes, a
    reservation, trials in each state with parameters (one by one, joint, batched),
    attributes and reports at large steps, template trials, a WAITING trial."""
    space = SearchSpace({"x": x_dist, "k": IntDistribution(1, 8, log=True)})
    X = space.from_unit(np.random.default_rng(0).random((8, 2)))
    storage.set_study_attr(study_id, "user", "u", [1, "a", None])
    storage.set_study_attr(study_id, "system", "s", {"k": 2.5})
    storage.reserve(study_id, "grid:0")
    for i, state in enumerate((COMPLETE, PRUNED, FAIL, RUNNING)):
        tid, _ = storage.create_new_trial(study_id)
        storage.set_trial_param(tid, "x", float(X[i, 0]), x_dist)
        storage.set_trial_param(tid, "k", float(X[i, 1]), space["k"])
        storage.set_trial_attr(tid, "user", "state", state.name)
        storage.set_trial_attr(tid, "system", "constraints", [0.5, -1.0])
        for step, v in ((0, 1.0), (2**40, 2.0), (2**63 - 1, float("nan"))):
            storage.set_trial_intermediate_value(tid, step, v)
        if state != RUNNING:
            storage.set_trial_state_values(tid, state, [float(i)] if state == COMPLETE else None)
    tid, _ = storage.create_new_trial(study_id, space=space, internal=X[4])
    storage.set_trial_state_values(tid, COMPLETE, [-1.0])
    ids, _ = storage.create_new_trials(study_id, 2)
    storage.set_trials_params(ids, space, X[5:7])
    storage.set_trials_state_values(ids, COMPLETE, np.array([[2.0], [3.0]]))
    tid, _ = storage.create_new_trial(study_id)
    storage.set_trial_params(tid, space, X[7])
    storage.create_new_trial(study_id, create_trial(
        value=4.0, params={"x": x_dist.to_external_repr(float(X[0, 0]))}, distributions={"x": x_dist},
        user_attrs={"from": "template"}, system_attrs={"s": [1]}, intermediate_values={1: 0.5, 2**40: 0.25},
    ))
    storage.create_new_trial(study_id, create_trial(state=WAITING, system_attrs={"fixed_params": {"k": 2}}))


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


class StorageContract:
    """Behaviour every storage must have. Subclasses implement :meth:`make_storage`."""

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

    # ----------------------------------------------------------- each operation
    def test_storage_create_new_trials_are_running(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        ids, numbers = storage.create_new_trials(sid, 3)
        assert numbers.tolist() == [0, 1, 2] and len(set(ids.tolist())) == 3
        assert [storage.get_trial(int(t)).state for t in ids] == [RUNNING] * 3
        assert [storage.get_trial_id_from_number(sid, k) for k in range(3)] == ids.tolist()

    @pytest.mark.parametrize("state", [COMPLETE, PRUNED, FAIL, WAITING, RUNNING])
    def test_storage_template_trial_keeps_everything(self, storage: BaseStorage, state: TrialState) -> None:
        sid = storage.create_new_study([MIN], "s")
        template = create_trial(
            state=state, value=1.5 if state == COMPLETE else None,
            params={"x": 0.5, "n": 4, "c": None}, distributions=dict(SPACE),
            user_attrs={"u": {"nested": [1, 2]}}, system_attrs={"s": "v"},
            intermediate_values={0: 1.0, 7: float("inf"), 2**63 - 1: -2.0},
        )
        tid, number = storage.create_new_trial(sid, template)
        t = storage.get_trial(tid)
        assert (t.number, t.state, t.values) == (number, state, [1.5] if state == COMPLETE else None)
        assert (t.params, t.distributions) == ({"x": 0.5, "n": 4, "c": None}, dict(SPACE))
        assert (t.user_attrs, t.system_attrs) == ({"u": {"nested": [1, 2]}}, {"s": "v"})
        assert t.intermediate_values == {0: 1.0, 7: math.inf, 2**63 - 1: -2.0}

    def test_storage_set_trial_params_round_trip(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        row = np.array([0.25, 4.0, 2.0])
        storage.set_trial_params(tid, SPACE, row)
        t = storage.get_trial(tid)
        assert t.state == RUNNING and t.params == {"x": 0.25, "n": 4, "c": 3}
        assert t.distributions == dict(SPACE)

    @pytest.mark.parametrize("step", BIG_STEPS)
    def test_storage_report_at_64bit_step(self, storage: BaseStorage, step: int) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, number = storage.create_new_trial(sid)
        storage.set_trial_intermediate_value(tid, step, 0.5)
        storage.set_trial_intermediate_value(tid, 3, 0.75)
        assert storage.get_trial(tid).intermediate_values == {3: 0.75, step: 0.5}
        rows, values = storage.get_history(sid).steps.at_step(step)
        assert rows.tolist() == [number] and values[:, 0].tolist() == [0.5]

    def test_storage_report_of_same_step_is_ignored(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_intermediate_value(tid, 2**40, 1.0)
        storage.set_trial_intermediate_value(tid, 2**40, 2.0)
        assert storage.get_trial(tid).intermediate_values == {2**40: 1.0}
        assert storage.get_history(sid).steps.n_reports == 1

    @pytest.mark.parametrize("step", [-1, 2**63])
    def test_storage_report_step_out_of_range_raises(self, storage: BaseStorage, step: int) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        with pytest.raises(ValueError, match="step"):
            storage.set_trial_intermediate_value(tid, step, 1.0)
        assert storage.get_trial(tid).intermediate_values == {}

    def test_storage_report_vector_of_multi_objective_study(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN, MAX], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_intermediate_value(tid, 1, [0.5, float("nan")])
        (value,) = storage.get_trial(tid).intermediate_values.values()
        values: Any = value  # one value per objective
        assert values[0] == 0.5 and math.isnan(values[1])

    def test_storage_trial_attrs_overwrite(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_attr(tid, "user", "k", 1)
        storage.set_trial_attr(tid, "user", "k", {"a": [None, 2.5]})
        storage.set_trial_attr(tid, "system", "k", "sys")
        t = storage.get_trial(tid)
        assert (t.user_attrs, t.system_attrs) == ({"k": {"a": [None, 2.5]}}, {"k": "sys"})

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

    @pytest.mark.parametrize("trial_id", [-1, 10**6])
    def test_storage_get_trial_unknown_raises(self, storage: BaseStorage, trial_id: int) -> None:
        sid = storage.create_new_study([MIN], "s")
        storage.create_new_trial(sid)
        with pytest.raises(KeyError):
            storage.get_trial(trial_id)

    def test_storage_get_trial_of_deleted_study_raises(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        storage.delete_study(sid)
        with pytest.raises((KeyError, StudyNotFoundError)):
            storage.get_trial(tid)

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

    @pytest.mark.parametrize("name, what", [("n" * 513, "too long"), ("a\x00b", "NUL")])
    def test_storage_bad_param_name_raises(self, storage: BaseStorage, name: str, what: str) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        with pytest.raises(ValueError, match="parameter name"):
            storage.set_trial_param(tid, name, 0.5, FloatDistribution(0.0, 1.0))
        with pytest.raises(ValueError, match="parameter name"):
            storage.set_trial_params(tid, SearchSpace({name: FloatDistribution(0.0, 1.0)}), np.array([0.5]))
        assert storage.get_trial(tid).params == {}

    @pytest.mark.parametrize("name, what", [("n" * 513, "too long"), ("a\x00b", "NUL")])
    def test_storage_bad_attr_key_raises(self, storage: BaseStorage, name: str, what: str) -> None:
        sid = storage.create_new_study([MIN], "s")
        tid, _ = storage.create_new_trial(sid)
        with pytest.raises(ValueError, match="user_attrs key"):
            storage.set_trial_attr(tid, "user", name, 1)
        with pytest.raises(ValueError, match="system_attrs key"):
            storage.set_study_attr(sid, "system", name, 1)
        assert storage.get_trial(tid).user_attrs == {}

    def test_storage_names_of_512_characters_round_trip(self, storage: BaseStorage) -> None:
        name = "é" * 511 + "n"
        sid = storage.create_new_study([MIN], name)
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_param(tid, name, 0.5, FloatDistribution(0.0, 1.0))
        storage.set_trial_attr(tid, "user", name, 1)
        t = storage.get_trial(tid)
        assert storage.get_study_name_from_id(sid) == name
        assert (t.params, t.user_attrs) == ({name: 0.5}, {name: 1})

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
