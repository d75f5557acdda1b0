"""Pruners for multi-objective studies: ``trial.report([v_1, ..., v_m], step)``.

Optuna prunes only single-objective studies (its issue 3450). These pruners read the
vector reports of the step index (``values (k, m)``) and compare them in minimization
space: ``values * study.view.signs``, so a maximized objective is negated and "better"
is "smaller" in every column. Both also work with one objective.

Notation:
    m            objectives; a point ``p (m,)`` is one trial's report at one step.
    dominates    q dominates p when ``q_j <= p_j`` for every j and ``q_j < p_j`` for
                 some j (minimization space).
    rank         the non-domination rank (:func:`hpo_core.kernels.nondominated_rank`):
                 0 for the Pareto front, 1 for the front once rank 0 is removed, ...
    HVC(p, F)    the hypervolume contribution of p in the front F: ``HV(F) - HV(F \\ P)``
                 with P the points of F equal to p, against the reference point ``ref``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core import kernels
from hpo_core.pruners._base import BasePruner
from hpo_core.pruners._rungs import RungVectors
from hpo_core.pruners._step_values import StepValues
from hpo_core.pruners._steps import check_schedule_args, is_first_in_interval
from hpo_core.pruners._successive_halving import check_halving_args, estimate_min_resource, rung_key
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = [
    "MultiObjectiveMedianPruner",
    "MultiObjectiveSuccessiveHalvingPruner",
    "hypervolume_contributions",
    "is_promotable_vector",
]

_COMPLETE = int(TrialState.COMPLETE)
_MARGIN = 0.1  # the reference point lies this fraction of the range past the worst value


# ---------------------------------------------------------------------------- math
def _reference_box(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, ref)``, both ``(m,)``, for NaN-free ``points (n, m)`` in minimization space.

    Per objective j, over the finite entries of column j (0 if none): ``span = max - min``,
    ``margin = 0.1 * span`` (1.0 when ``span == 0``), ``ref = max + margin`` and
    ``lo = min - margin``. The margin keeps the extreme points of a front from having a
    box of zero width (and so a zero contribution) against ``ref``.
    """
    finite = np.isfinite(points)
    hi = np.where(finite, points, -np.inf).max(axis=0, initial=-np.inf)
    low = np.where(finite, points, np.inf).min(axis=0, initial=np.inf)
    none = ~np.isfinite(hi)
    hi[none], low[none] = 0.0, 0.0
    span = hi - low
    margin = np.where(span > 0, _MARGIN * span, 1.0)
    return low - margin, hi + margin


def hypervolume_contributions(front: np.ndarray, lo: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``HVC(p, front)`` for each row p of ``front (k, m)``: ``(k,)`` float64.

    Trusts its input: ``front`` NaN-free, mutually non-dominated up to duplicates (one
    rank of :func:`~hpo_core.kernels.nondominated_rank`), in minimization space. Values
    are first clipped to ``[lo, ref]`` so infinities stay finite: ``+inf`` lands on
    ``ref`` (zero contribution), ``-inf`` one margin below the finite range (a large
    one). Duplicated points get the same contribution, computed with all their copies
    removed. m == 2 is closed form, O(k log k); m >= 3 calls
    :func:`~hpo_core.kernels.hypervolume` once per distinct point.
    """
    pts = np.clip(front, lo, ref)
    uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    k, m = uniq.shape
    if k == 1:
        return np.full(len(front), float(np.prod(ref - uniq[0])))
    if m == 2:
        # uniq is sorted by f1 ascending; in a 2-D front f2 then descends, so point i's
        # exclusive box is [f1_i, f1_{i+1}] x [f2_i, f2_{i-1}] (the ends bounded by ref).
        f1, f2 = uniq[:, 0], uniq[:, 1]
        right = np.append(f1[1:], ref[0])
        top = np.insert(f2[:-1], 0, ref[1])
        contrib = (right - f1) * (top - f2)
    else:
        total = kernels.hypervolume(uniq, ref)
        contrib = np.array([total - kernels.hypervolume(np.delete(uniq, i, axis=0), ref) for i in range(k)])
    return np.maximum(contrib, 0.0)[inverse]  # rounding may leave a tiny negative


def is_promotable_vector(own: int, points: np.ndarray, reduction_factor: int) -> bool:
    """Whether row ``own`` of ``points (n, m)`` is among the best ``max(1, n //
    reduction_factor)`` by non-domination rank, ties at the cut broken by hypervolume
    contribution (ties that remain are kept).

    Trusts its input: ``points`` NaN-free, in minimization space, ``own`` a valid row.
    With ``keep = max(1, n // reduction_factor)``, ``R`` the rank of ``own``, ``a`` the
    points of rank ``< R`` and ``F`` those of rank ``R``: promote if ``a + |F| <= keep``;
    stop if ``a >= keep``; else promote iff fewer than ``keep - a`` points of ``F`` have a
    strictly larger ``HVC`` in ``F`` than ``own`` (reference point: :func:`_reference_box`
    over all ``points``).
    """
    keep = max(len(points) // reduction_factor, 1)
    rank = kernels.nondominated_rank(points)
    own_rank = rank[own]
    better = int(np.count_nonzero(rank < own_rank))
    in_front = rank == own_rank
    if better + int(np.count_nonzero(in_front)) <= keep:
        return True
    if better >= keep:
        return False
    lo, ref = _reference_box(points)
    front_rows = np.flatnonzero(in_front)
    contrib = hypervolume_contributions(points[front_rows], lo, ref)
    own_contrib = contrib[int(np.searchsorted(front_rows, own))]
    return int(np.count_nonzero(contrib > own_contrib)) < keep - better


# A rung of at most this many 2-objective vectors is decided by the list path below: one
# kernel call for the ranks, the rest in Python floats. Cold NumPy calls on a few dozen
# values cost more than the arithmetic (``np.unique(axis=0)`` alone ~50 us warm), and a
# decision runs cold, after a training step. Larger rungs take the NumPy path.
_SMALL_RUNG = 256


def _is_promotable_rows(points: list[tuple[float, ...]], reduction_factor: int) -> bool:
    """:func:`is_promotable_vector` for the last row of ``points`` (a list of ``n``
    tuples of ``m`` floats, minimization space): the same answer. For ``m == 2`` and ``n <=
    _SMALL_RUNG`` only the ranks are computed in NumPy; the reference box and the 2-D
    contributions repeat :func:`_reference_box` and :func:`hypervolume_contributions`
    operation for operation on Python floats (the same IEEE results; ``set`` merges equal
    points as ``np.unique`` does). Otherwise it calls :func:`is_promotable_vector`."""
    n, m = len(points), len(points[-1])
    if m != 2 or n > _SMALL_RUNG:
        return is_promotable_vector(n - 1, np.array(points, dtype=np.float64), reduction_factor)
    keep = max(n // reduction_factor, 1)
    # Every point that dominates own has a lower rank, so ``keep`` dominators already mean
    # ``a >= keep`` (stop) without the ranks: the usual answer for a trial behind the rung.
    o1, o2 = points[-1]
    n_dominating = 0
    for p1, p2 in points:
        if p1 <= o1 and p2 <= o2 and (p1 < o1 or p2 < o2):
            n_dominating += 1
    if n_dominating >= keep:
        return False
    array = np.array(points, dtype=np.float64)
    rank = kernels.nondominated_rank(array).tolist()
    own_rank = rank[-1]
    better = n_front = 0
    for r in rank:
        if r < own_rank:
            better += 1
        elif r == own_rank:
            n_front += 1
    if better + n_front <= keep:
        return True
    if better >= keep:
        return False
    lo, ref = [], []  # _reference_box
    for j in range(m):
        if any(p[j] != p[j] for p in points):  # a NaN another writer recorded: as before
            return is_promotable_vector(n - 1, array, reduction_factor)
        column = [p[j] for p in points if -math.inf < p[j] < math.inf]
        hi, low = (max(column), min(column)) if column else (0.0, 0.0)
        span = hi - low
        margin = _MARGIN * span if span > 0 else 1.0
        lo.append(low - margin)
        ref.append(hi + margin)
    # hypervolume_contributions of the front, m == 2: clip, merge equal points, sort by f1.
    lo1, lo2, ref1, ref2 = lo[0], lo[1], ref[0], ref[1]
    front = [(min(max(p[0], lo1), ref1), min(max(p[1], lo2), ref2)) for p, r in zip(points, rank) if r == own_rank]
    uniq = sorted(set(front))
    k = len(uniq)
    if k == 1:
        return True  # every point of F has the same contribution: none is larger
    contrib = {}
    for i, (f1, f2) in enumerate(uniq):
        right = uniq[i + 1][0] if i + 1 < k else ref1
        top = uniq[i - 1][1] if i > 0 else ref2
        c = (right - f1) * (top - f2)
        contrib[(f1, f2)] = c if c > 0.0 else 0.0  # rounding may leave a tiny negative
    own = contrib[front[-1]]  # own is the last row of points, so the last of its front
    return sum(1 for p in front if contrib[p] > own) < keep - better


# ---------------------------------------------------------------------------- pruners
class MultiObjectiveSuccessiveHalvingPruner(BasePruner):
    """Asynchronous successive halving for vector reports: at the end of each rung, keep
    a trial only if its vector is in the best ``1 / reduction_factor`` of the vectors
    recorded at that rung, by non-domination rank with ties at the cut broken by
    hypervolume contribution.

    The rungs are :class:`~hpo_core.pruners.SuccessiveHalvingPruner`'s: rung ``r`` ends at
    step ``min_resource * reduction_factor ** (min_early_stopping_rate + r)``, and the
    trial's first report at or past it is its vector ``v (m,)`` there. The exact rule:

    1. If ``v`` has a NaN, the trial is pruned (nothing is recorded).
    2. ``v`` is recorded in the trial's system attribute ``completed_rung_{r}`` (a list of
       m floats, in the study's directions). The competitors are the vectors every trial
       recorded under that key so far, ``v`` included: ``n`` points, compared in
       minimization space (maximized objectives negated).
    3. If ``n <= bootstrap_count``, the trial is pruned.
    4. With ``keep = max(1, n // reduction_factor)``, ``R`` the non-domination rank of
       ``v`` among the competitors, ``a`` the number of competitors of rank ``< R`` and
       ``F`` those of rank ``R`` (``v`` included): the trial goes on if ``a + |F| <=
       keep``, is pruned if ``a >= keep``, and otherwise (the cut falls inside ``F``) goes
       on iff fewer than ``keep - a`` points of ``F`` have a strictly larger hypervolume
       contribution within ``F`` than ``v``. Equal contributions are kept, so with one
       objective this is exactly ``SuccessiveHalvingPruner``'s rule.
    5. The reference point of the hypervolume, per objective j over the finite
       competitor values: ``max_j + 0.1 * (max_j - min_j)``, or ``max_j + 1`` when all
       are equal. Infinite values are clipped to ``[min_j - margin, ref_j]`` for the
       tie-break only (``+inf`` contributes nothing); the ranks use them as they are.
    6. A trial that goes on moves to the next rung, whose end may already lie behind
       its report (steps skipped), and the rule repeats there.

    The recorded vectors are read from an index kept per rung (``RungVectors`` in
    ``_rungs.py``) that re-reads only the rows new or unfinished since the last decision,
    as :class:`~hpo_core.pruners.SuccessiveHalvingPruner` does, not every trial's
    attributes; the rank and tie-break then cost O(k log k) to O(k^2) in the ``k``
    vectors of the rung (:func:`~hpo_core.kernels.nondominated_rank`), not in the
    number of trials. With two objectives and at most 256 vectors at the rung, the
    decision counts the vectors that dominate ``v`` first (``keep`` of them settle it
    without the ranks) and breaks a tie on Python floats, with the same result.

    ``min_resource="auto"`` is ``SuccessiveHalvingPruner``'s: set once, at the first
    decision after a trial completed, to ``max(1, (s + 1) // reduction_factor)`` with
    ``s`` the highest last step of the completed trials; nothing is pruned before.

    Args:
        min_resource: steps of rung 0 (an int ``>= 1``), or ``"auto"``.
        reduction_factor: ``>= 2``; each rung keeps ``1 / reduction_factor`` of its trials.
        min_early_stopping_rate: ``>= 0``; rung 0 ends at
            ``min_resource * reduction_factor ** min_early_stopping_rate``.
        bootstrap_count: ``>= 0``; prune at a rung while it holds this many vectors or
            fewer. Needs an int ``min_resource``.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range, or
            ``bootstrap_count > 0`` with ``min_resource="auto"``.

    Example:
        >>> import hpo_core
        >>> pruner = MultiObjectiveSuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
        >>> study = hpo_core.create_study(directions=["minimize", "minimize"], pruner=pruner)
        >>> decisions = []
        >>> for error, size in ((1.0, 1.0), (2.0, 2.0), (0.2, 1.2), (3.0, 3.0)):
        ...     trial = study.ask()
        ...     trial.report([error, size], 1)
        ...     decisions.append(trial.should_prune())
        ...     study.tell(trial, [error, size])
        >>> decisions
        [False, True, False, True]
    """

    supports_multi_objective = True

    def __init__(
        self,
        min_resource: str | int = "auto",
        reduction_factor: int = 4,
        min_early_stopping_rate: int = 0,
        bootstrap_count: int = 0,
    ) -> None:
        self._min_resource, self._reduction_factor, self._min_early_stopping_rate, self._bootstrap_count = (
            check_halving_args("MultiObjectiveSuccessiveHalvingPruner", min_resource, reduction_factor,
                               min_early_stopping_rate, bootstrap_count))
        self._rungs = RungVectors()  # vectors recorded per rung, per study; not pickled

    def prune(self, study: Study, trial: Trial) -> bool:
        history = study.view.history
        steps, values = history.steps.of_row(trial.number)
        if len(steps) == 0:
            return False
        step, vector = int(steps[-1]), values[-1]
        attrs = history.system_attrs[trial.number] or {}
        rung = 0
        while rung_key(rung) in attrs:
            rung += 1
        sign_list = study.view.signs.tolist()
        minimize_all = all(s == 1.0 for s in sign_list)
        recorded = vector.tolist()
        has_nan = any(x != x for x in recorded)
        while True:
            if self._min_resource is None:
                self._min_resource = estimate_min_resource(history, self._reduction_factor)
                if self._min_resource is None:
                    return False
            promotion_step = self._min_resource * self._reduction_factor ** (self._min_early_stopping_rate + rung)
            if step < promotion_step:
                return False
            if has_nan:
                return True
            key = rung_key(rung)
            competing = self._rungs.competing_rows(history, key, trial.number, recorded)
            try:
                trial.set_system_attr(key, recorded)
            except BaseException:
                self._rungs.forget(key, trial.number)
                raise
            if len(competing) + 1 <= self._bootstrap_count:
                return True
            # Minimization space: x * sign per objective, in Python floats (the same
            # products as NumPy's), the own vector last.
            points = [*competing, tuple(recorded)]
            if not minimize_all:
                points = [tuple(x * s for x, s in zip(p, sign_list)) for p in points]
            if not _is_promotable_rows(points, self._reduction_factor):
                return True
            rung += 1


class MultiObjectiveMedianPruner(BasePruner):
    """Prune a trial whose vector at a step is dominated by the per-objective median of
    the completed trials' vectors at that step.

    The exact rule, at a report at step ``s`` with vector ``v (m,)``, in minimization
    space (maximized objectives negated):

    1. No pruning before ``n_startup_trials`` trials are COMPLETE, at steps below
       ``n_warmup_steps``, or at a report that is not the first one at or after the
       latest check ``n_warmup_steps + k * interval_steps <= s`` (``MedianPruner``'s
       interval rule).
    2. If ``v`` has a NaN, the trial is pruned.
    3. The peers are the COMPLETE trials that reported exactly at step ``s``. With fewer
       than ``n_min_trials`` of them, no pruning. ``med_j`` is the median of the peers'
       non-NaN values in objective j (infinities count as values); if an objective has
       no such value, no pruning. A median that is NaN (its two middle values are
       ``-inf`` and ``+inf``) dominates nothing.
    4. Prune iff ``med`` dominates ``v``: ``med_j <= v_j`` for every j and ``med_j < v_j``
       for some j. So a trial is kept while it beats the median in one objective, or
       ties it in all.

    The peers' values are kept sorted per step and objective and updated with the
    reports and completions new since the last decision (``_step_values.py``, as
    :class:`~hpo_core.pruners.MedianPruner`): O(log k) per decision, not a median of
    the step's ``k`` reports.

    Args:
        n_startup_trials: ``>= 0``; COMPLETE trials needed before any pruning.
        n_warmup_steps: ``>= 0``; no pruning at steps below this.
        interval_steps: ``>= 1``; check every this many steps after the warm-up.
        n_min_trials: ``>= 1``; peers needed at the step.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range.

    Example:
        >>> import hpo_core
        >>> pruner = MultiObjectiveMedianPruner(n_startup_trials=2)
        >>> study = hpo_core.create_study(directions=["minimize", "maximize"], pruner=pruner)
        >>> for error, accuracy in ((1.0, 0.5), (3.0, 0.7)):
        ...     trial = study.ask()
        ...     trial.report([error, accuracy], 0)
        ...     study.tell(trial, [error, accuracy])
        >>> trial = study.ask()
        >>> trial.report([2.5, 0.55], 0)  # median (2.0, 0.6) is better in both
        >>> trial.should_prune()
        True
        >>> trial = study.ask()
        >>> trial.report([2.5, 0.65], 0)  # better accuracy than the median
        >>> trial.should_prune()
        False
    """

    supports_multi_objective = True

    def __init__(
        self,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        self._n_startup_trials, self._n_warmup_steps, self._interval_steps, self._n_min_trials = check_schedule_args(
            "MultiObjectiveMedianPruner", n_startup_trials, n_warmup_steps, interval_steps, n_min_trials)
        # Per objective, the COMPLETE values per step, sorted and kept up to date.
        self._values: list[StepValues] = []

    def prune(self, study: Study, trial: Trial) -> bool:
        history = study.view.history
        steps, values = history.steps.of_row(trial.number)
        if len(steps) == 0:
            return False
        step = int(steps[-1])
        if step < self._n_warmup_steps:
            return False
        if not is_first_in_interval(steps, self._n_warmup_steps, self._interval_steps):
            return False
        if history.count(_COMPLETE) < self._n_startup_trials:
            return False
        signs = study.view.signs
        vector = values[-1] * signs
        if np.isnan(vector).any():
            return True
        if len(self._values) != len(signs):
            self._values = [StepValues(column=j) for j in range(len(signs))]
        medians = []
        for column in self._values:
            n_peers, med = column.median(history, step)
            if n_peers < self._n_min_trials:
                return False
            medians.append(med)  # NaN: no value in this objective (or -inf and +inf): no pruning
        # median(-x) is -median(x) to the bit (negation is exact): the median in
        # minimization space is the raw one times the sign.
        median = np.array(medians) * signs
        return bool(np.all(median <= vector) and np.any(median < vector))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_values"] = []  # hold a history: rebuilt on use
        return state
