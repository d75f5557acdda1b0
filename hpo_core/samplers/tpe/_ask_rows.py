"""One TPE ask's good/bad split over the history's rows.

:func:`good_rows` is the split (``TPESampler._split`` calls it once per ask and history
state) and :func:`bad_rows` one space's bad group and weights; the rest is what the split
reads from the history's columns besides the values: how many finished trials the ask
models (all, or its Hyperband bracket with ``sampler_scope="bracket"``), each row's total
constraint violation, the last report of each PRUNED row, and the multi-objective good
group. Notation as ``_observations``
(``states``: (n,) int8 TrialState codes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from hpo_core.samplers._base import CONSTRAINTS_KEY, visible_rows
from hpo_core.samplers.tpe import _repeats
from hpo_core.samplers.tpe._defaults import (
    default_gamma,
    default_gamma_multi_objective,
    default_weight_pair,
    default_weights,
    weights_of,
)
from hpo_core.samplers.tpe._observations import _COMPLETE, _PRUNED, good_rows_single_objective
from hpo_core.samplers.tpe._parzen import systematic_resample, systematic_resample_ramp
from hpo_core.samplers.tpe._split import split_below_above
from hpo_core.trial._state import StudyDirection

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = [
    "ask_split", "bad_rows", "good_mask_multi_objective", "good_rows", "last_reports", "n_finished", "space_rows",
    "violations",
]

_MAX_STEP = 2**63 - 1


def ask_split(study: Study, h: History, trial: Trial | None, gamma: Callable[[int], int] | None,
              hint: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, bool, float | None]:
    """The good/bad split of one ask, as Optuna's: every finished trial takes part and
    gamma counts them all (each space then keeps the rows that have all its
    parameters); under ``HyperbandPruner(sampler_scope="bracket")`` only the trial's
    bracket (``visible_rows``). In a single-objective study the recorded repeats count
    once more (``_repeats``): the split is then over entries, ``ix`` their rows.

    Returns:
        (states with the good rows and the asking trial's own row marked -1, the good
        rows (entries) ascending, ``ix`` or None, whether trials were left out (a
        bracket), the next hint (None: keep the current one; see :func:`good_rows`)).
    """
    n = h.n
    states = h.states[:n].copy()
    mask = visible_rows(study, trial)
    if mask is not None:
        states[~mask] = -1
        n_fin = n_finished(study, h, trial)
    else:
        n_fin = h.count(_COMPLETE) + h.count(_PRUNED)
    if trial is not None and trial.number < n:
        n_fin -= _COMPLETE <= states.item(trial.number) <= _PRUNED
        states[trial.number] = -1
    ix = _repeats.entries(h, states) if len(study.directions) == 1 else None
    if ix is not None:
        n_fin += len(ix) - n
        states = states[ix]
    rows_below, new_hint = good_rows(study, h, states, n_fin, gamma, hint if mask is None else None, ix)
    states[rows_below] = -1
    return states, rows_below, ix, mask is not None, new_hint


def space_rows(h: History, X: np.ndarray, cols: np.ndarray, states: np.ndarray, rows_below: np.ndarray,
               ix: np.ndarray | None, own: int, complete_has_all: bool) -> tuple[np.ndarray, np.ndarray]:
    """The split of :func:`ask_split` narrowed to the rows that are observations of one
    space: those with every parameter (history columns ``cols``; ``X``: ``h.X``).

    Args:
        states, rows_below, ix: :func:`ask_split`'s states (entries), good entries and
            entry rows (None: entries are rows).
        own: the asking trial's row (-1: none), already left out of ``states``.
        complete_has_all: every COMPLETE row has every parameter (the space lies in the
            intersection search space), so only the other rows are looked at.

    Returns:
        ``states`` (a copy where a row is newly left out: -1) and the good entries that
        have every parameter.
    """
    if complete_has_all:
        # Usually every row but the asking trial's is COMPLETE: nothing to look at.
        if h.count(_COMPLETE) + (own >= 0 and h.states.item(own) != _COMPLETE) == h.n:
            return states, rows_below
        hs = h.states[: len(states)] if ix is None else h.states[ix]  # rows may have been added since
        check = np.flatnonzero(hs != _COMPLETE)
    else:
        check = np.arange(len(states))
    if not len(check):
        return states, rows_below
    at = check if ix is None else ix[check]
    out = check[np.isnan(X[at[:, None], cols]).any(axis=1)]
    if not len(out):
        return states, rows_below
    states = states.copy()
    states[out] = -1
    if len(rows_below):
        rows_below = rows_below[~np.isin(rows_below, out)]
    return states, rows_below


def bad_rows(states: np.ndarray, rows_below: np.ndarray, constant_liar: bool, max_bad: int,
             weights: Callable[[int], np.ndarray], multi_objective: bool,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """The bad group of one space's proposal: (its rows, the weights of the good rows then
    the bad ones, the number of usable bad rows). ``states`` as :func:`space_rows` leaves
    them (the good rows and those left out marked -1). Usable: COMPLETE and PRUNED rows,
    and RUNNING ones with the constant liar. Above ``max_bad`` usable rows, a systematic
    resample of ``max_bad`` by weight, each weighing 1 (``TPESampler``'s
    ``max_bad_components``; one draw from ``rng``)."""
    # RUNNING = 0, COMPLETE = 1, PRUNED = 2: one range of codes. As uint8 the left-out
    # code -1 is 255, so one unsigned compare finds the others (usually few: the good
    # group, FAIL, WAITING, rows left out).
    codes = states.view(np.uint8)
    if constant_liar:
        usable = codes <= _PRUNED
    else:
        usable = (codes - np.uint8(_COMPLETE)) <= _PRUNED - _COMPLETE  # RUNNING wraps to 255
    n_above = int(np.count_nonzero(usable))
    if weights is default_weights and n_above <= max_bad:
        return np.flatnonzero(usable), default_weight_pair(len(rows_below), n_above, multi_objective), n_above
    w_below = np.ones(len(rows_below)) if multi_objective else weights_of(weights, len(rows_below))
    if n_above <= max_bad:
        return np.flatnonzero(usable), np.concatenate((w_below, weights_of(weights, n_above))), n_above
    rows_off = np.flatnonzero(~usable)
    u0 = float(rng.random())
    if weights is default_weights:  # the same draws without the O(n) weights
        pick = systematic_resample_ramp(n_above, 25, max_bad, u0)
    else:
        pick = systematic_resample(weights_of(weights, n_above), max_bad, u0)
    # The k-th usable row is k plus the rows left off before it; rows_off[j] - j usable
    # rows precede the j-th of those (never building all n usable rows).
    rows_above = pick + np.searchsorted(rows_off - np.arange(len(rows_off)), pick, side="right")
    return rows_above, np.concatenate((w_below, np.ones(max_bad))), n_above


def good_rows(study: Study, h: History, states: np.ndarray, n_fin: int, gamma: Callable[[int], int] | None,
              hint: float | None, ix: np.ndarray | None = None) -> tuple[np.ndarray, float | None]:
    """Rows of the good group, ascending, and the next call's hint.

    Args:
        study, h: the study and its history; states: (n,) TrialState codes, -1 where a
            row takes no part (the asking trial, rows outside a Hyperband bracket).
        ix: the row of each entry where ``states`` holds entries (``_repeats``, single
            objective); the result is then entries.
        n_fin: finished rows in ``states``; gamma: TPESampler's ``gamma`` (None: the
            default for the number of objectives).
        hint: the previous call's bound on the good group's worst score (``np.inf``:
            none), or None where ``states`` leaves out some trials (a bracket), whose
            good group the hint of all trials does not bound.

    Returns:
        The rows, and the hint for the next call (None: keep the current one).

    Raises:
        ValueError: ``gamma(n_fin)`` is not an int in [0, n_fin].
    """
    n = len(states)
    directions = study.directions
    multi = len(directions) > 1
    n_below = (gamma or (default_gamma_multi_objective if multi else default_gamma))(n_fin)
    if not (type(n_below) is int or isinstance(n_below, np.integer) and not isinstance(n_below, bool)) \
            or not 0 <= n_below <= n_fin:
        raise ValueError(
            f"TPESampler: `gamma(n)` must return an int in [0, n], but got {n_below!r} for n={n_fin}."
        )
    # Constrained as soon as a trial has constraints: from ``constraints_func`` or
    # ``Trial.set_constraint`` (Optuna 5.0's samplers read ``trial.constraints``).
    violation = violations(h, states, ix) if h.numeric_column(CONSTRAINTS_KEY) is not None else None
    if multi:
        return np.flatnonzero(good_mask_multi_objective(study, h, states, int(n_below), violation)), None
    maximize = directions[0] == StudyDirection.MAXIMIZE
    sign = -1.0 if maximize else 1.0
    values = h.values[:n, 0] if ix is None else h.values[ix, 0]
    score = -values if maximize else values
    has_pruned = h.count(_PRUNED) > 0
    last_step, last_value = last_reports(h, states, ix) if has_pruned else (None, None)
    use_hint = violation is None and hint is not None
    rows = good_rows_single_objective(
        states, score, int(n_below), violation=violation,
        last_step=last_step,
        last_value=sign * last_value if last_value is not None else None,
        hint=hint if use_hint and hint is not None else np.inf,
    )
    if use_hint and n_below:
        # Without PRUNED rows (and constraints) every good row is COMPLETE.
        good = score[rows] if not has_pruned else score[rows[states[rows] == _COMPLETE]]
        # The worst good score bounds the next call's good group from above.
        return rows, float(max(good.tolist())) if len(good) == n_below else np.inf  # NaN-free: COMPLETE
    return rows, None


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


def violations(h: History, states: np.ndarray, ix: np.ndarray | None = None) -> np.ndarray:
    """(n,) total violations from the history's constraint column, Optuna 5.0's score
    (``sum(v for v in trial.constraints.values() if v > 0)``): a constraint a trial
    does not have (or NaN) adds nothing, so a trial without constraints is feasible.
    ``ix``: the row of each entry of ``states`` (see :func:`good_rows`)."""
    n = len(states)
    C = h.numeric_column(CONSTRAINTS_KEY)
    if C is None:
        return np.zeros(n)
    C = C[:n] if ix is None else C[ix]
    return np.where(C > 0.0, C, 0.0).sum(axis=1)  # NaN > 0 is False


def last_reports(h: History, states: np.ndarray, ix: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n,) last reported step (-1 where none) and its value, for PRUNED rows (entries:
    ``ix`` as in :func:`good_rows`)."""
    n = len(states)
    last_step, last_value = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    rows = np.flatnonzero(states == _PRUNED)
    if len(rows):
        at = rows if ix is None else ix[rows]
        steps, values = h.steps.last_at_or_before(_MAX_STEP, at.astype(np.int64))
        last_step[rows], last_value[rows] = steps, values[:, 0]
    return last_step, last_value
