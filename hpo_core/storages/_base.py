"""The storage interface.

A storage holds studies and their trials. Every write is one operation (create a trial,
set a parameter, report a step, set an attribute, finish with a state and values, ...),
validated once here at the storage boundary and atomic. Reads that samplers and pruners
need go through :meth:`BaseStorage.get_history`, which returns the study's columnar
:class:`~hpo_core.history.History`. A storage shared between processes brings it up to
date by asking only for the changes after the last change it applied (a per-study
change sequence) and applies them through the one writer
(:func:`hpo_core.storages._writer.apply_changes`), atomically.

Worker liveness: each running trial records its owner as ``host:pid:start`` (see
:func:`worker_id`) and, when heartbeats are on, the time of its last heartbeat, beaten
for every RUNNING trial a process owns by one thread per storage object
(:mod:`hpo_core.storages._heartbeat`). :meth:`BaseStorage.fail_stale_trials` marks FAIL
the RUNNING trials whose owner process on this host is gone, and those whose heartbeat
is older than the grace period; the study calls it before asks and hands each failed
trial to the storage's ``heartbeat_stale_trial_callback`` (:mod:`hpo_core.study._stale`).
"""

from __future__ import annotations

import abc
import datetime
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpo_core._validation import check_bool, format_error
from hpo_core.distributions import BaseDistribution, SearchSpace
from hpo_core.history import History
from hpo_core.storages._checks import check_name, check_step, normalize_json, to_float
from hpo_core.storages._optuna_methods import OptunaStorageMethods, TrialIdNumber
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import StudyDirection, TrialState

__all__ = [
    "BaseStorage", "FrozenStudy", "check_attr", "check_finish", "check_report", "check_space", "worker_id",
    "is_local_worker_dead", "TrialIdNumber",
]


_CHECKED_KEYS: set[str] = set()  # attribute keys (exact str) that passed check_name


def check_attr(kind: str, key: Any, value: Any) -> Any:
    """Check an attribute write: ``kind``, the key (a name) and the value (the JSON
    rule of :mod:`hpo_core.storages._checks`); returns the value as every storage gives
    it back.

    The usual write is a key seen before with a float value (a pruner's rung value, a
    sampler's bookkeeping): the key's check is remembered (names are immutable ``str``)
    and a float is stored as it is (what ``normalize_json`` returns for one), so that
    write builds no error-message text and calls no checker (0.66 -> 0.09 us warm,
    ~1 us of a successive-halving decision at a rung's end)."""
    if kind not in ("user", "system"):
        raise ValueError(f"`kind` must be 'user' or 'system', but got {kind!r}.")
    if type(key) is not str or key not in _CHECKED_KEYS:
        check_name(key, f"{kind}_attrs key")
        if type(key) is str:
            if len(_CHECKED_KEYS) > 4096:
                _CHECKED_KEYS.clear()
            _CHECKED_KEYS.add(key)
    if type(value) is float:
        return value
    return normalize_json(value, f"{kind}_attrs[{key!r}]")


_CHECKED_SPACES: set[SearchSpace] = set()


_LAST_CHECKED: list[SearchSpace | None] = [None]  # the common case: the same space again


def check_space(space: SearchSpace) -> None:
    """Check the parameter names of ``space`` (once per space: spaces are immutable)."""
    if space is _LAST_CHECKED[0] or space in _CHECKED_SPACES:
        _LAST_CHECKED[0] = space
        return
    for name in space.names:
        check_name(name, "parameter name")
    if len(_CHECKED_SPACES) > 1024:
        _CHECKED_SPACES.clear()
    _CHECKED_SPACES.add(space)
    _LAST_CHECKED[0] = space


def check_report(step: Any, value: Any, n_objectives: int) -> tuple[int, Any]:
    """Check an intermediate value: ``(step, value)`` with value a float, or a list of
    ``n_objectives`` floats (vector reports)."""
    step = check_step(step)
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = [to_float(v, "value") for v in np.asarray(value, dtype=object).reshape(-1).tolist()]
        if len(vals) != n_objectives:
            raise ValueError(format_error("value", f"a number or {n_objectives} numbers", value))
        return step, (vals[0] if n_objectives == 1 else vals)
    return step, to_float(value, "value")

_FINISHED = (int(TrialState.COMPLETE), int(TrialState.PRUNED), int(TrialState.FAIL))


def check_finish(state: Any, values: Sequence[float] | None, n_objectives: int) -> None:
    """Check a state change: a known state, and ``n_objectives`` values exactly when
    COMPLETE.

    Raises:
        ValueError: naming ``state`` or ``values``.
    """
    try:
        code = int(TrialState(int(state)))
    except (TypeError, ValueError):
        raise ValueError(f"`state` must be a TrialState, but got {state!r}.") from None
    if code == int(TrialState.COMPLETE):
        if values is None or len(values) != n_objectives:
            raise ValueError(
                f"`values` must hold {n_objectives} value(s) for a COMPLETE trial, but got {values!r}."
            )
    elif code not in _FINISHED and values is not None:
        raise ValueError(f"`values` must be None for a {TrialState(code).name} trial, but got {values!r}.")
    if values is not None:
        for v in values:
            to_float(v, "values")


@dataclass
class FrozenStudy:
    """Summary of a study in a storage (``get_all_study_summaries``)."""

    study_name: str
    study_id: int
    directions: list[StudyDirection]
    n_trials: int
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    datetime_start: datetime.datetime | None = None
    best_trial: FrozenTrial | None = None

    @property
    def direction(self) -> StudyDirection:
        if len(self.directions) != 1:
            raise RuntimeError("This study has several objectives; use `directions`.")
        return self.directions[0]


def _process_start_time(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields resume after the last ')'.
    rest = data[data.rfind(b")") + 2 :].split()
    return rest[19].decode() if len(rest) > 19 else None


_WORKER_ID: tuple[int, str] | None = None


def worker_id() -> str:
    """``"host:pid:start"`` identifying this process (recomputed after a fork)."""
    global _WORKER_ID
    pid = os.getpid()
    if _WORKER_ID is None or _WORKER_ID[0] != pid:
        _WORKER_ID = (pid, f"{socket.gethostname()}:{pid}:{_process_start_time(pid) or '?'}")
    return _WORKER_ID[1]


_DETACHED = False


def detach_trials(detached: bool = True) -> None:
    """Make the trials this process starts from now on belong to no process (or, with
    ``False``, to this one again: the default).

    A trial normally belongs to the process that asked for it, and is marked FAIL as
    stale once that process is gone (or its heartbeat stops). A detached trial is
    neither: it stays RUNNING until someone tells it, so one process may ask and exit
    and another tell later (what ``hpo-core ask`` / ``hpo-core tell`` do). Heartbeats
    still run for it while this process lives; open the storage with
    ``heartbeat_interval=None`` so that none are written at all.

    Example:
        >>> import hpo_core
        >>> detach_trials()
        >>> trial_owner()
        ''
        >>> detach_trials(False)
        >>> trial_owner() != ''
        True
    """
    global _DETACHED
    _DETACHED = check_bool("detached", detached, owner="detach_trials")


def trial_owner() -> str:
    """The owner recorded with a trial this process starts: :func:`worker_id`, or ``""``
    after :func:`detach_trials`."""
    return "" if _DETACHED else worker_id()


def is_local_worker_dead(owner: str | None) -> bool:
    """True if ``owner`` names a process on this host that no longer exists.

    Owners on other hosts, and unparsable owners, are never declared dead here; the
    heartbeat handles those.
    """
    if not owner:
        return False
    try:
        host, pid_s, start = owner.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return start != "?" and start != (_process_start_time(pid) or "?")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    actual = _process_start_time(pid)
    if actual is None:
        # /proc is unavailable; trust the signal probe.
        return False
    return start != "?" and actual != start


class BaseStorage(OptunaStorageMethods, abc.ABC):
    """Abstract storage. Implementations must be safe to call from several threads.

    Optuna's storage methods (``get_trial_params``, ``set_trial_user_attr``,
    ``get_best_trial``, ...) come from
    :class:`~hpo_core.storages._optuna_methods.OptunaStorageMethods`, over the
    operations below, so every backend has them.
    """

    #: Seconds between heartbeats of a running trial; None turns heartbeats off.
    heartbeat_interval: float | None = None
    #: A RUNNING trial whose last heartbeat is older than this many seconds is stale.
    grace_period: float | None = None
    #: Called as ``callback(study, frozen_trial)`` for each trial the study finds stale
    #: and marks FAIL (e.g. :class:`~hpo_core.storages.RetryHeartbeatStaleTrialCallback`);
    #: ``heartbeat_stale_trial_callback`` (Optuna 5.0's name) reads and sets it too.
    failed_trial_callback: Any = None

    # --------------------------------------------------------------- studies
    @abc.abstractmethod
    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        """Create a study and return its id.

        Raises:
            DuplicatedStudyError: if ``study_name`` is taken.
        """

    @abc.abstractmethod
    def delete_study(self, study_id: int) -> None: ...

    @abc.abstractmethod
    def set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        """Set a ``"user"`` or ``"system"`` attribute (JSON-serializable value)."""

    @abc.abstractmethod
    def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    def get_study_id_from_name(self, study_name: str) -> int:
        """Raises StudyNotFoundError if absent."""

    @abc.abstractmethod
    def get_study_name_from_id(self, study_id: int) -> str: ...

    @abc.abstractmethod
    def get_study_directions(self, study_id: int) -> list[StudyDirection]: ...

    @abc.abstractmethod
    def get_all_studies(self) -> list[FrozenStudy]: ...

    # --------------------------------------------------------------- trials
    @abc.abstractmethod
    def new_trial(
        self,
        study_id: int,
        template_trial: FrozenTrial | None = None,
        *,
        space: SearchSpace | None = None,
        internal: np.ndarray | None = None,
    ) -> tuple[int, int]:
        """Create a trial atomically and return ``(trial_id, number)``.

        Without ``template_trial`` the trial is RUNNING, owned by this process;
        ``space`` and ``internal`` (d,) optionally set its parameters in the same
        transaction. With a ``template_trial`` its state, values, params, attributes and
        intermediate values are copied (``add_trial``, ``enqueue_trial`` with state
        WAITING).

        Raises:
            KeyError: no study has ``study_id``.
        """

    def create_new_trial(
        self,
        study_id: int,
        template_trial: FrozenTrial | None = None,
        *,
        space: SearchSpace | None = None,
        internal: np.ndarray | None = None,
    ) -> TrialIdNumber:
        """Optuna's form of :meth:`new_trial`: the new trial's id, an ``int`` that also
        unpacks as ``(trial_id, number)`` (:class:`TrialIdNumber`).

        Raises:
            KeyError: no study has ``study_id``.
        """
        trial_id, number = self.new_trial(study_id, template_trial, space=space, internal=internal)
        return TrialIdNumber(trial_id, number)

    def create_new_trials(self, study_id: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Create ``n`` RUNNING trials; returns ``(trial_ids, numbers)``, each (n,) int64.

        Storages override this with one transaction; the default loops.
        """
        pairs = [self.new_trial(study_id) for _ in range(n)]
        ids = np.array([p[0] for p in pairs], dtype=np.int64)
        numbers = np.array([p[1] for p in pairs], dtype=np.int64)
        return ids, numbers

    def set_trials_params(self, trial_ids: np.ndarray, space: SearchSpace, X: np.ndarray) -> None:
        """Set the parameters of ``space`` for many trials: X (n, d) internal values."""
        for tid, row in zip(trial_ids.tolist(), X):
            self.set_trial_params(tid, space, row)

    def set_trials_state_values(
        self, trial_ids: np.ndarray, state: TrialState, values: np.ndarray | None
    ) -> None:
        """Finish many RUNNING trials with one state; values (n, m) or None.

        Raises UpdateFinishedTrialError (and changes nothing) if any is finished.
        """
        for k, tid in enumerate(trial_ids.tolist()):
            self.set_trial_state_values(tid, state, None if values is None else values[k].tolist())

    def has_waiting(self, study_id: int) -> bool:
        """Whether a WAITING trial may exist (True when unsure: ``claim`` decides)."""
        return True

    @abc.abstractmethod
    def claim_waiting_trial(self, study_id: int) -> tuple[int, int] | None:
        """Atomically turn the oldest WAITING trial into RUNNING, owned by this process.

        Returns ``(trial_id, number)``, or None when no trial waits. Two workers never
        claim the same trial.
        """

    @abc.abstractmethod
    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: BaseDistribution
    ) -> None:
        """Set one parameter: its name, internal value and distribution.

        Raises:
            KeyError: no trial has ``trial_id``.
            UpdateFinishedTrialError: the trial is finished.
        """

    @abc.abstractmethod
    def set_trial_params(self, trial_id: int, space: SearchSpace, internal: np.ndarray) -> None:
        """Set all parameters of ``space`` to ``internal`` (d,) in one transaction."""

    @abc.abstractmethod
    def set_trial_state_values(
        self, trial_id: int, state: TrialState | int, values: Sequence[float] | None = None
    ) -> bool:
        """Finish (or change the state of) a trial atomically.

        Returns False if the trial is not RUNNING or WAITING any more (another worker
        got there first). Raises UpdateFinishedTrialError if it is finished.
        """

    @abc.abstractmethod
    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: Any) -> None:
        """Record ``intermediate_value`` (a float, or one per objective) at ``step``
        (0 <= step < 2**63).

        A second report of the same step is ignored.

        Raises:
            KeyError: no trial has ``trial_id``.
            UpdateFinishedTrialError: the trial is finished.
        """

    @abc.abstractmethod
    def set_trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def get_trial(self, trial_id: int) -> FrozenTrial: ...

    @abc.abstractmethod
    def get_trial_id_from_number(self, study_id: int, number: int) -> int: ...

    @abc.abstractmethod
    def get_history(self, study_id: int, *, sync: bool = True) -> History:
        """The study's columnar history.

        With ``sync`` (default) it is first brought up to date with the storage, by the
        changes since the last sync only; without, it is returned as last synced (the
        reads inside one ask or one pruning decision share one sync).
        """

    @abc.abstractmethod
    def reserve(self, study_id: int, key: str) -> bool:
        """Atomically claim ``key`` for this study; False if anyone claimed it before.

        Samplers use it to hand out work exactly once across workers (grid points).
        """

    # --------------------------------------------------------------- liveness
    def record_heartbeat(self, trial_id: int) -> None:
        """Record that the owner of a RUNNING trial is alive (no-op without heartbeats)."""
        self.record_heartbeats([trial_id])

    def record_heartbeats(self, trial_ids: list[int]) -> None:  # noqa: B027 - optional
        """Record, in one write, that the owner of these RUNNING trials is alive now
        (finished trials are left as they are; no-op without heartbeats)."""

    @abc.abstractmethod
    def fail_stale_trials(self, study_id: int) -> list[int]:
        """Mark FAIL the RUNNING trials whose owner is gone; return their numbers."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections and files."""
