"""In-memory storage: the default, and the fastest path (writes go straight into the
columnar history)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo_core._validation import format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.exceptions import (
    DuplicatedStudyError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from hpo_core.history import History
from hpo_core.storages._base import (
    BaseStorage,
    FrozenStudy,
    check_attr,
    check_finish,
    check_report,
    check_space,
)
from hpo_core.storages._checks import check_name
from hpo_core.storages._writer import apply_changes, changes_from_frozen
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import StudyDirection, TrialState

__all__ = ["InMemoryStorage"]

_RUNNING = int(TrialState.RUNNING)
_WAITING = int(TrialState.WAITING)
_COMPLETE = int(TrialState.COMPLETE)


class _Study:
    __slots__ = ("name", "directions", "attrs", "history", "t_created", "waiting", "reserved")

    def __init__(self, name: str, directions: list[StudyDirection]):
        self.name = name
        self.directions = directions
        self.attrs: dict[str, dict[str, Any]] = {"user": {}, "system": {}}
        self.history = History(len(directions))
        if len(directions) == 1 and directions[0] == StudyDirection.MAXIMIZE:
            self.history.set_direction_sign(-1.0)
        self.t_created = time.time()
        self.waiting: list[int] = []  # numbers of WAITING trials, oldest first
        self.reserved: set[str] = set()


class InMemoryStorage(BaseStorage):
    """Keeps studies in this process's memory; lost when the process ends.

    Thread-safe: one lock serializes writers. Trials are rows of the study's
    :class:`~hpo_core.history.History`; nothing is copied per trial.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._studies: dict[int, _Study] = {}
        self._name_to_id: dict[str, int] = {}
        self._next_study_id = 0
        # trial_id -> (study, number); trial ids are global and dense.
        self._trials: list[tuple[_Study, int] | None] = []

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # --------------------------------------------------------------- studies
    def _study(self, study_id: int) -> _Study:
        try:
            return self._studies[study_id]
        except KeyError:
            raise StudyNotFoundError(f"No study with study_id={study_id!r} in this storage.") from None

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        with self._lock:
            study_id = self._next_study_id
            if study_name is None:
                study_name = f"no-name-{study_id}-{int(time.time() * 1e6)}"
            check_name(study_name, "study_name")
            if study_name in self._name_to_id:
                raise DuplicatedStudyError(f"A study named {study_name!r} already exists.")
            self._next_study_id += 1
            self._studies[study_id] = _Study(study_name, list(directions))
            self._name_to_id[study_name] = study_id
            return study_id

    def delete_study(self, study_id: int) -> None:
        with self._lock:
            study = self._study(study_id)
            del self._name_to_id[study.name]
            del self._studies[study_id]
            for tid in study.history.trial_ids[: study.history.n].tolist():
                self._trials[tid] = None  # its trials are gone too (get_trial raises)

    def set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        with self._lock:
            self._study(study_id).attrs[kind][key] = check_attr(kind, key, value)

    def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        return copy.deepcopy(self._study(study_id).attrs[kind])

    def get_study_id_from_name(self, study_name: str) -> int:
        try:
            return self._name_to_id[study_name]
        except KeyError:
            raise StudyNotFoundError(f"No study named {study_name!r} in this storage.") from None

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._study(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return list(self._study(study_id).directions)

    def get_all_studies(self) -> list[FrozenStudy]:
        out = []
        with self._lock:
            for sid, s in self._studies.items():
                h = s.history
                best = h.frozen(h.best_row) if h.best_row >= 0 else None
                out.append(
                    FrozenStudy(
                        study_name=s.name, study_id=sid, directions=list(s.directions),
                        n_trials=int(sum(h.state_counts)),
                        user_attrs=copy.deepcopy(s.attrs["user"]),
                        system_attrs=copy.deepcopy(s.attrs["system"]),
                        datetime_start=(h.frozen(0).datetime_start if h.n else None),
                        best_trial=best,
                    )
                )
        return out

    # --------------------------------------------------------------- trials
    def new_trial(
        self,
        study_id: int,
        template_trial: FrozenTrial | None = None,
        *,
        space: SearchSpace | None = None,
        internal: np.ndarray | None = None,
    ) -> tuple[int, int]:
        template = template_trial
        with self._lock:
            study = self._studies.get(study_id) or self._study(study_id)
            h = study.history
            trial_id = len(self._trials)
            if template is None:
                if space is not None:
                    check_space(space)
                number = h.append_row(trial_id, _RUNNING, time.time(), space, internal)
            else:
                number = h.n
                self._write_template(h, number, trial_id, template)
                if template.state == TrialState.WAITING:
                    study.waiting.append(number)
            self._trials.append((study, number))
            return trial_id, number

    def create_new_trials(self, study_id: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            study = self._study(study_id)
            first = len(self._trials)
            numbers = study.history.add_rows(n, first, _RUNNING, time.time())
            self._trials.extend(zip([study] * n, numbers.tolist()))
            return np.arange(first, first + n, dtype=np.int64), numbers

    def _rows_of(self, trial_ids: np.ndarray) -> tuple[_Study, np.ndarray]:
        locs = [self._locate(i) for i in trial_ids.tolist()]
        study = locs[0][0] if locs else None
        if any(loc[0] is not study for loc in locs):
            raise ValueError("`trial_ids` must all belong to one study.")
        rows = np.fromiter((loc[1] for loc in locs), dtype=np.int64, count=len(locs))
        return study, rows  # type: ignore[return-value]

    def set_trials_params(self, trial_ids: np.ndarray, space: SearchSpace, X: np.ndarray) -> None:
        if not len(trial_ids):
            return
        check_space(space)
        with self._lock:
            study, rows = self._rows_of(trial_ids)
            self._check_block_unfinished(study.history, rows)
            study.history.set_params_block(rows, space, X)

    def set_trials_state_values(
        self, trial_ids: np.ndarray, state: TrialState, values: np.ndarray | None
    ) -> None:
        if not len(trial_ids):
            return
        with self._lock:
            study, rows = self._rows_of(trial_ids)
            m = study.history.n_objectives
            if int(state) == _COMPLETE and (values is None or np.shape(values) != (len(rows), m)):
                raise ValueError(format_error(
                    "values", f"an array of shape ({len(rows)}, {m}) for COMPLETE trials",
                    None if values is None else f"shape {np.shape(values)}"))
            self._check_block_unfinished(study.history, rows)
            study.history.set_states_block(rows, int(state), values, time.time())

    def _check_block_unfinished(self, h: History, rows: np.ndarray) -> None:
        st = h.states[rows]
        bad = np.flatnonzero((st != _RUNNING) & (st != _WAITING))
        if len(bad):
            self._check_unfinished(h, int(rows[bad[0]]))

    @staticmethod
    def _write_template(h: History, number: int, trial_id: int, t: FrozenTrial) -> None:
        changes = changes_from_frozen(number, trial_id, t, now=time.time())
        changes.attrs = [(n, kind, k, check_attr(kind, k, v)) for n, kind, k, v in changes.attrs]
        changes.reports = [(n, *check_report(step, v, h.n_objectives)) for n, step, v in changes.reports]
        apply_changes(h, changes)

    def has_waiting(self, study_id: int) -> bool:
        return bool(self._study(study_id).waiting)

    def claim_waiting_trial(self, study_id: int) -> tuple[int, int] | None:
        with self._lock:
            study = self._study(study_id)
            h = study.history
            while study.waiting:
                number = study.waiting.pop(0)
                if h.states[number] == _WAITING:
                    h.set_state(number, _RUNNING)
                    h.t_start[number] = time.time()
                    return int(h.trial_ids[number]), number
            return None

    def _locate(self, trial_id: int) -> tuple[_Study, int]:
        try:
            loc = self._trials[trial_id] if trial_id >= 0 else None  # -1 would index from the end
        except (IndexError, TypeError):
            loc = None
        if loc is None:  # unknown, or its study was deleted
            raise KeyError(f"No trial with trial_id={trial_id!r} in this storage.")
        return loc

    def _check_unfinished(self, h: History, number: int) -> None:
        state = h._mv_states[number]
        if state != _RUNNING and state != _WAITING:
            raise UpdateFinishedTrialError(
                f"Trial {number} is already finished ({TrialState(int(state)).name}) and "
                "cannot be changed."
            )

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: BaseDistribution
    ) -> None:
        name, internal, dist = param_name, param_value_internal, distribution
        study, number = self._locate(trial_id)
        h = study.history
        if name not in h.param_index:
            check_name(name, "parameter name")
        with self._lock:
            state = h._mv_states[number]
            if state != _RUNNING and state != _WAITING:
                self._check_unfinished(h, number)
            h.set_param(number, name, dist, internal)

    def set_trial_params(self, trial_id: int, space: SearchSpace, internal: np.ndarray) -> None:
        study, number = self._locate(trial_id)
        check_space(space)
        with self._lock:
            self._check_unfinished(study.history, number)
            study.history.set_params(number, space, internal)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState | int, values: Sequence[float] | None = None
    ) -> bool:
        study, number = self._locate(trial_id)
        h = study.history
        if state == _COMPLETE and values is not None and len(values) == 1 and type(values[0]) is float \
                and h.n_objectives == 1:
            # tell's tight loop: one Python float for one objective, nothing to check.
            with self._lock:
                old = h._mv_states[number]
                if old != _RUNNING and old != _WAITING:
                    self._check_unfinished(h, number)
                h.set_complete(number, values[0], time.time())
            return True
        code = int(state)
        m = h.n_objectives
        # Checked unless COMPLETE with m Python floats: a wrong count used to be
        # broadcast into the row, an int beyond the float range stored as inf.
        if code != _COMPLETE or values is None or len(values) != m or not all(type(v) is float for v in values):
            check_finish(code, values, m)
            if values is not None:
                values = [float(v) for v in values]
        with self._lock:
            old = h._mv_states[number]
            if old != _RUNNING and old != _WAITING:
                self._check_unfinished(h, number)
            if code == _RUNNING and old == _RUNNING:
                return False
            h.set_state(number, code, values, time.time() if code != _RUNNING and code != _WAITING else None)
            return True

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: Any) -> None:
        value = intermediate_value
        study, number = self._locate(trial_id)
        step, value = check_report(step, value, study.history.n_objectives)
        with self._lock:
            self._check_unfinished(study.history, number)
            study.history.add_intermediate(number, step, value)

    def set_trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None:
        study, number = self._locate(trial_id)
        value = check_attr(kind, key, value)
        with self._lock:
            self._check_unfinished(study.history, number)
            study.history.set_attr(number, kind, key, value)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        study, number = self._locate(trial_id)
        with self._lock:
            return study.history.frozen(number)

    def get_trial_id_from_number(self, study_id: int, number: int) -> int:
        h = self._study(study_id).history
        if not 0 <= number < h.n:
            raise KeyError(f"No trial number {number} in study {study_id}.")
        return int(h.trial_ids[number])

    def get_history(self, study_id: int, *, sync: bool = True) -> History:
        return self._study(study_id).history

    def reserve(self, study_id: int, key: str) -> bool:
        with self._lock:
            reserved = self._study(study_id).reserved
            if key in reserved:
                return False
            reserved.add(key)
            return True

    def fail_stale_trials(self, study_id: int) -> list[int]:
        # Every trial of an in-memory study is owned by this process.
        return []
