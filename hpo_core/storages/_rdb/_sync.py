"""Change-sequence sync of the RDB storage: read what changed in a study after the last
change this process applied, and apply it to the local history through the one writer.

Every write to a study stamps the rows it inserts or changes with the study's next
sequence number (see :mod:`hpo_core.storages._rdb._schema`). A sync reads, in one
snapshot, the study's current number and, when it moved, the rows of each table with a
higher number: its cost grows with what changed since the last sync, not with the
number of RUNNING trials or the steps they reported.

A write of this process whose change number directly follows the history's (nobody else
wrote in between) is applied to the local history as it commits (:func:`apply_own`),
from the rows it wrote: the next sync then finds the study's number unchanged and reads
no rows. A define-by-run trial on SQLite does one such read per ask instead of five.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import ChainMap
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hpo_core.distributions import BaseDistribution, json_to_distribution
from hpo_core.exceptions import StudyNotFoundError
from hpo_core.history import History
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._writer import Changes, apply_changes

__all__ = ["StudyCache", "apply_own", "apply_rows", "read_changes"]


class StudyCache:
    """A study's history as last synced.

    Attributes:
        history: the local :class:`History`.
        seq: the study's change number up to which ``history`` is complete (-1 before
            the first sync).
        numbers: trial_id -> trial number of every trial seen.
        lock: held while a sync reads and applies.
    """

    def __init__(self, study_id: int, n_objectives: int, sign: float):
        self.study_id = study_id
        self.history = History(n_objectives)
        self.history.set_direction_sign(sign)
        self.seq = -1
        self.numbers: dict[int, int] = {}
        self.lock = threading.Lock()


@functools.lru_cache(maxsize=4096)
def _dist(text: str) -> BaseDistribution:
    return json_to_distribution(text)


def _statements() -> dict[str, Any]:
    b = sa.bindparam
    out: dict[str, Any] = {
        "seq": sa.select(S.studies.c.seq).where(S.studies.c.study_id == b("sid")),
        "trials": sa.select(
            S.trials.c.trial_id, S.trials.c.number, S.trials.c.state, S.trials.c.values_json,
            S.trials.c.t_start, S.trials.c.t_complete,
        ).where((S.trials.c.study_id == b("sid")) & (S.trials.c.seq > b("last"))).order_by(S.trials.c.number),
    }
    p, a, iv = S.trial_params, S.trial_attrs, S.trial_intermediate
    for key, table, cols, order in (
        # One write's parameters share its seq; param_id (insertion order) keeps each
        # trial's parameters in suggestion order, the order of ``trial.params``.
        ("params", p, (p.c.trial_id, p.c.name, p.c.value, p.c.distribution), (p.c.seq, p.c.param_id)),
        ("attrs", a, (a.c.trial_id, a.c.kind, a.c.key, a.c.value_json), (a.c.seq,)),
        ("reports", iv, (iv.c.trial_id, iv.c.step, iv.c.value, iv.c.values_json), (iv.c.seq,)),
    ):
        out[key] = sa.select(*cols).where((table.c.study_id == b("sid")) & (table.c.seq > b("last"))).order_by(*order)
    return out


_STMT: dict[str, Any] = {}


def _stmt(key: str) -> Any:
    if not _STMT:
        _STMT.update(_statements())
    return _STMT[key]


def read_changes(conn: Connection, study_id: int, last: int) -> tuple[int, tuple[Any, ...] | None]:
    """Read the changes of ``study_id`` after change number ``last`` (run in one
    snapshot transaction). Returns ``(seq, rows)``, with ``rows`` None when nothing
    changed.

    Raises:
        StudyNotFoundError: if the study is gone.
    """
    seq = conn.execute(_stmt("seq"), {"sid": study_id}).scalar()
    if seq is None:
        raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")
    if seq == last:
        return int(seq), None
    args = {"sid": study_id, "last": last}
    rows = tuple(conn.execute(_stmt(key), args).all() for key in ("trials", "params", "attrs", "reports"))
    return int(seq), rows


def apply_rows(cache: StudyCache, rows: tuple[Any, ...], decode: Any) -> dict[int, int]:
    """Turn the rows read by :func:`read_changes` into :class:`Changes` and apply them
    to ``cache.history`` atomically. ``decode`` turns stored JSON text into a value.

    Returns:
        ``{trial_id: number}`` of the trials changed by the batch.
    """
    trial_rows, params, attrs, reports = rows
    new: dict[int, int] = {}
    # Trials new in this batch first, then those seen before: no copy of the whole map.
    numbers = ChainMap(new, cache.numbers)
    changes = Changes()
    for tid, number, state, values_json, t_start, t_complete in trial_rows:
        new[tid] = number
        values = decode(values_json) if values_json is not None else None
        changes.trials.append((
            number, tid, state, values,
            math.nan if t_start is None else t_start, math.nan if t_complete is None else t_complete,
        ))
    changes.params = [(numbers[tid], name, _dist(d), value) for tid, name, value, d in params]
    changes.attrs = [(numbers[tid], kind, key, decode(text)) for tid, kind, key, text in attrs]
    changes.reports = [
        (numbers[tid], step, decode(vj) if vj is not None else (math.nan if v is None else v))
        for tid, step, v, vj in reports
    ]
    apply_changes(cache.history, changes)
    cache.numbers.update(new)
    return new


def apply_own(cache: StudyCache, seq: int, rows: tuple[Any, ...], decode: Any) -> bool:
    """Apply the rows of this process's own committed change ``seq`` (in the format of
    :func:`read_changes`) when it is the study's next change after ``cache.seq``.

    Returns whether it was applied. When another writer's change came in between (or a
    sync of another thread already read this one), nothing is done: the next sync reads
    the change from the database as any other. An apply that fails is rolled back and
    left to that sync too: the write itself has committed.
    """
    if cache.seq != seq - 1:
        return False
    with cache.lock:
        if cache.seq != seq - 1:
            return False
        try:
            apply_rows(cache, rows, decode)
        except Exception:  # noqa: BLE001 - the history is rolled back; the sync redoes it
            return False
        cache.seq = seq
        return True
