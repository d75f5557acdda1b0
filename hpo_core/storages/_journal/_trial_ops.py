"""The trial methods of :class:`~hpo_core.storages.JournalStorage`: creating and claiming
trials, writing their parameters, states, values, reports and attributes, and reading
them back.

Every write is checked here, at the storage boundary, then appended as one journal
entry (see :mod:`~hpo_core.storages._journal._ops`); whether it applies is decided by
replaying the journal up to it (:mod:`~hpo_core.storages._journal._replay`), which is
how the writer learns a trial's number or that the trial was finished by another
worker first. Parameters set one at a time by ``suggest_*`` wait in
:class:`PendingParams` and travel with the trial's next entry (a report, an
attribute, its end) or, after ``flush_delay`` seconds, in an entry of their own.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo_core._validation import format_error
from hpo_core.distributions import BaseDistribution, SearchSpace, check_distribution_compatibility
from hpo_core.exceptions import UpdateFinishedTrialError
from hpo_core.storages._base import (
    BaseStorage,
    check_attr,
    check_finish,
    check_report,
    check_space,
    trial_owner,
)
from hpo_core.storages._checks import check_name, encode_json
from hpo_core.storages._heartbeat import Heartbeats
from hpo_core.storages._journal._ops import Row, add_defs, encode_numbers, encode_rows, key_of
from hpo_core.storages._journal._replay import ReplayState, StudyRecord, study_missing, trial_finished
from hpo_core.storages._pending import PendingParams
from hpo_core.storages._writer import changes_from_frozen
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import TrialState

__all__ = ["JournalTrialOps"]

_RUNNING, _WAITING, _COMPLETE = int(TrialState.RUNNING), int(TrialState.WAITING), int(TrialState.COMPLETE)


class JournalTrialOps(BaseStorage):
    """The trial half of :class:`JournalStorage` (see the module docstring). Abstract:
    ``JournalStorage`` holds the journal, the replayed state and the writes."""

    _state: ReplayState
    _lock: threading.Lock
    _pending: PendingParams
    _heartbeats: Heartbeats

    @abc.abstractmethod
    def _sync(self) -> None:
        """Replay the entries appended since the last sync."""

    @abc.abstractmethod
    def _write(self, op: dict[str, Any]) -> Any:
        """Append ``op`` and return its outcome (raising it when it is an error)."""

    @abc.abstractmethod
    def _append(self, op: dict[str, Any]) -> None:
        """Append ``op`` without waiting for its outcome."""

    # --------------------------------------------------------------- lookups
    def _record(self, study_id: int) -> StudyRecord:
        rec = self._state.studies.get(study_id)
        if rec is None:
            self._sync()
            rec = self._state.studies.get(study_id)
            if rec is None:
                raise study_missing(study_id)
        return rec

    def _where(self, trial_id: int) -> tuple[int, StudyRecord, int]:
        """``(study_id, record, number)`` of a trial: from the replayed state, synced
        once if the trial is not known yet."""
        loc = self._state.locate(trial_id)
        if loc is None:
            self._sync()
            loc = self._state.locate(trial_id)
            if loc is None:
                raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
        return loc

    @staticmethod
    def _check_unfinished(rec: StudyRecord, number: int) -> None:
        """Raise if the replayed state knows the trial finished (a trial another
        worker finished since the last sync is caught by the replay of the write)."""
        state = rec.states[number]
        if state != _RUNNING and state != _WAITING:
            raise trial_finished(number, state)

    def _beat_fields(self, op: dict[str, Any]) -> dict[str, Any]:
        """Mark ``op`` as taking a trial for this process: its owner, and its first
        heartbeat when heartbeats are on."""
        op["owner"] = trial_owner()
        if self.heartbeat_interval is not None:
            op["hb"] = 1
        return op

    def _with_rows(self, op: dict[str, Any], rows: list[Row]) -> dict[str, Any]:
        if rows:
            op["p"] = encode_rows(rows)
            add_defs(op, (r[2] for r in rows), self._state.dists)
        return op

    # --------------------------------------------------------------- creating trials
    def new_trial(
        self,
        study_id: int,
        template_trial: FrozenTrial | None = None,
        *,
        space: SearchSpace | None = None,
        internal: np.ndarray | None = None,
    ) -> tuple[int, int]:
        template = template_trial
        if template is not None:
            return self._write(self._template_op(study_id, template))  # type: ignore[no-any-return]
        op = self._beat_fields({"op": "trials", "sid": study_id, "t": time.time()})
        if space is not None and len(space):
            check_space(space)
            keys = [key_of(d) for d in space.values()]
            op["x"] = {"names": list(space.names), "d": keys, "v": np.asarray(internal, dtype=float).tolist()}
            add_defs(op, keys, self._state.dists)
        tid, number = self._write(op)
        self._heartbeats.track(tid)
        return tid, number

    def _template_op(self, study_id: int, template: FrozenTrial) -> dict[str, Any]:
        """The entry of ``add_trial`` / ``enqueue_trial``: the template checked and encoded."""
        m = len(self._record(study_id).directions)
        ch = changes_from_frozen(0, 0, template, now=time.time())
        _, _, state, values, t_start, t_complete = ch.trials[0]
        op: dict[str, Any] = {
            "op": "template", "sid": study_id, "state": state,
            "vals": None if values is None else encode_numbers([float(v) for v in values], "values"),
            "ts": None if t_start != t_start else t_start, "tc": None if t_complete != t_complete else t_complete,
            "p": [[name, float(v), key_of(dist)] for _, name, dist, v in ch.params],
            "ua": {}, "sa": {},
            "iv": [[step, encode_numbers(v, "value")] for step, v in (check_report(s, v, m) for _, s, v in ch.reports)],
        }
        for _, kind, key, value in ch.attrs:
            op["ua" if kind == "user" else "sa"][key] = encode_json(check_attr(kind, key, value), f"{kind}_attrs[{key!r}]")
        if state == _RUNNING:
            op["owner"] = trial_owner()
        add_defs(op, (row[2] for row in op["p"]), self._state.dists)
        return op

    def create_new_trials(self, study_id: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        op = self._beat_fields({"op": "trials", "sid": study_id, "k": int(n), "t": time.time()})
        first_tid, first = self._write(op)
        ids = np.arange(first_tid, first_tid + n, dtype=np.int64)
        self._heartbeats.track_many(ids.tolist())
        return ids, np.arange(first, first + n, dtype=np.int64)

    def has_waiting(self, study_id: int) -> bool:
        self._sync()
        rec = self._record(study_id)
        return any(rec.states[k] == _WAITING for k in rec.waiting[rec.wait_head :])

    def claim_waiting_trial(self, study_id: int) -> tuple[int, int] | None:
        out = self._write(self._beat_fields({"op": "claim", "sid": study_id, "t": time.time()}))
        if out is None:
            return None
        self._heartbeats.track(out[0])
        return out[0], out[1]

    # --------------------------------------------------------------- trial writes
    def _trial_write(self, trial_id: int, op: dict[str, Any]) -> Any:
        """Write ``op`` (about one trial) with the trial's waiting ``suggest_*``
        parameters; they are put back if the write fails other than by the trial
        being finished."""
        sid, rec, number = self._where(trial_id)
        self._check_unfinished(rec, number)
        rows = self._pending.pop(trial_id)
        try:
            return self._write(self._with_rows(op, rows))
        except UpdateFinishedTrialError:
            raise  # the trial is over: its waiting parameters go with it
        except BaseException:
            self._pending.restore(sid, trial_id, rows)
            raise

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: BaseDistribution
    ) -> None:
        name, internal, dist = param_name, param_value_internal, distribution
        sid, rec, number = self._where(trial_id)
        self._check_unfinished(rec, number)
        h = rec.history
        j = h.param_index.get(name)
        if j is None:
            check_name(name, "parameter name")
        elif h.param_dists[j]:
            check_distribution_compatibility(h.param_dists[j][-1], dist, name=name)
        self._pending.add(sid, trial_id, (name, float(internal), key_of(dist)))

    def set_trial_params(self, trial_id: int, space: SearchSpace, internal: np.ndarray) -> None:
        check_space(space)
        keys = [key_of(d) for d in space.values()]
        op = {"op": "params_block", "ids": [trial_id], "names": list(space.names), "d": keys,
              "x": [np.asarray(internal, dtype=float).tolist()]}
        add_defs(op, keys, self._state.dists)
        self._trial_write(trial_id, op)

    def _take_many(self, ids: list[int], op: dict[str, Any]) -> dict[int, list[Row]]:
        """The waiting rows of ``ids``, added to the block entry ``op`` as ``p``."""
        pending = {i: rows for i in ids if (rows := self._pending.pop(i))}
        if pending:
            op["p"] = [[i, encode_rows(rows)] for i, rows in pending.items()]
            add_defs(op, (r[2] for rows in pending.values() for r in rows), self._state.dists)
        return pending

    def set_trials_params(self, trial_ids: np.ndarray, space: SearchSpace, X: np.ndarray) -> None:
        if not len(trial_ids):
            return
        check_space(space)
        ids = [int(i) for i in trial_ids.tolist()]
        sid = self._where(ids[0])[0]
        keys = [key_of(d) for d in space.values()]
        op = {"op": "params_block", "ids": ids, "names": list(space.names), "d": keys,
              "x": np.asarray(X, dtype=float).tolist()}
        add_defs(op, keys, self._state.dists)
        self._write_block(sid, ids, op)

    def _write_block(self, sid: int, ids: list[int], op: dict[str, Any]) -> None:
        pending = self._take_many(ids, op)
        try:
            self._write(op)
        except BaseException:
            for tid, rows in pending.items():  # a finished trial's rows are dropped at the flush
                self._pending.restore(sid, tid, rows)
            raise

    def set_trial_state_values(
        self, trial_id: int, state: TrialState | int, values: Sequence[float] | None = None
    ) -> bool:
        _, rec, number = self._where(trial_id)
        m = len(rec.directions)
        if not (state == _COMPLETE and values is not None and len(values) == m
                and all(type(v) is float for v in values)):
            check_finish(state, values, m)
        code = int(TrialState(int(state)))
        vals = None if values is None else encode_numbers([float(v) for v in values], "values")
        op: dict[str, Any] = {"op": "state", "tid": trial_id, "state": code, "vals": vals, "t": time.time()}
        if code == _RUNNING:
            self._beat_fields(op)
        finished = code != _RUNNING and code != _WAITING
        try:
            done = bool(self._trial_write(trial_id, op))
        finally:
            if finished:
                self._heartbeats.untrack(trial_id)
        if done and code == _RUNNING:
            self._heartbeats.track(trial_id)
        return done

    def set_trials_state_values(
        self, trial_ids: np.ndarray, state: TrialState, values: np.ndarray | None
    ) -> None:
        if not len(trial_ids):
            return
        ids = [int(i) for i in trial_ids.tolist()]
        sid, rec, _ = self._where(ids[0])
        m = len(rec.directions)
        code = int(TrialState(int(state)))
        if code == _COMPLETE and (values is None or np.shape(values) != (len(ids), m)):
            raise ValueError(format_error(
                "values", f"an array of shape ({len(ids)}, {m}) for COMPLETE trials",
                None if values is None else f"shape {np.shape(values)}"))
        vals = None if values is None else [
            encode_numbers(row, "values") for row in np.asarray(values, dtype=np.float64).tolist()]
        op = {"op": "states", "ids": ids, "state": code, "vals": vals, "t": time.time()}
        try:
            self._write_block(sid, ids, op)
        finally:
            if code != _RUNNING and code != _WAITING:
                self._heartbeats.untrack_many(ids)

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: Any) -> None:
        value = intermediate_value
        rec = self._where(trial_id)[1]
        step, value = check_report(step, value, len(rec.directions))
        self._trial_write(trial_id, {"op": "report", "tid": trial_id, "step": step, "v": encode_numbers(value, "value")})

    def set_trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None:
        text = encode_json(check_attr(kind, key, value), f"{kind}_attrs[{key!r}]")
        self._trial_write(trial_id, {"op": "trial_attr", "tid": trial_id, "kind": kind, "key": key, "v": text})

    def _flush_pending(self, study_id: int, per_trial: dict[int, list[Row]]) -> None:
        """The background flush of waiting ``suggest_*`` parameters (one entry)."""
        op = {"op": "params", "trials": [[tid, encode_rows(rows)] for tid, rows in per_trial.items()]}
        add_defs(op, (r[2] for rows in per_trial.values() for r in rows), self._state.dists)
        self._append(op)

    # --------------------------------------------------------------- reads
    def get_trial(self, trial_id: int) -> FrozenTrial:
        sid = self._where(trial_id)[0]
        self._pending.flush_study(sid)
        self._sync()
        with self._lock:
            loc = self._state.locate(trial_id)
            if loc is None:
                raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
            return loc[1].history.frozen(loc[2])

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        rec = self._record(study_id)
        if not 0 <= number < len(rec.tids):
            self._sync()
            rec = self._record(study_id)
            if not 0 <= number < len(rec.tids):
                raise KeyError(f"No trial number {number} in study {study_id}.")
        return rec.tids[number]
