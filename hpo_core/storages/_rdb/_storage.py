"""Relational storage on SQLAlchemy Core: SQLite (the embedded default), PostgreSQL,
MySQL through one code path.

:class:`RDBStorage` opens the database (:class:`~hpo_core.storages._rdb._engine.Database`:
transactions, retries, the schema check), holds the studies and their attributes, and
keeps each study's history in a local cache brought up to date by a change-sequence
sync (``_sync``). Its trial methods are in :mod:`~hpo_core.storages._rdb._trial_ops`.

Transactions: every write is one transaction, retried on transient lock errors and,
for up to ``reconnect_timeout``, on a lost or refused connection (reads too). On
SQLite, writes open with ``BEGIN IMMEDIATE`` (the write lock is taken up front, so two
writers never deadlock upgrading a read lock) and the file runs in WAL mode with a
busy timeout, so readers never block writers and several processes share one file
without "database is locked" reaching the user. Reads of the history run in one
snapshot transaction.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hpo_core._validation import check_bool, check_real, format_error
from hpo_core.exceptions import DuplicatedStudyError, StorageError, StudyNotFoundError
from hpo_core.history import History
from hpo_core.storages._base import FrozenStudy, check_attr
from hpo_core.storages._callbacks import stale_trial_callback
from hpo_core.storages._checks import check_name, decode_json, encode_json
from hpo_core.storages._heartbeat import Heartbeats
from hpo_core.storages._pending import PendingParams
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._rdb import _trials as T
from hpo_core.storages._rdb._engine import Database
from hpo_core.storages._rdb._sync import StudyCache, apply_rows, read_changes
from hpo_core.storages._rdb._trial_ops import TrialOps
from hpo_core.trial._state import StudyDirection

__all__ = ["RDBStorage"]

T_ = TypeVar("T_")


class RDBStorage(TrialOps):
    """Storage in a relational database, by SQLAlchemy URL.

    Args:
        url: ``"sqlite:///path/to/file.db"``, ``"postgresql://user@host:5432/db"``,
            ``"mysql+pymysql://..."``.
        engine_kwargs: Extra arguments for ``sqlalchemy.create_engine``.
        skip_compatibility_check: Accepted for Optuna's code; opening always checks
            the schema version: an older one is upgraded in place, a newer one refused
            (writing a schema this hpo_core does not know would damage it).
        heartbeat_interval: Seconds between heartbeats of the RUNNING trials this
            process owns (created by ``optimize``, ``ask`` or claimed from the queue;
            one write per interval for all of them, from one background thread); None
            turns heartbeats off. Default 60.
        grace_period: A RUNNING trial whose last heartbeat is older than this is marked
            FAIL by the next worker that checks. Default ``2 * heartbeat_interval``.
        heartbeat_stale_trial_callback: Called as ``callback(study, frozen_trial)``
            for each trial a worker marks FAIL as stale, e.g.
            ``RetryHeartbeatStaleTrialCallback()`` to run its parameters again.
            Default None.
        failed_trial_callback: The deprecated name of ``heartbeat_stale_trial_callback``
            (a FutureWarning, as in Optuna 4.9+); give only one of them.
        skip_table_creation: Accepted for Optuna's code: tables are created only where
            missing (no DDL runs on a database that has them), so a user without DDL
            rights opens an existing database either way.
        busy_timeout: Seconds a writer waits for locks (SQLite's file lock, deadlocks,
            serialization failures) before the write fails (default 60).
        reconnect_timeout: Seconds every read and write keeps retrying, with backoff,
            while the database cannot be reached (a restart, a failover, a dropped
            link) before it raises StorageError (default 300), so that a computed
            result is not lost because the database blinked. Opening the database
            waits at most 10 s of it, so that a wrong host or port fails fast.
        flush_delay: Parameters set by ``suggest_*`` are written together with the
            trial's next write (a report, an attribute, its end), before this process
            reads the study again, and at the latest after this many seconds (default
            0.1), so that other workers see a running trial's parameters.

    Example:
        >>> import hpo_core
        >>> storage = hpo_core.storages.RDBStorage("sqlite:///example.db")
        >>> study = hpo_core.create_study(storage=storage, study_name="demo", load_if_exists=True)
    """

    def __init__(
        self,
        url: str,
        engine_kwargs: dict[str, Any] | None = None,
        skip_compatibility_check: bool = False,
        *,
        heartbeat_interval: float | None = 60.0,
        grace_period: float | None = None,
        heartbeat_stale_trial_callback: Any = None,
        failed_trial_callback: Any = None,
        skip_table_creation: bool = False,
        busy_timeout: float = 60.0,
        flush_delay: float = 0.1,
        reconnect_timeout: float = 300.0,
    ):
        if not isinstance(url, str) or "://" not in url:
            raise ValueError(format_error("url", "a database URL such as 'sqlite:///study.db'", url))
        self.heartbeat_interval = check_real("heartbeat_interval", heartbeat_interval, low=0.0, low_open=True, allow_none=True, owner="RDBStorage")
        if grace_period is None and heartbeat_interval is not None:
            grace_period = 2.0 * heartbeat_interval
        self.grace_period = check_real("grace_period", grace_period, low=0.0, low_open=True, allow_none=True, owner="RDBStorage")
        self._busy_timeout: float = check_real("busy_timeout", busy_timeout, low=0.0, owner="RDBStorage")  # type: ignore[assignment]
        self.flush_delay: float = check_real("flush_delay", flush_delay, low=0.0, owner="RDBStorage")  # type: ignore[assignment]
        self.reconnect_timeout: float = check_real("reconnect_timeout", reconnect_timeout, low=0.0, owner="RDBStorage")  # type: ignore[assignment]
        self.failed_trial_callback = stale_trial_callback(
            heartbeat_stale_trial_callback, failed_trial_callback, "RDBStorage")
        self.skip_compatibility_check = check_bool("skip_compatibility_check", skip_compatibility_check, owner="RDBStorage")
        self.skip_table_creation = check_bool("skip_table_creation", skip_table_creation, owner="RDBStorage")
        self.url = url
        self._engine_kwargs = dict(engine_kwargs or {})
        self._setup()

    # ------------------------------------------------------------ connection
    def _setup(self) -> None:
        self._db = Database(self.url, self._engine_kwargs, self._busy_timeout, self.reconnect_timeout)
        self._caches = {}
        self._caches_lock = threading.Lock()
        self._dirs: dict[int, list[StudyDirection]] = {}
        self._trial_loc = {}
        self._finished = {}
        self._pending = PendingParams(self._flush_pending, self.flush_delay)
        self._heartbeats = Heartbeats(self.record_heartbeats, self.heartbeat_interval)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._db.after_fork()
        self._pending.after_fork()
        self._heartbeats.after_fork()

    def _read_snapshot(self, fn: Callable[[Connection], T_]) -> T_:
        """Run ``fn`` in one transaction that sees one snapshot for all its statements
        (PostgreSQL's default READ COMMITTED gives each statement its own)."""
        return self._db.read(fn, isolation_level=None if self._db.is_sqlite else "REPEATABLE READ")

    def __getstate__(self) -> dict[str, Any]:
        return {
            "url": self.url, "_engine_kwargs": self._engine_kwargs,
            "heartbeat_interval": self.heartbeat_interval, "grace_period": self.grace_period,
            "_busy_timeout": self._busy_timeout, "flush_delay": self.flush_delay,
            "failed_trial_callback": self.failed_trial_callback, "reconnect_timeout": self.reconnect_timeout,
            "skip_compatibility_check": self.skip_compatibility_check,
            "skip_table_creation": self.skip_table_creation,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"failed_trial_callback": None, "reconnect_timeout": 300.0,
                              "skip_compatibility_check": False, "skip_table_creation": False, **state})
        self._setup()

    def close(self) -> None:
        self._heartbeats.close()
        self._pending.close()
        if self.__dict__.get("_scoped_session") is not None:
            self._scoped_session.remove()
        self._db.close()

    # ------------------------------------------------------------ Optuna's RDBStorage API
    @property
    def engine(self) -> sa.engine.Engine:
        """The SQLAlchemy engine of the database."""
        return self._db.engine

    @property
    def engine_kwargs(self) -> dict[str, Any]:
        """The extra ``sqlalchemy.create_engine`` arguments given."""
        return self._engine_kwargs

    @property
    def scoped_session(self) -> Any:
        """A ``sqlalchemy.orm.scoped_session`` on the engine (made on first use), as
        Optuna's ``RDBStorage`` has; hpo_core itself writes through SQLAlchemy Core."""
        if self.__dict__.get("_scoped_session") is None:
            from sqlalchemy import orm

            self._scoped_session = orm.scoped_session(orm.sessionmaker(bind=self._db.engine))
        return self._scoped_session

    def remove_session(self) -> None:
        """Close this thread's session of :attr:`scoped_session`, if one was made."""
        if self.__dict__.get("_scoped_session") is not None:
            self._scoped_session.remove()

    def get_current_version(self) -> str:
        """The schema version stamped in the database (hpo_core's numbering: "1", "2", ...)."""
        v = S.version_table.c.schema_version
        return str(self._db.read(lambda c: c.execute(sa.select(sa.func.max(v))).scalar()))

    def get_head_version(self) -> str:
        """The schema version of this hpo_core."""
        return str(S.SCHEMA_VERSION)

    def get_all_versions(self) -> list[str]:
        """Every schema version, newest first (as Optuna lists its revisions)."""
        return [str(v) for v in range(S.SCHEMA_VERSION, 0, -1)]

    def upgrade(self) -> None:
        """Upgrade the database's schema to :meth:`get_head_version`. Opening a
        storage already does it (under a lock, in place), so this checks it again."""
        self._db.write(self._db._init_schema_in)

    # --------------------------------------------------------------- studies
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        name = study_name or f"no-name-{time.time_ns()}-{random.getrandbits(32):08x}"
        check_name(name, "study_name")
        dirs = ",".join(str(int(d)) for d in directions)

        def fn(conn: Connection) -> int:
            res = conn.execute(S.studies.insert().values(
                study_name=name, directions=dirs, next_number=0, created_at=time.time(), seq=0))
            return T.inserted_id(res)

        try:
            return self._db.write(fn)
        except IntegrityError:
            raise DuplicatedStudyError(f"A study named {name!r} already exists.") from None
        except StorageError as e:
            if isinstance(e.__cause__, IntegrityError):
                raise DuplicatedStudyError(f"A study named {name!r} already exists.") from None
            raise

    def delete_study(self, study_id: int) -> None:
        self.get_study_name_from_id(study_id)

        def fn(conn: Connection) -> None:
            for t in (S.trial_params, S.trial_attrs, S.trial_intermediate, S.trials, S.study_attrs,
                      S.reservations, S.studies):
                conn.execute(t.delete().where(t.c.study_id == study_id))

        self._db.write(fn)
        with self._caches_lock:
            self._caches.pop(study_id, None)

    def set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        text = encode_json(check_attr(kind, key, value), f"{kind}_attrs[{key!r}]")
        self.get_study_name_from_id(study_id)

        def fn(conn: Connection) -> None:
            t = S.study_attrs
            where = (t.c.study_id == study_id) & (t.c.kind == kind) & (t.c.key == key)
            if conn.execute(t.update().where(where).values(value_json=text)).rowcount == 0:
                conn.execute(t.insert().values(study_id=study_id, kind=kind, key=key, value_json=text))

        self._db.write(fn)

    def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        t = S.study_attrs
        rows = self._db.read(lambda c: c.execute(sa.select(t.c.key, t.c.value_json).where((t.c.study_id == study_id) & (t.c.kind == kind))).all())
        return {k: decode_json(v) for k, v in rows}

    def get_study_id_from_name(self, study_name: str) -> int:
        t = S.studies
        sid = self._db.read(lambda c: c.execute(sa.select(t.c.study_id).where(t.c.study_name == study_name)).scalar())
        if sid is None:
            raise StudyNotFoundError(f"No study named {study_name!r} in {self.url!r}.")
        return int(sid)

    def _study_row(self, study_id: int) -> Any:
        t = S.studies
        row = self._db.read(lambda c: c.execute(sa.select(t).where(t.c.study_id == study_id)).first())
        if row is None:
            raise StudyNotFoundError(f"No study with study_id={study_id!r} in {self.url!r}.")
        return row

    def get_study_name_from_id(self, study_id: int) -> str:
        return str(self._study_row(study_id).study_name)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return [StudyDirection(int(x)) for x in self._study_row(study_id).directions.split(",")]

    def get_all_studies(self) -> list[FrozenStudy]:
        t = S.studies
        rows = self._db.read(lambda c: c.execute(sa.select(t).order_by(t.c.study_id)).all())
        out = []
        for r in rows:
            h = self.get_history(r.study_id)
            out.append(
                FrozenStudy(
                    study_name=r.study_name,
                    study_id=r.study_id,
                    directions=[StudyDirection(int(x)) for x in r.directions.split(",")],
                    n_trials=int(sum(h.state_counts)),
                    user_attrs=self.get_study_attrs(r.study_id, "user"),
                    system_attrs=self.get_study_attrs(r.study_id, "system"),
                    datetime_start=h.frozen(0).datetime_start if h.n and h.states[0] >= 0 else None,
                    best_trial=h.frozen(h.best_row) if h.best_row >= 0 else None,
                )
            )
        return out

    def reserve(self, study_id: int, key: str) -> bool:
        def fn(conn: Connection) -> bool:
            t = S.reservations
            exists = conn.execute(sa.select(t.c.key).where((t.c.study_id == study_id) & (t.c.key == key))).first()
            if exists is not None:
                return False
            conn.execute(t.insert().values(study_id=study_id, key=key))
            return True

        try:
            return self._db.write(fn)
        except (IntegrityError, StorageError) as e:
            if isinstance(e, IntegrityError) or isinstance(e.__cause__, IntegrityError):
                return False
            raise

    # --------------------------------------------------------------- history sync
    def _directions(self, study_id: int) -> list[StudyDirection]:
        dirs = self._dirs.get(study_id)
        if dirs is None:
            dirs = self._dirs[study_id] = self.get_study_directions(study_id)
        return dirs

    def _cache(self, study_id: int) -> StudyCache:
        cache = self._caches.get(study_id)
        if cache is None:
            dirs = self._directions(study_id)
            with self._caches_lock:
                cache = self._caches.get(study_id)
                if cache is None:
                    sign = -1.0 if len(dirs) == 1 and dirs[0] == StudyDirection.MAXIMIZE else 1.0
                    cache = self._caches[study_id] = StudyCache(study_id, len(dirs), sign)
        return cache

    def _sync(self, study_id: int) -> StudyCache:
        """Write this process's waiting parameters of the study, then read and apply
        the study's changes since the last sync (one snapshot)."""
        self._pending.flush_study(study_id)
        cache = self._cache(study_id)
        with cache.lock:
            seq, rows = self._read_snapshot(lambda conn: read_changes(conn, study_id, cache.seq))
            if rows is not None:
                changed = apply_rows(cache, rows, decode_json)
                for tid, number in changed.items():
                    self._trial_loc.setdefault(tid, (study_id, number))
            cache.seq = seq
        return cache

    def get_history(self, study_id: int, *, sync: bool = True) -> History:
        if sync:
            return self._sync(study_id).history
        return self._cache(study_id).history
