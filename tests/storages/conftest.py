"""Database servers for the storage tests: a fresh, empty schema (PostgreSQL) or
database (MySQL/MariaDB) per test, dropped afterwards. Tests skip, saying why, when the
driver is missing or no server answers."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import sqlalchemy as sa

POSTGRES_URL = os.environ.get("HPO_CORE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("HPO_CORE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _shown(url: str) -> str:
    """The URL without its password, for skip reasons."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable URL>"


@functools.lru_cache(maxsize=None)
def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can (asked once per run)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'hpo_core[postgres]')"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as e:  # noqa: BLE001
        return f"no PostgreSQL server reachable at {_shown(POSTGRES_URL)} ({type(e).__name__}: {str(e).strip()[:120]})"
    return None


@functools.lru_cache(maxsize=None)
def mysql_reason() -> str | None:
    """Why MySQL/MariaDB tests cannot run here, or None when they can (asked once per run)."""
    try:
        import pymysql  # noqa: F401
    except ImportError:
        return "PyMySQL is not installed (pip install 'hpo_core[mysql]')"
    import sqlalchemy as sa

    engine = sa.create_engine(MYSQL_URL, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    try:
        engine.connect().close()
    except Exception as e:  # noqa: BLE001
        msg = str(getattr(e, "orig", e)).strip()[:120]
        return f"no MySQL/MariaDB server reachable at {_shown(MYSQL_URL)} ({type(e).__name__}: {msg}); set HPO_CORE_TEST_MYSQL_URL"
    finally:
        engine.dispose()
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test (dropped afterwards)."""
    reason = postgres_reason()
    if reason is not None:
        pytest.skip(reason)
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    # No pool: a test may restart the server (test_reconnect.py) between setup and teardown.
    engine = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A fresh, empty MySQL/MariaDB database (utf8mb4) for one test (dropped afterwards).

    In MySQL a schema is a database: each test gets its own, like the PostgreSQL
    fixture's schema, so tests never see each other's tables.
    """
    reason = mysql_reason()
    if reason is not None:
        pytest.skip(reason)
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(MYSQL_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    url = sa.engine.make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each RDB backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on ``url``, without a pool, for writing and inspecting tables directly."""
    import sqlalchemy as sa

    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield eng
    eng.dispose()


REDIS_URL = os.environ.get("HPO_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@functools.lru_cache(maxsize=None)
def redis_reason() -> str | None:
    """Why Redis tests cannot run here, or None when they can (asked once per run)."""
    try:
        import redis
    except ImportError:
        return "redis-py is not installed (pip install 'hpo_core[redis]')"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as e:  # noqa: BLE001
        return f"no Redis server reachable at {REDIS_URL} ({type(e).__name__}: {str(e).strip()[:120]}); set HPO_CORE_TEST_REDIS_URL"
    return None


@pytest.fixture
def redis_url() -> str:
    """The Redis server of the tests (skips, saying why, when none answers)."""
    reason = redis_reason()
    if reason is not None:
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own for one test on the Redis server (its keys deleted afterwards)."""
    reason = redis_reason()
    if reason is not None:
        pytest.skip(reason)
    import redis

    prefix = f"hpo_test_{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
