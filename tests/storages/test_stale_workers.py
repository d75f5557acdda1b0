"""Dead, killed and paused workers on every database: heartbeats of asked trials, the
stale check before asks, RetryHeartbeatStaleTrialCallback, and a paused worker that goes on.
Real worker processes, real SIGKILL/SIGSTOP, real SQLite files and servers."""

from __future__ import annotations

import inspect
import signal
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _workers import spawn as _spawn  # tests/storages/_workers.py
from _workers import wait_for as _wait_for  # tests/storages/_workers.py

import hpo_core
from hpo_core.exceptions import StaleTrialWarning
from hpo_core.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from hpo_core.trial import TrialState, create_trial

ROOT = Path(__file__).resolve().parents[2]






def open_storage(spec: str, **kwargs: Any) -> Any:
    """A storage from one string: a database URL, or ``journal-file:<path>`` /
    ``journal-redis:<url>#<prefix>`` (worker scripts get this function's source)."""
    import hpo_core

    kind, _, where = spec.partition(":")
    if kind == "journal-file":
        from hpo_core.storages.journal import JournalFileBackend

        return hpo_core.storages.JournalStorage(JournalFileBackend(where), **kwargs)
    if kind == "journal-redis":
        from hpo_core.storages.journal import JournalRedisBackend

        url, _, prefix = where.rpartition("#")
        return hpo_core.storages.JournalStorage(JournalRedisBackend(url, prefix=prefix), **kwargs)
    return hpo_core.storages.RDBStorage(spec, **kwargs)


def _worker(code: str) -> str:
    """A worker script: ``open_storage`` and ``code``."""
    return "from typing import Any\n" + inspect.getsource(open_storage) + textwrap.dedent(code)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql), "journal-file",
                        pytest.param("journal-redis", marks=pytest.mark.redis)])
def storage_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every persistent storage, fresh: a SQLite file, a PostgreSQL schema, a MySQL
    database, a journal file, a journal on Redis under a prefix of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
    elif request.param == "journal-file":
        yield f"journal-file:{tmp_path / 'journal.log'}"
    elif request.param == "journal-redis":
        yield f"journal-redis:{request.getfixturevalue('redis_url')}#{request.getfixturevalue('redis_prefix')}"
    else:
        yield request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind (the tests that read the heartbeat column)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
    else:
        yield request.getfixturevalue(f"{request.param}_url")


# A worker whose trial 3 reports two steps, then hangs until killed (or paused).
HANGING_WORKER = """
    import sys, time, pathlib, logging
    import hpo_core
    hpo_core.logging.set_verbosity(logging.WARNING)
    url, marker, hb, grace = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    storage = open_storage(url, heartbeat_interval=hb, grace_period=grace)
    study = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 3:
            trial.report(0.5, 0)
            trial.report(0.25, 1)
            marker.write_text("in trial 3")
            time.sleep(float(sys.argv[5]))
        return x
    study.optimize(objective, n_trials=6)
    print("done")
"""


@pytest.mark.slow
@pytest.mark.parametrize("inherit", [False, True])
def test_killed_worker_trial_is_failed_and_retried(storage_spec: str, tmp_path: Path, inherit: bool) -> None:
    marker = tmp_path / "marker"
    proc = _spawn(_worker(HANGING_WORKER), storage_spec, str(marker), "60", "120", "600")
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    storage = open_storage(storage_spec, heartbeat_interval=60,
                           heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                               max_retry=2, inherit_intermediate_values=inherit))
    study = hpo_core.load_study(study_name="s", storage=storage)  # finds it at once: pid gone
    dead = study.trials[3]
    assert dead.state == TrialState.FAIL
    assert dead.system_attrs["fail_reason"].startswith("stale trial: its worker process")
    waiting = study.get_trials(states=[TrialState.WAITING])
    assert len(waiting) == 1
    assert waiting[0].params == dead.params
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    trials = study.trials
    assert [t.number for t in trials] == list(range(7))
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 6
    retry = trials[4]  # the queued copy, run first
    assert retry.state == TrialState.COMPLETE
    assert retry.params == dead.params and retry.value == dead.params["x"]
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == 3
    assert RetryHeartbeatStaleTrialCallback.retry_history(retry) == [3]
    assert retry.intermediate_values == ({0: 0.5, 1: 0.25} if inherit else {})
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(trials[5]) is None


def test_retry_callback_keeps_the_chain_and_stops_at_max_retry(tmp_path: Path) -> None:
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'chain.db'}")
    callback = RetryHeartbeatStaleTrialCallback(max_retry=2)
    failed = create_trial(state=TrialState.FAIL, params={"x": 0.5},
                          distributions={"x": hpo_core.distributions.FloatDistribution(0, 1)},
                          user_attrs={"u": 1})
    study.add_trial(failed)
    callback(study, study.trials[0])
    first = study.trials[1]
    assert first.state == TrialState.WAITING and first.params == {"x": 0.5} and first.user_attrs == {"u": 1}
    assert first.system_attrs["failed_trial"] == 0 and first.system_attrs["retry_history"] == [0]
    # The retry fails in turn: the chain keeps its first trial and grows its history.
    study.add_trial(create_trial(state=TrialState.FAIL, params=first.params, distributions=first.distributions,
                                 system_attrs=first.system_attrs))
    callback(study, study.trials[2])
    second = study.trials[3]
    assert second.system_attrs["failed_trial"] == 0 and second.system_attrs["retry_history"] == [0, 2]
    study.add_trial(create_trial(state=TrialState.FAIL, params=second.params, distributions=second.distributions,
                                 system_attrs=second.system_attrs))
    callback(study, study.trials[4])  # a third retry: over max_retry=2
    assert len(study.trials) == 5


def test_retry_callback_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="max_retry"):
        RetryHeartbeatStaleTrialCallback(max_retry=-1)
    with pytest.raises(TypeError, match="inherit_intermediate_values"):
        RetryHeartbeatStaleTrialCallback(inherit_intermediate_values=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="heartbeat_stale_trial_callback"):
        RDBStorage("sqlite:///:memory:", heartbeat_stale_trial_callback=3)


# An ask-and-tell worker: asks one trial, says so, waits, then tells it.
ASKING_WORKER = """
    import sys, time, pathlib, logging, warnings
    import hpo_core
    hpo_core.logging.set_verbosity(logging.WARNING)
    url, marker, wait = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3])
    storage = open_storage(url, heartbeat_interval=0.2, grace_period=1.5)
    study = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
    trial = study.ask()
    x = trial.suggest_float("x", 0, 1)
    marker.write_text(str(trial.number))
    time.sleep(wait)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.tell(trial, x)
    print("told", [type(w.message).__name__ for w in caught])
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    print("done", len(study.trials))
"""


def _heartbeat(url: str, number: int) -> float | None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT heartbeat FROM hpo_trials WHERE number = :n"), {"n": number}).scalar()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_asked_trial_gets_heartbeats(db_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    proc = _spawn(_worker(ASKING_WORKER), db_url, str(marker), "2.0")
    try:
        _wait_for(marker, proc)
        first = _heartbeat(db_url, 0)
        time.sleep(1.0)
        later = _heartbeat(db_url, 0)
        assert first is not None and later is not None and later > first  # beaten while asked
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "told []" in out and "done 3" in out
    finally:
        proc.kill()
        proc.wait()
    trials = hpo_core.load_study(study_name="s", storage=db_url).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3


@pytest.mark.slow
def test_paused_asking_worker_warns_and_goes_on(storage_spec: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    proc = _spawn(_worker(ASKING_WORKER), storage_spec, str(marker), "0.5")
    try:
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGSTOP)  # its heartbeat thread stops too
        time.sleep(2.5)
        # A peer that only asks (no optimize) finds the silent trial and fails it.
        storage = open_storage(storage_spec, heartbeat_interval=0.2, grace_period=1.5)
        peer = hpo_core.load_study(study_name="s", storage=storage)
        assert peer.trials[0].state == TrialState.FAIL
        assert "no heartbeat" in peer.trials[0].system_attrs["fail_reason"]
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "told ['StaleTrialWarning']" in out
        assert "done 3" in out
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_paused_optimize_worker_warns_and_goes_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'paused.db'}"
    marker = tmp_path / "marker"
    proc = _spawn(_worker(HANGING_WORKER), url, str(marker), "0.2", "1.5", "0.5")
    try:
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(2.5)
        storage = RDBStorage(url, heartbeat_interval=0.2, grace_period=1.5)
        study = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
        study.ask()  # the stale check runs before the ask
        assert study.trials[3].state == TrialState.FAIL
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "StaleTrialWarning" in err and out.strip() == "done"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()
    states = [t.state for t in hpo_core.load_study(study_name="s", storage=url).trials]
    assert states.count(TrialState.COMPLETE) == 5  # 6 trials but number 3, failed while paused
    assert states[3] == TrialState.FAIL


def test_stale_check_before_ask_is_rate_limited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rate.db'}"
    storage = RDBStorage(url, heartbeat_interval=30)
    study = hpo_core.create_study(storage=storage)
    calls: list[int] = []
    real = storage.fail_stale_trials

    def counting(study_id: int) -> list[int]:
        calls.append(study_id)
        return real(study_id)

    storage.fail_stale_trials = counting  # type: ignore[method-assign]
    for _ in range(20):
        study.tell(study.ask(), 1.0)
    assert calls == [study._study_id]  # once per heartbeat interval, not per ask


def test_tell_of_trial_finished_by_user_still_raises(tmp_path: Path) -> None:
    # Only a trial failed *as stale* is forgiven; a double tell is still an error.
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'double.db'}")
    trial = study.ask()
    study.tell(trial, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleTrialWarning)
        with pytest.raises(hpo_core.exceptions.UpdateFinishedTrialError):
            study.tell(trial, 2.0)
