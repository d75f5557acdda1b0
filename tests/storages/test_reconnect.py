"""A database that blinks does not kill the workers: connections terminated by the
server, a commit whose answer is lost, a PostgreSQL restart and a 10 s stop mid-run,
and eight processes opening an empty database at once. Real servers throughout (the
lost answer comes from a TCP proxy that cuts the link right after a COMMIT)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _proxy import CuttingProxy  # tests/storages/_proxy.py (pytest puts this directory on sys.path)
from _workers import spawn as _spawn  # tests/storages/_workers.py

import hpo_core
from hpo_core.storages import RDBStorage
from hpo_core.trial import TrialState

ROOT = Path(__file__).resolve().parents[2]




def _with_query(url: str, **query: str) -> str:
    return sa.engine.make_url(url).update_query_dict(query).render_as_string(hide_password=False)


def _run_sql(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            res = conn.execute(sa.text(sql), params)
            return [tuple(r) for r in res] if res.returns_rows else []
    finally:
        engine.dispose()


@contextlib.contextmanager
def _hpo_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture hpo_core's warnings (its logger has its own handler and does not propagate)."""
    logger = logging.getLogger("hpo_core")
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)


def _lost_connection_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any("Lost the connection" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- terminated
@pytest.mark.postgres
def test_postgres_terminated_connections_are_retried(postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    app = f"hpo_test_{uuid.uuid4().hex[:8]}"
    url = _with_query(postgres_url, application_name=app)
    # No pre-ping: the dead pooled connection reaches the transaction, as a connection
    # that dies between the ping and the query does.
    storage = RDBStorage(url, engine_kwargs={"pool_pre_ping": False}, heartbeat_interval=None)
    study = hpo_core.create_study(storage=storage, study_name="blink")
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :a"
    with _hpo_log(caplog):
        for i in range(3):
            trial = study.ask()
            trial.suggest_float("x", 0, 1)
            _run_sql(postgres_url, kill, a=app)  # between ask and tell: the write retries
            study.tell(trial, float(i))
        _run_sql(postgres_url, kill, a=app)
        other = RDBStorage(url, heartbeat_interval=None)
        assert len(hpo_core.load_study(study_name="blink", storage=other).trials) == 3
        _run_sql(postgres_url, kill, a=app)
        assert [t.value for t in study.trials] == [0.0, 1.0, 2.0]  # the read retries
    assert _lost_connection_logged(caplog)
    storage.close()
    other.close()


@pytest.mark.mysql
def test_mysql_killed_connections_are_retried(mysql_url: str, caplog: pytest.LogCaptureFixture) -> None:
    db = sa.engine.make_url(mysql_url).database
    storage = RDBStorage(mysql_url, engine_kwargs={"pool_pre_ping": False}, heartbeat_interval=None)
    study = hpo_core.create_study(storage=storage, study_name="blink")

    def kill_all() -> None:
        for (pid,) in _run_sql(mysql_url, "SELECT ID FROM information_schema.PROCESSLIST "
                                          "WHERE DB = :d AND ID <> CONNECTION_ID()", d=db):
            try:
                _run_sql(mysql_url, f"KILL {int(pid)}")  # type: ignore[call-overload]
            except sa.exc.OperationalError:
                pass  # gone already

    with _hpo_log(caplog):
        for i in range(3):
            trial = study.ask()
            trial.suggest_int("n", 0, 9)
            kill_all()
            study.tell(trial, float(i))
        kill_all()
        assert [t.value for t in study.trials] == [0.0, 1.0, 2.0]
    assert _lost_connection_logged(caplog)
    storage.close()


# --------------------------------------------------------------------------- lost answer
# PostgreSQL's simple-query message for COMMIT: 'Q', int32 length 11, "COMMIT\\0".
_COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"


@pytest.mark.postgres
@pytest.mark.parametrize("write", ["tell", "report"])
def test_postgres_commit_with_lost_answer_is_not_an_error(postgres_url: str, write: str) -> None:
    parsed = sa.engine.make_url(postgres_url)
    proxy = CuttingProxy(parsed.host or "127.0.0.1", parsed.port or 5432, _COMMIT)
    url = parsed.set(host="127.0.0.1", port=proxy.port).update_query_dict({"sslmode": "disable"})
    # flush_delay: the suggested parameter goes with the armed write, not with a background flush.
    storage = RDBStorage(url.render_as_string(hide_password=False), heartbeat_interval=None, flush_delay=600)
    try:
        study = hpo_core.create_study(storage=storage, study_name="ack")
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)  # waits, written with the next write
        proxy.armed.set()
        if write == "report":
            trial.report(0.25, 3)  # committed, answer lost, run again: neither doubled nor refused
            assert proxy.cut.is_set()
            study.tell(trial, x)
        else:
            study.tell(trial, x)  # committed, answer lost: the retry finds it done
            assert proxy.cut.is_set()
        (frozen,) = study.trials
        assert frozen.state == TrialState.COMPLETE and frozen.value == x and frozen.params == {"x": x}
        assert frozen.intermediate_values == ({3: 0.25} if write == "report" else {})
    finally:
        storage.close()
        proxy.close()


# --------------------------------------------------------------------------- restart
def _pg_ctl_reason() -> str | None:
    if shutil.which("pg_ctlcluster") is None or not os.path.isdir("/etc/postgresql"):
        return "pg_ctlcluster is not available (Debian's postgresql-common)"
    if os.geteuid() != 0:
        return "restarting PostgreSQL needs root (pg_ctlcluster)"
    return None


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, capture_output=True, timeout=120)


RESTART_WORKER = """
    import sys, time, logging
    import hpo_core
    hpo_core.logging.set_verbosity(logging.ERROR)
    url, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    storage = hpo_core.storages.RDBStorage(url, heartbeat_interval=2.0, grace_period=8.0)
    study = hpo_core.load_study(study_name="restart", storage=storage,
                                sampler=hpo_core.samplers.TPESampler(seed=seed))
    def objective(trial):
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_int("y", 0, 10)
        trial.report(x, 0)
        time.sleep(0.05)
        return x * x + y
    study.optimize(objective, n_trials=n)
    print("done")
"""


def _count_complete(url: str) -> int:
    try:
        rows = _run_sql(url, "SELECT COUNT(*) FROM hpo_trials WHERE state = :s", s=int(TrialState.COMPLETE))
        return int(rows[0][0])  # type: ignore[call-overload]
    except sa.exc.OperationalError:
        return -1  # the server is away


def _wait_count(url: str, at_least: int, procs: list[subprocess.Popen[str]], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while _count_complete(url) < at_least:
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        assert time.monotonic() < deadline, f"fewer than {at_least} trials completed in {timeout} s"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_restart_and_stop_mid_run_lose_nothing(postgres_url: str) -> None:
    reason = _pg_ctl_reason()
    if reason is not None:
        pytest.skip(reason)
    hpo_core.create_study(storage=postgres_url, study_name="restart")
    n_workers, n_trials = 3, 100
    procs = [_spawn(RESTART_WORKER, postgres_url, str(n_trials), str(k)) for k in range(n_workers)]
    try:
        _wait_count(postgres_url, 30, procs)
        _pg_ctl("restart")  # a routine restart: every connection is terminated
        _wait_count(postgres_url, 90, procs)
        _pg_ctl("stop")  # away for 10 s (longer than the grace period of 8 s)
        time.sleep(10)
        _pg_ctl("start")
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", sorted(os.listdir("/etc/postgresql"))[0],
                        "main", "start"], capture_output=True)
        for p in procs:
            p.kill()
            p.wait()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
        assert out.strip() == "done"
        assert "StaleTrialWarning" not in err  # no worker's trial was failed by a peer
    trials = hpo_core.load_study(study_name="restart", storage=postgres_url).trials
    assert [t.number for t in trials] == list(range(n_workers * n_trials))
    odd = [(t.number, t.state.name, t.params, t.intermediate_values, t.system_attrs.get("fail_reason"))
           for t in trials if t.state != TrialState.COMPLETE or t.intermediate_values != {0: t.params.get("x")}]
    assert odd == []  # no computed result lost
    # x * x as the workers compute it (x ** 2 may differ from it in the last bit).
    assert all(t.value == t.params["x"] * t.params["x"] + t.params["y"] for t in trials)


# --------------------------------------------------------------------------- open at once
OPENING_WORKER = """
    import sys, time, pathlib
    import hpo_core
    url, barrier, me, n = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    (barrier / me).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < n and time.monotonic() < deadline:
        time.sleep(0.005)
    study = hpo_core.create_study(storage=url, study_name="at-once", load_if_exists=True)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    print("done")
"""


def _open_at_once(url: str, tmp_path: Path, n: int = 8) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [_spawn(OPENING_WORKER, url, str(barrier), str(k), str(n)) for k in range(n)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
        assert out.strip() == "done"
    trials = hpo_core.load_study(study_name="at-once", storage=url).trials
    assert [t.number for t in trials] == list(range(5 * n))
    assert all(t.state == TrialState.COMPLETE for t in trials)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_eight_processes_open_an_empty_database_at_once(postgres_url: str, tmp_path: Path) -> None:
    _open_at_once(postgres_url, tmp_path)


@pytest.mark.slow
@pytest.mark.mysql
def test_mysql_eight_processes_open_an_empty_database_at_once(mysql_url: str, tmp_path: Path) -> None:
    _open_at_once(mysql_url, tmp_path)


def test_sqlite_eight_processes_open_an_empty_file_at_once(tmp_path: Path) -> None:
    _open_at_once(f"sqlite:///{tmp_path / 'at-once.db'}", tmp_path)


def test_unreachable_server_fails_fast_at_open() -> None:
    # Nothing listens on the port: opening waits at most 10 s, then says where.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(hpo_core.exceptions.StorageError, match=str(port)):
        RDBStorage(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", reconnect_timeout=300)
    assert time.monotonic() - start < 30
