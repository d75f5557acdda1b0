"""The journal storage across real processes and real failures: several writers on one
file and on one Redis prefix, a writer cut off mid-line, a lock left behind, snapshots
(used, damaged, of another journal), forked and pickled storages, and a worker killed
in the middle of a trial."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _workers import spawn as _spawn  # tests/storages/_workers.py
from _workers import wait_for as _wait_for  # tests/storages/_workers.py

import hpo_core
from hpo_core.distributions import FloatDistribution
from hpo_core.exceptions import HpoWarning, StorageError
from hpo_core.storages.journal import (
    BaseJournalBackend,
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
    JournalStorage,
)
from hpo_core.testing.storages import history_record, trial_record
from hpo_core.trial import StudyDirection, TrialState

ROOT = Path(__file__).resolve().parents[2]
MIN = StudyDirection.MINIMIZE






@contextlib.contextmanager
def _hpo_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture hpo_core's warnings (its logger has its own handler and does not propagate)."""
    logger = logging.getLogger("hpo_core")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="hpo_core"):
            yield
    finally:
        logger.removeHandler(caplog.handler)


def _file_storage(path: Path, **kwargs: Any) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)), **kwargs)


class _NoSnapshots(BaseJournalBackend):
    """A backend that passes reads and appends through and keeps no snapshot: what a
    full replay reads."""

    def __init__(self, inner: JournalFileBackend):
        self.inner = inner

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        return self.inner.read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self.inner.append_logs(logs)


# --------------------------------------------------------------------------- several processes
WORKER = """
    import sys, logging, pathlib, time
    import hpo_core
    from hpo_core.storages.journal import (
        JournalFileBackend, JournalFileOpenLock, JournalRedisBackend, JournalStorage)
    hpo_core.logging.set_verbosity(logging.WARNING)
    where, lock, kind, me, barrier = sys.argv[1:6]
    barrier = pathlib.Path(barrier)
    (barrier / me).touch()  # start together: no worker can finish the study alone
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    if lock == "redis":
        url, prefix = where.split("|")
        backend = JournalRedisBackend(url, prefix=prefix)
    elif lock == "open":
        backend = JournalFileBackend(where, lock_obj=JournalFileOpenLock(where))
    else:
        backend = JournalFileBackend(where)
    storage = JournalStorage(backend, snapshot_interval=97)
    if kind == "grid":
        sampler = hpo_core.samplers.GridSampler({"a": list(range(6)), "b": list(range(10))})
        n = 100
    elif kind == "queue":  # 40 enqueued trials, claimed by four workers
        sampler = hpo_core.samplers.RandomSampler()
        n = 10
    else:
        sampler = hpo_core.samplers.RandomSampler()
        n = 50
    study = hpo_core.create_study(storage=storage, study_name="shared", load_if_exists=True, sampler=sampler)
    def objective(trial):
        a = trial.suggest_int("a", 0, 5)
        b = trial.suggest_int("b", 0, 9)
        trial.report(float(a), 0)
        trial.set_user_attr("worker", me)
        time.sleep(0.005)
        return a * 10 + b
    study.optimize(objective, n_trials=n)
    print("done")
"""


def _run_four(where: str, lock: str, kind: str, tmp_path: Path) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [_spawn(WORKER, where, lock, kind, str(k), str(barrier)) for k in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.strip() == "done", err


def _check_shared(storage: JournalStorage, kind: str) -> None:
    trials = hpo_core.load_study(study_name="shared", storage=storage).trials
    expected = {"random": 200, "grid": 60, "queue": 40}[kind]
    assert [t.number for t in trials] == list(range(expected))
    assert len({t.trial_id for t in trials}) == expected
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert all(t.value == t.params["a"] * 10 + t.params["b"] for t in trials)
    assert all(t.intermediate_values == {0: float(t.params["a"])} for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) > 1  # the work was shared
    if kind == "grid":
        assert len({(t.params["a"], t.params["b"]) for t in trials}) == 60  # each point once
    if kind == "queue":  # each queued trial claimed and run once
        assert sorted((t.params["a"], t.params["b"]) for t in trials) == [(a, b) for a in range(4) for b in range(10)]


@pytest.mark.slow
@pytest.mark.parametrize("lock, kind", [
    ("symlink", "random"), ("symlink", "grid"), ("symlink", "queue"), ("open", "random")])
def test_journal_file_four_processes_lose_and_duplicate_nothing(tmp_path: Path, lock: str, kind: str) -> None:
    path = tmp_path / "journal.log"
    study = hpo_core.create_study(storage=_file_storage(path), study_name="shared")
    if kind == "queue":
        for a in range(4):
            for b in range(10):
                study.enqueue_trial({"a": a, "b": b})
    _run_four(str(path), lock, kind, tmp_path)
    _check_shared(_file_storage(path), kind)
    # A full replay (no snapshot) and the snapshot the workers saved agree.
    full = JournalStorage(_NoSnapshots(JournalFileBackend(str(path))))
    sid = full.get_study_id_from_name("shared")
    assert (path.parent / "journal.log.snapshot").exists()
    assert history_record(full.get_history(sid)) == history_record(_file_storage(path).get_history(sid))


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("kind", ["random", "grid"])
def test_journal_redis_four_processes_lose_and_duplicate_nothing(
    redis_url: str, redis_prefix: str, tmp_path: Path, kind: str
) -> None:
    from hpo_core.storages.journal import JournalRedisBackend

    def storage() -> JournalStorage:
        return JournalStorage(JournalRedisBackend(redis_url, prefix=redis_prefix))

    hpo_core.create_study(storage=storage(), study_name="shared")
    _run_four(f"{redis_url}|{redis_prefix}", "redis", kind, tmp_path)
    _check_shared(storage(), kind)


# --------------------------------------------------------------------------- torn lines
def _one_trial(storage: JournalStorage, sid: int, value: float) -> int:
    tid, _ = storage.create_new_trial(sid)
    storage.set_trial_param(tid, "x", value, FloatDistribution(0.0, 1.0))
    storage.set_trial_state_values(tid, TrialState.COMPLETE, [value])
    return tid


def test_journal_torn_last_line_is_ignored_then_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.log"
    writer = _file_storage(path)
    sid = writer.create_new_study([MIN], "s")
    _one_trial(writer, sid, 0.25)
    reader = _file_storage(path)
    assert reader.get_history(sid).n == 1
    # A writer killed in the middle of its line: no newline, half an entry.
    with open(path, "ab") as f:
        f.write(b'{"op":"trials","sid":0,"t":1.0,"own')
    assert reader.get_history(sid).n == 1  # the incomplete line waits
    assert _file_storage(path).get_history(sid).n == 1
    with _hpo_log(caplog):
        _one_trial(writer, sid, 0.5)  # ends the torn line first, then writes its own
    assert "incomplete" in caplog.text
    lines = path.read_bytes().split(b"\n")  # study, trial, end, torn, trial, end, ""
    assert lines[3] == b'{"op":"trials","sid":0,"t":1.0,"own' and lines[4].startswith(b'{"op":"trials"')
    assert len(lines) == 7 and lines[-1] == b""
    for storage in (writer, reader, _file_storage(path)):
        assert [t.value for t in storage.get_all_trials(sid)] == [0.25, 0.5]
    assert history_record(reader.get_history(sid)) == history_record(_file_storage(path).get_history(sid))


def test_journal_entry_written_without_its_newline_counts_once_completed(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    writer = _file_storage(path)
    sid = writer.create_new_study([MIN], "s")
    reader = _file_storage(path)
    reader.get_history(sid)
    # The whole entry but not its newline: invisible until the next append ends it.
    entry = {"op": "study_attr", "sid": sid, "kind": "user", "key": "k", "v": "1"}
    with open(path, "ab") as f:
        f.write(json.dumps(entry).encode())
    assert reader.get_study_attrs(sid, "user") == {}
    _one_trial(writer, sid, 0.5)
    for storage in (writer, reader, _file_storage(path)):
        assert storage.get_study_attrs(sid, "user") == {"k": 1}
        assert storage.get_history(sid).n == 1


# --------------------------------------------------------------------------- locks
LOCKS = [JournalFileSymlinkLock, JournalFileOpenLock]


def _plant_lock(lock_cls: type, path: Path, holder: str, age: float) -> Path:
    lock_file = Path(str(path) + ".lock")
    if lock_cls is JournalFileSymlinkLock:
        os.symlink(holder, lock_file)
    else:
        lock_file.write_text(holder)
    t = time.time() - age
    os.utime(lock_file, (t, t), follow_symlinks=False)
    return lock_file


@pytest.mark.parametrize("lock_cls", LOCKS)
def test_journal_lock_older_than_grace_period_is_broken(
    tmp_path: Path, lock_cls: type, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "journal.log"
    storage = JournalStorage(JournalFileBackend(str(path), lock_obj=lock_cls(str(path), grace_period=1)))
    lock_file = _plant_lock(lock_cls, path, "another-host:4242:99/0", age=5.0)
    t0 = time.monotonic()
    with _hpo_log(caplog):
        storage.create_new_study([MIN], "s")
    assert time.monotonic() - t0 < 5.0
    assert "Broke the journal lock" in caplog.text and "grace period" in caplog.text
    assert not lock_file.exists() and not list(tmp_path.glob("*.broken"))
    assert storage.get_study_id_from_name("s") == 0


@pytest.mark.parametrize("lock_cls", LOCKS)
def test_journal_lock_of_live_holder_is_waited_for(tmp_path: Path, lock_cls: type) -> None:
    path = tmp_path / "journal.log"
    storage = JournalStorage(JournalFileBackend(str(path), lock_obj=lock_cls(str(path), grace_period=30)))
    lock_file = _plant_lock(lock_cls, path, "another-host:4242:99/0", age=0.0)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (storage.create_new_study([MIN], "s"), done.set()))
    thread.start()
    assert not done.wait(0.5)  # a fresh lock of a live holder elsewhere: wait
    lock_file.unlink()  # the holder releases it
    assert done.wait(10.0)
    thread.join()


@pytest.mark.parametrize("lock_cls", LOCKS)
def test_journal_lock_of_dead_local_process_is_broken_at_once(tmp_path: Path, lock_cls: type) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # its pid names no live process now
    path = tmp_path / "journal.log"
    storage = JournalStorage(JournalFileBackend(str(path), lock_obj=lock_cls(str(path), grace_period=None)))
    _plant_lock(lock_cls, path, f"{socket.gethostname()}:{proc.pid}:1/0", age=0.0)
    t0 = time.monotonic()
    storage.create_new_study([MIN], "s")
    assert time.monotonic() - t0 < 5.0


@pytest.mark.parametrize("lock_cls", LOCKS)
def test_journal_lock_grace_period_is_checked(tmp_path: Path, lock_cls: type) -> None:
    with pytest.raises(ValueError, match="grace_period"):
        lock_cls(str(tmp_path / "j"), grace_period=0)
    with pytest.raises(TypeError, match="grace_period"):
        lock_cls(str(tmp_path / "j"), grace_period="30")


# --------------------------------------------------------------------------- snapshots
def _fill(storage: JournalStorage, n: int) -> int:
    sid = storage.create_new_study([MIN], "s")
    for i in range(n):
        tid, _ = storage.create_new_trial(sid)
        storage.set_trial_param(tid, "x", i / n, FloatDistribution(0.0, 1.0))
        storage.set_trial_intermediate_value(tid, 1, float(i))
        storage.set_trial_attr(tid, "user", "i", i)
        storage.set_trial_state_values(tid, TrialState.COMPLETE if i % 3 else TrialState.PRUNED,
                                       [float(i)] if i % 3 else None)
    storage.create_new_trial(sid)  # one RUNNING
    return sid


def test_journal_snapshot_is_saved_and_opens_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    sid = _fill(_file_storage(path, snapshot_interval=50), 40)  # 1 + 40 * 5 + 1 entries
    snapshot = Path(str(path) + ".snapshot")
    assert snapshot.exists()
    full = JournalStorage(_NoSnapshots(JournalFileBackend(str(path))))
    expected = history_record(full.get_history(sid))
    # Damage an early entry (covered by the snapshot) in place: a full replay would
    # now skip it; a storage opened from the snapshot never reads it.
    lines = path.read_bytes().split(b"\n")
    lines[2] = b" " * len(lines[2])
    path.write_bytes(b"\n".join(lines))
    opened = _file_storage(path)
    assert history_record(opened.get_history(sid)) == expected
    assert opened._state.log_pos == len(lines) - 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "format", "other-journal"])
def test_journal_unusable_snapshot_falls_back_to_full_replay(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "journal.log"
    sid = _fill(_file_storage(path, snapshot_interval=50), 40)
    snapshot = Path(str(path) + ".snapshot")
    data = snapshot.read_bytes()
    if damage == "garbage":
        snapshot.write_bytes(b"not a snapshot at all")
    elif damage == "truncated":
        snapshot.write_bytes(data[: len(data) // 2])
    elif damage == "format":
        snapshot.write_bytes(data.replace(b'"format": 1', b'"format": 99', 1))
    else:  # a snapshot of another journal with as many entries
        other = tmp_path / "other.log"
        _fill(_file_storage(other, snapshot_interval=50), 39)
        snapshot.write_bytes(Path(str(other) + ".snapshot").read_bytes())
    expected = history_record(JournalStorage(_NoSnapshots(JournalFileBackend(str(path)))).get_history(sid))
    with pytest.warns(HpoWarning, match="snapshot is not usable"):
        opened = _file_storage(path)
        history = opened.get_history(sid)
    assert history_record(history) == expected


def test_journal_snapshot_interval_none_saves_none(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    _fill(_file_storage(path, snapshot_interval=None), 30)
    assert not Path(str(path) + ".snapshot").exists()


# --------------------------------------------------------------------------- fork, pickle, threads
def test_journal_forked_child_writes_as_a_worker_of_its_own(tmp_path: Path) -> None:
    storage = _file_storage(tmp_path / "journal.log")
    sid = storage.create_new_study([MIN], "s")
    _one_trial(storage, sid, 0.25)
    pid = os.fork()
    if pid == 0:  # the child: same storage object, its own token and entries
        try:
            _one_trial(storage, sid, 0.5)
            os._exit(0 if storage.get_history(sid).n == 2 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _one_trial(storage, sid, 0.75)
    assert [t.value for t in storage.get_all_trials(sid)] == [0.25, 0.5, 0.75]


def test_journal_pickled_storage_reopens_the_backend(tmp_path: Path) -> None:
    storage = _file_storage(tmp_path / "journal.log", heartbeat_interval=5.0, snapshot_interval=7)
    sid = storage.create_new_study([MIN], "s")
    _one_trial(storage, sid, 0.25)
    other = pickle.loads(pickle.dumps(storage))
    assert (other.heartbeat_interval, other.grace_period, other.snapshot_interval) == (5.0, 10.0, 7)
    _one_trial(other, sid, 0.5)
    assert [trial_record(t) for t in storage.get_all_trials(sid)] == [trial_record(t) for t in other.get_all_trials(sid)]


def test_journal_threads_share_one_storage(tmp_path: Path) -> None:
    storage = _file_storage(tmp_path / "journal.log")
    study = hpo_core.create_study(storage=storage, sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=80, n_jobs=4)
    trials = study.trials
    assert [t.number for t in trials] == list(range(80))
    assert all(t.state == TrialState.COMPLETE and t.value == t.params["x"] for t in trials)


def test_journal_reading_an_optuna_journal_raises(tmp_path: Path) -> None:
    path = tmp_path / "optuna.log"
    path.write_text(json.dumps({"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}) + "\n")
    with pytest.raises(StorageError, match="Optuna"):
        _file_storage(path).get_all_studies()


# --------------------------------------------------------------------------- dead workers
HANGING_WORKER = """
    import sys, time, pathlib, logging
    import hpo_core
    from hpo_core.storages._journal import _trial_ops
    from hpo_core.storages.journal import JournalFileBackend, JournalStorage
    hpo_core.logging.set_verbosity(logging.WARNING)
    path, marker, hb, remote = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
    if remote:  # pretend to run on another host: only the heartbeat can tell it died
        _trial_ops.trial_owner = lambda: "another-host:4242:99"
    storage = JournalStorage(JournalFileBackend(path), heartbeat_interval=hb)
    study = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 3:
            marker.write_text("in trial 3")
            time.sleep(600)
        return x
    study.optimize(objective, n_trials=10)
"""


def _heartbeats_of(path: Path) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in path.read_bytes().splitlines()]
    return [e for e in entries if e.get("op") == "heartbeat"]


@pytest.mark.slow
def test_journal_killed_worker_on_another_host_failed_after_grace_period(tmp_path: Path) -> None:
    path, marker = tmp_path / "journal.log", tmp_path / "marker"
    proc = _spawn(HANGING_WORKER, str(path), str(marker), "0.2", "1")
    _wait_for(marker, proc)
    time.sleep(0.6)  # a few heartbeats
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert any(3 in e["ids"] for e in _heartbeats_of(path))
    storage = _file_storage(path, heartbeat_interval=0.2, grace_period=3.0)
    sid = storage.get_study_id_from_name("s")
    assert storage.fail_stale_trials(sid) == []  # its last heartbeat is recent
    time.sleep(3.3)
    assert storage.fail_stale_trials(sid) == [3]
    trial = storage.get_all_trials(sid)[3]
    assert trial.state == TrialState.FAIL
    assert trial.system_attrs["fail_reason"].startswith("stale trial: no heartbeat for")
    assert storage.fail_stale_trials(sid) == []  # once


@pytest.mark.slow
def test_journal_killed_local_worker_failed_at_once_and_study_resumes(tmp_path: Path) -> None:
    path, marker = tmp_path / "journal.log", tmp_path / "marker"
    proc = _spawn(HANGING_WORKER, str(path), str(marker), "0.2", "0")
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    storage = _file_storage(path, heartbeat_interval=0.2)
    study = hpo_core.load_study(study_name="s", storage=storage)  # fails stale trials
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3 + [TrialState.FAIL]
    assert "is gone" in trials[3].system_attrs["fail_reason"]
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert [t.number for t in study.trials] == list(range(7))


@pytest.mark.slow
def test_journal_hung_worker_failed_by_heartbeat(tmp_path: Path) -> None:
    path, marker = tmp_path / "journal.log", tmp_path / "marker"
    proc = _spawn(HANGING_WORKER, str(path), str(marker), "0.2", "0")
    try:
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGSTOP)  # alive but silent
        storage = _file_storage(path, heartbeat_interval=0.2, grace_period=2.0)
        sid = storage.get_study_id_from_name("s")
        assert storage.fail_stale_trials(sid) == []
        time.sleep(2.3)
        assert storage.fail_stale_trials(sid) == [3]
        assert "heartbeat" in storage.get_all_trials(sid)[3].system_attrs["fail_reason"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
