"""The one writer: how a storage's changes reach a study's :class:`History`.

Every storage (in memory, RDB, journal) describes what changed in a study as
:class:`Changes` (trials created or changed, parameters set, attributes set,
intermediate values reported) and hands them to :func:`apply_changes`, which applies
them to the history atomically. The in-memory storage's single-trial writes call the
small functions below directly (one change at a time, checked before it is applied, so
nothing can fail half-way through). Values arriving here are already validated and
decoded by the storage: the writer trusts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hpo_core.distributions import BaseDistribution
from hpo_core.history import History
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import TrialState

__all__ = ["Changes", "apply_changes", "changes_from_frozen"]

_RUNNING, _WAITING = int(TrialState.RUNNING), int(TrialState.WAITING)


@dataclass
class Changes:
    """What changed in one study, as plain values.

    Attributes:
        trials: ``(number, trial_id, state, values, t_start, t_complete)`` per trial
            created or changed; ``values`` a list of m floats or None, times POSIX
            seconds or NaN.
        params: ``(number, name, distribution, internal value)``.
        attrs: ``(number, kind, key, value)`` with kind ``"user"`` or ``"system"``.
        reports: ``(number, step, value)``: a float, or m floats for vector reports.
    """

    trials: list[tuple[int, int, int, list[float] | None, float, float]] = field(default_factory=list)
    params: list[tuple[int, str, BaseDistribution, float]] = field(default_factory=list)
    attrs: list[tuple[int, str, str, Any]] = field(default_factory=list)
    reports: list[tuple[int, int, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.trials or self.params or self.attrs or self.reports)


def apply_changes(h: History, changes: Changes) -> None:
    """Apply ``changes`` to ``h`` atomically: all of them, or (on any exception,
    KeyboardInterrupt included) none.

    Finished states are applied last, so a reader in another thread never sees a
    finished trial without its parameters.
    """
    h.begin()
    try:
        finished = []
        for number, trial_id, state, values, t_start, t_complete in changes.trials:
            unfinished = state == _RUNNING or state == _WAITING
            if number >= h.n or h.states[number] < 0 or unfinished:
                h.add_row(number, trial_id, state if unfinished else _RUNNING, t_start)
            if not unfinished:
                finished.append((number, state, values, t_complete))
        for number, name, dist, internal in changes.params:
            h.set_param(number, name, dist, internal, check=False)
        for number, kind, key, value in changes.attrs:
            h.set_attr(number, kind, key, value)
        for number, step, value in changes.reports:
            h.add_intermediate(number, step, value)
        for number, state, values, t_complete in finished:
            if h.states[number] != state or not _same_values(h, number, values):
                h.set_state(number, state, values, t_complete)
    except BaseException:
        h.rollback()
        raise
    h.commit()


def _same_values(h: History, number: int, values: Sequence[float] | None) -> bool:
    if values is None:
        return True
    old = h.values[number]
    return all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(old.tolist(), values))


def changes_from_frozen(number: int, trial_id: int, t: FrozenTrial, *, now: float) -> Changes:
    """The changes that add trial ``t`` as trial ``number`` (``add_trial``,
    ``enqueue_trial``): its state, values, parameters, attributes and reports."""
    start = t.datetime_start.timestamp() if t.datetime_start else math.nan
    state = int(t.state)
    if state in (_RUNNING, _WAITING):
        complete = math.nan
    else:
        complete = t.datetime_complete.timestamp() if t.datetime_complete else now
    values = None if t.values is None else [float(v) for v in t.values]
    return Changes(
        trials=[(number, trial_id, state, values, start, complete)],
        params=[(number, name, t.distributions[name], t.distributions[name].to_internal_repr(v))
                for name, v in t.params.items()],
        attrs=[(number, "user", k, v) for k, v in t.user_attrs.items()]
        + [(number, "system", k, v) for k, v in t.system_attrs.items()],
        reports=[(number, step, v) for step, v in sorted(t.intermediate_values.items())],
    )

