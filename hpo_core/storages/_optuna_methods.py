"""Optuna's ``BaseStorage`` method set, written once over hpo_core's storage operations.

Optuna's storages expose one method per attribute kind and per read
(``set_trial_user_attr``, ``get_trial_params``, ``get_best_trial``, ...). hpo_core's
storages take one operation per write (``set_trial_attr(trial_id, kind, key, value)``)
and hand out a study's columnar history; :class:`OptunaStorageMethods`, a base of
:class:`~hpo_core.storages.BaseStorage`, maps the first onto the second, so that every
backend (in memory, RDB, journal, and any third-party storage built on ``BaseStorage``)
answers code written against Optuna's storage API, with Optuna's errors: ``KeyError``
for an unknown study or trial (``StudyNotFoundError`` is one),
``UpdateFinishedTrialError`` for a write to a finished trial, ``ValueError`` when no
trial is complete and ``RuntimeError`` for a best trial of several objectives.

:class:`TrialIdNumber` is what ``create_new_trial`` returns: the trial id (an ``int``,
as in Optuna) that also unpacks as ``(trial_id, number)``, which is what hpo_core's own
callers read.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hpo_core._deprecation import warn_deprecated
from hpo_core.exceptions import UpdateFinishedTrialError
from hpo_core.trial._state import StudyDirection, TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.trial._frozen import FrozenTrial

__all__ = ["OptunaStorageMethods", "TrialIdNumber"]


class TrialIdNumber(int):
    """The id of a created trial (an ``int``, as Optuna's ``create_new_trial`` returns),
    that also unpacks as ``(trial_id, number)``.

    Example:
        >>> t = TrialIdNumber(7, 2)
        >>> t == 7, t.number
        (True, 2)
        >>> trial_id, number = t
        >>> (trial_id, number)
        (7, 2)
    """

    number: int

    def __new__(cls, trial_id: int, number: int) -> TrialIdNumber:
        self = super().__new__(cls, trial_id)
        self.number = int(number)
        return self

    def __iter__(self) -> Iterator[int]:
        return iter((int(self), self.number))

    def __getitem__(self, index: int) -> int:
        return (int(self), self.number)[index]

    def __reduce__(self) -> tuple[Any, ...]:
        return (TrialIdNumber, (int(self), self.number))


def _states(state: Any) -> list[TrialState] | None:
    """Optuna's ``state`` filter (None, a TrialState, or a collection of them) as a list."""
    if state is None:
        return None
    if isinstance(state, TrialState):
        return [state]
    if isinstance(state, (str, bytes)) or not hasattr(state, "__iter__"):
        raise TypeError(
            f"`state` must be None, a TrialState or a collection of TrialStates, but got {state!r}."
        )
    return [TrialState(s) for s in state]


class OptunaStorageMethods:
    """Optuna's storage methods, over the operations of :class:`~hpo_core.storages.BaseStorage`."""

    if TYPE_CHECKING:  # provided by BaseStorage
        heartbeat_interval: float | None
        failed_trial_callback: Any

        def set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None: ...
        def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]: ...
        def get_study_name_from_id(self, study_id: int) -> str: ...
        def get_study_directions(self, study_id: int) -> list[StudyDirection]: ...
        def set_trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None: ...
        def get_trial(self, trial_id: int) -> FrozenTrial: ...
        def get_trial_id_from_number(self, study_id: int, number: int) -> int: ...
        def get_history(self, study_id: int, *, sync: bool = True) -> History: ...

    # ----------------------------------------------------------------- studies
    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a user attribute of the study (a JSON-serializable value).

        Raises:
            KeyError: no study has ``study_id``.
        """
        self.set_study_attr(study_id, "user", key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        """Set a system attribute of the study (a JSON-serializable value).

        Raises:
            KeyError: no study has ``study_id``.
        """
        self.set_study_attr(study_id, "system", key, value)

    def _study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        attrs = self.get_study_attrs(study_id, kind)
        if not attrs:
            self.get_study_name_from_id(study_id)  # KeyError for an unknown study
        return attrs

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        """The study's user attributes.

        Raises:
            KeyError: no study has ``study_id``.
        """
        return self._study_attrs(study_id, "user")

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        """The study's system attributes.

        Raises:
            KeyError: no study has ``study_id``.
        """
        return self._study_attrs(study_id, "system")

    # ----------------------------------------------------------------- trials
    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | Iterable[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """All trials of the study in number order, optionally only those in ``states``.

        Every call builds new ``FrozenTrial`` objects from the study's history, so
        ``deepcopy`` (Optuna's switch between a copy and its cache) changes nothing.

        Raises:
            KeyError: no study has ``study_id``.
        """
        h = self.get_history(study_id)
        codes = None
        if states is not None:
            # A one-shot iterable (a generator) is read once; a Container is asked only `in`.
            wanted: Any = set(states) if isinstance(states, Iterable) else states
            codes = [int(s) for s in TrialState if s in wanted]
        return [h.frozen(r) for r in h.rows(codes).tolist()]

    def get_n_trials(self, study_id: int, state: Iterable[TrialState] | TrialState | None = None) -> int:
        """The number of trials of the study, optionally only those in ``state`` (a
        state or a collection of states).

        Raises:
            KeyError: no study has ``study_id``.
        """
        counts = self.get_history(study_id).state_counts
        states = _states(state)
        if states is None:
            return int(sum(counts))
        return int(sum(counts[int(s)] for s in set(states)))

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """The best COMPLETE trial of a single-objective study.

        Raises:
            KeyError: no study has ``study_id``.
            ValueError: no trial is complete yet.
            RuntimeError: the study has several objectives.
        """
        h = self.get_history(study_id)
        if not h.state_counts[int(TrialState.COMPLETE)]:
            raise ValueError("No trials are completed yet.")
        if len(self.get_study_directions(study_id)) > 1:
            raise RuntimeError("Best trial can be obtained only for single-objective optimization.")
        return h.frozen(h.best_row)

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        """The id of trial number ``trial_number`` of the study.

        Raises:
            KeyError: no such study, or no such trial in it.
        """
        return self.get_trial_id_from_number(study_id, trial_number)

    def get_trial_number_from_id(self, trial_id: int) -> int:
        """The number of the trial (unique within its study).

        Raises:
            KeyError: no trial has ``trial_id``.
        """
        return self.get_trial(trial_id).number

    def get_trial_param(self, trial_id: int, param_name: str) -> float:
        """The internal value of one parameter of the trial.

        Raises:
            KeyError: no trial has ``trial_id``, or it has no parameter ``param_name``.
        """
        trial = self.get_trial(trial_id)
        return trial.distributions[param_name].to_internal_repr(trial.params[param_name])

    def get_trial_params(self, trial_id: int) -> dict[str, Any]:
        """The trial's parameters (external values), in suggestion order.

        Raises:
            KeyError: no trial has ``trial_id``.
        """
        return self.get_trial(trial_id).params

    def get_trial_user_attrs(self, trial_id: int) -> dict[str, Any]:
        """The trial's user attributes.

        Raises:
            KeyError: no trial has ``trial_id``.
        """
        return self.get_trial(trial_id).user_attrs

    def get_trial_system_attrs(self, trial_id: int) -> dict[str, Any]:
        """The trial's system attributes.

        Raises:
            KeyError: no trial has ``trial_id``.
        """
        return self.get_trial(trial_id).system_attrs

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a user attribute of the trial (a JSON-serializable value).

        Raises:
            KeyError: no trial has ``trial_id``.
            UpdateFinishedTrialError: the trial is finished.
        """
        self.set_trial_attr(trial_id, "user", key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        """Set a system attribute of the trial (a JSON-serializable value).

        Raises:
            KeyError: no trial has ``trial_id``.
            UpdateFinishedTrialError: the trial is finished.
        """
        self.set_trial_attr(trial_id, "system", key, value)

    def check_trial_is_updatable(self, trial_id: int, trial_state: TrialState) -> None:
        """Raise if ``trial_state`` (the state of trial ``trial_id``) is finished.

        Raises:
            UpdateFinishedTrialError: ``trial_state`` is COMPLETE, PRUNED or FAIL.
        """
        if TrialState(trial_state).is_finished():
            trial = self.get_trial(trial_id)
            raise UpdateFinishedTrialError(
                f"Trial#{trial.number} has already finished and can not be updated."
            )

    # ----------------------------------------------------------------- heartbeats
    @property
    def heartbeat_stale_trial_callback(self) -> Any:
        """Called as ``callback(study, frozen_trial)`` for each trial a worker marks FAIL
        as stale (Optuna 5.0's name of ``failed_trial_callback``)."""
        return self.failed_trial_callback

    @heartbeat_stale_trial_callback.setter
    def heartbeat_stale_trial_callback(self, callback: Any) -> None:
        self.failed_trial_callback = callback

    def get_heartbeat_interval(self) -> float | None:
        """Seconds between heartbeats of a running trial; None when heartbeats are off."""
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Any:
        """The callback for trials failed as stale (:attr:`heartbeat_stale_trial_callback`)."""
        return self.failed_trial_callback

    def get_failed_trial_callback(self) -> Any:
        """Deprecated (as in Optuna 4.9+): :meth:`get_heartbeat_stale_trial_callback`."""
        warn_deprecated("get_failed_trial_callback", "4.9.0",
                        instead="Use `get_heartbeat_stale_trial_callback` instead.")
        return self.failed_trial_callback

    def remove_session(self) -> None:
        """Optuna's hook to close a thread's database session: hpo_core's storages hold
        no session per thread (an RDB storage takes a pooled connection per
        transaction), so there is nothing to remove."""
