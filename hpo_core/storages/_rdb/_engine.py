"""Connections of the RDB storage: the engine per URL, write and read transactions with
retries, and the schema check when a database is opened.

On SQLite, writes open with ``BEGIN IMMEDIATE`` (the write lock is taken up front, so
two writers never deadlock upgrading a read lock) and the file runs in WAL mode with a
busy timeout, so readers never block writers and several processes share one file
without "database is locked" reaching the user.

Opening a database checks, before anything is written, that:

- the URL names a dialect SQLAlchemy knows (``postgres://`` is refused with a hint to
  write ``postgresql://``) and its driver is installed (else an ImportError names the
  hpo_core extra: ``postgres`` for psycopg, ``mysql`` for PyMySQL; a URL without a
  driver, such as ``mysql://``, falls back to the extra's driver when the dialect's
  default one is missing);
- a SQLite file's directory exists and the file, if any, is a SQLite database;
- the database is empty (hpo_core creates its tables), or holds hpo_core's tables
  with a schema version this hpo_core can read. A SQLite file holding only another
  application's tables is refused rather than written into; hpo_core tables without
  their version row are refused rather than re-stamped with a guessed version, and a
  version newer than this hpo_core's is refused. An older version is upgraded in
  place (:mod:`hpo_core.storages._rdb._migrate`).

Schema creation and upgrades are serialized across processes: by ``BEGIN IMMEDIATE``
on SQLite, an advisory transaction lock on PostgreSQL, and ``GET_LOCK`` on MySQL (where
DDL commits implicitly, so the version row is written first and a creation cut short
is completed by the next open; an upgrade stamps its version last and is completed
likewise).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import random
import time
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InterfaceError, OperationalError

from hpo_core._validation import format_error
from hpo_core.exceptions import StorageError
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._rdb._migrate import upgrade

__all__ = ["Database"]

_logger = logging.getLogger(__name__)
T = TypeVar("T")

# Every hpo_core table name starts with this (the version table included).
_TABLE_PREFIX = "hpo_"
# Backend -> (hpo_core extra, its driver name in SQLAlchemy, the module it imports).
_DRIVER_EXTRAS = {
    "postgresql": ("postgres", "psycopg", "psycopg"),
    "mysql": ("mysql", "pymysql", "pymysql"),
    "mariadb": ("mysql", "pymysql", "pymysql"),
}
# Scheme spellings SQLAlchemy does not load, and the one it does.
_SCHEME_FIXES = {"postgres": "postgresql", "pgsql": "postgresql", "sqlite3": "sqlite"}
_URL_ALLOWED = "a SQLAlchemy database URL such as 'sqlite:///study.db', 'postgresql://user@host/db' or 'mysql+pymysql://user@host/db'"
# Seconds an open waits for an unreachable server (later operations: reconnect_timeout).
_OPEN_RECONNECT_TIMEOUT = 10.0
# Advisory-lock key of schema creation on PostgreSQL (any constant bigint).
_PG_SCHEMA_LOCK = zlib.crc32(b"hpo_core.schema")


class Database:
    """One database by URL: the engine, transactions, and the schema check on open.

    Args:
        url: A SQLAlchemy URL.
        engine_kwargs: Extra arguments for ``sqlalchemy.create_engine``.
        busy_timeout: Seconds a writer waits for locks before the write fails.
        reconnect_timeout: Seconds a read or write keeps retrying while the server
            cannot be reached (a restart, a failover) before it fails; opening the
            database waits at most 10 s of it.

    Raises:
        ValueError: the URL is not one SQLAlchemy can load (``postgres://`` included).
        ImportError: the URL's database driver is not installed (names the extra).
        StorageError: the database cannot be opened, is not a SQLite database, is
            another application's SQLite database, or has hpo_core tables without a
            readable schema version.
    """

    def __init__(self, url: str, engine_kwargs: dict[str, Any], busy_timeout: float,
                 reconnect_timeout: float = 300.0):
        self.url = url
        self.reconnect_timeout = reconnect_timeout
        #: Monotonic time at which a lost connection last came back (-inf: never).
        self.outage_ended = -math.inf
        self._url = _parse_url(url)
        self.display_url = self._url.render_as_string(hide_password=True)
        self.backend = self._url.get_backend_name()
        self.is_sqlite = self.backend == "sqlite"
        self.busy_timeout = busy_timeout
        self._engine_kwargs = engine_kwargs
        self._sqlite_path = _sqlite_file(self._url) if self.is_sqlite else None
        if self._sqlite_path is not None:
            _check_sqlite_path(self._sqlite_path)
        self.engine = self._create_engine()
        # Opening waits at most 10 s for an unreachable server: a wrong host or port
        # fails fast, a server that is restarting is waited for.
        self.reconnect_timeout = min(reconnect_timeout, _OPEN_RECONNECT_TIMEOUT)
        try:
            self._init_schema()
        except BaseException:
            self.engine.dispose()
            raise
        self.reconnect_timeout = reconnect_timeout

    # ------------------------------------------------------------ engine
    def _create_engine(self) -> Engine:
        kwargs = dict(self._engine_kwargs)
        if self.is_sqlite:
            connect_args = dict(kwargs.pop("connect_args", {}))
            connect_args.setdefault("timeout", self.busy_timeout)
            connect_args.setdefault("check_same_thread", False)
            engine = sa.create_engine(self._url, connect_args=connect_args, **kwargs)
            busy_ms = int(self.busy_timeout * 1000)

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                # Take transaction control from the driver: we emit BEGIN ourselves.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode: a crash of the process loses nothing committed;
                # only a power loss may drop the last transactions.
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute(f"PRAGMA busy_timeout={busy_ms}")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                write = conn.get_execution_options().get("hpo_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

            return engine
        kwargs.setdefault("pool_pre_ping", True)
        try:
            engine = sa.create_engine(self._url, **kwargs)
        except ImportError as e:  # the driver module: SQLAlchemy imports it here
            fallback = self._fallback_driver_url()
            if fallback is None:
                raise ImportError(self._missing_driver_message(e)) from e
            _logger.debug("%s is not installed; using %s", e.name, fallback.drivername)
            self._url = fallback
            engine = sa.create_engine(self._url, **kwargs)

        @event.listens_for(engine, "invalidate")
        def _on_invalidate(_dbapi_conn: Any, _record: Any, _exc: Any) -> None:
            # A pooled connection was found dead (the pre-ping included, which
            # reconnects without an error reaching ``run``): the server went away.
            self.outage_ended = time.monotonic()

        return engine

    def _fallback_driver_url(self) -> URL | None:
        """The URL with the extra's driver, when the URL names no driver and it is installed."""
        extra = _DRIVER_EXTRAS.get(self.backend)
        if extra is None or "+" in self._url.drivername or importlib.util.find_spec(extra[2]) is None:
            return None
        return self._url.set(drivername=f"{self.backend}+{extra[1]}")

    def _missing_driver_message(self, e: ImportError) -> str:
        module = e.name or str(e)
        head = f"RDBStorage: the database URL {self.display_url!r} needs the driver module `{module}`, which is not installed."
        extra = _DRIVER_EXTRAS.get(self.backend)
        if extra is None:
            return f"{head} Install it, or use a URL whose driver is installed."
        name, driver, _ = extra
        if "+" in self._url.drivername and self._url.get_driver_name() != driver:
            return (f"{head} Install it, or write '{self.backend}+{driver}://...' and run "
                    f"`pip install \"hpo_core[{name}]\"`.")
        return f"{head} Install it with `pip install \"hpo_core[{name}]\"`."

    # ------------------------------------------------------------ transactions
    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction, retrying transient errors (see :meth:`run`)."""
        return self.run(fn, write=True)

    def read(self, fn: Callable[[Connection], T], *, isolation_level: str | None = None) -> T:
        """Run ``fn`` in one read transaction (one snapshot), retrying transient errors."""
        return self.run(fn, write=False, isolation_level=isolation_level)

    def run(self, fn: Callable[[Connection], T], *, write: bool, isolation_level: str | None = None) -> T:
        """Run ``fn`` in one transaction; retry it while the error is transient.

        Two kinds of error are transient, each with its own bound on the total wait:
        lock conflicts (SQLite's busy file, deadlocks, serialization failures,
        MySQL's lock wait timeout), retried for ``busy_timeout`` seconds; and a lost
        or refused connection (a server restart, failover, a dropped network link),
        retried with backoff up to 2 s apart for ``reconnect_timeout`` seconds. Any
        other error, or a transient one past its bound, raises: a StorageError for
        OperationalError and InterfaceError, the DBAPIError itself otherwise
        (IntegrityError: callers decide).

        A transaction cut off by a lost connection may have committed before the
        acknowledgement was lost. ``fn`` is then run again with the execution option
        ``hpo_retry`` set, so that a write that must not apply twice can check whether
        its first run did (see ``TrialOps.set_trial_state_values``).
        """
        delay = 0.01
        lock_deadline = conn_deadline = None
        retried = False
        while True:
            try:
                out = self._attempt(fn, write, retried, isolation_level)
                if conn_deadline is not None:
                    self.outage_ended = time.monotonic()
                    _logger.warning("The connection to %s is back.", self.display_url)
                return out
            except DBAPIError as e:
                kind = _transient_kind(e)
                if kind is None:
                    if isinstance(e, (OperationalError, InterfaceError)):
                        raise StorageError(f"Database {'write' if write else 'read'} failed: {e}") from e
                    raise
                now = time.monotonic()
                if kind == "lock":
                    lock_deadline = lock_deadline or now + max(self.busy_timeout, 1.0)
                    deadline, cap = lock_deadline, 1.0
                else:
                    if conn_deadline is None:
                        _logger.warning("Lost the connection to %s (%s); retrying for up to %g s.",
                                        self.display_url, _first_line(e), self.reconnect_timeout)
                    conn_deadline = conn_deadline or now + self.reconnect_timeout
                    deadline, cap = conn_deadline, 2.0
                    retried = retried or write
                if now > deadline:
                    what = ("the database stayed unreachable for" if kind == "connection"
                            else "locks were still held after")
                    raise StorageError(
                        f"Database {'write' if write else 'read'} failed: {what} "
                        f"{self.reconnect_timeout if kind == 'connection' else self.busy_timeout:g} s "
                        f"({_first_line(e)})") from e
                _logger.debug("Retrying a %s after a transient error: %s", "write" if write else "read", e)
                time.sleep(min(delay * (1 + random.random()), max(deadline - now, 0.0)))
                delay = min(delay * 2, cap)

    def _attempt(self, fn: Callable[[Connection], T], write: bool, retried: bool, isolation_level: str | None) -> T:
        """One run of ``fn`` in a transaction. A driver error that SQLAlchemy leaves
        unwrapped (setting the isolation level on a dead connection does) is wrapped
        as its DBAPIError, and its connection is discarded rather than pooled."""
        conn = self.engine.connect()
        try:
            if write:
                conn.execution_options(hpo_write=True, hpo_retry=retried)
            elif isolation_level is not None:
                conn.execution_options(isolation_level=isolation_level)
            with conn.begin():
                return fn(conn)
        except Exception as e:
            dbapi = getattr(self.engine.dialect, "loaded_dbapi", None)
            if isinstance(e, DBAPIError) or dbapi is None or not isinstance(e, dbapi.Error):
                raise
            conn.invalidate()
            raise DBAPIError.instance(None, None, e, dbapi.Error, dialect=self.engine.dialect) from e
        finally:
            conn.close()

    # ------------------------------------------------------------ schema
    def _init_schema(self) -> None:
        for attempt in range(2):
            try:
                self.write(self._init_schema_in)
                return
            except IntegrityError:
                # Two processes created the tables at once where no lock serializes
                # it (a database without advisory locks): read again what won.
                if attempt:
                    raise
            except StorageError as e:
                if isinstance(e.__cause__, DBAPIError):
                    raise self._open_error(e.__cause__) from e.__cause__
                raise
            except DBAPIError as e:
                raise self._open_error(e) from e

    def _init_schema_in(self, conn: Connection) -> None:
        """Check what the database holds, upgrade an older schema and create what is
        missing (one transaction, except for MySQL's implicit DDL commits)."""
        release = self._lock_schema(conn)
        try:
            insp = sa.inspect(conn)
            names = set(insp.get_table_names())
            ours = sorted(n for n in names if n.startswith(_TABLE_PREFIX) or n in S.metadata.tables)
            version = None
            if S.version_table.name in names:
                version = conn.execute(sa.select(sa.func.max(S.version_table.c.schema_version))).scalar()
            if version is None:
                data_tables = [n for n in ours if n != S.version_table.name]
                if data_tables:
                    raise StorageError(self._missing_version_message(data_tables))
                if self.is_sqlite and not ours:
                    foreign = sorted(names | set(insp.get_view_names()))
                    if foreign:
                        raise StorageError(self._foreign_message(foreign))
                # Version row first: where DDL commits implicitly (MySQL), an
                # interrupted creation leaves a stamped database that the next open
                # completes, never unstamped hpo_core tables.
                S.version_table.create(conn, checkfirst=True)
                conn.execute(S.version_table.insert().values(schema_version=S.SCHEMA_VERSION))
            elif version > S.SCHEMA_VERSION:
                raise StorageError(
                    f"The database at {self.display_url!r} has schema version {version}, newer than "
                    f"this hpo_core understands ({S.SCHEMA_VERSION}); upgrade hpo_core."
                )
            elif version < S.SCHEMA_VERSION:
                upgrade(conn, int(version), self._where())
            S.metadata.create_all(conn, checkfirst=True)
        finally:
            release()

    def _lock_schema(self, conn: Connection) -> Callable[[], None]:
        """Serialize schema checks across processes; returns the release function."""
        if self.backend == "postgresql":  # released at commit or rollback
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SCHEMA_LOCK})
        elif self.backend in ("mysql", "mariadb"):  # a session lock: released explicitly
            name = f"hpo_core.schema.{self._url.database or ''}"[:64]
            got = conn.execute(sa.text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": max(int(self.busy_timeout), 1)}).scalar()
            if got != 1:
                raise StorageError(
                    f"Timed out after {self.busy_timeout:g} s waiting for another process to "
                    f"create or upgrade hpo_core's tables in {self.display_url!r}."
                )

            def release() -> None:
                try:
                    conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": name})
                except DBAPIError:  # the connection is gone, and the lock with it
                    pass

            return release
        return lambda: None

    # ------------------------------------------------------------ messages
    def _where(self) -> str:
        return repr(self._sqlite_path) if self._sqlite_path is not None else repr(self.display_url)

    def _missing_version_message(self, tables: list[str]) -> str:
        return (
            f"The database at {self._where()} has hpo_core tables ({', '.join(tables)}) but its "
            f"schema version is missing (table {S.version_table.name!r} is empty or absent). "
            "hpo_core does not guess which version wrote the tables; restore the row, e.g. "
            f"`INSERT INTO {S.version_table.name} (schema_version) VALUES (N)` with the version "
            "of the hpo_core that created them, or use another database."
        )

    def _foreign_message(self, tables: list[str]) -> str:
        shown = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "")
        hint = ""
        if {"studies", "trials", "alembic_version"} <= set(tables):
            hint = " It looks like an Optuna storage; hpo_core keeps its own tables."
        return (
            f"The SQLite file {self._where()} is another application's database: it has tables "
            f"({shown}) but none of hpo_core's. RDBStorage does not add its tables to it; check "
            f"the URL, or name a new or empty file.{hint}"
        )

    def _open_error(self, e: DBAPIError) -> StorageError:
        """A StorageError saying why the database could not be opened."""
        orig = str(e.orig).strip() if e.orig is not None else str(e)
        low = orig.lower()
        if self.is_sqlite and self._sqlite_path is not None:
            path = self._sqlite_path
            if "not a database" in low:
                return StorageError(
                    f"The file {path!r} is not a SQLite database (SQLite: {orig}). Check the "
                    "URL: RDBStorage opens or creates a SQLite database file there."
                )
            if "malformed" in low:
                return StorageError(f"The SQLite database {path!r} is damaged (SQLite: {orig}).")
            if "unable to open" in low or "readonly" in low or "read-only" in low:
                return StorageError(
                    f"Cannot open the SQLite database {path!r} for writing (SQLite: {orig}); "
                    "check the permissions of the file and of its directory."
                )
        return StorageError(f"Cannot open the database at {self._where()}: {orig}")

    # ------------------------------------------------------------ lifetime
    def after_fork(self) -> None:
        """Drop the parent's connections in a forked child (they must not be shared)."""
        self.engine.dispose(close=False)

    def close(self) -> None:
        self.engine.dispose()


# Lock conflicts that a retry resolves (SQLite, PostgreSQL, MySQL/MariaDB wording).
_LOCK_WORDS = ("database is locked", "database table is locked", "busy", "deadlock", "could not serialize",
               "lock wait timeout")
# A connection lost, refused or being shut down (psycopg, PyMySQL wording): the server
# restarts or fails over, or the network dropped.
_DISCONNECT_WORDS = (
    "server closed the connection", "terminating connection", "database system is shutting down",
    "database system is starting up", "database system is in recovery mode", "connection refused",
    "could not connect", "connection to server", "consuming input failed", "connection is closed",
    "connection already closed", "the connection is lost", "ssl connection has been closed", "ssl syscall",
    "lost connection", "server has gone away", "can't connect", "connection reset", "broken pipe",
    "connection timed out", "server shutdown in progress", "connection was killed", "no connection to the server",
    "cannot assign requested address", "admin shutdown", "connection failed",
)
# MySQL client/server error codes of lost or refused connections and server shutdown.
_MYSQL_DISCONNECT_CODES = {1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031}


def _transient_kind(e: DBAPIError) -> str | None:
    """``"lock"``, ``"connection"`` or None (not transient) for a database error."""
    if not isinstance(e, (OperationalError, InterfaceError)):
        return None
    if e.connection_invalidated:
        return "connection"
    orig = e.orig
    code = orig.args[0] if orig is not None and getattr(orig, "args", None) else None
    if isinstance(code, int) and code in _MYSQL_DISCONNECT_CODES:
        return "connection"
    msg = str(orig if orig is not None else e).lower()
    if isinstance(e, InterfaceError) or any(w in msg for w in _DISCONNECT_WORDS):
        return "connection"
    if any(w in msg for w in _LOCK_WORDS):
        return "lock"
    return None


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _parse_url(url: str) -> URL:
    """The parsed URL; a ValueError names the fix for schemes SQLAlchemy cannot load."""
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as e:
        raise ValueError(format_error("url", _URL_ALLOWED, url)) from e
    backend, plus, driver = parsed.drivername.partition("+")
    shown = parsed.render_as_string(hide_password=True)
    if backend in _SCHEME_FIXES:
        fixed = _SCHEME_FIXES[backend] + plus + driver
        raise ValueError(format_error(
            "url", f"a URL starting with '{fixed}://' (SQLAlchemy has no {backend!r} dialect)", shown))
    try:
        parsed.get_dialect()
    except ImportError:  # the dialect loaded; its driver is checked with a hint later
        pass
    except ArgumentError as e:  # NoSuchModuleError: an unknown dialect
        raise ValueError(format_error("url", _URL_ALLOWED, shown)) from e
    return parsed


def _sqlite_file(url: URL) -> str | None:
    """The absolute path of a SQLite URL's file; None for memory and ``file:`` URIs."""
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:") or url.query.get("uri"):
        return None
    return os.path.abspath(db)


def _check_sqlite_path(path: str) -> None:
    """Refuse a SQLite path that cannot hold a database file, before SQLite tries."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        what = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise StorageError(
            f"Cannot open the SQLite database {path!r}: the directory {directory!r} {what}. "
            "RDBStorage creates the file but not its directory; create the directory or "
            "fix the URL."
        )
    if os.path.isdir(path):
        raise StorageError(f"Cannot open the SQLite database {path!r}: it is a directory, not a file.")
