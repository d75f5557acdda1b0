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
import os
import random
import time
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

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
# Advisory-lock key of schema creation on PostgreSQL (any constant bigint).
_PG_SCHEMA_LOCK = zlib.crc32(b"hpo_core.schema")


class Database:
    """One database by URL: the engine, transactions, and the schema check on open.

    Args:
        url: A SQLAlchemy URL.
        engine_kwargs: Extra arguments for ``sqlalchemy.create_engine``.
        busy_timeout: Seconds a writer waits for locks before the write fails.

    Raises:
        ValueError: the URL is not one SQLAlchemy can load (``postgres://`` included).
        ImportError: the URL's database driver is not installed (names the extra).
        StorageError: the database cannot be opened, is not a SQLite database, is
            another application's SQLite database, or has hpo_core tables without a
            readable schema version.
    """

    def __init__(self, url: str, engine_kwargs: dict[str, Any], busy_timeout: float):
        self.url = url
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
        try:
            self._init_schema()
        except BaseException:
            self.engine.dispose()
            raise

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
            return sa.create_engine(self._url, **kwargs)
        except ImportError as e:  # the driver module: SQLAlchemy imports it here
            fallback = self._fallback_driver_url()
            if fallback is None:
                raise ImportError(self._missing_driver_message(e)) from e
            _logger.debug("%s is not installed; using %s", e.name, fallback.drivername)
            self._url = fallback
            return sa.create_engine(self._url, **kwargs)

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
        """Run ``fn`` in one write transaction, retrying transient lock errors."""
        delay = 0.01
        deadline = time.monotonic() + max(self.busy_timeout, 1.0)
        while True:
            try:
                with self.engine.connect().execution_options(hpo_write=True) as conn:
                    with conn.begin():
                        return fn(conn)
            except OperationalError as e:
                msg = str(e).lower()
                transient = any(s in msg for s in ("locked", "busy", "deadlock", "could not serialize"))
                if not transient or time.monotonic() > deadline:
                    raise StorageError(f"Database write failed: {e}") from e
                _logger.debug("Retrying a write after a transient error: %s", e)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)

    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one read transaction (one snapshot)."""
        with self.engine.connect() as conn:
            with conn.begin():
                return fn(conn)

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
