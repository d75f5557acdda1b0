"""The SQL of trial writes, each run inside a write transaction of the RDB storage.

Every write to a study first takes the study's next change number (:func:`next_seq`,
or :func:`allocate_numbers` when it creates trials); the UPDATE locks the study row
until commit, so the study's writes commit in change-number order and trial numbers
are dense. Each row written carries the study id and that number (see ``_schema``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hpo_core.distributions import SearchSpace, distribution_to_json
from hpo_core.exceptions import StudyNotFoundError, UpdateFinishedTrialError
from hpo_core.storages._checks import encode_json
from hpo_core.storages._rdb import _schema as S
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import TrialState

__all__ = [
    "CHUNK", "allocate_numbers", "dist_json", "guard_unfinished", "insert_param_rows", "insert_params",
    "insert_template", "inserted_id", "next_seq", "report", "set_attr",
]

# Distributions are immutable and hashable: their JSON text is computed once.
dist_json = functools.lru_cache(maxsize=4096)(distribution_to_json)

_RUNNING, _WAITING = int(TrialState.RUNNING), int(TrialState.WAITING)
UNFINISHED = (_RUNNING, _WAITING)
# Rows per INSERT statement: bounds the memory of one statement for large batches.
CHUNK = 20_000


class _Statements(dict):  # type: ignore[type-arg]
    """Hot-path statements, built once with bind parameters (built on first use).

    Building a SQLAlchemy expression and its cache key costs more than executing it on
    SQLite; the per-trial writes reuse these objects.
    """

    def __missing__(self, key: str) -> Any:
        t, st = S.trials, S.studies
        b = sa.bindparam
        built = {
            "bump_number": st.update().where(st.c.study_id == b("sid"))
            .values(next_number=st.c.next_number + b("n"), seq=st.c.seq + 1),
            "next_number": sa.select(st.c.next_number, st.c.seq).where(st.c.study_id == b("sid")),
            "bump_seq": st.update().where(st.c.study_id == b("sid")).values(seq=st.c.seq + 1),
            # One round trip instead of two where the database has UPDATE ... RETURNING
            # (PostgreSQL, SQLite >= 3.35; not MariaDB/MySQL).
            "bump_number_returning": st.update().where(st.c.study_id == b("sid"))
            .values(next_number=st.c.next_number + b("n"), seq=st.c.seq + 1)
            .returning(st.c.next_number, st.c.seq),
            "bump_seq_returning": st.update().where(st.c.study_id == b("sid"))
            .values(seq=st.c.seq + 1).returning(st.c.seq),
            "seq": sa.select(st.c.seq).where(st.c.study_id == b("sid")),
            "insert_trial": t.insert(),
            "state": sa.select(t.c.state, t.c.number).where(t.c.trial_id == b("tid")),
            "finish_trial": t.update()
            .where((t.c.trial_id == b("tid")) & t.c.state.in_(UNFINISHED))
            .values(state=b("state"), values_json=b("vals"), t_complete=b("t_complete"), seq=b("seq")),
            "insert_param": S.trial_params.insert(),
            "param_names": sa.select(S.trial_params.c.name).where(S.trial_params.c.trial_id == b("tid")),
            "report_exists": sa.select(S.trial_intermediate.c.step).where(
                (S.trial_intermediate.c.trial_id == b("tid")) & (S.trial_intermediate.c.step == b("step"))),
            "insert_report": S.trial_intermediate.insert(),
        }[key]
        self[key] = built
        return built


STMT = _Statements()


def inserted_id(result: Any) -> int:
    """The autoincrement primary key of a single-row INSERT."""
    key = result.inserted_primary_key
    assert key is not None  # single-row inserts always report it
    return int(key[0])


def next_seq(conn: Connection, study_id: int) -> int:
    """Take the study's next change number (locks the study row until commit)."""
    if conn.dialect.update_returning:
        seq = conn.execute(STMT["bump_seq_returning"], {"sid": study_id}).scalar()
        if seq is None:
            raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")
        return int(seq)
    if conn.execute(STMT["bump_seq"], {"sid": study_id}).rowcount == 0:
        raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")
    return int(conn.execute(STMT["seq"], {"sid": study_id}).scalar_one())


def allocate_numbers(conn: Connection, study_id: int, n: int) -> tuple[int, int]:
    """Reserve ``n`` consecutive trial numbers; returns ``(first number, change number)``."""
    if conn.dialect.update_returning:
        row = conn.execute(STMT["bump_number_returning"], {"sid": study_id, "n": n}).first()
        if row is None:
            raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")
        return int(row[0]) - n, int(row[1])
    if conn.execute(STMT["bump_number"], {"sid": study_id, "n": n}).rowcount == 0:
        raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")
    nxt, seq = conn.execute(STMT["next_number"], {"sid": study_id}).one()
    return int(nxt) - n, int(seq)


def guard_unfinished(conn: Connection, trial_id: int) -> int:
    """The number of ``trial_id``, checked to be RUNNING or WAITING.

    Raises:
        KeyError: no such trial.
        UpdateFinishedTrialError: the trial is finished.
    """
    row = conn.execute(STMT["state"], {"tid": trial_id}).first()
    if row is None:
        raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
    if row[0] not in UNFINISHED:
        raise UpdateFinishedTrialError(
            f"Trial {row[1]} is already finished ({TrialState(row[0]).name}) and cannot be changed.")
    return int(row[1])


def insert_params(
    conn: Connection, study_id: int, seq: int, trial_ids: Sequence[int], space: SearchSpace, X: np.ndarray
) -> None:
    """Parameters of ``space`` for several trials: X (n, d) internal values."""
    dists = [dist_json(d) for d in space.values()]
    names = space.names
    rows = [
        {"trial_id": tid, "name": names[j], "value": v, "distribution": dists[j], "study_id": study_id, "seq": seq}
        for tid, xrow in zip(trial_ids, X.tolist()) for j, v in enumerate(xrow)
    ]
    for k in range(0, len(rows), CHUNK):
        conn.execute(STMT["insert_param"], rows[k : k + CHUNK])


def insert_param_rows(conn: Connection, study_id: int, seq: int, trial_id: int, rows: list[tuple[str, float, str]]) -> None:
    """Parameters set one by one (``suggest_*``): ``(name, internal, distribution JSON)``.

    In a transaction run again after a lost connection (``hpo_retry``), rows the first
    run committed are skipped."""
    if rows and conn.get_execution_options().get("hpo_retry"):
        have = set(conn.execute(STMT["param_names"], {"tid": trial_id}).scalars())
        rows = [r for r in rows if r[0] not in have]
    if rows:
        conn.execute(STMT["insert_param"], [
            {"trial_id": trial_id, "name": name, "value": value, "distribution": d, "study_id": study_id, "seq": seq}
            for name, value, d in rows])


def report(conn: Connection, study_id: int, seq: int, trial_id: int, step: int, value: Any) -> None:
    """An intermediate value (a float, or one per objective); the first report of a step
    wins.

    ``value`` holds the first (or only) value when it is finite, else NULL: MySQL float
    columns take neither NaN nor +-inf. ``values_json`` holds the exact value(s), tagged
    JSON, for a list and for a non-finite float (else NULL, the common case).
    """
    if conn.execute(STMT["report_exists"], {"tid": trial_id, "step": step}).first() is not None:
        return
    vj: str | None
    if isinstance(value, (list, tuple)):
        first, vj = value[0], encode_json(list(value), "value")
    else:
        first = value
        vj = None if math.isfinite(value) else encode_json(value, "value")
    conn.execute(STMT["insert_report"], {
        "trial_id": trial_id, "step": step, "value": first if math.isfinite(first) else None,
        "values_json": vj, "study_id": study_id, "seq": seq})


def set_attr(conn: Connection, study_id: int, seq: int, trial_id: int, kind: str, key: str, text: str) -> None:
    """Insert or replace a trial attribute (JSON text)."""
    t = S.trial_attrs
    where = (t.c.trial_id == trial_id) & (t.c.kind == kind) & (t.c.key == key)
    if conn.execute(t.update().where(where).values(value_json=text, seq=seq)).rowcount == 0:
        conn.execute(t.insert().values(
            trial_id=trial_id, kind=kind, key=key, value_json=text, study_id=study_id, seq=seq))


def insert_template(
    conn: Connection, study_id: int, number: int, seq: int, t: FrozenTrial, *, owner: str | None,
    encode: Any,
) -> int:
    """A whole trial (``add_trial``, ``enqueue_trial``); returns its trial id."""
    state = int(t.state)
    values = encode(list(t.values), "values") if t.values is not None else None
    res = conn.execute(S.trials.insert().values(
        study_id=study_id, number=number, state=state, values_json=values,
        t_start=t.datetime_start.timestamp() if t.datetime_start else None,
        t_complete=t.datetime_complete.timestamp() if t.datetime_complete else None,
        owner=owner if state == _RUNNING else None, seq=seq,
    ))
    tid = inserted_id(res)
    insert_param_rows(conn, study_id, seq, tid, [
        (k, t.distributions[k].to_internal_repr(v), dist_json(t.distributions[k])) for k, v in t.params.items()])
    for kind, d in (("user", t.user_attrs), ("system", t.system_attrs)):
        for k, v in d.items():
            set_attr(conn, study_id, seq, tid, kind, k, encode(v, f"{kind}_attrs[{k!r}]"))
    for s, v in sorted(t.intermediate_values.items()):
        report(conn, study_id, seq, tid, s, v)
    return tid
