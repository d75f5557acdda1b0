"""Repeats: trials that stand in for a re-evaluation (``TPESampler(skip_evaluated=True)``).

Where TPE's plain choice (the best of its candidates: Optuna's proposal) is a configuration
that a trial ``r`` already has, TPESampler proposes the best candidate that no trial has
(``_evaluated``), and the asking trial records ``r`` in its system attribute
:data:`REPEAT_KEY`. Once that trial and ``r`` are both finished, TPE's model counts ``r``'s
observation once more, as Optuna's TPE counts the trial it spends re-evaluating ``r``'s
configuration (on a deterministic objective, with ``r``'s value), while the trial goes to
a new configuration. Without the second count, skipping fills the good group with new
configurations of a plateau of near-equal values where Optuna's concentrates on its best
few. A row counts twice at most, however often it is skipped: counted each time, as
Optuna's repeated re-evaluations count, ``l`` collapses on one configuration and a third
of the runs of one table stayed off its optimum for 200 trials (``benchmarks/README.md``,
"TPE counts the skipped repeat").

An ask's observations are then *entries*: the history's rows in trial order, with a copy
of row ``r`` after the first finished row ``t`` that records a finished ``r``; ``ix`` maps
entries to rows (None: no copies, the entries are the rows). Single-objective studies
only: a multi-objective split ranks rows, not entries, and records nothing.

The attribute holds a trial number of its own study: ``copy_study`` keeps the numbers, but
trials added to another study one by one (``add_trial``) are renumbered, and a repeat they
carry then names whichever trial has that number there (a value that is no finished row
is ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core import kernels
from hpo_core.samplers.tpe._observations import _COMPLETE, _PRUNED

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.samplers.tpe._parzen import SpaceArrays
    from hpo_core.trial import Trial

__all__ = ["REPEAT_KEY", "entries", "matching_row", "propose"]

#: The system attribute of a trial proposed instead of re-evaluating trial ``r``: ``r``.
REPEAT_KEY = "tpe_repeat"


def entries(h: History, states: np.ndarray) -> np.ndarray | None:
    """``ix`` (n + m,) intp: the row of each entry, m copies among the n rows; None where
    no copy counts.

    Args:
        h: the history; states: (n,) its TrialState codes for this ask, -1 where a row
            takes no part (the asking trial, rows outside a Hyperband bracket), so that
            a copy counts only where both its rows do.
    """
    col = h.numeric_column(REPEAT_KEY)
    if col is None:
        return None
    n = len(states)
    t = np.flatnonzero(~np.isnan(col[:n, 0]))
    if not len(t):
        return None
    r = col[t, 0]
    ok = (r >= 0) & (r < n) & (r == np.floor(r))
    t, r = t[ok], r[ok].astype(np.intp)
    fin_t = (states[t] == _COMPLETE) | (states[t] == _PRUNED)
    fin_r = (states[r] == _COMPLETE) | (states[r] == _PRUNED)
    t, r = t[fin_t & fin_r], r[fin_t & fin_r]
    # One copy per row at most: the first trial (t ascending) that recorded it.
    first = np.sort(np.unique(r, return_index=True)[1])
    t, r = t[first], r[first]
    m = len(t)
    if not m:
        return None
    # t ascending: copy k follows row t[k] and the k copies before it.
    pos = t + np.arange(1, m + 1)
    ix = np.empty(n + m, dtype=np.intp)
    is_copy = np.zeros(n + m, dtype=np.bool_)
    is_copy[pos] = True
    ix[~is_copy] = np.arange(n)
    ix[pos] = r
    return ix


def matching_row(X: np.ndarray, rows: np.ndarray, cols: np.ndarray, sa: SpaceArrays, x: np.ndarray) -> int:
    """The smallest of ``rows`` whose configuration is the grid point ``x``, or -1.

    ``x``: internal values, numeric dimensions first (``tpe_propose``'s result); numeric
    parameters compare by grid index (as ``_evaluated``), categorical ones exactly.
    """
    cand = rows
    dn = len(sa.step)
    for d, c in enumerate(cols.tolist()):
        v = X[cand, c]
        if d < dn:
            low, step = sa.low[d], sa.step[d]
            same = np.rint((v - low) / step) == np.rint((x[d] - low) / step)
        else:
            same = v == x[d]
        cand = cand[same]
        if not len(cand):
            return -1
    return int(cand.min())


def propose(args: tuple[Any, ...], skip: tuple[Any, ...], X: np.ndarray, evaluated: Callable[[], np.ndarray],
            cols: np.ndarray, sa: SpaceArrays, trial: Trial | None, record: bool) -> np.ndarray:
    """``tpe_propose(*args)`` skipping evaluated configurations (``skip``: its skip
    arguments), and the repeat recorded on ``trial`` where one was skipped.

    Args:
        evaluated: returns the rows of the evaluated configurations (duplicates
            allowed); called only where a repeat was skipped.
        record: whether to record the repeat (single-objective studies).
    """
    if not record or trial is None:
        return kernels.tpe_propose(*args, *skip)  # type: ignore[no-any-return]
    plain = np.empty(len(cols))
    # args: its 17 positional arguments, skip: the 3 skip ones; then plain_out (Optuna's choice).
    out = kernels.tpe_propose(*args, *skip, plain)  # type: ignore[call-arg]
    # Equal where Optuna's choice is untried, or every candidate is evaluated (the plain
    # choice, a real re-evaluation).
    if not np.array_equal(out, plain):
        r = matching_row(X, evaluated(), cols, sa, plain)
        if r >= 0:
            trial.set_system_attr(REPEAT_KEY, r)
    return out  # type: ignore[no-any-return]
