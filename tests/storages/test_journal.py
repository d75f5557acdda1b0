"""The journal storage passes the storage contract on each backend: a file with either
lock, Redis (a key prefix per test), and a backend written against the interface
alone; its arguments, public names, file backend and snapshots."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hpo_core.exceptions import StorageError
from hpo_core.storages._journal._storage import snapshot_due
from hpo_core.storages.journal import (
    BaseJournalBackend,
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
    JournalRedisBackend,
    JournalStorage,
)
from hpo_core.testing import StorageContract
from hpo_core.testing.storages import history_record
from hpo_core.trial import StudyDirection, TrialState

MIN, COMPLETE = StudyDirection.MINIMIZE, TrialState.COMPLETE


class TestJournalFileSymlinkLock(StorageContract):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "journal.log")

    def make_storage(self) -> JournalStorage:
        return JournalStorage(JournalFileBackend(self.path, lock_obj=JournalFileSymlinkLock(self.path)))


class TestJournalFileOpenLock(StorageContract):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "journal.log")

    def make_storage(self) -> JournalStorage:
        return JournalStorage(JournalFileBackend(self.path, lock_obj=JournalFileOpenLock(self.path)))


@pytest.mark.redis
class TestJournalRedis(StorageContract):
    @pytest.fixture(autouse=True)
    def _prefix(self, redis_url: str, redis_prefix: str) -> None:
        self.url, self.prefix = redis_url, redis_prefix

    def make_storage(self) -> JournalStorage:
        return JournalStorage(JournalRedisBackend(self.url, prefix=self.prefix))


class _ListBackend(BaseJournalBackend):
    """A backend written against the interface alone (Optuna's): a list in this process,
    shared by name so that a pickled copy reads the same list. No snapshots."""

    logs: dict[str, list[dict[str, Any]]] = {}

    def __init__(self, name: str):
        self.name = name
        self.logs.setdefault(name, [])
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"])  # type: ignore[misc]

    def read_logs(self, log_number_from: int) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(e)) for e in self.logs[self.name][log_number_from:]]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        with self._lock:
            self.logs[self.name].extend(json.loads(json.dumps(e)) for e in logs)


class TestJournalCustomBackend(StorageContract):
    @pytest.fixture(autouse=True)
    def _name(self, request: pytest.FixtureRequest) -> Iterator[None]:
        self.name = request.node.nodeid
        yield
        _ListBackend.logs.pop(self.name, None)

    def make_storage(self) -> JournalStorage:
        return JournalStorage(_ListBackend(self.name))


# --------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("kwargs, error, match", [
    ({"heartbeat_interval": 0}, ValueError, "heartbeat_interval"),
    ({"heartbeat_interval": "1"}, TypeError, "heartbeat_interval"),
    ({"grace_period": -1.0}, ValueError, "grace_period"),
    ({"heartbeat_stale_trial_callback": 3}, TypeError, "heartbeat_stale_trial_callback"),
    ({"snapshot_interval": 0}, ValueError, "snapshot_interval"),
    ({"snapshot_interval": 1.5}, TypeError, "snapshot_interval"),
    ({"flush_delay": -1}, ValueError, "flush_delay"),
])
def test_journal_storage_bad_argument_raises(
    tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), **kwargs)


def test_journal_storage_arguments_are_kept(tmp_path: Path) -> None:
    def callback(study: Any, trial: Any) -> None: ...

    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), heartbeat_interval=2.0,
                             heartbeat_stale_trial_callback=callback)
    assert (storage.heartbeat_interval, storage.grace_period, storage.heartbeat_stale_trial_callback) == (
        2.0, 4.0, callback)
    assert storage.failed_trial_callback is callback and storage.get_heartbeat_stale_trial_callback() is callback
    default = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))
    assert (default.heartbeat_interval, default.grace_period) == (60.0, 120.0)  # as RDBStorage
    assert JournalStorage(JournalFileBackend(str(tmp_path / "j.log")), heartbeat_interval=None).grace_period is None


def test_journal_storage_needs_a_backend() -> None:
    with pytest.raises(TypeError, match="log_storage"):
        JournalStorage("journal.log")  # type: ignore[arg-type]


def test_journal_backends_check_their_arguments(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="file_path"):
        JournalFileBackend(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lock_obj"):
        JournalFileBackend(str(tmp_path / "j.log"), lock_obj="lock")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fsync"):
        JournalFileBackend(str(tmp_path / "j.log"), fsync=1)  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="journal file"):
        JournalFileBackend(str(tmp_path / "missing" / "j.log"))
    with pytest.raises(TypeError, match="url"):
        JournalRedisBackend(6379)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="use_cluster"):
        JournalRedisBackend("redis://localhost", use_cluster="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log_number_from"):
        JournalFileBackend(str(tmp_path / "j.log")).read_logs(-1)


def test_journal_public_names_match_optuna() -> None:
    import hpo_core.storages
    import hpo_core.storages.journal as journal

    optuna = pytest.importorskip("optuna")
    assert hpo_core.storages.JournalStorage is JournalStorage
    for name in optuna.storages.journal.__all__:
        ours, theirs = getattr(journal, name), getattr(optuna.storages.journal, name)
        ours_params = list(inspect.signature(ours).parameters.values())
        theirs_params = list(inspect.signature(theirs).parameters.values())
        # Same leading names and defaults; ours may add keyword-only arguments.
        assert [(p.name, p.default) for p in ours_params[: len(theirs_params)]] == [
            (p.name, p.default) for p in theirs_params], name
        assert all(p.kind == p.KEYWORD_ONLY for p in ours_params[len(theirs_params):]), name
    for method in ("read_logs", "append_logs"):
        assert list(inspect.signature(getattr(BaseJournalBackend, method)).parameters) == list(
            inspect.signature(getattr(optuna.storages.journal.BaseJournalBackend, method)).parameters)


# --------------------------------------------------------------------------- the file backend
def test_journal_file_read_logs_by_number(tmp_path: Path) -> None:
    path = str(tmp_path / "j.log")
    backend = JournalFileBackend(path)
    backend.append_logs([{"i": i} for i in range(5)])
    backend.append_logs([{"i": 5}])
    assert [e["i"] for e in backend.read_logs(0)] == list(range(6))
    assert [e["i"] for e in backend.read_logs(4)] == [4, 5]
    assert list(backend.read_logs(6)) == [] and list(backend.read_logs(60)) == []
    fresh = JournalFileBackend(path)  # knows no offsets: finds entry 3 by counting lines
    assert [e["i"] for e in fresh.read_logs(3)] == [3, 4, 5]


def test_journal_file_damaged_line_reads_as_empty_entry(tmp_path: Path) -> None:
    path = tmp_path / "j.log"
    path.write_bytes(b'{"i":0}\nnot json\n[1,2]\n\xff\xfe\n{"i":4}\n')
    assert list(JournalFileBackend(str(path)).read_logs(0)) == [{"i": 0}, {}, {}, {}, {"i": 4}]


def test_journal_file_snapshot_round_trip(tmp_path: Path) -> None:
    backend = JournalFileBackend(str(tmp_path / "j.log"))
    assert backend.load_snapshot() is None
    backend.save_snapshot(b"one")
    backend.save_snapshot(b"two")
    assert backend.load_snapshot() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.log", "j.log.snapshot"]


@pytest.mark.redis
def test_journal_redis_snapshot_opens_the_journal(redis_url: str, redis_prefix: str) -> None:
    def storage(**kwargs: Any) -> JournalStorage:
        return JournalStorage(JournalRedisBackend(redis_url, prefix=redis_prefix), **kwargs)

    writer = storage(snapshot_interval=10)
    sid = writer.create_new_study([MIN], "s")
    for i in range(12):
        tid, _ = writer.create_new_trial(sid)
        writer.set_trial_state_values(tid, COMPLETE, [float(i)])
    assert JournalRedisBackend(redis_url, prefix=redis_prefix).load_snapshot() is not None
    reader = storage()
    assert history_record(reader.get_history(sid)) == history_record(writer.get_history(sid))
    assert reader.get_study_id_from_name("s") == sid


def test_journal_snapshot_spacing_grows_with_the_journal() -> None:
    due = [p + 1 for p in range(1_000_000) if snapshot_due(p, 1_000)]
    assert due[:3] == [1_000, 2_000, 3_000]
    assert max(b - a for a, b in zip(due, due[1:]) if b <= 40_000) == 1_000
    assert all(b - a <= max(1_000, b // 20) for a, b in zip(due, due[1:]))
    # 40 up to 40,000 entries, then about 20 per doubling (not 960 more, one per thousand).
    assert len(due) <= 40 + 20 * 5
