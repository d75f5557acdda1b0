"""Upgrade of schema-version-2 databases in place (hpo_core/storages/_rdb/_migrate.py):
version 3 rebuilt hpo_trial_params with a surrogate key, on SQLite, PostgreSQL and
MySQL/MariaDB. Version 1 databases: test_migrate.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Double, ForeignKey, Index, Integer, MetaData, Table

import hpo_core
from hpo_core.distributions import FloatDistribution
from hpo_core.exceptions import StorageError
from hpo_core.storages import RDBStorage
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._rdb._trials import dist_json
from hpo_core.trial import TrialState

T0 = 1_700_000_000.0
X_DIST = FloatDistribution(0.0, 1.0)
MIN = int(hpo_core.StudyDirection.MINIMIZE)

# ------------------------------------------------------------- schema version 2
# Version 3 changed only hpo_trial_params (git show cdff255:hpo_core/storages/_rdb/_schema.py):
# the other tables are today's. Freeze them here when a later version changes them.
V2 = MetaData()
for _table in S.metadata.sorted_tables:
    if _table is not S.trial_params:
        _table.to_metadata(V2)
Table(
    "hpo_trial_params", V2,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("name", S.Key(512), primary_key=True),
    Column("value", Double, nullable=False),
    Column("distribution", S.JSON_TEXT, nullable=False),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_hpo_trial_params_study_seq", "study_id", "seq"),
    mysql_charset="utf8mb4", mariadb_charset="utf8mb4",
)
RUN = int(TrialState.RUNNING)


def _write_v2(engine: sa.Engine) -> dict[str, int]:
    """A version-2 database: study "s" with trial 0 COMPLETE, whose parameters x, c, b
    (neither alphabetical nor reversed) one write inserted (change 2), and trial 1
    RUNNING with parameter z (change 3). Returns the ids by name."""
    t = V2.tables
    V2.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t["hpo_schema"].insert().values(schema_version=2))
        sid = conn.execute(t["hpo_studies"].insert().values(
            study_name="s", directions=str(MIN), next_number=2, created_at=T0, seq=3)).inserted_primary_key[0]
        done = conn.execute(t["hpo_trials"].insert().values(
            study_id=sid, number=0, state=int(TrialState.COMPLETE), values_json="[1.0]", t_start=T0,
            t_complete=T0, seq=2)).inserted_primary_key[0]
        running = conn.execute(t["hpo_trials"].insert().values(
            study_id=sid, number=1, state=RUN, t_start=T0, owner=None, seq=3)).inserted_primary_key[0]
        row = {"distribution": dist_json(X_DIST), "study_id": sid}
        conn.execute(t["hpo_trial_params"].insert(), [
            {**row, "trial_id": done, "name": "x", "value": 0.25, "seq": 2},
            {**row, "trial_id": done, "name": "c", "value": 0.5, "seq": 2},
            {**row, "trial_id": done, "name": "b", "value": 0.75, "seq": 2},
            {**row, "trial_id": running, "name": "z", "value": 0.0, "seq": 3},
        ])
    return {"s": int(sid), "done": int(done), "running": int(running)}


def _params_keys(conn: sa.Connection) -> tuple[list[str], list[list[str]]]:
    """The primary key and the unique constraints of hpo_trial_params."""
    insp = sa.inspect(conn)
    pk = insp.get_pk_constraint(S.trial_params.name)["constrained_columns"]
    return pk, sorted(u["column_names"] for u in insp.get_unique_constraints(S.trial_params.name))


def test_migrate_v2_params_keep_their_rows_and_order(url: str, engine: sa.Engine) -> None:
    ids = _write_v2(engine)
    storage = RDBStorage(url)
    try:
        t0 = storage.get_trial(ids["done"])
        assert t0.params == {"x": 0.25, "c": 0.5, "b": 0.75}
        if engine.dialect.name != "mysql":
            # Stored (insertion) order; MySQL/MariaDB keep the name order version 2 read.
            assert list(t0.params) == ["x", "c", "b"]
        assert storage.get_trial(ids["running"]).params == {"z": 0.0}
    finally:
        storage.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [S.SCHEMA_VERSION]
        assert _params_keys(conn) == (["param_id"], [["trial_id", "name"]])


def test_migrate_v2_new_params_follow_the_old_in_suggest_order(url: str, engine: sa.Engine) -> None:
    ids = _write_v2(engine)
    writer, reader = RDBStorage(url), RDBStorage(url)
    try:
        writer.set_trial_param(ids["running"], "a", 0.5, X_DIST)  # after z, in a later write
        writer.set_trial_state_values(ids["running"], TrialState.COMPLETE, [2.0])
        tid, _ = writer.create_new_trial(ids["s"])
        # New names: a study lists a trial's parameters in the order they first appeared
        # in the study (on MySQL/MariaDB, b, c, x keep the name order they were read in).
        for name in ("y", "e", "f", "d"):  # one write (the flush at the trial's end)
            writer.set_trial_param(tid, name, 0.5, X_DIST)
        writer.set_trial_state_values(tid, TrialState.COMPLETE, [1.0])
        assert list(reader.get_trial(ids["running"]).params) == ["z", "a"]
        assert list(reader.get_trial(tid).params) == ["y", "e", "f", "d"]
    finally:
        writer.close()
        reader.close()


def test_migrate_v2_params_table_matches_a_new_one(url: str, engine: sa.Engine) -> None:
    _write_v2(engine)
    RDBStorage(url).close()
    with engine.connect() as conn:
        migrated = _params_keys(conn)
        columns = {c["name"] for c in sa.inspect(conn).get_columns(S.trial_params.name)}
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes(S.trial_params.name)}
    assert migrated == (["param_id"], [["trial_id", "name"]])
    assert columns == {c.name for c in S.trial_params.columns}
    assert {ix.name for ix in S.trial_params.indexes} <= indexes


def test_migrate_v2_duplicate_param_still_refused(url: str, engine: sa.Engine) -> None:
    ids = _write_v2(engine)
    RDBStorage(url).close()
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(S.trial_params.insert().values(
                trial_id=ids["running"], name="z", value=1.0, distribution=dist_json(X_DIST),
                study_id=ids["s"], seq=4))


def test_migrate_v2_stamp_missing_after_alter_completes(url: str, engine: sa.Engine) -> None:
    """An upgrade cut short after the ALTER (MySQL commits it at once) leaves version 2
    stamped on version-3 tables: the next open stamps 3 and keeps the rows."""
    storage = RDBStorage(url)
    try:
        sid = storage.create_new_study([hpo_core.StudyDirection.MINIMIZE], "s")
        tid, _ = storage.create_new_trial(sid)
        for name in ("x", "c", "b"):
            storage.set_trial_param(tid, name, 0.5, X_DIST)
        storage.set_trial_state_values(tid, TrialState.COMPLETE, [1.0])
    finally:
        storage.close()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hpo_schema SET schema_version = 2"))
    storage = RDBStorage(url)
    try:
        assert list(storage.get_trial(tid).params) == ["x", "c", "b"]
    finally:
        storage.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [S.SCHEMA_VERSION]


def test_migrate_sqlite_v2_failure_leaves_version_two(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    ids = _write_v2(engine)
    with engine.begin() as conn:  # a table in the way of the rebuild's rename
        conn.execute(sa.text("CREATE TABLE hpo_trial_params_v2 (x INTEGER)"))
    with pytest.raises(StorageError):
        RDBStorage(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [2]
        assert "param_id" not in {c["name"] for c in sa.inspect(conn).get_columns("hpo_trial_params")}
        names = conn.execute(sa.text("SELECT name FROM hpo_trial_params WHERE trial_id = :t ORDER BY rowid"),
                             {"t": ids["done"]}).scalars().all()
    assert names == ["x", "c", "b"]
    engine.dispose()


def test_migrate_sqlite_v2_drops_params_without_trial(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)  # foreign keys off
    ids = _write_v2(engine)
    with engine.begin() as conn:
        conn.execute(V2.tables["hpo_trial_params"].insert().values(
            trial_id=999, name="x", value=0.0, distribution=dist_json(X_DIST), study_id=ids["s"], seq=3))
    storage = RDBStorage(url)
    try:
        assert storage.get_trial(ids["running"]).params == {"z": 0.0}
    finally:
        storage.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM hpo_trial_params")).scalar() == 4
    engine.dispose()
