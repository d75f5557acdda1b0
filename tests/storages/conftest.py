from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get("HPO_CORE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'hpo_core[postgres]')"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as e:  # noqa: BLE001
        return f"no PostgreSQL server reachable at {POSTGRES_URL} ({type(e).__name__}: {str(e).strip()[:120]})"
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test (dropped afterwards)."""
    reason = postgres_reason()
    if reason is not None:
        pytest.skip(reason)
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
