"""``StudySummary``: what ``get_all_study_summaries`` returns (Optuna's class)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from hpo_core.trial import FrozenTrial, StudyDirection

__all__ = ["StudySummary"]


class StudySummary:
    """Summary of a study in a storage, as Optuna 5.0's ``optuna.study.StudySummary``.

    Attributes:
        study_name: The study's name.
        direction: Its direction (single-objective studies; RuntimeError otherwise).
        directions: One :class:`StudyDirection` per objective.
        best_trial: The best :class:`FrozenTrial`, or None (no COMPLETE trial, a
            multi-objective study, or ``include_best_trial=False``).
        user_attrs: The study's user attributes.
        n_trials: The number of trials in the study.
        datetime_start: When its first trial started, or None.

    Raises:
        ValueError: if neither ``direction`` nor ``directions`` is given.

    Example:
        >>> import hpo_core
        >>> storage = hpo_core.storages.InMemoryStorage()
        >>> study = hpo_core.create_study(storage=storage, study_name="demo")
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        >>> [(s.study_name, s.n_trials) for s in hpo_core.get_all_study_summaries(storage)]
        [('demo', 3)]
    """

    def __init__(
        self,
        study_name: str,
        direction: StudyDirection | None,
        best_trial: FrozenTrial | None,
        user_attrs: dict[str, Any],
        n_trials: int,
        datetime_start: datetime.datetime | None,
        study_id: int,
        *,
        directions: Sequence[StudyDirection] | None = None,
    ):
        self.study_name = study_name
        if directions is not None:
            self._directions = list(directions)
        elif direction is not None:
            self._directions = [direction]
        else:
            raise ValueError("StudySummary: give `direction` or `directions`, but got neither.")
        self.best_trial = best_trial
        self.user_attrs = user_attrs
        self.n_trials = n_trials
        self.datetime_start = datetime_start
        self._study_id = study_id

    @property
    def direction(self) -> StudyDirection:
        if len(self._directions) > 1:
            raise RuntimeError("StudySummary.direction is for single-objective studies; use `directions`.")
        return self._directions[0]

    @property
    def directions(self) -> Sequence[StudyDirection]:
        return self._directions

    @property
    def study_id(self) -> int:
        """The storage's id of the study."""
        return self._study_id

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return other.__dict__ == self.__dict__

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self._study_id < other._study_id

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self._study_id <= other._study_id

    def __repr__(self) -> str:
        return (
            f"StudySummary(study_name={self.study_name!r}, directions={self._directions!r}, "
            f"n_trials={self.n_trials})"
        )
