"""The trial methods of :class:`~hpo_core.storages._rdb._storage.RDBStorage`:
creating and claiming trials, writing their parameters, states, values, reports and
attributes, reading a trial by id or number, and worker liveness.

Every write is one transaction of :class:`~hpo_core.storages._rdb._engine.Database`
that first takes the study's next change number (the SQL is in ``_trials``). Parameters
set one at a time by ``suggest_*`` wait in :class:`PendingParams` and are written in the
transaction of the trial's next write, or by its background flush (``_flush_pending``);
a write that fails puts them back.
"""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hpo_core._validation import format_error
from hpo_core.distributions import BaseDistribution, SearchSpace, check_distribution_compatibility
from hpo_core.exceptions import StudyNotFoundError, UpdateFinishedTrialError
from hpo_core.storages._base import (
    BaseStorage,
    check_attr,
    check_finish,
    check_report,
    check_space,
    is_local_worker_dead,
    trial_owner,
)
from hpo_core.storages._checks import check_name, decode_json, encode_json
from hpo_core.storages._heartbeat import Heartbeats
from hpo_core.storages._pending import PendingParams
from hpo_core.storages._rdb import _schema as S
from hpo_core.storages._rdb import _trials as T
from hpo_core.storages._rdb._engine import Database
from hpo_core.storages._rdb._sync import StudyCache, apply_own
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import StudyDirection, TrialState

__all__ = ["TrialOps"]

T_ = TypeVar("T_")

_RUNNING, _WAITING, _FAIL = int(TrialState.RUNNING), int(TrialState.WAITING), int(TrialState.FAIL)

_ANY_WAITING = sa.select(S.trials.c.trial_id).where(
    (S.trials.c.study_id == sa.bindparam("sid")) & (S.trials.c.state == _WAITING)).limit(1)


def _ended_as(conn: Connection, trial_id: int, state: int, vals: str | None) -> bool:
    """Whether the trial already ended with this state and these values (JSON)."""
    t = S.trials
    row = conn.execute(sa.select(t.c.state, t.c.values_json).where(t.c.trial_id == trial_id)).first()
    return row is not None and int(row[0]) == state and row[1] == vals


class TrialOps(BaseStorage):
    """The trial half of :class:`RDBStorage` (see the module docstring). Abstract:
    ``RDBStorage`` opens the database, creates the state below in its ``_setup`` and
    provides the study directions and the sync."""

    grace_period: float | None
    _db: Database
    _caches: dict[int, StudyCache]
    _trial_loc: dict[int, tuple[int, int]]  # trial_id -> (study_id, number)
    _finished: dict[int, int]  # trial_id -> state, of trials finished here
    _pending: PendingParams
    _heartbeats: Heartbeats

    @abc.abstractmethod
    def _directions(self, study_id: int) -> list[StudyDirection]:
        """The study's directions (read once)."""

    @abc.abstractmethod
    def _sync(self, study_id: int) -> StudyCache:
        """The study's cache, brought up to date."""

    # --------------------------------------------------------------- trials
    def _where(self, trial_id: int) -> tuple[int, int]:
        """``(study_id, number)`` of a trial: known locally for trials this process
        created or synced, read once otherwise."""
        loc = self._trial_loc.get(trial_id)
        if loc is None:
            t = S.trials
            row = self._db.read(lambda c: c.execute(sa.select(t.c.study_id, t.c.number).where(t.c.trial_id == trial_id)).first())
            if row is None:
                raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
            loc = self._trial_loc[trial_id] = (int(row[0]), int(row[1]))
        return loc

    def new_trial(
        self,
        study_id: int,
        template_trial: FrozenTrial | None = None,
        *,
        space: SearchSpace | None = None,
        internal: np.ndarray | None = None,
    ) -> tuple[int, int]:
        template = template_trial
        now = time.time()
        owner = trial_owner()
        beat = now if self._heartbeats.enabled else None
        if space is not None:
            check_space(space)
        if template is not None:
            for kind, d in (("user", template.user_attrs), ("system", template.system_attrs)):
                for k, v in d.items():
                    check_attr(kind, k, v)
            for step, v in template.intermediate_values.items():
                check_report(step, v, len(self._directions(study_id)))

        def fn(conn: Connection) -> tuple[int, int, int]:
            number, seq = T.allocate_numbers(conn, study_id, 1)
            if template is not None:
                return T.insert_template(conn, study_id, number, seq, template, owner=owner, encode=encode_json), number, seq
            res = conn.execute(T.STMT["insert_trial"], {
                "study_id": study_id, "number": number, "state": _RUNNING, "t_start": now, "owner": owner,
                "heartbeat": beat, "seq": seq})
            tid = T.inserted_id(res)
            if space is not None and len(space):
                T.insert_params(conn, study_id, seq, [tid], space, np.asarray(internal)[None, :])
            return tid, number, seq

        tid, number, seq = self._db.write(fn)
        self._trial_loc[tid] = (study_id, number)
        if template is None:
            self._heartbeats.track(tid)
            params = [] if space is None else [
                (tid, name, v, T.dist_json(d))
                for (name, d), v in zip(space.items(), np.asarray(internal, dtype=float).tolist())]
            self._apply_own(study_id, seq, [(tid, number, _RUNNING, None, now, None)], params)
        return tid, number

    def _apply_own(self, study_id: int, seq: int, trials: list[tuple[Any, ...]],
                   params: Sequence[tuple[int, str, float, str]]) -> None:
        """Apply this process's committed change ``seq`` (trial rows and parameter rows,
        as a sync reads them) to the local history when nothing came in between (see
        :func:`~hpo_core.storages._rdb._sync.apply_own`)."""
        cache = self._caches.get(study_id)
        if cache is not None:
            apply_own(cache, seq, (trials, params, (), ()), decode_json)

    def _apply_own_finish(self, study_id: int, seq: int, trial_id: int, state: int, vals: str | None,
                          t_complete: float, rows: list[tuple[str, float, str]]) -> None:
        """:meth:`_apply_own` of a finished trial known to the local history (its start
        time comes from there); a trial it does not know is left to the sync."""
        cache = self._caches.get(study_id)
        number = cache.numbers.get(trial_id) if cache is not None else None
        if cache is None or number is None or cache.seq != seq - 1:
            return
        t_start = float(cache.history.t_start[number])
        apply_own(cache, seq, ([(trial_id, number, state, vals, t_start, t_complete)],
                               [(trial_id, name, v, d) for name, v, d in rows], (), ()), decode_json)

    def create_new_trials(self, study_id: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        now, owner = time.time(), trial_owner()
        beat = now if self._heartbeats.enabled else None

        def fn(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
            first, seq = T.allocate_numbers(conn, study_id, n)
            for k in range(0, n, T.CHUNK):
                conn.execute(S.trials.insert(), [
                    {"study_id": study_id, "number": first + j, "state": _RUNNING, "t_start": now, "owner": owner,
                     "heartbeat": beat, "seq": seq}
                    for j in range(k, min(n, k + T.CHUNK))])
            t = S.trials
            rows = conn.execute(sa.select(t.c.trial_id, t.c.number).where(
                (t.c.study_id == study_id) & (t.c.number >= first) & (t.c.number < first + n)
            ).order_by(t.c.number)).all()
            return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64))

        ids, numbers = self._db.write(fn)
        self._trial_loc.update(zip(ids.tolist(), ((study_id, k) for k in numbers.tolist())))
        self._heartbeats.track_many(ids.tolist())
        return ids, numbers

    def has_waiting(self, study_id: int) -> bool:
        return self._db.read(lambda c: c.execute(_ANY_WAITING, {"sid": study_id}).first()) is not None

    def claim_waiting_trial(self, study_id: int) -> tuple[int, int] | None:
        t = S.trials
        now, owner = time.time(), trial_owner()
        beat = now if self._heartbeats.enabled else None

        def fn(conn: Connection) -> tuple[int, int] | None:
            seq = T.next_seq(conn, study_id)
            row = conn.execute(sa.select(t.c.trial_id, t.c.number).where(
                (t.c.study_id == study_id) & (t.c.state == _WAITING)).order_by(t.c.number).limit(1)).first()
            if row is None:
                return None
            # The study row is locked: no other worker claims this trial meanwhile.
            conn.execute(t.update().where(t.c.trial_id == row[0]).values(
                state=_RUNNING, t_start=now, owner=owner, heartbeat=beat, seq=seq))
            return int(row[0]), int(row[1])

        out = self._db.write(fn)
        if out is not None:
            self._trial_loc[out[0]] = (study_id, out[1])
            self._heartbeats.track(out[0])
        return out

    def _check_compatible(self, study_id: int, name: str, dist: BaseDistribution) -> None:
        # Against the last synced history of the trial's own study (no extra query).
        cache = self._caches.get(study_id)
        if cache is not None:
            h = cache.history
            j = h.param_index.get(name)
            if j is not None and h.param_dists[j]:
                check_distribution_compatibility(h.param_dists[j][-1], dist, name=name)

    def _trial_write(self, trial_id: int, fn: Callable[[Connection, int, int], T_]) -> T_:
        """Run ``fn(conn, study_id, seq)`` after the unfinished check, in one transaction
        that also writes the trial's waiting ``suggest_*`` parameters."""
        sid, _ = self._where(trial_id)
        rows = self._pending.pop(trial_id)

        def tx(conn: Connection) -> T_:
            seq = T.next_seq(conn, sid)
            T.guard_unfinished(conn, trial_id)
            T.insert_param_rows(conn, sid, seq, trial_id, rows)
            return fn(conn, sid, seq)

        try:
            return self._db.write(tx)
        except UpdateFinishedTrialError:
            raise  # the trial is over: its waiting parameters go with it
        except BaseException:
            self._pending.restore(sid, trial_id, rows)
            raise

    def _flush_pending(self, study_id: int, per_trial: dict[int, list[tuple[str, float, str]]]) -> None:
        def tx(conn: Connection) -> None:
            seq = T.next_seq(conn, study_id)
            for tid, rows in per_trial.items():
                try:
                    T.guard_unfinished(conn, tid)
                except (KeyError, UpdateFinishedTrialError):
                    continue  # finished meanwhile (e.g. failed as stale): nothing to add
                T.insert_param_rows(conn, study_id, seq, tid, rows)

        try:
            self._db.write(tx)
        except StudyNotFoundError:
            pass  # the study was deleted: its running trials' parameters go with it

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: BaseDistribution
    ) -> None:
        name, internal, dist = param_name, param_value_internal, distribution
        sid, number = self._where(trial_id)
        self._check_local_unfinished(sid, trial_id, number)
        cache = self._caches.get(sid)
        if cache is None or name not in cache.history.param_index:
            check_name(name, "parameter name")
        self._check_compatible(sid, name, dist)
        self._pending.add(sid, trial_id, (name, float(internal), T.dist_json(dist)))

    def _check_local_unfinished(self, study_id: int, trial_id: int, number: int) -> None:
        """Raise UpdateFinishedTrialError if this process knows the trial is finished (it
        finished it, or synced it finished). A trial another worker finished meanwhile
        is caught when the waiting parameters are written: they are dropped then."""
        state = self._finished.get(trial_id)
        if state is None:
            cache = self._caches.get(study_id)
            if cache is not None and number < cache.history.n:
                s = int(cache.history.states[number])
                state = s if s not in T.UNFINISHED and s >= 0 else None
        if state is not None:
            raise UpdateFinishedTrialError(
                f"Trial {number} is already finished ({TrialState(state).name}) and cannot be changed.")

    def set_trial_params(self, trial_id: int, space: SearchSpace, internal: np.ndarray) -> None:
        check_space(space)
        self._trial_write(trial_id, lambda conn, sid, seq: T.insert_params(
            conn, sid, seq, [trial_id], space, np.asarray(internal)[None, :]))

    def set_trials_params(self, trial_ids: np.ndarray, space: SearchSpace, X: np.ndarray) -> None:
        if not len(trial_ids):
            return
        check_space(space)
        sid, _ = self._where(int(trial_ids[0]))
        ids = trial_ids.tolist()
        t = S.trials

        def tx(conn: Connection) -> None:
            seq = T.next_seq(conn, sid)
            # The batch's finished trials (if any), by one range query, not an IN list.
            finished = set(conn.execute(sa.select(t.c.trial_id).where(
                (t.c.study_id == sid) & t.c.trial_id.between(min(ids), max(ids)) & t.c.state.not_in(T.UNFINISHED)
            )).scalars()).intersection(ids)
            if finished:
                T.guard_unfinished(conn, min(finished))  # raises: nothing is written
            T.insert_params(conn, sid, seq, ids, space, X)

        self._db.write(tx)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState | int, values: Sequence[float] | None = None
    ) -> bool:
        t = S.trials
        code = int(state)
        sid, _ = self._where(trial_id)
        check_finish(code, values, len(self._directions(sid)))
        vals = encode_json([float(v) for v in values], "values") if values is not None else None
        finished = code not in T.UNFINISHED
        rows = self._pending.pop(trial_id)

        now = time.time()
        seqs: list[int] = []

        def tx(conn: Connection) -> bool:
            seq = T.next_seq(conn, sid)
            seqs.append(seq)
            if finished:
                res = conn.execute(T.STMT["finish_trial"], {
                    "tid": trial_id, "state": code, "vals": vals, "t_complete": now, "seq": seq})
            else:  # RUNNING claims a WAITING trial
                cond = t.c.state == _WAITING if code == _RUNNING else t.c.state.in_(T.UNFINISHED)
                res = conn.execute(t.update().where((t.c.trial_id == trial_id) & cond)
                                   .values(state=code, values_json=vals, seq=seq))
            if res.rowcount != 1:
                if finished and conn.get_execution_options().get("hpo_retry") and _ended_as(conn, trial_id, code, vals):
                    return True  # the first try committed; its acknowledgement was lost
                T.guard_unfinished(conn, trial_id)
                return False
            T.insert_param_rows(conn, sid, seq, trial_id, rows)
            return True

        try:
            done = self._db.write(tx)
            if finished:
                self._heartbeats.untrack(trial_id)
            if done and finished:
                self._finished[trial_id] = code
                if len(self._finished) > 100_000:
                    self._finished.clear()  # a cache: the database stays the judge
                self._apply_own_finish(sid, seqs[-1], trial_id, code, vals, now, rows)
            return done
        except UpdateFinishedTrialError:
            self._heartbeats.untrack(trial_id)
            raise
        except BaseException:
            self._pending.restore(sid, trial_id, rows)
            raise

    def set_trials_state_values(self, trial_ids: np.ndarray, state: TrialState, values: np.ndarray | None) -> None:
        if not len(trial_ids):
            return
        t = S.trials
        now = time.time()
        ids = trial_ids.tolist()
        sid, _ = self._where(ids[0])
        m = len(self._directions(sid))
        if int(state) == int(TrialState.COMPLETE) and (values is None or np.shape(values) != (len(ids), m)):
            raise ValueError(format_error(
                "values", f"an array of shape ({len(ids)}, {m}) for COMPLETE trials",
                None if values is None else f"shape {np.shape(values)}"))
        vals = [None] * len(ids) if values is None else [encode_json(r, "values") for r in np.asarray(values, dtype=np.float64).tolist()]
        # suggest_* parameters of the batch's trials still waiting: written with their end.
        pending = {i: rows for i in ids if (rows := self._pending.pop(i))}

        def tx(conn: Connection) -> None:
            seq = T.next_seq(conn, sid)
            unfinished = (t.c.state == _RUNNING) | (t.c.state == _WAITING)  # executemany: no IN
            stmt = t.update().where((t.c.trial_id == sa.bindparam("tid")) & unfinished).values(
                state=int(state), values_json=sa.bindparam("vals"), t_complete=now, seq=seq)
            res = conn.execute(stmt, [{"tid": i, "vals": v} for i, v in zip(ids, vals)])
            if res.rowcount != len(ids):
                for i in ids:
                    T.guard_unfinished(conn, i)  # raises for the finished one: rolls back
            for tid, rows in pending.items():
                T.insert_param_rows(conn, sid, seq, tid, rows)

        try:
            self._db.write(tx)
            if int(state) not in T.UNFINISHED:
                self._heartbeats.untrack_many(ids)
        except BaseException:
            for tid, rows in pending.items():  # a finished trial's rows are dropped at the flush
                self._pending.restore(sid, tid, rows)
            raise

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: Any) -> None:
        value = intermediate_value
        sid, _ = self._where(trial_id)
        step, value = check_report(step, value, len(self._directions(sid)))
        self._trial_write(trial_id, lambda conn, sid, seq: T.report(conn, sid, seq, trial_id, step, value))

    def set_trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None:
        text = encode_json(check_attr(kind, key, value), f"{kind}_attrs[{key!r}]")
        self._trial_write(trial_id, lambda conn, sid, seq: T.set_attr(conn, sid, seq, trial_id, kind, key, text))

    def get_trial(self, trial_id: int) -> FrozenTrial:
        study_id, number = self._where(trial_id)
        cache = self._sync(study_id)
        with cache.lock:
            return cache.history.frozen(number)

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        cache = self._caches.get(study_id)
        if cache is not None and 0 <= number < cache.history.n and cache.history.trial_ids[number] >= 0:
            return int(cache.history.trial_ids[number])
        t = S.trials
        tid = self._db.read(lambda c: c.execute(sa.select(t.c.trial_id).where((t.c.study_id == study_id) & (t.c.number == number))).scalar())
        if tid is None:
            raise KeyError(f"No trial number {number} in study {study_id}.")
        self._trial_loc[int(tid)] = (study_id, number)
        return int(tid)

    # --------------------------------------------------------------- liveness
    def record_heartbeats(self, trial_ids: list[int]) -> None:
        if self.heartbeat_interval is None or not trial_ids:
            return
        t = S.trials
        now = time.time()

        def fn(conn: Connection) -> None:
            for k in range(0, len(trial_ids), T.CHUNK):
                chunk = list(trial_ids[k : k + T.CHUNK])
                conn.execute(t.update().where(t.c.trial_id.in_(chunk) & (t.c.state == _RUNNING)).values(heartbeat=now))

        self._db.write(fn)

    def fail_stale_trials(self, study_id: int) -> list[int]:
        t = S.trials
        rows = self._db.read(lambda c: c.execute(sa.select(t.c.trial_id, t.c.number, t.c.owner, t.c.heartbeat).where(
            (t.c.study_id == study_id) & (t.c.state == _RUNNING))).all())
        now = time.time()
        # Nobody could beat while the database was away: after this process saw it come
        # back, heartbeats get one grace period to resume before their age counts.
        recovering = self.grace_period is not None and time.monotonic() - self._db.outage_ended < self.grace_period
        stale: list[tuple[int, int, str]] = []
        for tid, number, owner, beat in rows:
            if is_local_worker_dead(owner):
                stale.append((tid, number, f"its worker process {owner} is gone"))
            elif (not recovering and beat is not None and self.grace_period is not None
                  and now - beat > self.grace_period):
                stale.append((tid, number, f"no heartbeat for {now - beat:.0f} s (grace period {self.grace_period:g} s)"))
        failed = []
        for tid, number, reason in stale:
            def fn(conn: Connection, tid: int = tid, reason: str = reason) -> bool:
                seq = T.next_seq(conn, study_id)
                res = conn.execute(t.update().where((t.c.trial_id == tid) & (t.c.state == _RUNNING))
                                   .values(state=_FAIL, t_complete=now, seq=seq))
                if res.rowcount != 1:
                    return False
                T.set_attr(conn, study_id, seq, tid, "system", "fail_reason", json.dumps(f"stale trial: {reason}"))
                return True

            try:
                if self._db.write(fn):
                    failed.append(number)
            except IntegrityError:  # a fail_reason was recorded already: state is what matters
                pass
        return failed
