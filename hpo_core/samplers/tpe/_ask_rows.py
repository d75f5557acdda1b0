"""The history's rows behind one TPE ask's good/bad split.

What ``TPESampler._split`` reads from the history's columns besides the values: how many
finished trials the ask models (all, or its Hyperband bracket with
``sampler_scope="bracket"``), each row's total constraint violation, the last report of
each PRUNED row, and the multi-objective good group. Notation as ``_observations`` (``states``: (n,) int8 TrialState codes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hpo_core.samplers._base import CONSTRAINTS_KEY, visible_rows
from hpo_core.samplers.tpe._observations import _COMPLETE, _PRUNED
from hpo_core.samplers.tpe._split import split_below_above
from hpo_core.trial._state import StudyDirection

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["good_mask_multi_objective", "last_reports", "n_finished", "violations"]

_MAX_STEP = 2**63 - 1


def n_finished(study: Study, h: History, trial: Trial | None) -> int:
    """Finished (COMPLETE or PRUNED) trials that the proposal for ``trial`` models:
    all of them, or those of its Hyperband bracket under
    ``HyperbandPruner(sampler_scope="bracket")`` (``visible_rows``)."""
    mask = visible_rows(study, trial)
    if mask is None:
        return h.count(_COMPLETE) + h.count(_PRUNED)
    codes = h.states[: h.n][mask].view(np.uint8) - np.uint8(_COMPLETE)  # RUNNING wraps to 255
    return int(np.count_nonzero(codes <= _PRUNED - _COMPLETE))


def good_mask_multi_objective(study: Study, h: History, states: np.ndarray, n_below: int,
                              violation: np.ndarray | None) -> np.ndarray:
    """(n,) bool: the good group of a multi-objective study, ``n_below`` rows: COMPLETE
    rows by :func:`split_below_above` (feasible first, by rank and hypervolume), then
    PRUNED rows in trial order."""
    n = len(states)
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
    below = np.zeros(n, dtype=np.bool_)
    rows = np.flatnonzero(states == _COMPLETE)
    k = min(n_below, len(rows))
    if k:
        values = h.values[rows] * signs
        viol = violation[rows] if violation is not None else None
        below[rows[split_below_above(values, k, violations=viol)]] = True
    left = n_below - k
    if left > 0:  # PRUNED rows in trial order (multi-objective trials report nothing)
        below[np.flatnonzero(states == _PRUNED)[:left]] = True
    return below


def violations(h: History, states: np.ndarray) -> np.ndarray:
    """(n,) total violations from the history's constraint column, Optuna 5.0's score
    (``sum(v for v in trial.constraints.values() if v > 0)``): a constraint a trial
    does not have (or NaN) adds nothing, so a trial without constraints is feasible."""
    n = len(states)
    C = h.numeric_column(CONSTRAINTS_KEY)
    if C is None:
        return np.zeros(n)
    C = C[:n]
    return np.where(C > 0.0, C, 0.0).sum(axis=1)  # NaN > 0 is False


def last_reports(h: History, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,) last reported step (-1 where none) and its value, for PRUNED rows."""
    n = len(states)
    last_step, last_value = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    rows = np.flatnonzero(states == _PRUNED)
    if len(rows):
        steps, values = h.steps.last_at_or_before(_MAX_STEP, rows.astype(np.int64))
        last_step[rows], last_value[rows] = steps, values[:, 0]
    return last_step, last_value
