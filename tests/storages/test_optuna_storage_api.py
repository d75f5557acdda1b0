"""Optuna's storage API beyond the per-backend contract (that is in
``hpo_core/testing/_storage_contract/_optuna.py``): RDBStorage's constructor and
methods, ``fail_stale_trials``, the stale-trial callbacks, JournalStorage's
``restore_replay_result`` and Optuna's deprecated journal names."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import hpo_core
from hpo_core.exceptions import HpoWarning
from hpo_core.storages import (
    InMemoryStorage,
    JournalStorage,
    RDBStorage,
    RetryFailedTrialCallback,
    RetryHeartbeatStaleTrialCallback,
    fail_stale_trials,
)
from hpo_core.storages.journal import (
    BaseJournalBackend,
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
    JournalRedisBackend,
)
from hpo_core.trial import TrialState

REDIS_URL = os.environ.get("HPO_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _no_warning(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------- RDBStorage
def test_rdb_storage_takes_optuna_positional_arguments(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    storage = _no_warning(RDBStorage, url, {"pool_pre_ping": True}, True, skip_table_creation=True)
    assert storage.engine_kwargs == {"pool_pre_ping": True}
    assert storage.skip_compatibility_check is True and storage.skip_table_creation is True
    assert str(storage.engine.url) == url
    sid = storage.create_new_study([hpo_core.study.StudyDirection.MINIMIZE], "s")
    assert storage.get_study_name_from_id(sid) == "s"


def test_rdb_storage_signature_matches_optuna() -> None:
    optuna = pytest.importorskip("optuna", reason="Optuna is the reference for the signature")
    theirs = inspect.signature(optuna.storages.RDBStorage).parameters
    ours = inspect.signature(RDBStorage).parameters
    for name, p in theirs.items():
        assert name in ours and ours[name].kind == p.kind, name
        if name != "heartbeat_interval":  # ours beats by default (60 s); see docs/optuna_compat
            assert ours[name].default == p.default, name


def test_rdb_storage_schema_versions(tmp_path: Path) -> None:
    storage = RDBStorage(f"sqlite:///{tmp_path / 'v.db'}")
    head = storage.get_head_version()
    assert storage.get_current_version() == head
    assert storage.get_all_versions()[0] == head and len(storage.get_all_versions()) == int(head)
    storage.upgrade()  # already at the head: nothing changes
    assert storage.get_current_version() == head


def test_rdb_storage_scoped_session_runs_sql(tmp_path: Path) -> None:
    import sqlalchemy as sa

    storage = RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    assert storage.scoped_session() is storage.scoped_session()  # one session per thread
    assert storage.scoped_session().execute(sa.text("select 1")).scalar() == 1
    storage.remove_session()
    study = hpo_core.create_study(storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(study.trials) == 2


def test_rdb_storage_heartbeat_getters(tmp_path: Path) -> None:
    def callback(study: Any, trial: Any) -> None: ...

    storage = RDBStorage(
        f"sqlite:///{tmp_path / 'h.db'}", heartbeat_interval=5, heartbeat_stale_trial_callback=callback
    )
    assert storage.get_heartbeat_interval() == 5 and storage.grace_period == 10
    assert storage.get_heartbeat_stale_trial_callback() is callback
    assert storage.heartbeat_stale_trial_callback is callback and storage.failed_trial_callback is callback
    with pytest.warns(FutureWarning, match="get_failed_trial_callback has been deprecated in v4.9.0"):
        assert storage.get_failed_trial_callback() is callback
    assert (
        RDBStorage(f"sqlite:///{tmp_path / 'h.db'}", heartbeat_interval=None).get_heartbeat_interval() is None
    )


def test_failed_trial_callback_is_deprecated(tmp_path: Path) -> None:
    def callback(study: Any, trial: Any) -> None: ...

    with pytest.warns(FutureWarning, match="`failed_trial_callback` has been deprecated in v4.9.0"):
        storage = RDBStorage(f"sqlite:///{tmp_path / 'f.db'}", failed_trial_callback=callback)
    assert storage.heartbeat_stale_trial_callback is callback
    with pytest.warns(FutureWarning, match="heartbeat_stale_trial_callback"):
        journal = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), failed_trial_callback=callback)
    assert journal.get_heartbeat_stale_trial_callback() is callback
    for make in (
        lambda **kw: RDBStorage(f"sqlite:///{tmp_path / 'f.db'}", **kw),
        lambda **kw: JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), **kw),
    ):
        with pytest.raises(ValueError, match="only one of `heartbeat_stale_trial_callback`"):
            make(heartbeat_stale_trial_callback=callback, failed_trial_callback=callback)


def test_retry_failed_trial_callback_is_a_deprecated_name() -> None:
    with pytest.warns(FutureWarning, match="RetryFailedTrialCallback has been deprecated in v4.9.0"):
        callback = RetryFailedTrialCallback(max_retry=1)
    assert isinstance(callback, RetryHeartbeatStaleTrialCallback)
    _no_warning(RetryHeartbeatStaleTrialCallback, max_retry=1)


def test_in_memory_storage_has_the_heartbeat_getters() -> None:
    storage = InMemoryStorage()
    assert storage.get_heartbeat_interval() is None and storage.get_heartbeat_stale_trial_callback() is None


# --------------------------------------------------------------------------- fail_stale_trials
_DIES_WITH_A_RUNNING_TRIAL = """
import os, sys
import hpo_core
study = hpo_core.load_study(study_name="s", storage=sys.argv[1])
study.ask()
os._exit(0)  # the trial stays RUNNING, its owner gone
"""


def test_fail_stale_trials_fails_dead_workers_trials_and_calls_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stale.db'}"
    storage = RDBStorage(url, heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback())
    study = hpo_core.create_study(study_name="s", storage=storage)
    subprocess.run([sys.executable, "-c", _DIES_WITH_A_RUNNING_TRIAL, url], check=True, timeout=120)
    assert fail_stale_trials(study) == [0]  # at once, not rate-limited as the check before asks
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(trials[1]) == 0
    assert fail_stale_trials(study) == []  # found once


def test_fail_stale_trials_matches_optuna_signature() -> None:
    optuna = pytest.importorskip("optuna", reason="Optuna is the reference for the signature")
    assert list(inspect.signature(fail_stale_trials).parameters) == list(
        inspect.signature(optuna.storages.fail_stale_trials).parameters
    )
    assert fail_stale_trials(hpo_core.create_study()) == []  # in memory: nothing is stale


# --------------------------------------------------------------------------- journal
def _journal_with_snapshot(path: Path) -> tuple[JournalFileBackend, bytes]:
    backend = JournalFileBackend(str(path))
    storage = JournalStorage(backend, snapshot_interval=1, heartbeat_interval=None)
    study = hpo_core.create_study(study_name="j", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    snapshot = backend.load_snapshot()
    assert snapshot
    return backend, snapshot


def test_journal_restore_replay_result(tmp_path: Path) -> None:
    backend, snapshot = _journal_with_snapshot(tmp_path / "j.log")
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), heartbeat_interval=None)
    storage.restore_replay_result(snapshot)
    study = hpo_core.load_study(study_name="j", storage=storage)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3


def test_journal_restore_replay_result_of_other_bytes_warns_and_replays(tmp_path: Path) -> None:
    _journal_with_snapshot(tmp_path / "j.log")
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), heartbeat_interval=None)
    with pytest.warns(HpoWarning, match="snapshot is not usable"):
        storage.restore_replay_result(b"not a snapshot")
    _, other = _journal_with_snapshot(tmp_path / "other.log")
    with pytest.warns(HpoWarning, match="does not match"):
        storage.restore_replay_result(other)
    assert len(hpo_core.load_study(study_name="j", storage=storage).trials) == 3


@pytest.mark.parametrize(
    "name, new",
    [
        ("JournalFileStorage", JournalFileBackend),
        ("JournalFileOpenLock", JournalFileOpenLock),
        ("JournalFileSymlinkLock", JournalFileSymlinkLock),
    ],
)
def test_deprecated_journal_file_names_warn_and_work(tmp_path: Path, name: str, new: type) -> None:
    cls = getattr(hpo_core.storages, name)
    assert issubclass(cls, new)
    path = str(tmp_path / "d.log")
    with pytest.warns(FutureWarning, match="deprecated in v4.0.0") as record:
        obj = cls(path)
    assert name in str(record[0].message)
    backend = obj if isinstance(obj, JournalFileBackend) else JournalFileBackend(path, lock_obj=obj)
    study = hpo_core.create_study(storage=JournalStorage(backend, heartbeat_interval=None))
    study.optimize(lambda t: t.suggest_int("n", 0, 3), n_trials=2)
    assert len(study.trials) == 2


def test_deprecated_journal_redis_storage_warns_and_works() -> None:
    redis = pytest.importorskip("redis", reason="JournalRedisStorage needs the redis package")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis server at {REDIS_URL}")
    assert issubclass(hpo_core.storages.JournalRedisStorage, JournalRedisBackend)
    with pytest.warns(FutureWarning, match="JournalRedisStorage has been deprecated"):
        backend = hpo_core.storages.JournalRedisStorage(REDIS_URL, prefix=f"e2-{os.getpid()}")
    study = hpo_core.create_study(storage=JournalStorage(backend, heartbeat_interval=None))
    study.optimize(lambda t: t.suggest_int("n", 0, 3), n_trials=2)
    assert len(study.trials) == 2


def test_deprecated_base_journal_log_storage_warns_for_subclasses() -> None:
    class Logs(hpo_core.storages.BaseJournalLogStorage):
        def __init__(self) -> None:
            super().__init__()
            self.logs: list[dict[str, Any]] = []

        def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
            return self.logs[log_number_from:]

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            self.logs.extend(logs)

    assert issubclass(Logs, BaseJournalBackend)
    with pytest.warns(FutureWarning, match="BaseJournalLogStorage has been deprecated"):
        logs = Logs()
    study = hpo_core.create_study(storage=JournalStorage(logs, heartbeat_interval=None))
    study.optimize(lambda t: t.suggest_int("n", 0, 3), n_trials=2)
    assert len(study.trials) == 2
