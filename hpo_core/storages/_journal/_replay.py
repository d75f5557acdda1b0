"""Replaying the journal: what every reader derives from the log, in log order.

:class:`ReplayState` is the state that the entries up to ``log_pos`` build: the
studies (names, directions, attributes, reservations, WAITING queue, and each
study's :class:`~hpo_core.history.History`), where each trial id lives, the owner and
last heartbeat of each RUNNING trial, and the distributions defined so far. Whether an
entry applies is decided here and only here (a trial that is finished already, a study
name that is taken, a WAITING trial claimed by an earlier entry, a reserved key): every
reader replays the same entries in the same order and reaches the same decisions, and
the writer of an entry learns its outcome by replaying up to it.

:meth:`ReplayState.apply` applies a batch of entries atomically. The state's own
fields change as entries are decided, each change recorded by an :class:`Undo`; the
histories get the batch's changes at the end, one :class:`~hpo_core.storages._writer.Changes`
per study through the one writer :func:`~hpo_core.storages._writer.apply_changes`.
If anything fails (an exception, Ctrl-C), the undo restores the state and the batch
is read again by the next sync. A history that did take its changes before another
study's failed is given the same changes again then, which leaves it as it was
(applying a study's changes is idempotent: rows are overwritten with the same values,
a finished state is set only when it differs, a repeated report is ignored).
"""

from __future__ import annotations

import math
from typing import Any

from hpo_core.distributions import BaseDistribution, json_to_distribution
from hpo_core.exceptions import (
    DuplicatedStudyError,
    StorageError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from hpo_core.history import History
from hpo_core.storages._checks import decode_json
from hpo_core.storages._journal._ops import decode_numbers
from hpo_core.storages._journal._undo import Undo
from hpo_core.storages._writer import Changes, apply_changes
from hpo_core.trial._state import StudyDirection, TrialState

__all__ = ["ReplayState", "StudyRecord", "study_missing", "trial_finished", "trial_missing"]

_RUNNING, _COMPLETE, _WAITING, _FAIL = (
    int(TrialState.RUNNING), int(TrialState.COMPLETE), int(TrialState.WAITING), int(TrialState.FAIL))
_NAN = math.nan


class StudyRecord:
    """One study as replayed: its trials' states, ids and start times by number
    (what entries are decided on), and its history (what samplers read)."""

    __slots__ = ("name", "directions", "attrs", "history", "t_created", "states", "tids", "t_start",
                 "waiting", "wait_head", "reserved")

    def __init__(self, name: str, directions: list[StudyDirection], t_created: float | None):
        self.name = name
        self.directions = directions
        self.attrs: dict[str, dict[str, Any]] = {"user": {}, "system": {}}
        self.history = History(len(directions))
        if len(directions) == 1 and directions[0] == StudyDirection.MAXIMIZE:
            self.history.set_direction_sign(-1.0)
        self.t_created = t_created
        self.states: list[int] = []
        self.tids: list[int] = []
        self.t_start: list[float] = []
        self.waiting: list[int] = []  # numbers that were made WAITING, in order
        self.wait_head = 0  # waiting[:wait_head] were claimed or finished
        self.reserved: set[str] = set()


def study_missing(study_id: Any) -> StudyNotFoundError:
    return StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.")


def trial_missing(trial_id: Any) -> KeyError:
    return KeyError(f"No trial with trial_id={trial_id!r} in this storage.")


def trial_finished(number: int, state: int) -> UpdateFinishedTrialError:
    return UpdateFinishedTrialError(
        f"Trial {number} is already finished ({TrialState(state).name}) and cannot be changed.")


class ReplayState:
    """Everything the first ``log_pos`` entries of the journal build (see the module
    docstring). Picklable: a snapshot is this object."""

    def __init__(self) -> None:
        self.log_pos = 0
        self.studies: dict[int, StudyRecord] = {}
        self.names: dict[str, int] = {}
        self.next_study_id = 0
        self.trial_study: list[int] = []  # trial_id -> study_id
        self.trial_number: list[int] = []  # trial_id -> number
        self.running: dict[int, tuple[str | None, float | None]] = {}  # RUNNING trial_id -> (owner, last beat)
        self.dists: dict[str, BaseDistribution] = {}  # distribution key -> distribution
        self.last_entry: dict[str, Any] | None = None  # entry log_pos - 1 (snapshots check it)

    def locate(self, trial_id: int) -> tuple[int, StudyRecord, int] | None:
        """``(study_id, record, number)`` of a trial of a live study, else None."""
        if type(trial_id) is not int:
            if not isinstance(trial_id, int) or isinstance(trial_id, bool):
                return None
            trial_id = int(trial_id)  # a TrialIdNumber, as create_new_trial returns
        if not 0 <= trial_id < len(self.trial_study):
            return None
        sid = self.trial_study[trial_id]
        rec = self.studies.get(sid)
        return None if rec is None else (sid, rec, self.trial_number[trial_id])

    def apply(self, entries: list[dict[str, Any]], token: str) -> tuple[dict[int, Any], list[int]]:
        """Apply ``entries`` (the log from ``log_pos`` on) atomically.

        Returns:
            The outcomes of the entries written by ``token`` that carry a number
            (``{n: result or exception}``), and the log positions of all entries
            written by ``token``.
        """
        batch = _Batch(self)
        outcomes: dict[int, Any] = {}
        own: list[int] = []
        try:
            pos = self.log_pos
            for op in entries:
                if type(op) is not dict:
                    op = {}
                result = batch.apply(op, pos)
                if op.get("w") == token:
                    own.append(pos)
                    n = op.get("n")
                    if n is not None:
                        outcomes[n] = result
                pos += 1
            for sid, changes in batch.changes.items():
                rec = self.studies.get(sid)
                if rec is not None and changes:
                    apply_changes(rec.history, changes)
        except BaseException:
            batch.undo.rollback()
            raise
        self.log_pos += len(entries)
        if entries:
            self.last_entry = entries[-1]
        return outcomes, own


class _Batch:
    """The entries of one :meth:`ReplayState.apply`: decisions, undo and changes."""

    def __init__(self, state: ReplayState):
        self.s = state
        self.undo = Undo()
        self.changes: dict[int, Changes] = {}

    def ch(self, sid: int) -> Changes:
        c = self.changes.get(sid)
        if c is None:
            c = self.changes[sid] = Changes()
        return c

    def apply(self, op: dict[str, Any], pos: int) -> Any:
        kind = op.get("op")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            if not op:
                return StorageError(f"Journal entry {pos} is damaged.")
            if "op_code" in op:
                raise StorageError(
                    "This journal was written by Optuna's JournalStorage; hpo_core's JournalStorage "
                    "writes its own operations and cannot read it. Keep it for Optuna, or give "
                    "hpo_core a new journal.")
            raise StorageError(f"Journal entry {pos} holds an operation unknown to this hpo_core "
                               f"({kind!r}); was it written by a newer version?")
        try:
            defs = op.get("defs")
            if defs:
                # Definitions count whether or not the entry applies (see _ops).
                new = {key: json_to_distribution(text) for key, text in defs.items() if key not in self.s.dists}
                if new:
                    self.undo.keep(self.s.dists).update(new)
            return handler(self, op)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            # Not written by this hpo_core (the writers check every field): skip it,
            # as every reader does.
            return StorageError(f"Journal entry {pos} is malformed ({type(e).__name__}: {e}); it is skipped.")

    # ------------------------------------------------------------ helpers
    def _params(self, number: int, rows: Any) -> list[tuple[int, str, BaseDistribution, float]]:
        """Parameter rows ``[name, value, key]`` of trial ``number`` as changes (called
        before anything changes: a malformed row raises with nothing done)."""
        dists = self.s.dists
        return [(number, str(name), dists[key], float(value)) for name, value, key in rows]

    def _trial(self, tid: Any, *, unfinished: bool = True) -> tuple[int, StudyRecord, int] | Exception:
        loc = self.s.locate(tid)
        if loc is None:
            return trial_missing(tid)
        if unfinished:
            state = loc[1].states[loc[2]]
            if state != _RUNNING and state != _WAITING:
                return trial_finished(loc[2], state)
        return loc

    def _new_trials(self, sid: int, rec: StudyRecord, k: int, state: int, t_start: float) -> tuple[int, int]:
        s, u = self.s, self.undo
        first_tid, first = len(s.trial_study), len(rec.states)
        for lst in (s.trial_study, s.trial_number, rec.states, rec.tids, rec.t_start):
            u.grow(lst)
        s.trial_study.extend([sid] * k)
        s.trial_number.extend(range(first, first + k))
        rec.states.extend([state] * k)
        rec.tids.extend(range(first_tid, first_tid + k))
        rec.t_start.extend([t_start] * k)
        return first_tid, first

    def _set_state(self, sid: int, rec: StudyRecord, tid: int, number: int, code: int, values: Any,
                   t: float, owner: str | None, beat: float | None) -> None:
        u, ch = self.undo, self.ch(sid)
        u.set_item(rec.states, number, code)
        running = u.keep(self.s.running)
        if code == _RUNNING or code == _WAITING:
            if code == _RUNNING:
                u.set_item(rec.t_start, number, t)
                running[tid] = (owner, beat)
            else:
                running.pop(tid, None)
                u.grow(rec.waiting)
                rec.waiting.append(number)
            ch.trials.append((number, tid, code, None, rec.t_start[number], _NAN))
        else:
            running.pop(tid, None)
            ch.trials.append((number, tid, code, values, _NAN, t))

    # ------------------------------------------------------------ studies
    def op_study(self, op: dict[str, Any]) -> Any:
        name, dirs, t = str(op["name"]), [StudyDirection(int(d)) for d in op["dirs"]], op.get("t")
        s, u = self.s, self.undo
        if name in s.names:
            return DuplicatedStudyError(f"A study named {name!r} already exists.")
        sid = s.next_study_id
        u.set_attr(s, "next_study_id", sid + 1)
        u.keep(s.studies)[sid] = StudyRecord(name, dirs, t)
        u.keep(s.names)[name] = sid
        return sid

    def op_delete_study(self, op: dict[str, Any]) -> Any:
        sid = op["sid"]
        rec = self.s.studies.get(sid)
        if rec is None:
            return study_missing(sid)
        del self.undo.keep(self.s.studies)[sid]
        del self.undo.keep(self.s.names)[rec.name]
        self.changes.pop(sid, None)
        return None

    def op_study_attr(self, op: dict[str, Any]) -> Any:
        sid, kind, key, value = op["sid"], op["kind"], str(op["key"]), decode_json(op["v"])
        rec = self.s.studies.get(sid)
        if rec is None:
            return study_missing(sid)
        self.undo.keep(rec.attrs[kind])[key] = value
        return None

    def op_reserve(self, op: dict[str, Any]) -> Any:
        sid, key = op["sid"], str(op["key"])
        rec = self.s.studies.get(sid)
        if rec is None:
            return study_missing(sid)
        if key in rec.reserved:
            return False
        self.undo.add(rec.reserved, key)
        return True

    # ------------------------------------------------------------ new trials
    def op_trials(self, op: dict[str, Any]) -> Any:
        sid, k, t = op["sid"], int(op.get("k", 1)), float(op["t"])
        owner, beat = op.get("owner"), (t if op.get("hb") else None)
        x = op.get("x")
        rec = self.s.studies.get(sid)
        if rec is None:
            return study_missing(sid)
        joint = [] if x is None else self._params(len(rec.states), zip(x["names"], x["v"], x["d"]))
        first_tid, first = self._new_trials(sid, rec, k, _RUNNING, t)
        running = self.undo.keep(self.s.running)
        ch = self.ch(sid)
        for j in range(k):
            running[first_tid + j] = (owner, beat)
            ch.trials.append((first + j, first_tid + j, _RUNNING, None, t, _NAN))
        ch.params.extend(joint)
        return first_tid, first

    def op_template(self, op: dict[str, Any]) -> Any:
        sid, state = op["sid"], int(TrialState(int(op["state"])))
        values = None if op.get("vals") is None else decode_numbers(op["vals"])
        ts, tc = op.get("ts"), op.get("tc")
        attrs = [("user", str(k), decode_json(v)) for k, v in op.get("ua", {}).items()]
        attrs += [("system", str(k), decode_json(v)) for k, v in op.get("sa", {}).items()]
        reports = [(int(step), decode_numbers(v)) for step, v in op.get("iv", ())]
        rec = self.s.studies.get(sid)
        if rec is None:
            return study_missing(sid)
        params = self._params(len(rec.states), op.get("p", ()))
        t_start = _NAN if ts is None else float(ts)
        tid, number = self._new_trials(sid, rec, 1, state, t_start)
        if state == _WAITING:
            self.undo.grow(rec.waiting)
            rec.waiting.append(number)
        elif state == _RUNNING:
            self.undo.keep(self.s.running)[tid] = (op.get("owner"), None)
        ch = self.ch(sid)
        ch.trials.append((number, tid, state, values, t_start, _NAN if tc is None else float(tc)))
        ch.params.extend(params)
        ch.attrs.extend((number, kind, k, v) for kind, k, v in attrs)
        ch.reports.extend((number, step, v) for step, v in reports)
        return tid, number

    def op_claim(self, op: dict[str, Any]) -> Any:
        sid, t, owner = op["sid"], float(op["t"]), op.get("owner")
        rec = self.s.studies.get(sid)
        if rec is None:
            return study_missing(sid)
        head, waiting, states = rec.wait_head, rec.waiting, rec.states
        while head < len(waiting) and states[waiting[head]] != _WAITING:
            head += 1
        if head == len(waiting):
            if head != rec.wait_head:
                self.undo.set_attr(rec, "wait_head", head)
            return None
        number = waiting[head]
        self.undo.set_attr(rec, "wait_head", head + 1)
        tid = rec.tids[number]
        self._set_state(sid, rec, tid, number, _RUNNING, None, t, owner, t if op.get("hb") else None)
        return tid, number

    # ------------------------------------------------------------ trial writes
    def op_params(self, op: dict[str, Any]) -> Any:
        found = []
        for tid, rows in op["trials"]:
            loc = self._trial(tid)
            if not isinstance(loc, Exception):  # else finished meanwhile: nothing to add
                found.append((loc[0], self._params(loc[2], rows)))
        for sid, params in found:
            self.ch(sid).params.extend(params)
        return None

    def op_params_block(self, op: dict[str, Any]) -> Any:
        ids, names = op["ids"], [str(name) for name in op["names"]]
        dists = [self.s.dists[key] for key in op["d"]]
        X = [[float(v) for v in row] for row in op["x"]]
        locs = self._unfinished_all(ids)
        if isinstance(locs, Exception):
            return locs
        pending = self._pending(op, locs)
        for tid, (sid, _, number), row in zip(ids, locs, X):
            params = self.ch(sid).params
            params.extend(pending.get(tid, ()))
            params.extend((number, name, dist, v) for name, dist, v in zip(names, dists, row))
        return None

    def _unfinished_all(self, ids: list[Any]) -> list[tuple[int, StudyRecord, int]] | Exception:
        """The locations of ``ids``, or the error of the first one missing or finished."""
        locs = []
        for tid in ids:
            loc = self._trial(tid)
            if isinstance(loc, Exception):
                return loc
            locs.append(loc)
        return locs

    def _pending(self, op: dict[str, Any], locs: list[tuple[int, StudyRecord, int]]) -> dict[Any, list[Any]]:
        """The ``p`` of a block entry ([[tid, rows], ...]) as changes per trial id."""
        numbers = {tid: loc[2] for tid, loc in zip(op["ids"], locs)}
        return {tid: self._params(numbers[tid], rows) for tid, rows in op.get("p", ())}

    def op_state(self, op: dict[str, Any]) -> Any:
        tid, code, t = op["tid"], int(TrialState(int(op["state"]))), float(op["t"])
        values = None if op.get("vals") is None else decode_numbers(op["vals"])
        loc = self._trial(tid)
        if isinstance(loc, Exception):
            return loc
        sid, rec, number = loc
        params = self._params(number, op.get("p", ()))
        if code == _RUNNING and rec.states[number] == _RUNNING:
            return False
        self.ch(sid).params.extend(params)
        self._set_state(sid, rec, tid, number, code, values, t, op.get("owner"), t if op.get("hb") else None)
        return True

    def op_states(self, op: dict[str, Any]) -> Any:
        ids, code, t = op["ids"], int(TrialState(int(op["state"]))), float(op["t"])
        vals = op.get("vals")
        values = [None] * len(ids) if vals is None else [decode_numbers(v) for v in vals]
        locs = self._unfinished_all(ids)
        if isinstance(locs, Exception):
            return locs
        pending = self._pending(op, locs)
        for tid, (sid, rec, number), v in zip(ids, locs, values):
            self.ch(sid).params.extend(pending.get(tid, ()))
            self._set_state(sid, rec, tid, number, code, v, t, None, None)
        return None

    def _trial_write(self, op: dict[str, Any]) -> tuple[int, int] | Exception:
        """Locate the unfinished trial of ``op`` and add its waiting parameters."""
        loc = self._trial(op["tid"])
        if isinstance(loc, Exception):
            return loc
        sid, _, number = loc
        self.ch(sid).params.extend(self._params(number, op.get("p", ())))
        return sid, number

    def op_report(self, op: dict[str, Any]) -> Any:
        step, value = int(op["step"]), decode_numbers(op["v"])
        loc = self._trial_write(op)
        if isinstance(loc, Exception):
            return loc
        self.ch(loc[0]).reports.append((loc[1], step, value))
        return None

    def op_trial_attr(self, op: dict[str, Any]) -> Any:
        kind, key, value = op["kind"], str(op["key"]), decode_json(op["v"])
        if kind not in ("user", "system"):
            raise ValueError(f"attribute kind {kind!r}")
        loc = self._trial_write(op)
        if isinstance(loc, Exception):
            return loc
        self.ch(loc[0]).attrs.append((loc[1], kind, key, value))
        return None

    # ------------------------------------------------------------ liveness
    def op_heartbeat(self, op: dict[str, Any]) -> Any:
        ids, t = op["ids"], float(op["t"])
        running = self.s.running
        for tid in ids:
            entry = running.get(tid)
            if entry is not None:
                self.undo.keep(running)[tid] = (entry[0], t)
        return None

    def op_stale(self, op: dict[str, Any]) -> Any:
        ids, reasons, t = op["ids"], [str(r) for r in op["reasons"]], float(op["t"])
        failed = []
        for tid, reason in zip(ids, reasons):
            loc = self._trial(tid, unfinished=False)
            if isinstance(loc, Exception) or loc[1].states[loc[2]] != _RUNNING:
                continue  # finished meanwhile: its end stands
            sid, rec, number = loc
            self._set_state(sid, rec, tid, number, _FAIL, None, t, None, None)
            self.ch(sid).attrs.append((number, "system", "fail_reason", reason))
            failed.append(number)
        return failed


_HANDLERS = {name[3:]: fn for name, fn in vars(_Batch).items() if name.startswith("op_")}
