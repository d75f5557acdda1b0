"""Relational storage on SQLAlchemy Core: SQLite (the embedded default), PostgreSQL,
MySQL through one code path.

Transactions: every write is one transaction, retried on transient lock errors. On
SQLite, writes open with ``BEGIN IMMEDIATE`` (the write lock is taken up front, so two
writers never deadlock upgrading a read lock) and the file runs in WAL mode with a
busy timeout, so readers never block writers and several processes share one file
without "database is locked" reaching the user. Reads of the history run in one
snapshot transaction.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hpo_core._validation import check_real, format_error
from hpo_core.distributions import (
    BaseDistribution,
    SearchSpace,
    distribution_to_json,
    json_to_distribution,
)
from hpo_core.exceptions import (
    DuplicatedStudyError,
    StorageError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from hpo_core.history import History
from hpo_core.storages._base import (
    BaseStorage,
    FrozenStudy,
    is_local_worker_dead,
    worker_id,
)
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._rdb._engine import Database
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import StudyDirection, TrialState

__all__ = ["RDBStorage"]

_logger = logging.getLogger(__name__)
T = TypeVar("T")

# Distributions are immutable and hashable: their JSON text is computed once.
_dist_json = functools.lru_cache(maxsize=4096)(distribution_to_json)

_RUNNING, _WAITING, _FAIL = int(TrialState.RUNNING), int(TrialState.WAITING), int(TrialState.FAIL)
_UNFINISHED = (_RUNNING, _WAITING)
_IN_CHUNK = 500


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as e:
        raise TypeError(format_error(what, "JSON-serializable", value)) from e


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
            .values(next_number=st.c.next_number + b("n")),
            "next_number": sa.select(st.c.next_number).where(st.c.study_id == b("sid")),
            "insert_trial": t.insert(),
            "any_waiting": sa.select(t.c.trial_id)
            .where((t.c.study_id == b("sid")) & (t.c.state == _WAITING)).limit(1),
            "finish_trial": t.update()
            .where((t.c.trial_id == b("tid")) & t.c.state.in_(_UNFINISHED))
            .values(state=b("state"), values_json=b("vals"), t_complete=b("t_complete")),
        }[key]
        self[key] = built
        return built


_STMT = _Statements()


def _inserted_id(result: Any) -> int:
    """The autoincrement primary key of a single-row INSERT."""
    key = result.inserted_primary_key
    assert key is not None  # single-row inserts always report it
    return int(key[0])


class _Cache:
    """A study's history as last read, and what must be read again."""

    def __init__(self, n_objectives: int, sign: float):
        self.history = History(n_objectives)
        self.history.set_direction_sign(sign)
        self.synced_upto = 0  # every number below this has been read at least once
        self.unfinished: dict[int, int] = {}  # number -> trial_id, re-read each sync
        self.lock = threading.Lock()


class RDBStorage(BaseStorage):
    """Storage in a relational database, by SQLAlchemy URL.

    Args:
        url: ``"sqlite:///path/to/file.db"``, ``"postgresql://user@host:5432/db"``,
            ``"mysql+pymysql://..."``.
        engine_kwargs: Extra arguments for ``sqlalchemy.create_engine``.
        heartbeat_interval: Seconds between heartbeats of trials run by
            ``Study.optimize``; None turns heartbeats off. Default 60.
        grace_period: A RUNNING trial whose last heartbeat is older than this is marked
            FAIL by the next worker that checks. Default ``2 * heartbeat_interval``.
        busy_timeout: Seconds a SQLite writer waits for the file lock (default 60).

    Example:
        >>> import hpo_core
        >>> storage = hpo_core.storages.RDBStorage("sqlite:///example.db")
        >>> study = hpo_core.create_study(storage=storage, study_name="demo", load_if_exists=True)
    """

    def __init__(
        self,
        url: str,
        *,
        engine_kwargs: dict[str, Any] | None = None,
        heartbeat_interval: float | None = 60.0,
        grace_period: float | None = None,
        busy_timeout: float = 60.0,
    ):
        if not isinstance(url, str) or "://" not in url:
            raise ValueError(format_error("url", "a database URL such as 'sqlite:///study.db'", url))
        self.heartbeat_interval = check_real("heartbeat_interval", heartbeat_interval, low=0.0, low_open=True, allow_none=True, owner="RDBStorage")
        if grace_period is None and heartbeat_interval is not None:
            grace_period = 2.0 * heartbeat_interval
        self.grace_period = check_real("grace_period", grace_period, low=0.0, low_open=True, allow_none=True, owner="RDBStorage")
        self._busy_timeout: float = check_real("busy_timeout", busy_timeout, low=0.0, owner="RDBStorage")  # type: ignore[assignment]
        self.url = url
        self._engine_kwargs = dict(engine_kwargs or {})
        self._setup()

    # ------------------------------------------------------------ connection
    def _setup(self) -> None:
        self._db = Database(self.url, self._engine_kwargs, self._busy_timeout)
        self._is_sqlite = self._db.is_sqlite
        self._engine = self._db.engine
        self._write = self._db.write
        self._read = self._db.read
        self._caches: dict[int, _Cache] = {}
        self._caches_lock = threading.Lock()
        self._dist_cache: dict[str, BaseDistribution] = {}
        os.register_at_fork(after_in_child=self._db.after_fork) if hasattr(os, "register_at_fork") else None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "url": self.url, "_engine_kwargs": self._engine_kwargs,
            "heartbeat_interval": self.heartbeat_interval, "grace_period": self.grace_period,
            "_busy_timeout": self._busy_timeout,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup()

    def close(self) -> None:
        self._db.close()

    # --------------------------------------------------------------- studies
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        name = study_name or f"no-name-{time.time_ns()}-{random.getrandbits(32):08x}"
        dirs = ",".join(str(int(d)) for d in directions)

        def fn(conn: Connection) -> int:
            res = conn.execute(S.studies.insert().values(study_name=name, directions=dirs, next_number=0, created_at=time.time()))
            return _inserted_id(res)

        try:
            return self._write(fn)
        except IntegrityError:
            raise DuplicatedStudyError(f"A study named {name!r} already exists.") from None
        except StorageError as e:
            if isinstance(e.__cause__, IntegrityError):
                raise DuplicatedStudyError(f"A study named {name!r} already exists.") from None
            raise

    def delete_study(self, study_id: int) -> None:
        self.get_study_name_from_id(study_id)

        def fn(conn: Connection) -> None:
            ids = sa.select(S.trials.c.trial_id).where(S.trials.c.study_id == study_id)
            for t in (S.trial_params, S.trial_attrs, S.trial_intermediate):
                conn.execute(t.delete().where(t.c.trial_id.in_(ids)))
            for t in (S.trials, S.study_attrs, S.reservations, S.studies):
                conn.execute(t.delete().where(t.c.study_id == study_id))

        self._write(fn)
        with self._caches_lock:
            self._caches.pop(study_id, None)

    def set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        text = _dumps(value, "value")
        self.get_study_name_from_id(study_id)

        def fn(conn: Connection) -> None:
            t = S.study_attrs
            where = (t.c.study_id == study_id) & (t.c.kind == kind) & (t.c.key == key)
            if conn.execute(t.update().where(where).values(value_json=text)).rowcount == 0:
                conn.execute(t.insert().values(study_id=study_id, kind=kind, key=key, value_json=text))

        self._write(fn)

    def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        t = S.study_attrs
        rows = self._read(lambda c: c.execute(sa.select(t.c.key, t.c.value_json).where((t.c.study_id == study_id) & (t.c.kind == kind))).all())
        return {k: json.loads(v) for k, v in rows}

    def get_study_id_from_name(self, study_name: str) -> int:
        t = S.studies
        sid = self._read(lambda c: c.execute(sa.select(t.c.study_id).where(t.c.study_name == study_name)).scalar())
        if sid is None:
            raise StudyNotFoundError(f"No study named {study_name!r} in {self.url!r}.")
        return int(sid)

    def _study_row(self, study_id: int) -> Any:
        t = S.studies
        row = self._read(lambda c: c.execute(sa.select(t).where(t.c.study_id == study_id)).first())
        if row is None:
            raise StudyNotFoundError(f"No study with study_id={study_id!r} in {self.url!r}.")
        return row

    def get_study_name_from_id(self, study_id: int) -> str:
        return str(self._study_row(study_id).study_name)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return [StudyDirection(int(x)) for x in self._study_row(study_id).directions.split(",")]

    def get_all_studies(self) -> list[FrozenStudy]:
        t = S.studies
        rows = self._read(lambda c: c.execute(sa.select(t).order_by(t.c.study_id)).all())
        out = []
        for r in rows:
            h = self.get_history(r.study_id)
            out.append(
                FrozenStudy(
                    study_name=r.study_name,
                    study_id=r.study_id,
                    directions=[StudyDirection(int(x)) for x in r.directions.split(",")],
                    n_trials=int(sum(h.state_counts)),
                    user_attrs=self.get_study_attrs(r.study_id, "user"),
                    system_attrs=self.get_study_attrs(r.study_id, "system"),
                    datetime_start=h.frozen(0).datetime_start if h.n and h.states[0] >= 0 else None,
                    best_trial=h.frozen(h.best_row) if h.best_row >= 0 else None,
                )
            )
        return out

    def reserve(self, study_id: int, key: str) -> bool:
        def fn(conn: Connection) -> bool:
            t = S.reservations
            exists = conn.execute(sa.select(t.c.key).where((t.c.study_id == study_id) & (t.c.key == key))).first()
            if exists is not None:
                return False
            conn.execute(t.insert().values(study_id=study_id, key=key))
            return True

        try:
            return self._write(fn)
        except (IntegrityError, StorageError) as e:
            if isinstance(e, IntegrityError) or isinstance(e.__cause__, IntegrityError):
                return False
            raise

    # --------------------------------------------------------------- trials
    @staticmethod
    def _allocate_numbers(conn: Connection, study_id: int, n: int) -> int:
        """Reserve ``n`` consecutive trial numbers; returns the first. The UPDATE locks
        the study row until commit, so numbers commit in order."""
        res = conn.execute(_STMT["bump_number"], {"sid": study_id, "n": n})
        if res.rowcount == 0:
            raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")
        return int(conn.execute(_STMT["next_number"], {"sid": study_id}).scalar_one()) - n

    def create_new_trial(
        self,
        study_id: int,
        template: FrozenTrial | None = None,
        *,
        space: SearchSpace | None = None,
        internal: np.ndarray | None = None,
    ) -> tuple[int, int]:
        now = time.time()
        owner = worker_id()

        def fn(conn: Connection) -> tuple[int, int]:
            number = self._allocate_numbers(conn, study_id, 1)
            if template is None:
                res = conn.execute(_STMT["insert_trial"], {
                    "study_id": study_id, "number": number, "state": _RUNNING, "t_start": now, "owner": owner})
                tid = _inserted_id(res)
                if space is not None and len(space):
                    self._insert_params(conn, [tid], space, np.asarray(internal)[None, :])
                return tid, number
            return self._insert_template(conn, study_id, number, template), number

        return self._write(fn)

    def _insert_template(self, conn: Connection, study_id: int, number: int, t: FrozenTrial) -> int:
        state = int(t.state)
        values = _dumps(list(t.values), "values") if t.values is not None else None
        res = conn.execute(S.trials.insert().values(
            study_id=study_id, number=number, state=state, values_json=values,
            t_start=t.datetime_start.timestamp() if t.datetime_start else None,
            t_complete=t.datetime_complete.timestamp() if t.datetime_complete else None,
            owner=worker_id() if state == _RUNNING else None,
        ))
        tid = _inserted_id(res)
        if t.params:
            conn.execute(S.trial_params.insert(), [
                {"trial_id": tid, "name": k, "value": t.distributions[k].to_internal_repr(v),
                 "distribution": _dist_json(t.distributions[k])}
                for k, v in t.params.items()])
        attrs = [{"trial_id": tid, "kind": kind, "key": k, "value_json": _dumps(v, f"{kind}_attrs[{k!r}]")}
                 for kind, d in (("user", t.user_attrs), ("system", t.system_attrs)) for k, v in d.items()]
        if attrs:
            conn.execute(S.trial_attrs.insert(), attrs)
        if t.intermediate_values:
            conn.execute(S.trial_intermediate.insert(), [
                {"trial_id": tid, "step": s, "value": None if math.isnan(v) else v}
                for s, v in t.intermediate_values.items()])
        return tid

    def _insert_params(self, conn: Connection, trial_ids: Sequence[int], space: SearchSpace, X: np.ndarray) -> None:
        dists = [_dist_json(d) for d in space.values()]
        names = space.names
        rows = [
            {"trial_id": tid, "name": names[j], "value": v, "distribution": dists[j]}
            for tid, xrow in zip(trial_ids, X.tolist()) for j, v in enumerate(xrow)
        ]
        if rows:
            conn.execute(S.trial_params.insert(), rows)

    def create_new_trials(self, study_id: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        now, owner = time.time(), worker_id()

        def fn(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
            first = self._allocate_numbers(conn, study_id, n)
            conn.execute(S.trials.insert(), [
                {"study_id": study_id, "number": first + k, "state": _RUNNING, "t_start": now, "owner": owner}
                for k in range(n)])
            t = S.trials
            rows = conn.execute(sa.select(t.c.trial_id, t.c.number).where(
                (t.c.study_id == study_id) & (t.c.number >= first) & (t.c.number < first + n)
            ).order_by(t.c.number)).all()
            return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64))

        return self._write(fn)

    def has_waiting(self, study_id: int) -> bool:
        return self._read(lambda c: c.execute(_STMT["any_waiting"], {"sid": study_id}).first()) is not None

    def claim_waiting_trial(self, study_id: int) -> tuple[int, int] | None:
        t = S.trials
        now, owner = time.time(), worker_id()

        def fn(conn: Connection) -> tuple[int, int] | None | bool:
            row = conn.execute(sa.select(t.c.trial_id, t.c.number).where(
                (t.c.study_id == study_id) & (t.c.state == _WAITING)).order_by(t.c.number).limit(1)).first()
            if row is None:
                return None
            res = conn.execute(t.update().where((t.c.trial_id == row[0]) & (t.c.state == _WAITING))
                               .values(state=_RUNNING, t_start=now, owner=owner))
            return (int(row[0]), int(row[1])) if res.rowcount == 1 else False

        while True:
            out = self._write(fn)
            if out is not False:  # False: another worker claimed it first; try the next
                return out  # type: ignore[return-value]

    def _guard_unfinished(self, conn: Connection, trial_id: int) -> None:
        t = S.trials
        state = conn.execute(sa.select(t.c.state, t.c.number).where(t.c.trial_id == trial_id)).first()
        if state is None:
            raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
        if state[0] not in _UNFINISHED:
            raise UpdateFinishedTrialError(
                f"Trial {state[1]} is already finished ({TrialState(state[0]).name}) and cannot be changed.")

    def _check_compatible(self, trial_id: int, name: str, dist: BaseDistribution) -> None:
        # Against the last synced history of the trial's study (no extra query).
        for cache in list(self._caches.values()):
            h = cache.history
            j = h.param_index.get(name)
            if j is not None and h.param_dists[j]:
                from hpo_core.distributions import check_distribution_compatibility

                check_distribution_compatibility(name, h.param_dists[j][-1], dist)
                return

    def set_trial_param(self, trial_id: int, name: str, internal: float, dist: BaseDistribution) -> None:
        self._check_compatible(trial_id, name, dist)
        text = _dist_json(dist)

        def fn(conn: Connection) -> None:
            self._guard_unfinished(conn, trial_id)
            conn.execute(S.trial_params.insert().values(trial_id=trial_id, name=name, value=float(internal), distribution=text))

        self._write(fn)

    def set_trial_params(self, trial_id: int, space: SearchSpace, internal: np.ndarray) -> None:
        def fn(conn: Connection) -> None:
            self._guard_unfinished(conn, trial_id)
            self._insert_params(conn, [trial_id], space, np.asarray(internal)[None, :])

        self._write(fn)

    def set_trials_params(self, trial_ids: np.ndarray, space: SearchSpace, X: np.ndarray) -> None:
        self._write(lambda conn: self._insert_params(conn, trial_ids.tolist(), space, X))

    def set_trial_state_values(
        self, trial_id: int, state: TrialState | int, values: Sequence[float] | None = None
    ) -> bool:
        t = S.trials
        code = int(state)
        vals = _dumps(list(values), "values") if values is not None else None
        finished = code not in _UNFINISHED

        def fn(conn: Connection) -> bool:
            if finished:
                res = conn.execute(_STMT["finish_trial"], {
                    "tid": trial_id, "state": code, "vals": vals, "t_complete": time.time()})
            else:  # RUNNING claims a WAITING trial
                cond = t.c.state == _WAITING if code == _RUNNING else t.c.state.in_(_UNFINISHED)
                res = conn.execute(t.update().where((t.c.trial_id == trial_id) & cond)
                                   .values(state=code, values_json=vals))
            if res.rowcount == 1:
                return True
            self._guard_unfinished(conn, trial_id)
            return False

        return self._write(fn)

    def set_trials_state_values(self, trial_ids: np.ndarray, state: TrialState, values: np.ndarray | None) -> None:
        t = S.trials
        now = time.time()
        ids = trial_ids.tolist()
        vals = [None] * len(ids) if values is None else [_dumps(r, "values") for r in np.asarray(values).tolist()]

        def fn(conn: Connection) -> None:
            unfinished = (t.c.state == _RUNNING) | (t.c.state == _WAITING)  # executemany: no IN
            stmt = t.update().where((t.c.trial_id == sa.bindparam("tid")) & unfinished).values(
                state=int(state), values_json=sa.bindparam("vals"), t_complete=now)
            res = conn.execute(stmt, [{"tid": i, "vals": v} for i, v in zip(ids, vals)])
            if res.rowcount != len(ids):
                for i in ids:
                    self._guard_unfinished(conn, i)  # raises for the finished one: rolls back

        self._write(fn)

    def set_trial_intermediate_value(self, trial_id: int, step: int, value: float) -> None:
        def fn(conn: Connection) -> None:
            self._guard_unfinished(conn, trial_id)
            t = S.trial_intermediate
            v = None if math.isnan(value) else value
            if conn.execute(t.update().where((t.c.trial_id == trial_id) & (t.c.step == step)).values(value=v)).rowcount == 0:
                conn.execute(t.insert().values(trial_id=trial_id, step=step, value=v))

        self._write(fn)

    def set_trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None:
        text = _dumps(value, "value")

        def fn(conn: Connection) -> None:
            self._guard_unfinished(conn, trial_id)
            t = S.trial_attrs
            where = (t.c.trial_id == trial_id) & (t.c.kind == kind) & (t.c.key == key)
            if conn.execute(t.update().where(where).values(value_json=text)).rowcount == 0:
                conn.execute(t.insert().values(trial_id=trial_id, kind=kind, key=key, value_json=text))

        self._write(fn)

    def _locate(self, trial_id: int) -> tuple[int, int]:
        t = S.trials
        row = self._read(lambda c: c.execute(sa.select(t.c.study_id, t.c.number).where(t.c.trial_id == trial_id)).first())
        if row is None:
            raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
        return int(row[0]), int(row[1])

    def get_trial(self, trial_id: int) -> FrozenTrial:
        study_id, number = self._locate(trial_id)
        cache = self._sync(study_id)
        with cache.lock:
            return cache.history.frozen(number)

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        t = S.trials
        tid = self._read(lambda c: c.execute(sa.select(t.c.trial_id).where((t.c.study_id == study_id) & (t.c.number == number))).scalar())
        if tid is None:
            raise KeyError(f"No trial number {number} in study {study_id}.")
        return int(tid)

    # --------------------------------------------------------------- history sync
    def _cache(self, study_id: int) -> _Cache:
        cache = self._caches.get(study_id)
        if cache is None:
            dirs = self.get_study_directions(study_id)
            with self._caches_lock:
                cache = self._caches.get(study_id)
                if cache is None:
                    sign = -1.0 if len(dirs) == 1 and dirs[0] == StudyDirection.MAXIMIZE else 1.0
                    cache = self._caches[study_id] = _Cache(len(dirs), sign)
        return cache

    def _dist(self, text: str) -> BaseDistribution:
        d = self._dist_cache.get(text)
        if d is None:
            d = self._dist_cache[text] = json_to_distribution(text)
        return d

    def _sync(self, study_id: int) -> _Cache:
        """Read trials that are new or were unfinished at the last read (one snapshot)."""
        cache = self._cache(study_id)
        with cache.lock:
            upto = cache.synced_upto
            pending = list(cache.unfinished)
            t = S.trials

            def selector(number_col: Any) -> Any:
                cond = number_col >= upto
                for k in range(0, len(pending), _IN_CHUNK):
                    cond = cond | number_col.in_(pending[k : k + _IN_CHUNK])
                return (t.c.study_id == study_id) & cond

            def read(conn: Connection) -> tuple[Any, ...]:
                trial_rows = conn.execute(sa.select(
                    t.c.trial_id, t.c.number, t.c.state, t.c.values_json, t.c.t_start, t.c.t_complete
                ).where(selector(t.c.number)).order_by(t.c.number)).all()
                if not trial_rows:
                    return trial_rows, [], [], []
                joined = []
                for child, cols in (
                    (S.trial_params, (S.trial_params.c.name, S.trial_params.c.value, S.trial_params.c.distribution)),
                    (S.trial_attrs, (S.trial_attrs.c.kind, S.trial_attrs.c.key, S.trial_attrs.c.value_json)),
                    (S.trial_intermediate, (S.trial_intermediate.c.step, S.trial_intermediate.c.value)),
                ):
                    q = sa.select(t.c.number, *cols).select_from(child.join(t, child.c.trial_id == t.c.trial_id)).where(selector(t.c.number))
                    joined.append(conn.execute(q).all())
                return (trial_rows, *joined)

            trial_rows, params, attrs, ivs = self._read(read)
            self._apply(cache, trial_rows, params, attrs, ivs)
        return cache

    def _apply(self, cache: _Cache, trial_rows: list[Any], params: list[Any], attrs: list[Any], ivs: list[Any]) -> None:
        h = cache.history
        finished: list[tuple[int, int, Any, Any]] = []
        for tid, number, state, values_json, t_start, t_complete in trial_rows:
            h.add_row(number, tid, _RUNNING if state != _WAITING else _WAITING, np.nan if t_start is None else t_start)
            if state in _UNFINISHED:
                cache.unfinished[number] = tid
            else:
                cache.unfinished.pop(number, None)
                finished.append((number, state, values_json, t_complete))
            if number >= cache.synced_upto:
                cache.synced_upto = number + 1
        for number, name, value, dist_text in params:
            h.set_param(number, name, self._dist(dist_text), value, check=False)
        for number, kind, key, value_json in attrs:
            h.set_attr(number, kind, key, json.loads(value_json))
        for number, step, value in ivs:
            d = h.intermediate[number]
            if d is None or step not in d:
                h.add_intermediate(number, step, float("nan") if value is None else value)
        # States last, so a trial is COMPLETE in the history only with all its params.
        for number, state, values_json, t_complete in finished:
            values = json.loads(values_json) if values_json is not None else None
            h.set_state(number, state, values, t_complete)

    def get_history(self, study_id: int) -> History:
        return self._sync(study_id).history

    # --------------------------------------------------------------- liveness
    def record_heartbeat(self, trial_id: int) -> None:
        t = S.trials
        self._write(lambda c: c.execute(t.update().where((t.c.trial_id == trial_id) & (t.c.state == _RUNNING)).values(heartbeat=time.time())))

    def fail_stale_trials(self, study_id: int) -> list[int]:
        t = S.trials
        rows = self._read(lambda c: c.execute(sa.select(t.c.trial_id, t.c.number, t.c.owner, t.c.heartbeat).where(
            (t.c.study_id == study_id) & (t.c.state == _RUNNING))).all())
        now = time.time()
        stale: list[tuple[int, int, str]] = []
        for tid, number, owner, beat in rows:
            if is_local_worker_dead(owner):
                stale.append((tid, number, f"its worker process {owner} is gone"))
            elif beat is not None and self.grace_period is not None and now - beat > self.grace_period:
                stale.append((tid, number, f"no heartbeat for {now - beat:.0f} s (grace period {self.grace_period:g} s)"))
        failed = []
        for tid, number, reason in stale:
            def fn(conn: Connection, tid: int = tid, reason: str = reason) -> bool:
                res = conn.execute(t.update().where((t.c.trial_id == tid) & (t.c.state == _RUNNING)).values(state=_FAIL, t_complete=now))
                if res.rowcount != 1:
                    return False
                conn.execute(S.trial_attrs.insert().values(trial_id=tid, kind="system", key="fail_reason",
                                                           value_json=json.dumps(f"stale trial: {reason}")))
                return True

            try:
                if self._write(fn):
                    failed.append(number)
            except IntegrityError:  # a fail_reason was recorded already: state is what matters
                pass
        return failed
