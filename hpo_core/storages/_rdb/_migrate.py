"""In-place upgrade of an RDB storage database to the schema version of this hpo_core.

:class:`hpo_core.storages._rdb._engine.Database` calls :func:`upgrade` when it opens a
database stamped with an older version, inside its schema transaction and under the
lock that serializes schema creation, so that one process upgrades and the others
wait and then read the new version. The version is stamped last:

- SQLite and PostgreSQL run the whole upgrade in that one transaction; a failure
  leaves the database as it was.
- MySQL/MariaDB commit each DDL statement implicitly: an upgrade cut short leaves
  some tables upgraded and the old version stamped. Every step is written to be run
  again (columns are added only where missing, type changes and the backfill repeat
  harmlessly, indexes are created only where missing), so the next open completes it.
  For the same reason, a MySQL database whose version-2 tables predate the MySQL
  column types below (pre-release hpo_core) is converted by setting its version row
  to 1 and opening it.

Processes of an older hpo_core must not use the database while it is upgraded or
afterwards (they do not check the version again): stop them first.

Version 1 to 2 (see the docstring of ``_schema``):

- ``seq`` on ``hpo_studies`` and ``hpo_trials``, 0 for existing rows; ``study_id``
  and ``seq`` on ``hpo_trial_params``, ``hpo_trial_attrs`` and
  ``hpo_trial_intermediate``, ``study_id`` copied from the row's trial and ``seq`` 0.
  A first sync reads everything after change -1, so it reads the existing rows.
- ``values_json`` on ``hpo_trial_intermediate``; ``step`` 64-bit (``BIGINT``) on
  PostgreSQL and MySQL (SQLite integers are 64-bit already).
- the ``(study_id, seq)`` indexes.
- MySQL/MariaDB only: the column types of version 2 there (``DOUBLE`` floats,
  ``VARBINARY`` keys, ``LONGTEXT`` JSON) and utf8mb4 tables. Values already rounded
  by a 4-byte ``FLOAT`` column stay rounded.

Version 2 to 3 (parameter order, see the docstring of ``_schema``):

- ``hpo_trial_params`` gets the autoincrement primary key ``param_id``; its former
  key ``(trial_id, name)`` becomes a unique constraint. PostgreSQL and MySQL/MariaDB
  alter the table in one statement (the step is skipped where ``param_id`` exists, so
  a MySQL upgrade cut short before the stamp completes); SQLite, which cannot change
  a primary key, copies the rows into a new table. Existing rows are numbered in the
  order the table holds them: insertion order on SQLite (its rowid) and, in practice,
  PostgreSQL; name order within a trial on MySQL/MariaDB, which is the order version 2
  read them back in there (and, since a study lists a trial's parameters in the order
  they first appeared in the study, the order those names keep in later trials). SQLite drops parameter rows whose trial is gone (no study
  read them; foreign keys were off when they were left behind).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import Column, Table
from sqlalchemy.engine import Connection

from hpo_core.exceptions import StorageError
from hpo_core.storages._rdb import _schema as S

__all__ = ["upgrade"]

_logger = logging.getLogger(__name__)


def upgrade(conn: Connection, version: int, where: str) -> None:
    """Upgrade the database from schema ``version`` to ``S.SCHEMA_VERSION`` and stamp it.

    Args:
        conn: A connection in the schema transaction, holding the schema lock.
        version: The version stamped in the database, lower than ``S.SCHEMA_VERSION``.
        where: The database as messages name it.

    Raises:
        StorageError: no upgrade is known from ``version``.
    """
    start = version
    while version < S.SCHEMA_VERSION:
        step = _STEPS.get(version)
        if step is None:
            raise StorageError(
                f"The database at {where} has schema version {start}, which this hpo_core "
                f"cannot upgrade to version {S.SCHEMA_VERSION}; use another database."
            )
        _logger.info("Upgrading the database at %s from schema version %d to %d.", where, version, version + 1)
        step(conn)
        version += 1
    conn.execute(S.version_table.delete())
    conn.execute(S.version_table.insert().values(schema_version=S.SCHEMA_VERSION))


# ----------------------------------------------------------------- version 1 -> 2
# Columns that version 2 adds, by table; each is added NOT NULL DEFAULT 0 when the
# column is not nullable, and the default dropped afterwards where the backend can.
_ADDED_V2 = {
    S.studies: ("seq",),
    S.trials: ("seq",),
    S.trial_params: ("study_id", "seq"),
    S.trial_attrs: ("study_id", "seq"),
    S.trial_intermediate: ("values_json", "study_id", "seq"),
}
# Tables whose rows get the study id of their trial.
_CHILDREN = (S.trial_params, S.trial_attrs, S.trial_intermediate)


def _v1_to_v2(conn: Connection) -> None:
    dialect = conn.dialect.name
    is_mysql = dialect in S.MYSQL_DIALECTS
    insp = sa.inspect(conn)
    present = {t: {c["name"] for c in insp.get_columns(t.name)} for t in S.metadata.sorted_tables}
    if is_mysql:
        _mysql_utf8mb4(conn)
    for table in S.metadata.sorted_tables:
        clauses = [f"ADD COLUMN {_column_ddl(conn, table.c[name], default=True)}"
                   for name in _ADDED_V2.get(table, ()) if name not in present[table]]
        if dialect == "postgresql" and table is S.trial_intermediate:
            clauses.append("ALTER COLUMN step TYPE BIGINT")
        if is_mysql:
            clauses += [f"MODIFY COLUMN {_column_ddl(conn, c, default=False)}"
                        for c in _mysql_retyped(table) if c.name in present[table]]
        _alter(conn, table, clauses)
    for child in _CHILDREN:
        trial_sid = sa.select(S.trials.c.study_id).where(S.trials.c.trial_id == child.c.trial_id).scalar_subquery()
        # COALESCE: a row without its trial (foreign keys were off) keeps study 0, read by no study.
        conn.execute(child.update().values(study_id=sa.func.coalesce(trial_sid, 0)))
    if dialect != "sqlite":  # SQLite cannot drop a column default
        for table, names in _ADDED_V2.items():
            _alter(conn, table, [f"ALTER COLUMN {_quote(conn, n)} DROP DEFAULT"
                                 for n in names if not table.c[n].nullable])
    _create_missing_indexes(conn)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _column_ddl(conn: Connection, column: Column, *, default: bool) -> str:  # type: ignore[type-arg]
    """``name TYPE [NOT] NULL`` of a version-2 column; ``default`` adds ``DEFAULT 0`` to
    a NOT NULL column (what existing rows get when it is added)."""
    ddl = f"{_quote(conn, column.name)} {column.type.compile(dialect=conn.dialect)}"
    if column.nullable:
        return f"{ddl} NULL"
    return f"{ddl} NOT NULL DEFAULT 0" if default else f"{ddl} NOT NULL"


def _alter(conn: Connection, table: Table, clauses: list[str]) -> None:
    """``ALTER TABLE`` with ``clauses``: one statement (one table rebuild on MySQL), or
    one per clause on SQLite, which takes one action per statement."""
    if not clauses:
        return
    groups = [[c] for c in clauses] if conn.dialect.name == "sqlite" else [clauses]
    for group in groups:
        conn.exec_driver_sql(f"ALTER TABLE {_quote(conn, table.name)} {', '.join(group)}")


def _mysql_retyped(table: Table) -> list[Column]:  # type: ignore[type-arg]
    """Columns whose MySQL type version 2 changed: floats, keys, JSON text, the step."""
    return [c for c in table.columns
            if isinstance(c.type, (sa.Double, S.Key, sa.Text)) or (table is S.trial_intermediate and c.name == "step")]


def _mysql_utf8mb4(conn: Connection) -> None:
    """Convert the tables that are not utf8mb4 (the text is transcoded), before their
    key columns become the UTF-8 bytes of that text."""
    rows = conn.execute(sa.text(
        "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    )).all()
    ours = {t.name for t in S.metadata.sorted_tables}
    for name, collation in rows:
        if name in ours and not str(collation or "").startswith("utf8mb4"):
            conn.exec_driver_sql(f"ALTER TABLE {_quote(conn, name)} CONVERT TO CHARACTER SET utf8mb4")


def _create_missing_indexes(conn: Connection) -> None:
    insp = sa.inspect(conn)
    for table in S.metadata.sorted_tables:
        existing = {ix["name"] for ix in insp.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in existing:
                index.create(conn)


# ----------------------------------------------------------------- version 2 -> 3
def _v2_to_v3(conn: Connection) -> None:
    p = S.trial_params
    if "param_id" in {c["name"] for c in sa.inspect(conn).get_columns(p.name)}:
        return  # MySQL: an upgrade cut short after the ALTER (DDL commits implicitly)
    if conn.dialect.name == "sqlite":
        _sqlite_rebuild_params(conn)
        return
    q = functools.partial(_quote, conn)
    if conn.dialect.name == "postgresql":
        # BIGSERIAL: a sequence owned by the column; the rewrite numbers existing rows.
        pk = str(sa.inspect(conn).get_pk_constraint(p.name)["name"])
        clauses = [f"DROP CONSTRAINT {q(pk)}", f"ADD COLUMN {q('param_id')} BIGSERIAL NOT NULL"]
    else:  # MySQL/MariaDB; FIRST, as a new table has it. One statement: atomic.
        clauses = ["DROP PRIMARY KEY", f"ADD COLUMN {q('param_id')} BIGINT NOT NULL AUTO_INCREMENT FIRST"]
    unique = next(c for c in p.constraints if isinstance(c, sa.UniqueConstraint))
    clauses += [
        f"ADD PRIMARY KEY ({q('param_id')})",
        f"ADD CONSTRAINT {q(str(unique.name))} UNIQUE ({', '.join(q(c.name) for c in unique.columns)})",
    ]
    _alter(conn, p, clauses)


def _sqlite_rebuild_params(conn: Connection) -> None:
    """Copy ``hpo_trial_params`` into a table of version 3, in rowid (insertion) order."""
    p = S.trial_params
    old = f"{p.name}_v2"
    cols = ", ".join(_quote(conn, c.name) for c in p.columns if c.name != "param_id")
    conn.exec_driver_sql(f"ALTER TABLE {_quote(conn, p.name)} RENAME TO {_quote(conn, old)}")
    for index in p.indexes:  # index names are global in SQLite: the old table holds them
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_quote(conn, str(index.name))}")
    p.create(conn)
    conn.exec_driver_sql(
        f"INSERT INTO {_quote(conn, p.name)} ({cols}) SELECT {cols} FROM {_quote(conn, old)} "
        f"WHERE trial_id IN (SELECT trial_id FROM {_quote(conn, S.trials.name)}) ORDER BY rowid")
    conn.exec_driver_sql(f"DROP TABLE {_quote(conn, old)}")


_STEPS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}
