"""The read-only view of a study that samplers and pruners read.

A sampler or pruner gets everything it needs from ``study.view``: the columnar history
(parameters, values, states, typed per-trial columns such as constraint values, a
generation or a bracket, and the step-indexed intermediate values), the directions,
the study's attributes, and :meth:`StudyView.reserve` for work handed out once across
workers (grid points). It never touches the storage or the study's private members.

Sync: the study marks the view stale when an ask or a pruning decision starts
(:meth:`StudyView.invalidate`); the first read of :attr:`StudyView.history` after that
brings the history up to date with the storage, and the other reads of that ask share
it. So an ask costs one sync at most, and none when the sampler reads nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from hpo_core.history import History
from hpo_core.trial._state import StudyDirection

__all__ = ["StudyView"]


class _Storage(Protocol):  # the storage methods a view uses
    def get_history(self, study_id: int, *, sync: bool = True) -> History: ...
    def get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]: ...
    def reserve(self, study_id: int, key: str) -> bool: ...


class StudyView:
    """Read-only view of one study for samplers and pruners (see the module docstring).

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study()
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        >>> h = study.view.history
        >>> int(h.count(hpo_core.TrialState.COMPLETE))
        3
    """

    __slots__ = ("_storage", "_study_id", "_stale", "directions", "n_objectives", "signs")

    def __init__(self, storage: _Storage, study_id: int, directions: list[StudyDirection]):
        self._storage = storage
        self._study_id = study_id
        self._stale = True
        self.directions: tuple[StudyDirection, ...] = tuple(directions)
        self.n_objectives = len(directions)
        #: (m,) +1 for a minimized objective, -1 for a maximized one: ``values * signs``
        #: is to be minimized.
        self.signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in directions])

    def invalidate(self) -> None:
        """Mark the history stale: the next read of :attr:`history` syncs."""
        self._stale = True

    @property
    def history(self) -> History:
        """The study's columnar :class:`History` (synced once per ask; treat as read-only)."""
        if self._stale:
            self._stale = False
            return self._storage.get_history(self._study_id)
        return self._storage.get_history(self._study_id, sync=False)

    def sync(self) -> History:
        """The history brought up to date now."""
        self._stale = False
        return self._storage.get_history(self._study_id)

    def column(self, key: str) -> np.ndarray | None:
        """(n, w) float64 typed per-trial column of the system attribute ``key``
        (``"constraints"``, ``"generation"``, ``"bracket"``), NaN where unset, or None."""
        return self.history.numeric_column(key)

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The study's user attributes (a copy)."""
        return self._storage.get_study_attrs(self._study_id, "user")

    @property
    def system_attrs(self) -> dict[str, Any]:
        """The study's system attributes (a copy)."""
        return self._storage.get_study_attrs(self._study_id, "system")

    def reserve(self, key: str) -> bool:
        """Atomically claim ``key`` in this study; False if any worker claimed it before."""
        return self._storage.reserve(self._study_id, key)
