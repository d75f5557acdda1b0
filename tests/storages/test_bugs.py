"""Regression tests of storage bugs, one per bug (each failed before its fix)."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpo_core.distributions import CategoricalDistribution, FloatDistribution
from hpo_core.storages import BaseStorage, InMemoryStorage, RDBStorage
from hpo_core.trial import FrozenTrial, StudyDirection, TrialState

MIN = StudyDirection.MINIMIZE
F = FloatDistribution(0.0, 1.0)


def _make(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> BaseStorage:
    if kind == "memory":
        return InMemoryStorage()
    if kind == "sqlite":
        return RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    return RDBStorage(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStorage]:
    s = _make(request.param, tmp_path, request)
    yield s
    s.close()


@pytest.fixture(params=["memory", "sqlite"])
def local_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStorage]:
    s = _make(request.param, tmp_path, request)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rdb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RDBStorage]:
    s = _make(request.param, tmp_path, request)
    yield s  # type: ignore[misc]
    s.close()


def _trials(storage: BaseStorage, study_id: int) -> str:
    """The study's trials as text (NaN matches NaN)."""
    def one(t: FrozenTrial) -> tuple[object, ...]:
        return (t.number, t.state, t.values, sorted(t.params.items()), sorted(t.user_attrs.items()),
                sorted(t.intermediate_values.items()))
    return repr([one(t) for t in storage.get_all_trials(study_id)])


# --------------------------------------------------------------------- two studies
def test_rdb_param_of_one_study_is_not_checked_against_another_study(rdb: RDBStorage) -> None:
    a = rdb.create_new_study([MIN], "a")
    b = rdb.create_new_study([MIN], "b")
    ta, _ = rdb.create_new_trial(a)
    rdb.set_trial_param(ta, "x", 0.5, F)
    rdb.set_trial_state_values(ta, TrialState.COMPLETE, [1.0])
    rdb.get_all_trials(a)  # synced: study A's "x" is a float here
    tb, _ = rdb.create_new_trial(b)
    rdb.set_trial_param(tb, "x", 1.0, CategoricalDistribution(["p", "q"]))  # was: ValueError
    rdb.set_trial_state_values(tb, TrialState.COMPLETE, [2.0])
    assert rdb.get_trial(tb).params == {"x": "q"} and rdb.get_trial(ta).params == {"x": 0.5}


# --------------------------------------------------------------------- COMPLETE without values
def test_storage_complete_without_values_raises_naming_values(local_storage: BaseStorage) -> None:
    sid = local_storage.create_new_study([MIN], "s")
    tid, _ = local_storage.create_new_trial(sid)
    with pytest.raises(ValueError, match="values"):
        local_storage.set_trial_state_values(tid, TrialState.COMPLETE)


def test_storage_complete_without_values_leaves_trials_unchanged(local_storage: BaseStorage) -> None:
    sid = local_storage.create_new_study([MIN], "s")
    done, _ = local_storage.create_new_trial(sid)
    local_storage.set_trial_state_values(done, TrialState.COMPLETE, [1.0])
    tid, _ = local_storage.create_new_trial(sid)
    local_storage.set_trial_param(tid, "x", 0.5, F)
    before = _trials(local_storage, sid)
    with pytest.raises(ValueError):
        local_storage.set_trial_state_values(tid, TrialState.COMPLETE)
    assert _trials(local_storage, sid) == before
    assert local_storage.get_history(sid).best_row == 0


def test_sqlite_complete_without_values_leaves_database_readable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    storage = RDBStorage(url)
    sid = storage.create_new_study([MIN], "s")
    tid, _ = storage.create_new_trial(sid)
    with pytest.raises(ValueError):
        storage.set_trial_state_values(tid, TrialState.COMPLETE)
    storage.close()
    reopened = RDBStorage(url)
    (t,) = reopened.get_all_trials(sid)
    assert (t.state, t.values) == (TrialState.RUNNING, None)
    reopened.close()


def test_sqlite_complete_row_with_null_values_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    storage = RDBStorage(f"sqlite:///{path}")
    sid = storage.create_new_study([MIN], "s")
    for v in (2.0, 1.0):
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_state_values(tid, TrialState.COMPLETE, [v])
    storage.close()
    with sqlite3.connect(path) as conn:  # another program writes COMPLETE without values
        conn.execute("UPDATE hpo_trials SET values_json = NULL WHERE number = 1")
    reopened = RDBStorage(f"sqlite:///{path}")
    trials = reopened.get_all_trials(sid)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert trials[0].values == [2.0] and (trials[1].values is None or math.isnan(trials[1].values[0]))
    assert reopened.get_history(sid).best_row == 0  # a COMPLETE trial without a value is never the best
    reopened.close()


# --------------------------------------------------------------------- steps and names
@pytest.mark.postgres
def test_postgres_report_at_step_beyond_32_bits(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    storage = _make("postgres", tmp_path, request)
    sid = storage.create_new_study([MIN], "s")
    tid, _ = storage.create_new_trial(sid)
    storage.set_trial_intermediate_value(tid, 2**31, 0.5)  # was: NumericValueOutOfRange (INTEGER)
    storage.set_trial_intermediate_value(tid, 2**63 - 1, 0.25)
    assert storage.get_trial(tid).intermediate_values == {2**31: 0.5, 2**63 - 1: 0.25}
    storage.close()


@pytest.mark.parametrize("name", ["n" * 513, "a\x00b"], ids=["513-characters", "NUL"])
def test_storage_bad_study_name_raises_naming_it(storage: BaseStorage, name: str) -> None:
    with pytest.raises(ValueError, match="study_name"):
        storage.create_new_study([MIN], name)


@pytest.mark.parametrize("name", ["n" * 513, "a\x00b"], ids=["513-characters", "NUL"])
def test_storage_bad_param_name_raises_naming_it(storage: BaseStorage, name: str) -> None:
    sid = storage.create_new_study([MIN], "s")
    tid, _ = storage.create_new_trial(sid)
    with pytest.raises(ValueError, match="parameter name"):
        storage.set_trial_param(tid, name, 0.5, F)
    storage.set_trial_state_values(tid, TrialState.COMPLETE, [1.0])  # nothing waits to be written
    assert storage.get_trial(tid).params == {}


@pytest.mark.parametrize("name", ["n" * 513, "a\x00b"], ids=["513-characters", "NUL"])
def test_storage_bad_attr_key_raises_naming_it(storage: BaseStorage, name: str) -> None:
    sid = storage.create_new_study([MIN], "s")
    tid, _ = storage.create_new_trial(sid)
    with pytest.raises(ValueError, match="user_attrs key"):
        storage.set_trial_attr(tid, "user", name, 1)


# --------------------------------------------------------------------- JSON
def test_sqlite_nonfinite_attrs_are_standard_json(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    storage = RDBStorage(f"sqlite:///{path}")
    sid = storage.create_new_study([MIN], "s")
    tid, _ = storage.create_new_trial(sid)
    storage.set_trial_attr(tid, "user", "v", [math.nan, math.inf, -math.inf, {"x": math.nan}])
    storage.set_study_attr(sid, "user", "v", math.inf)
    storage.close()

    def refuse(token: str) -> float:
        raise ValueError(f"not standard JSON: {token}")

    with sqlite3.connect(path) as conn:
        texts = [r[0] for r in conn.execute("SELECT value_json FROM hpo_trial_attrs")]
        texts += [r[0] for r in conn.execute("SELECT value_json FROM hpo_study_attrs")]
    for text in texts:
        json.loads(text, parse_constant=refuse)


def test_sqlite_nonfinite_attrs_read_back(tmp_path: Path) -> None:
    storage = RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    sid = storage.create_new_study([MIN], "s")
    tid, _ = storage.create_new_trial(sid)
    storage.set_trial_attr(tid, "user", "v", [math.nan, math.inf, -math.inf])
    storage.set_study_attr(sid, "user", "v", -math.inf)
    nan, inf, ninf = storage.get_trial(tid).user_attrs["v"]
    assert math.isnan(nan) and (inf, ninf) == (math.inf, -math.inf)
    assert storage.get_study_attrs(sid, "user") == {"v": -math.inf}
    storage.close()
