"""The storage contract for trial writes: numbers, parameters (one by one, joint,
batched), templates, WAITING trials, reservations, reports at 64-bit steps,
attributes, names, and the columnar history they build; trials read as Optuna reads
them (each trial's suggestion order, a PRUNED trial's value, named constraints)."""

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
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from hpo_core.storages import BaseStorage
from hpo_core.testing._storage_contract._base import StorageContractBase
from hpo_core.testing._storage_contract._records import (
    BIG_STEPS,
    COMPLETE,
    FAIL,
    MAX,
    MIN,
    PRUNED,
    RUNNING,
    SPACE,
    WAITING,
)
from hpo_core.trial import TrialState, create_trial


class TrialContract(StorageContractBase):
    """Trial writes and reads, and the history they build."""

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
        # A PRUNED trial's value is its last report (Optuna's tell stores it).
        values = {COMPLETE: [1.5], PRUNED: [-2.0]}.get(state)
        assert (t.number, t.state, t.values) == (number, state, values)
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

    # ----------------------------------------------------------- unknown ids and names
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

    # ------------------------------------------- Optuna's reading of trials
    ORDERS = (("a", "b"), ("b", "a"), ("c", "a", "b"), ("a",), ("b", "c", "a"))

    def _fill_orders(self, storage: BaseStorage) -> int:
        """Trials that suggest ``a``, ``b``, ``c`` in the orders of :attr:`ORDERS`."""
        sid = storage.create_new_study([MIN], "order")
        dists = {"a": FloatDistribution(0, 1), "b": IntDistribution(0, 9), "c": CategoricalDistribution(["u", "v"])}
        for k, names in enumerate(self.ORDERS):
            tid, _ = storage.create_new_trial(sid)
            for name in names:
                storage.set_trial_param(tid, name, 1.0, dists[name])
            if k == len(self.ORDERS) - 1:  # a trial left RUNNING: its suggestions waiting to be written
                continue
            storage.set_trial_state_values(tid, COMPLETE, [float(k)])
        return sid

    def test_storage_params_keep_each_trials_suggestion_order(self, storage: BaseStorage) -> None:
        """``params`` and ``distributions`` list a trial's parameters in the order it
        suggested them, as Optuna's (not in the study's column order)."""
        sid = self._fill_orders(storage)
        trials = storage.get_all_trials(sid)
        assert [tuple(t.params) for t in trials] == list(self.ORDERS)
        assert [tuple(t.distributions) for t in trials] == list(self.ORDERS)

    def test_storage_second_object_reads_the_suggestion_order(self, storage: BaseStorage,
                                                              second: BaseStorage) -> None:
        sid = self._fill_orders(storage)
        storage.get_all_trials(sid)  # this object's suggestions are written
        assert [tuple(t.params) for t in second.get_all_trials(sid)] == list(self.ORDERS)

    def test_storage_pruned_trial_value_is_its_last_report(self, storage: BaseStorage) -> None:
        """As Optuna's ``tell(state=PRUNED)``: a PRUNED trial's value is its last report
        (None without one, or where it is NaN); the history's values, which samplers
        model, stay NaN, and no PRUNED trial becomes the best."""
        sid = storage.create_new_study([MIN], "pruned")
        reports: list[dict[int, float]] = [{0: 1.0, 2**40: 0.25}, {}, {0: 1.0, 3: float("nan")}]
        tids = []
        for r in reports:
            tid, _ = storage.create_new_trial(sid)
            for step, v in r.items():
                storage.set_trial_intermediate_value(tid, step, v)
            storage.set_trial_state_values(tid, PRUNED)
            tids.append(tid)
        assert [storage.get_trial(t).value for t in tids] == [0.25, None, None]
        assert [t.value for t in storage.get_all_trials(sid)] == [0.25, None, None]
        h = storage.get_history(sid)
        assert np.isnan(h.values[:3]).all() and h.best_row == -1
        assert h.user_values(np.arange(3))[:, 0].tolist()[0] == 0.25

    def test_storage_named_constraints_fill_the_constraint_column(self, storage: BaseStorage) -> None:
        """``Trial.set_constraint``'s attributes (``"constraints:<name>"``) and a
        ``constraints_func`` list share the history's constraint column, one column
        per name, as samplers and ``best_trial`` read it."""
        sid = storage.create_new_study([MIN], "constraints")
        ids = [storage.create_new_trial(sid)[0] for _ in range(3)]
        storage.set_trial_attr(ids[0], "system", "constraints:c", 0.5)
        storage.set_trial_attr(ids[0], "system", "constraints:d", -1.0)
        storage.set_trial_attr(ids[1], "system", "constraints:d", 2.0)
        storage.set_trial_attr(ids[2], "system", "constraints", [-3.0])
        assert [storage.get_trial(t).constraints for t in ids] == [{"c": 0.5, "d": -1.0}, {"d": 2.0}, {"0": -3.0}]
        C = storage.get_history(sid).numeric_column("constraints")
        assert C is not None
        np.testing.assert_array_equal(C[:3], [[0.5, -1.0, np.nan], [np.nan, 2.0, np.nan], [np.nan, np.nan, -3.0]])
