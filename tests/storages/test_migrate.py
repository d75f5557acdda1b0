"""Upgrade of schema-version-1 databases in place (hpo_core/storages/_rdb/_migrate.py),
on SQLite, PostgreSQL and MySQL/MariaDB, and the versions refused. Version 2 databases:
test_migrate_v2.py; the url and engine fixtures: conftest.py."""

from __future__ import annotations

import math
import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.exceptions import StorageError
from hpo_core.storages import RDBStorage
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._rdb._trials import dist_json
from hpo_core.trial import TrialState

# ------------------------------------------------------------- schema version 1
# The tables as hpo_core wrote them at version 1 (git show e228e0e:hpo_core/storages/_rdb/_schema.py).
V1 = MetaData()
Table("hpo_schema", V1, Column("schema_version", Integer, primary_key=True, autoincrement=False))
Table(
    "hpo_studies", V1,
    Column("study_id", Integer, primary_key=True, autoincrement=True),
    Column("study_name", String(512), nullable=False, unique=True),
    Column("directions", String(256), nullable=False),
    Column("next_number", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)
Table(
    "hpo_study_attrs", V1,
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
)
Table(
    "hpo_reservations", V1,
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), primary_key=True),
    Column("key", String(512), primary_key=True),
)
Table(
    "hpo_trials", V1,
    Column("trial_id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("values_json", Text, nullable=True),
    Column("t_start", Float, nullable=True),
    Column("t_complete", Float, nullable=True),
    Column("owner", String(256), nullable=True),
    Column("heartbeat", Float, nullable=True),
    UniqueConstraint("study_id", "number", name="uq_hpo_trials_study_number"),
    Index("ix_hpo_trials_study_state", "study_id", "state"),
)
Table(
    "hpo_trial_params", V1,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("value", Float, nullable=False),
    Column("distribution", Text, nullable=False),
)
Table(
    "hpo_trial_attrs", V1,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
)
Table(
    "hpo_trial_intermediate", V1,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("step", Integer, primary_key=True, autoincrement=False),
    Column("value", Float, nullable=True),
)

# Values that a 4-byte MySQL FLOAT column keeps exactly, so the v1 data compares equal.
T0 = 1_700_000_000.0  # a multiple of 128: exact in 24 bits
X_DIST, N_DIST, C_DIST = FloatDistribution(0.0, 1.0), IntDistribution(1, 8), CategoricalDistribution(["a", "b"])
MIN = int(hpo_core.StudyDirection.MINIMIZE)


def _write_v1(engine: sa.Engine) -> dict[str, int]:
    """A version-1 database with two studies, as hpo_core 1 wrote them (plain json.dumps,
    ids from the database). Returns the trial ids by "study/number"."""
    t = V1.tables

    def insert(conn: sa.Connection, table: str, **row: object) -> int:
        key = conn.execute(t[table].insert().values(**row)).inserted_primary_key
        assert key is not None
        return int(key[0])

    V1.create_all(engine)
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(t["hpo_schema"].insert().values(schema_version=1))
        old = insert(conn, "hpo_studies", study_name="old", directions=str(MIN), next_number=3, created_at=T0)
        other = insert(conn, "hpo_studies", study_name="other", directions=str(MIN), next_number=1, created_at=T0)
        conn.execute(t["hpo_study_attrs"].insert().values(study_id=old, kind="user", key="note", value_json='"v1"'))
        for key, sid, number, state, values, t_start, t_complete in (
            ("old/0", old, 0, TrialState.COMPLETE, "[1.5]", T0, T0 + 128),
            ("old/1", old, 1, TrialState.RUNNING, None, T0 + 256, None),
            ("other/0", other, 0, TrialState.COMPLETE, "[7.0]", T0, T0),
            ("old/2", old, 2, TrialState.WAITING, None, None, None),
        ):
            ids[key] = insert(conn, "hpo_trials", study_id=sid, number=number, state=int(state), values_json=values,
                              t_start=t_start, t_complete=t_complete, owner=None, heartbeat=None)
        a, b, c = ids["old/0"], ids["old/1"], ids["other/0"]
        conn.execute(t["hpo_trial_params"].insert(), [
            {"trial_id": a, "name": "x", "value": 0.25, "distribution": dist_json(X_DIST)},
            {"trial_id": a, "name": "n", "value": 3.0, "distribution": dist_json(N_DIST)},
            {"trial_id": a, "name": "c", "value": 1.0, "distribution": dist_json(C_DIST)},
            {"trial_id": b, "name": "x", "value": 0.5, "distribution": dist_json(X_DIST)},
            {"trial_id": c, "name": "x", "value": 0.75, "distribution": dist_json(X_DIST)},
        ])
        conn.execute(t["hpo_trial_attrs"].insert(), [
            {"trial_id": a, "kind": "user", "key": "tag", "value_json": '{"a": [1, 2.5, null]}'},
            {"trial_id": a, "kind": "system", "key": "s", "value_json": '"sys"'},
            {"trial_id": b, "kind": "user", "key": "tag", "value_json": "3"},
        ])
        conn.execute(t["hpo_trial_intermediate"].insert(), [
            {"trial_id": a, "step": 0, "value": 4.0},
            {"trial_id": a, "step": 5, "value": None},  # NaN
            {"trial_id": b, "step": 0, "value": 2.0},
        ])
    ids["old"], ids["other"] = old, other
    return ids


def _check_v1_trials(trials: list[hpo_core.FrozenTrial]) -> None:
    assert [t.number for t in trials[:3]] == [0, 1, 2]
    t0, t1, t2 = trials[:3]
    assert t0.state == TrialState.COMPLETE and t0.values == [1.5]
    assert t0.params == {"x": 0.25, "n": 3, "c": "b"}
    assert t0.distributions == {"x": X_DIST, "n": N_DIST, "c": C_DIST}
    assert t0.user_attrs == {"tag": {"a": [1, 2.5, None]}} and t0.system_attrs == {"s": "sys"}
    assert t0.intermediate_values[0] == 4.0 and math.isnan(t0.intermediate_values[5])
    assert t0.datetime_start == datetime.fromtimestamp(T0)
    assert t0.datetime_complete == datetime.fromtimestamp(T0 + 128)
    assert t1.state == TrialState.RUNNING and t1.params == {"x": 0.5} and t1.user_attrs == {"tag": 3}
    assert t1.intermediate_values == {0: 2.0}
    assert t2.state == TrialState.WAITING and t2.params == {}


def test_migrate_v1_trials_round_trip(url: str, engine: sa.Engine) -> None:
    ids = _write_v1(engine)
    storage = RDBStorage(url)
    try:
        study = hpo_core.load_study(study_name="old", storage=storage)
        _check_v1_trials(study.trials)
        assert study.user_attrs == {"note": "v1"}
        other = hpo_core.load_study(study_name="other", storage=storage).trials
        assert [(t.number, t.values, t.params) for t in other] == [(0, [7.0], {"x": 0.75})]
    finally:
        storage.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [S.SCHEMA_VERSION]
        rows = conn.execute(sa.text("SELECT trial_id, study_id, seq FROM hpo_trial_params")).all()
        assert {tuple(r) for r in rows} == {
            (ids["old/0"], ids["old"], 0), (ids["old/1"], ids["old"], 0), (ids["other/0"], ids["other"], 0)}
    insp = sa.inspect(engine)
    for table in S.metadata.sorted_tables:
        assert {c.name for c in table.columns} <= {c["name"] for c in insp.get_columns(table.name)}
        assert {ix.name for ix in table.indexes} <= {ix["name"] for ix in insp.get_indexes(table.name)}


def test_migrate_v1_new_trials_sync_to_another_storage(url: str, engine: sa.Engine) -> None:
    _write_v1(engine)
    writer, reader = RDBStorage(url), RDBStorage(url)
    try:
        study = hpo_core.load_study(study_name="old", storage=writer)
        seen = hpo_core.load_study(study_name="old", storage=reader)
        assert len(seen.trials) == 3  # the reader synced the version-1 rows (seq 0)
        # An old RUNNING trial goes on, and a new one runs, with a step past 2**31.
        old = writer.get_trial_id_from_number(writer.get_study_id_from_name("old"), 1)
        writer.set_trial_intermediate_value(old, 2**40, 1.0)
        writer.set_trial_state_values(old, TrialState.COMPLETE, [0.5])
        waiting = study.ask()  # the version-1 WAITING trial runs
        x = waiting.suggest_float("x", 0.0, 1.0)
        waiting.report(float("inf"), 2**33)
        study.tell(waiting, x)
        fresh = study.ask()  # a new trial
        fresh.suggest_float("x", 0.0, 1.0)
        study.tell(fresh, 9.0)
        trials = seen.trials
        assert (waiting.number, fresh.number) == (2, 3)
        assert [t.number for t in trials] == [0, 1, 2, 3]
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 4
        assert trials[1].values == [0.5] and trials[1].intermediate_values == {0: 2.0, 2**40: 1.0}
        assert trials[2].params == {"x": x} and trials[2].values == [x]
        assert trials[2].intermediate_values == {2**33: math.inf}
        assert trials[3].values == [9.0]
        assert trials[0].params == {"x": 0.25, "n": 3, "c": "b"}
        # Parameter names differing only in case are distinct after the upgrade too.
        tid, _ = writer.create_new_trial(writer.get_study_id_from_name("old"))
        writer.set_trial_param(tid, "X", 0.0, X_DIST)
        writer.set_trial_param(tid, "x", 1.0, X_DIST)
        writer.set_trial_state_values(tid, TrialState.COMPLETE, [1.0])
        assert seen.trials[4].params == {"X": 0.0, "x": 1.0}
    finally:
        writer.close()
        reader.close()


def test_migrate_opening_twice_keeps_version_two(url: str, engine: sa.Engine) -> None:
    _write_v1(engine)
    RDBStorage(url).close()
    storage = RDBStorage(url)
    try:
        _check_v1_trials(hpo_core.load_study(study_name="old", storage=storage).trials)
    finally:
        storage.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [S.SCHEMA_VERSION]


def test_migrate_unknown_old_version_is_refused(url: str, engine: sa.Engine) -> None:
    _write_v1(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hpo_schema SET schema_version = 0"))
    with pytest.raises(StorageError, match="schema version 0, which this hpo_core cannot upgrade"):
        RDBStorage(url)


def test_migrate_sqlite_failure_leaves_version_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    _write_v1(engine)
    with engine.begin() as conn:  # a column in the way of the upgrade's index
        conn.execute(sa.text("CREATE INDEX ix_hpo_trials_study_seq ON hpo_studies (study_id)"))
    with pytest.raises(StorageError):
        RDBStorage(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [1]
        assert "seq" not in {c["name"] for c in sa.inspect(conn).get_columns("hpo_trials")}
    engine.dispose()


@pytest.mark.mysql
def test_migrate_mysql_interrupted_upgrade_completes(mysql_url: str) -> None:
    """MySQL commits DDL implicitly: an upgrade cut short after some tables is completed
    by the next open."""
    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        _write_v1(engine)
        with engine.begin() as conn:  # what a first, interrupted upgrade had done
            conn.exec_driver_sql("ALTER TABLE hpo_trials ADD COLUMN seq BIGINT NOT NULL DEFAULT 0")
            conn.exec_driver_sql("ALTER TABLE hpo_trial_params ADD COLUMN study_id INTEGER NOT NULL DEFAULT 0")
        storage = RDBStorage(mysql_url)
        try:
            _check_v1_trials(hpo_core.load_study(study_name="old", storage=storage).trials)
        finally:
            storage.close()
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_migrate_mysql_latin1_tables_become_utf8mb4(mysql_url: str) -> None:
    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER DATABASE CHARACTER SET latin1")
        _write_v1(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE hpo_trial_params SET name = 'é' WHERE trial_id = 3"))
        storage = RDBStorage(mysql_url)
        try:
            assert hpo_core.load_study(study_name="other", storage=storage).trials[0].params == {"é": 0.75}
            sid = storage.get_study_id_from_name("other")
            storage.set_study_attr(sid, "user", "名", "値")
            assert storage.get_study_attrs(sid, "user") == {"名": "値"}
        finally:
            storage.close()
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_migrate_mysql_types_are_version_two(mysql_url: str) -> None:
    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        _write_v1(engine)
        RDBStorage(mysql_url).close()
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME), COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE()")).all()
        types = {str(name): str(kind) for name, kind in rows}
        assert types["hpo_trial_params.value"] == "double"
        assert types["hpo_trials.t_start"] == "double"
        assert types["hpo_trial_params.name"] == "varbinary(2048)"
        assert types["hpo_study_attrs.key"] == "varbinary(2048)"
        assert types["hpo_trial_attrs.value_json"] == "longtext"
        assert types["hpo_trial_intermediate.step"] in ("bigint", "bigint(20)")  # MySQL 8 / MariaDB
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_migrate_postgres_step_is_bigint(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    try:
        _write_v1(engine)
        RDBStorage(postgres_url).close()
        cols = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("hpo_trial_intermediate")}
        assert isinstance(cols["step"], sa.BigInteger)
    finally:
        engine.dispose()


def test_migrate_newer_version_still_refused(url: str, engine: sa.Engine) -> None:
    RDBStorage(url).close()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hpo_schema SET schema_version = :v"), {"v": S.SCHEMA_VERSION + 1})
    with pytest.raises(StorageError, match="newer than"):
        RDBStorage(url)


def test_migrate_missing_version_row_still_refused(url: str, engine: sa.Engine) -> None:
    _write_v1(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM hpo_schema"))
    with pytest.raises(StorageError, match="schema version is missing"):
        RDBStorage(url)
    assert "seq" not in {c["name"] for c in sa.inspect(engine).get_columns("hpo_trials")}


def test_migrate_concurrent_opens_upgrade_once(url: str, engine: sa.Engine) -> None:
    """Storages opening a version-1 database at once: one upgrades under the schema
    lock, the others wait and find version 2."""
    _write_v1(engine)
    errors: list[BaseException] = []
    storages: list[RDBStorage] = []

    def open_one() -> None:
        try:
            storages.append(RDBStorage(url))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        for s in storages:
            _check_v1_trials(hpo_core.load_study(study_name="old", storage=s).trials)
    finally:
        for s in storages:
            s.close()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM hpo_schema")).scalars().all() == [S.SCHEMA_VERSION]
