"""A journal on Redis survives the server going away: a restart under running workers
(the server keeps its data in an append-only file, as a journal's server should) and an
append whose answer is lost (a proxy cuts the link right after forwarding RPUSH: the
retry must not push the entry twice). A private redis-server per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _proxy import CuttingProxy  # tests/storages/_proxy.py (pytest puts this directory on sys.path)

import hpo_core
from hpo_core.trial import TrialState

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.redis


class PrivateRedis:
    """A redis-server of its own on a free port, its data in ``directory`` (AOF on)."""

    def __init__(self, directory: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}"
        self._dir = directory
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self._dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is not None:
            subprocess.run(["redis-cli", "-p", str(self.port), "shutdown"], capture_output=True, timeout=30)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are not installed (Debian's redis-server package)")
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.skip("redis-py is not installed (pip install 'hpo_core[redis]')")
    (tmp_path / "redis").mkdir()
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _storage(url: str, **kwargs: object) -> hpo_core.storages.JournalStorage:
    from hpo_core.storages.journal import JournalRedisBackend

    return hpo_core.storages.JournalStorage(JournalRedisBackend(url, prefix="outage"), **kwargs)  # type: ignore[arg-type]


WORKER = """
    import sys, time, logging
    import hpo_core
    from hpo_core.storages.journal import JournalRedisBackend
    hpo_core.logging.set_verbosity(logging.ERROR)
    url, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    storage = hpo_core.storages.JournalStorage(JournalRedisBackend(url, prefix="outage"),
                                               heartbeat_interval=2.0, grace_period=8.0)
    study = hpo_core.load_study(study_name="outage", storage=storage,
                                sampler=hpo_core.samplers.TPESampler(seed=seed))
    def objective(trial):
        x = trial.suggest_float("x", -5, 5)
        trial.report(x, 0)
        time.sleep(0.03)
        return x * x
    study.optimize(objective, n_trials=n)
    print("done")
"""


def _count(url: str) -> int:
    try:
        trials = hpo_core.load_study(study_name="outage", storage=_storage(url, heartbeat_interval=None)).trials
    except Exception:  # noqa: BLE001 - the server is away
        return -1
    return sum(t.state == TrialState.COMPLETE for t in trials)


@pytest.mark.slow
def test_redis_journal_restart_mid_run_loses_nothing(private_redis: PrivateRedis) -> None:
    hpo_core.create_study(storage=_storage(private_redis.url), study_name="outage")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    n_workers, n_trials = 3, 60
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKER), private_redis.url, str(n_trials), str(k)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(n_workers)]
    try:
        deadline = time.monotonic() + 120
        while _count(private_redis.url) < 30:
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
            time.sleep(0.1)
        private_redis.stop()  # the workers' calls fail and retry meanwhile
        time.sleep(3)
        private_redis.start()  # the journal comes back from the append-only file
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
        assert out.strip() == "done"
        assert "StaleTrialWarning" not in err
    trials = hpo_core.load_study(study_name="outage", storage=_storage(private_redis.url)).trials
    assert [t.number for t in trials] == list(range(n_workers * n_trials))
    odd = [(t.number, t.state.name) for t in trials
           if t.state != TrialState.COMPLETE or t.value != t.params["x"] * t.params["x"]
           or t.intermediate_values != {0: t.params["x"]}]
    assert odd == []


def test_redis_journal_append_with_lost_answer_lands_once(private_redis: PrivateRedis) -> None:
    import redis

    proxy = CuttingProxy("127.0.0.1", private_redis.port, b"RPUSH")
    try:
        storage = _storage(f"redis://127.0.0.1:{proxy.port}", heartbeat_interval=None)
        study = hpo_core.create_study(storage=storage, study_name="outage")
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        proxy.armed.set()
        study.tell(trial, x)  # pushed, answer lost, retried: the retry finds it there
        assert proxy.cut.is_set()
        (frozen,) = study.trials
        assert frozen.state == TrialState.COMPLETE and frozen.value == x
        entries = redis.Redis(port=private_redis.port).lrange("outage:hpo_core:journal", 0, -1)
        ids = [e.split(b'"_a":"', 1)[1][:32] for e in entries]
        assert len(ids) == len(set(ids))  # no entry pushed twice
    finally:
        proxy.close()
