"""Opening a database: URL and driver errors, SQLite files that are not ours, and the
schema-version check (hpo_core/storages/_rdb/_engine.py)."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from hpo_core.exceptions import StorageError
from hpo_core.storages import RDBStorage
from hpo_core.storages._rdb import _schema as S


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"))


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- URLs and drivers
@pytest.mark.parametrize("scheme", ["postgres", "postgres+psycopg"])
def test_open_postgres_scheme_says_write_postgresql(scheme: str) -> None:
    with pytest.raises(ValueError, match=r"`url` must be a URL starting with 'postgresql(\+psycopg)?://'"):
        RDBStorage(f"{scheme}://user@127.0.0.1:1/db")


def test_open_error_hides_the_password() -> None:
    with pytest.raises(ValueError) as info:
        RDBStorage("postgres://user:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(info.value)


def test_open_unknown_dialect_names_url() -> None:
    with pytest.raises(ValueError, match="`url` must be a SQLAlchemy database URL"):
        RDBStorage("nosuchdb://host/db")


def test_open_missing_psycopg_names_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r'pip install "hpo_core\[postgres\]"'):
        RDBStorage("postgresql://user@127.0.0.1:1/db")


def test_open_missing_pymysql_names_mysql_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("pymysql", "MySQLdb"):
        monkeypatch.setitem(sys.modules, module, None)
    for url in ("mysql://root@127.0.0.1:1/db", "mysql+pymysql://root@127.0.0.1:1/db"):
        with pytest.raises(ImportError, match=r'pip install "hpo_core\[mysql\]"'):
            RDBStorage(url)


def test_open_other_missing_driver_names_module_and_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    with pytest.raises(ImportError, match=r"`asyncpg`.*'postgresql\+psycopg://\.\.\.'.*hpo_core\[postgres\]"):
        RDBStorage("postgresql+asyncpg://user@127.0.0.1:1/db")


def test_open_unreachable_server_is_storage_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StorageError, match=r"Cannot open the database at 'postgresql\+psycopg://nobody@127.0.0.1:1/db\?connect_timeout=2': .*refused"):
        RDBStorage("postgresql+psycopg://nobody@127.0.0.1:1/db?connect_timeout=2")


# ---------------------------------------------------------------- SQLite files
def test_open_sqlite_missing_directory_names_path(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "study.db"
    with pytest.raises(StorageError, match=rf"{path}'.*directory '{path.parent}' does not exist") as info:
        RDBStorage(_sqlite(path))
    assert "write failed" not in str(info.value)
    assert not path.parent.exists()


def test_open_sqlite_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="is not a directory"):
        RDBStorage(_sqlite(tmp_path / "file" / "study.db"))


def test_open_sqlite_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="it is a directory"):
        RDBStorage(_sqlite(tmp_path))


def test_open_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(StorageError, match=rf"The file '{path}' is not a SQLite database"):
        RDBStorage(_sqlite(path))
    assert path.read_text().startswith("these are not")


def test_open_sqlite_foreign_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(StorageError, match=r"another application's database: it has tables \(users\)"):
        RDBStorage(_sqlite(path))
    assert _tables(path) == ["users"]


def test_open_sqlite_optuna_database_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "optuna.db"
    with sqlite3.connect(path) as conn:
        for name in ("studies", "trials", "alembic_version"):
            conn.execute(f"CREATE TABLE {name} (x)")
    with pytest.raises(StorageError, match="looks like an Optuna storage"):
        RDBStorage(_sqlite(path))


def test_open_sqlite_empty_file_is_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    RDBStorage(_sqlite(path)).close()
    assert set(S.metadata.tables) <= set(_tables(path))


def test_open_sqlite_own_database_with_extra_user_tables(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    RDBStorage(_sqlite(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE my_notes (x)")
    RDBStorage(_sqlite(path)).close()  # ours, with something added: still ours


def test_open_sqlite_reopen_keeps_one_version_row(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    for _ in range(3):
        RDBStorage(_sqlite(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT schema_version FROM hpo_schema").fetchall() == [(S.SCHEMA_VERSION,)]


# ---------------------------------------------------------------- schema version
@pytest.mark.parametrize("damage", ["DELETE FROM hpo_schema", "DROP TABLE hpo_schema"])
def test_open_sqlite_missing_schema_version_is_refused(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "study.db"
    RDBStorage(_sqlite(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    with pytest.raises(StorageError, match="schema version is missing"):
        RDBStorage(_sqlite(path))
    with sqlite3.connect(path) as conn:  # not re-stamped with a guess
        assert "hpo_schema" not in _tables(path) or conn.execute("SELECT * FROM hpo_schema").fetchall() == []


def test_open_sqlite_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    RDBStorage(_sqlite(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hpo_schema SET schema_version = ?", (S.SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match=rf"schema version {S.SCHEMA_VERSION + 1}, newer"):
        RDBStorage(_sqlite(path))


def _server_missing_version(url: str) -> None:
    RDBStorage(url).close()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(S.version_table.delete())
    engine.dispose()
    with pytest.raises(StorageError, match="schema version is missing"):
        RDBStorage(url)


def _server_foreign_tables_allowed(url: str) -> None:
    # A server database is shared by design: hpo_core adds its tables beside others.
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other_app (x INTEGER)")
    engine.dispose()
    RDBStorage(url).close()


@pytest.mark.postgres
def test_open_postgres_missing_schema_version_is_refused(postgres_url: str) -> None:
    _server_missing_version(postgres_url)


@pytest.mark.postgres
def test_open_postgres_database_with_other_tables(postgres_url: str) -> None:
    _server_foreign_tables_allowed(postgres_url)


@pytest.mark.mysql
def test_open_mysql_missing_schema_version_is_refused(mysql_url: str) -> None:
    _server_missing_version(mysql_url)


@pytest.mark.mysql
def test_open_mysql_database_with_other_tables(mysql_url: str) -> None:
    _server_foreign_tables_allowed(mysql_url)


@pytest.mark.mysql
def test_open_mysql_url_without_driver_uses_pymysql(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # the dialect's default driver
    url = mysql_url.replace("mysql+pymysql://", "mysql://")
    RDBStorage(url).close()


def _open_concurrently(url: str, n: int = 4) -> None:
    # Schema creation is serialized (advisory lock, GET_LOCK): later opens wait, then
    # find the tables and the version row.
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            RDBStorage(url).close()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_open_sqlite_concurrently(tmp_path: Path) -> None:
    _open_concurrently(_sqlite(tmp_path / "study.db"))


@pytest.mark.postgres
def test_open_postgres_concurrently(postgres_url: str) -> None:
    _open_concurrently(postgres_url)


@pytest.mark.mysql
def test_open_mysql_concurrently(mysql_url: str) -> None:
    _open_concurrently(mysql_url)
