"""Values come back from every RDB backend exactly as they went in (column types of
hpo_core/storages/_rdb/_schema.py): double-precision floats, names compared byte for
byte, JSON text beyond 64 KB, non-finite intermediate values. Each test writes with one
RDBStorage and reads with another on the same URL, so nothing comes from a cache."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa

from hpo_core.distributions import CategoricalDistribution, FloatDistribution
from hpo_core.exceptions import DuplicatedStudyError
from hpo_core.storages import RDBStorage
from hpo_core.storages._rdb import _schema as S
from hpo_core.trial import StudyDirection, TrialState, create_trial

MIN = StudyDirection.MINIMIZE
UNIT = FloatDistribution(0.0, 1.0)
# Distinct names that MySQL/MariaDB's default collations take for one.
NAMES = ("x", "X", "x ")


@pytest.fixture
def pair(url: str) -> Iterator[tuple[RDBStorage, RDBStorage]]:
    """A writer and a reader on the same database."""
    writer = RDBStorage(url)
    reader = RDBStorage(url)
    yield writer, reader
    writer.close()
    reader.close()


# ------------------------------------------------------------------ floats
def test_rdb_float_params_round_trip_exactly(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN], "floats")
    values = [1e-300, 0.1 + 0.2, 5e-324, 1.0 - 2**-53, 0.123456789012345678]
    for v in values:
        tid, _ = writer.create_new_trial(sid)
        writer.set_trial_param(tid, "p", v, UNIT)
        writer.set_trial_state_values(tid, TrialState.COMPLETE, [v])
    got = [t.params["p"] for t in reader.get_all_trials(sid)]
    assert got == values  # exact: a 4-byte FLOAT rounds 0.1 + 0.2 to 0.30000001192092896


def test_rdb_times_round_trip_exactly(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN], "times")
    start, end = datetime(2026, 3, 4, 5, 6, 7, 123457), datetime(2026, 3, 4, 5, 6, 8, 999999)
    template = create_trial(state=TrialState.COMPLETE, value=1.0)
    template.datetime_start, template.datetime_complete = start, end
    writer.create_new_trial(sid, template_trial=template)
    tid, _ = writer.create_new_trial(sid)  # t_start from time.time(), full precision
    writer.set_trial_state_values(tid, TrialState.COMPLETE, [2.0])
    mine, theirs = writer.get_all_trials(sid), reader.get_all_trials(sid)
    assert (theirs[0].datetime_start, theirs[0].datetime_complete) == (start, end)
    assert theirs[1].datetime_start == mine[1].datetime_start
    assert theirs[1].datetime_complete == mine[1].datetime_complete


def test_rdb_float_columns_are_double_precision(url: str, pair: tuple[RDBStorage, RDBStorage]) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        insp = sa.inspect(engine)
        for table in S.metadata.sorted_tables:
            reflected = {c["name"]: c["type"] for c in insp.get_columns(table.name)}
            for col in table.columns:
                if isinstance(col.type, sa.Float):
                    assert isinstance(reflected[col.name], sa.Double), (table.name, col.name, reflected[col.name])
        # Heartbeats and study creation times: written by the storage, kept to the bit.
        v = 1_796_533_391.973_217_5
        with engine.begin() as conn:
            conn.execute(S.studies.insert().values(study_name="t", directions="1", next_number=0, created_at=v, seq=0))
            assert conn.execute(sa.select(S.studies.c.created_at).where(S.studies.c.study_name == "t")).scalar() == v
    finally:
        engine.dispose()


# ------------------------------------------------------------------ names
def test_rdb_param_names_are_byte_exact(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN], "params")
    tid, _ = writer.create_new_trial(sid)
    for k, name in enumerate(NAMES):
        writer.set_trial_param(tid, name, k / 4, UNIT)
    writer.set_trial_state_values(tid, TrialState.COMPLETE, [0.0])
    params = reader.get_all_trials(sid)[0].params
    assert params == {"x": 0.0, "X": 0.25, "x ": 0.5}
    assert all(type(k) is str for k in params)


def test_rdb_attr_keys_are_byte_exact(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN], "attrs")
    tid, _ = writer.create_new_trial(sid)
    for k, name in enumerate(NAMES):
        writer.set_study_attr(sid, "user", name, k)
        writer.set_trial_attr(tid, "user", name, k)
    writer.set_trial_state_values(tid, TrialState.COMPLETE, [0.0])
    assert reader.get_study_attrs(sid, "user") == {"x": 0, "X": 1, "x ": 2}
    assert reader.get_all_trials(sid)[0].user_attrs == {"x": 0, "X": 1, "x ": 2}
    assert reader.get_study_attrs(sid, "system") == {}


def test_rdb_study_names_are_byte_exact(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    ids = [writer.create_new_study([MIN], name) for name in NAMES]
    assert len(set(ids)) == 3
    assert [reader.get_study_id_from_name(n) for n in NAMES] == ids
    assert [reader.get_study_name_from_id(i) for i in ids] == list(NAMES)
    assert sorted(s.study_name for s in reader.get_all_studies()) == sorted(NAMES)
    with pytest.raises(DuplicatedStudyError):
        writer.create_new_study([MIN], "X")


def test_rdb_reservation_keys_are_byte_exact(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN], "reserve")
    assert [writer.reserve(sid, k) for k in NAMES] == [True, True, True]
    assert [reader.reserve(sid, k) for k in NAMES] == [False, False, False]


def test_rdb_longest_names_of_four_byte_characters(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    name = "\U0001f600" * 512  # 512 characters, 2048 UTF-8 bytes
    sid = writer.create_new_study([MIN], name)
    tid, _ = writer.create_new_trial(sid)
    writer.set_trial_param(tid, name, 0.5, UNIT)
    writer.set_trial_attr(tid, "user", name, "v")
    writer.set_trial_state_values(tid, TrialState.COMPLETE, [0.0])
    t = reader.get_all_trials(reader.get_study_id_from_name(name))[0]
    assert t.params == {name: 0.5} and t.user_attrs == {name: "v"}


# ------------------------------------------------------------------ JSON text
def test_rdb_json_beyond_64_kb(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    big = "a" * 200_000
    sid = writer.create_new_study([MIN], "big")
    writer.set_study_attr(sid, "user", "big", big)
    choices = [f"choice-{k:06d}" for k in range(10_000)]  # a distribution's JSON of ~150 KB
    dist = CategoricalDistribution(choices)
    tid, _ = writer.create_new_trial(sid)
    writer.set_trial_attr(tid, "user", "big", {"s": big})
    writer.set_trial_param(tid, "c", 9_999.0, dist)
    writer.set_trial_state_values(tid, TrialState.COMPLETE, [0.0])
    assert reader.get_study_attrs(sid, "user") == {"big": big}
    t = reader.get_all_trials(sid)[0]
    assert t.user_attrs == {"big": {"s": big}}
    assert t.params == {"c": choices[-1]} and t.distributions == {"c": dist}


# ------------------------------------------------------------------ reports
def test_rdb_non_finite_reports_round_trip(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN], "reports")
    tid, _ = writer.create_new_trial(sid)
    for step, v in enumerate([math.inf, -math.inf, math.nan, 1.5, 1e-300]):
        writer.set_trial_intermediate_value(tid, step, v)
    iv = reader.get_trial(tid).intermediate_values
    assert [iv[s] for s in (0, 1, 3, 4)] == [math.inf, -math.inf, 1.5, 1e-300]
    assert math.isnan(iv[2])


def test_rdb_non_finite_vector_reports_round_trip(pair: tuple[RDBStorage, RDBStorage]) -> None:
    writer, reader = pair
    sid = writer.create_new_study([MIN, MIN], "vector")
    tid, _ = writer.create_new_trial(sid)
    writer.set_trial_intermediate_value(tid, 0, [math.inf, 1.0])
    writer.set_trial_intermediate_value(tid, 1, [-math.inf, math.nan])
    writer.set_trial_intermediate_value(tid, 2, [0.5, math.inf])
    iv = reader.get_trial(tid).intermediate_values
    assert list(iv[0]) == [math.inf, 1.0] and list(iv[2]) == [0.5, math.inf]
    assert iv[1][0] == -math.inf and math.isnan(iv[1][1])


def test_rdb_non_finite_report_is_null_in_value_column(url: str, pair: tuple[RDBStorage, RDBStorage]) -> None:
    """What a SQL reader of the table sees: NULL ``value`` and the tagged JSON."""
    writer, _ = pair
    sid = writer.create_new_study([MIN], "sql")
    tid, _ = writer.create_new_trial(sid)
    writer.set_trial_intermediate_value(tid, 0, -math.inf)
    writer.set_trial_intermediate_value(tid, 1, 2.0)
    iv = S.trial_intermediate
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(iv.c.step, iv.c.value, iv.c.values_json).order_by(iv.c.step)).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(0, None, '{"$float":"-Infinity"}'), (1, 2.0, None)]


# ------------------------------------------------------------------ own writes
def _selects(storage: RDBStorage) -> list[str]:
    """The SELECT statements ``storage`` sends from now on (SQLAlchemy's event hook)."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa.event.listen(storage._db.engine, "before_cursor_execute", on_execute)
    return seen


def test_rdb_sync_after_own_trial_reads_no_rows(pair: tuple[RDBStorage, RDBStorage]) -> None:
    # This process's create and tell are applied as they commit: the sync before the
    # next ask reads the study's change number and nothing else.
    writer, reader = pair
    sid = writer.create_new_study([MIN], "own")
    writer.get_history(sid)
    tid, number = writer.create_new_trial(sid)
    writer.set_trial_param(tid, "x", 0.25, UNIT)
    writer.set_trial_state_values(tid, TrialState.COMPLETE, [0.5])
    selects = _selects(writer)
    h = writer.get_history(sid)
    assert len(selects) == 1 and "hpo_studies" in selects[0]
    assert (h.n, h.best_row, h.values[number, 0]) == (1, number, 0.5)
    assert writer.get_trial(tid).params == reader.get_trial(tid).params == {"x": 0.25}
    # Another object's write in between: the next own write is not applied locally,
    # and the sync reads both from the database.
    reader.create_new_trial(sid)
    tid2, _ = writer.create_new_trial(sid)
    selects.clear()
    h = writer.get_history(sid)
    assert len(selects) > 1 and h.n == 3 and int(h.trial_ids[2]) == tid2
