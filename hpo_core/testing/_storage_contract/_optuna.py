"""The storage contract for Optuna's storage method set (``get_trial_params``,
``set_trial_user_attr``, ``get_best_trial``, ...): results and errors as Optuna's, by
Optuna's argument names, and, where Optuna is installed, the same answers as Optuna's
own ``InMemoryStorage`` for one script of calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.exceptions import UpdateFinishedTrialError
from hpo_core.storages import BaseStorage
from hpo_core.testing._storage_contract._base import StorageContractBase
from hpo_core.testing._storage_contract._records import COMPLETE, FAIL, MAX, MIN, PRUNED, RUNNING, WAITING
from hpo_core.trial import TrialState, create_trial

_UNKNOWN = 10**9  # an id no test creates


def optuna_script(storage: Any, dists: Any, states: Any, directions: Any) -> list[Any]:
    """Run one script of Optuna storage calls on ``storage`` (ours or Optuna's, with
    that library's distributions module, ``TrialState`` and ``StudyDirection``) and
    return what each call gave: a value, or the name of the error's Optuna class."""
    out: list[Any] = []

    def call(fn: Callable[[], Any]) -> None:
        try:
            got = fn()
        except KeyError:
            got = "KeyError"
        except ValueError:
            got = "ValueError"
        except RuntimeError as e:  # UpdateFinishedTrialError is one, in both libraries
            got = (
                "UpdateFinishedTrialError"
                if type(e).__name__ == "UpdateFinishedTrialError"
                else "RuntimeError"
            )
        out.append(got)

    sid = storage.create_new_study([directions.MAXIMIZE], "optuna-script")
    call(lambda: storage.get_best_trial(sid))
    call(lambda: storage.get_study_user_attrs(sid))
    storage.set_study_user_attr(sid, "u", [1, "a"])
    storage.set_study_system_attr(sid, "s", {"k": 2})
    call(lambda: (storage.get_study_user_attrs(sid), storage.get_study_system_attrs(sid)))
    call(lambda: storage.get_study_user_attrs(_UNKNOWN))
    call(lambda: storage.get_study_system_attrs(_UNKNOWN))
    ids = []
    for k in range(4):
        tid = storage.create_new_trial(sid)
        ids.append(tid)
        storage.set_trial_param(
            trial_id=tid,
            param_name="x",
            param_value_internal=k / 4,
            distribution=dists.FloatDistribution(0.0, 1.0),
        )
        storage.set_trial_param(tid, "c", k % 2, dists.CategoricalDistribution(["p", "q"]))
        storage.set_trial_param(tid, "n", float(k), dists.IntDistribution(0, 9))
        storage.set_trial_user_attr(tid, "k", k)
        storage.set_trial_system_attr(tid, "s", [k])
        storage.set_trial_intermediate_value(trial_id=tid, step=1, intermediate_value=float(k))
    storage.set_trial_state_values(ids[0], states.COMPLETE, [0.5])
    storage.set_trial_state_values(ids[1], states.COMPLETE, [2.5])
    storage.set_trial_state_values(ids[2], states.PRUNED)
    call(lambda: storage.get_best_trial(sid).number)
    call(lambda: [storage.get_trial_number_from_id(t) for t in ids])
    call(lambda: [storage.get_trial_id_from_study_id_trial_number(sid, n) == ids[n] for n in range(4)])
    call(lambda: storage.get_trial_id_from_study_id_trial_number(sid, 4))
    call(lambda: storage.get_trial_number_from_id(_UNKNOWN))
    call(lambda: [storage.get_trial_param(ids[1], p) for p in ("x", "c", "n")])
    call(lambda: storage.get_trial_param(ids[1], "missing"))
    call(lambda: storage.get_trial_param(_UNKNOWN, "x"))
    call(lambda: storage.get_trial_params(ids[3]))
    call(lambda: (storage.get_trial_user_attrs(ids[2]), storage.get_trial_system_attrs(ids[2])))
    call(lambda: storage.get_trial_params(_UNKNOWN))
    call(lambda: storage.set_trial_user_attr(ids[0], "late", 1))
    call(lambda: storage.set_trial_system_attr(ids[0], "late", 1))
    call(lambda: storage.set_trial_param(ids[0], "y", 0.5, dists.FloatDistribution(0.0, 1.0)))
    call(lambda: storage.set_trial_intermediate_value(ids[0], 2, 1.0))
    call(lambda: storage.set_trial_user_attr(_UNKNOWN, "k", 1))
    call(lambda: storage.check_trial_is_updatable(ids[3], states.RUNNING))
    call(lambda: storage.check_trial_is_updatable(ids[0], states.COMPLETE))
    call(lambda: storage.get_n_trials(sid))
    call(lambda: storage.get_n_trials(sid, states.COMPLETE))
    call(lambda: storage.get_n_trials(sid, state=(states.PRUNED, states.RUNNING)))
    call(lambda: storage.get_n_trials(_UNKNOWN))
    call(lambda: [t.number for t in storage.get_all_trials(sid, False, (states.COMPLETE, states.RUNNING))])
    call(lambda: [t.number for t in storage.get_all_trials(sid, deepcopy=True, states=None)])
    call(lambda: storage.get_all_trials(_UNKNOWN))
    template = storage.get_trial(ids[1])
    new = storage.create_new_trial(sid, template_trial=template)
    call(
        lambda: (
            storage.get_trial_number_from_id(new),
            storage.get_trial_params(new),
            storage.get_trial(new).value,
        )
    )
    call(lambda: storage.create_new_trial(_UNKNOWN))
    two = storage.create_new_study([directions.MINIMIZE, directions.MAXIMIZE], "optuna-script-2")
    t2 = storage.create_new_trial(two)
    storage.set_trial_state_values(t2, states.COMPLETE, [1.0, 2.0])
    call(lambda: storage.get_best_trial(two))
    call(lambda: storage.remove_session())
    return out


class OptunaMethodsContract(StorageContractBase):
    """Optuna's storage methods, on every backend."""

    def test_storage_create_new_trial_returns_the_trial_id(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "ids")
        first = storage.create_new_trial(sid)
        second = storage.create_new_trial(sid, template_trial=create_trial(state=WAITING))
        assert isinstance(first, int) and storage.get_trial(first).number == 0
        assert storage.get_trial_number_from_id(second) == 1
        tid, number = second  # what hpo_core's callers unpack
        assert (tid, number) == (second, 1) and second[1] == 1

    def test_storage_study_attrs_by_kind(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "attrs")
        assert storage.get_study_user_attrs(sid) == {} and storage.get_study_system_attrs(sid) == {}
        storage.set_study_user_attr(sid, "u", {"a": [1, 2]})
        storage.set_study_system_attr(sid, "s", "x")
        assert storage.get_study_user_attrs(sid) == {"u": {"a": [1, 2]}}
        assert storage.get_study_system_attrs(sid) == {"s": "x"}
        assert storage.get_study_attrs(sid, "user") == {"u": {"a": [1, 2]}}

    def test_storage_study_attrs_of_unknown_study_raise_key_error(self, storage: BaseStorage) -> None:
        for fn in (storage.get_study_user_attrs, storage.get_study_system_attrs):
            with pytest.raises(KeyError):
                fn(_UNKNOWN)
        with pytest.raises(KeyError):
            storage.set_study_user_attr(_UNKNOWN, "k", 1)

    def test_storage_trial_reads_by_id(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "reads")
        tid = storage.create_new_trial(sid)
        storage.set_trial_param(tid, "x", 0.25, FloatDistribution(0.0, 1.0))
        storage.set_trial_param(tid, "c", 1.0, CategoricalDistribution(["a", "b"]))
        storage.set_trial_param(tid, "n", 3.0, IntDistribution(1, 5))
        storage.set_trial_user_attr(tid, "u", 1)
        storage.set_trial_system_attr(tid, "s", [2])
        assert storage.get_trial_params(tid) == {"x": 0.25, "c": "b", "n": 3}
        assert [storage.get_trial_param(tid, p) for p in ("x", "c", "n")] == [0.25, 1.0, 3.0]
        assert storage.get_trial_user_attrs(tid) == {"u": 1}
        assert storage.get_trial_system_attrs(tid) == {"s": [2]}
        assert storage.get_trial_id_from_study_id_trial_number(sid, 0) == tid
        assert storage.get_trial_number_from_id(tid) == 0
        with pytest.raises(KeyError):
            storage.get_trial_param(tid, "missing")

    def test_storage_trial_reads_of_unknown_ids_raise_key_error(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "unknown")
        for fn in (
            storage.get_trial_number_from_id,
            storage.get_trial_params,
            storage.get_trial_user_attrs,
            storage.get_trial_system_attrs,
        ):
            with pytest.raises(KeyError):
                fn(_UNKNOWN)
        with pytest.raises(KeyError):
            storage.get_trial_id_from_study_id_trial_number(sid, 0)
        with pytest.raises(KeyError):
            storage.create_new_trial(_UNKNOWN)

    def test_storage_writes_by_optuna_names(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "names")
        tid = storage.create_new_trial(study_id=sid, template_trial=None)
        storage.set_trial_param(
            trial_id=tid, param_name="x", param_value_internal=0.5, distribution=FloatDistribution(0.0, 1.0)
        )
        storage.set_trial_intermediate_value(trial_id=tid, step=2, intermediate_value=0.75)
        storage.set_trial_state_values(tid, state=COMPLETE, values=[0.1])
        t = storage.get_trial(tid)
        assert t.params == {"x": 0.5} and t.intermediate_values == {2: 0.75} and t.values == [0.1]

    def test_storage_writes_to_finished_trial_raise(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "finished")
        tid = storage.create_new_trial(sid)
        storage.set_trial_state_values(tid, FAIL)
        for write in (
            lambda: storage.set_trial_user_attr(tid, "k", 1),
            lambda: storage.set_trial_system_attr(tid, "k", 1),
            lambda: storage.set_trial_intermediate_value(tid, 1, 1.0),
        ):
            with pytest.raises(UpdateFinishedTrialError):
                write()
        storage.check_trial_is_updatable(tid, RUNNING)  # the state given decides, as in Optuna
        with pytest.raises(UpdateFinishedTrialError, match="Trial#0"):
            storage.check_trial_is_updatable(tid, FAIL)

    @pytest.mark.parametrize("direction", [MIN, MAX])
    def test_storage_get_best_trial(self, storage: BaseStorage, direction: Any) -> None:
        sid = storage.create_new_study([direction], "best")
        with pytest.raises(ValueError, match="No trials are completed yet"):
            storage.get_best_trial(sid)
        for v in (2.0, 1.0, 3.0):
            storage.set_trial_state_values(storage.create_new_trial(sid), COMPLETE, [v])
        storage.set_trial_state_values(storage.create_new_trial(sid), PRUNED)
        best = storage.get_best_trial(sid)
        assert best.value == (1.0 if direction == MIN else 3.0) and best.state == COMPLETE

    def test_storage_get_best_trial_of_several_objectives_raises(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN, MAX], "best2")
        storage.set_trial_state_values(storage.create_new_trial(sid), COMPLETE, [1.0, 2.0])
        with pytest.raises(RuntimeError, match="single-objective"):
            storage.get_best_trial(sid)
        with pytest.raises(KeyError):
            storage.get_best_trial(_UNKNOWN)

    def test_storage_counts_and_lists_by_state(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "counts")
        for state in (COMPLETE, PRUNED, FAIL):
            storage.set_trial_state_values(
                storage.create_new_trial(sid), state, [1.0] if state == COMPLETE else None
            )
        storage.create_new_trial(sid)
        assert storage.get_n_trials(sid) == 4
        assert storage.get_n_trials(sid, TrialState.PRUNED) == 1
        assert storage.get_n_trials(sid, state=(COMPLETE, RUNNING)) == 2
        assert [t.number for t in storage.get_all_trials(sid, False, (FAIL, RUNNING))] == [2, 3]
        assert [t.number for t in storage.get_all_trials(sid, deepcopy=True)] == [0, 1, 2, 3]
        with pytest.raises(KeyError):
            storage.get_n_trials(_UNKNOWN)

    def test_storage_remove_session_keeps_the_storage_usable(self, storage: BaseStorage) -> None:
        sid = storage.create_new_study([MIN], "session")
        storage.remove_session()
        assert storage.get_n_trials(sid) == 0 and storage.get_study_name_from_id(sid) == "session"

    def test_storage_answers_as_optuna_in_memory_storage(self, storage: BaseStorage) -> None:
        optuna = pytest.importorskip("optuna", reason="Optuna is the reference for this comparison")
        from hpo_core import distributions
        from hpo_core.study import StudyDirection

        ours = optuna_script(storage, distributions, TrialState, StudyDirection)
        theirs = optuna_script(
            optuna.storages.InMemoryStorage(),
            optuna.distributions,
            optuna.trial.TrialState,
            optuna.study.StudyDirection,
        )
        assert ours == theirs
