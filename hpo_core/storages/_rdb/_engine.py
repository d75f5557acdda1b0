"""Connections of the RDB storage: the engine per URL, write and read transactions with
retries, and the schema check when a database is opened.

On SQLite, writes open with ``BEGIN IMMEDIATE`` (the write lock is taken up front, so
two writers never deadlock upgrading a read lock) and the file runs in WAL mode with a
busy timeout, so readers never block writers and several processes share one file
without "database is locked" reaching the user.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from hpo_core.exceptions import StorageError
from hpo_core.storages._rdb import _schema as S

__all__ = ["Database"]

_logger = logging.getLogger(__name__)
T = TypeVar("T")


class Database:
    """One database by URL: the engine, transactions, and the schema check on open.

    Args:
        url: A SQLAlchemy URL.
        engine_kwargs: Extra arguments for ``sqlalchemy.create_engine``.
        busy_timeout: Seconds a writer waits for locks before the write fails.
    """

    def __init__(self, url: str, engine_kwargs: dict[str, Any], busy_timeout: float):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.busy_timeout = busy_timeout
        self._engine_kwargs = engine_kwargs
        self.engine = self._create_engine()
        self._init_schema()

    def _create_engine(self) -> Engine:
        kwargs = dict(self._engine_kwargs)
        if self.is_sqlite:
            connect_args = dict(kwargs.pop("connect_args", {}))
            connect_args.setdefault("timeout", self.busy_timeout)
            connect_args.setdefault("check_same_thread", False)
            engine = sa.create_engine(self.url, connect_args=connect_args, **kwargs)
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
        return sa.create_engine(self.url, **kwargs)

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

    def _init_schema(self) -> None:
        def init(conn: Connection) -> None:
            S.metadata.create_all(conn, checkfirst=True)
            row = conn.execute(sa.select(sa.func.max(S.version_table.c.schema_version))).scalar()
            if row is None:
                conn.execute(S.version_table.insert().values(schema_version=S.SCHEMA_VERSION))
            elif row > S.SCHEMA_VERSION:
                raise StorageError(
                    f"The database at {self.url!r} has schema version {row}, newer than this "
                    f"hpo_core understands ({S.SCHEMA_VERSION}); upgrade hpo_core."
                )

        try:
            self.write(init)
        except StorageError as e:
            if isinstance(e.__cause__, IntegrityError):  # a concurrent process created it
                return
            raise

    def after_fork(self) -> None:
        """Drop the parent's connections in a forked child (they must not be shared)."""
        self.engine.dispose(close=False)

    def close(self) -> None:
        self.engine.dispose()
