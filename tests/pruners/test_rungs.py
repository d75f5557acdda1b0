"""The incremental rung index of successive halving and Hyperband (``_rungs.py``): the
O(log n) promotion rule against the sort it replaces, and a long-lived pruner's
decisions against a fresh pruner's (which reads every row) with interleaved trials,
two workers on one SQLite database, a pickled pruner and a pruner moved to another
study."""

from __future__ import annotations

import math
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _pruner_parity import interleaved
from test_percentile import random_curves

import hpo_core
from hpo_core.pruners import HyperbandPruner, SuccessiveHalvingPruner
from hpo_core.pruners._rungs import is_promotable_sorted
from hpo_core.pruners._successive_halving import is_promotable


@pytest.mark.parametrize("seed", range(3))
def test_is_promotable_sorted_matches_the_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = np.array([0.0, -0.0, 1.0, 1.0, 2.0, -1.0, math.inf, -math.inf, math.nan, 0.5])
    for _ in range(2000):
        others = rng.choice(pool, size=int(rng.integers(0, 12)))
        value = float(rng.choice(pool[~np.isnan(pool)]))
        finite = sorted(float(v) for v in others if not math.isnan(v))
        n_nan = int(np.isnan(others).sum())
        for factor in (2, 3, 4):
            for maximize in (False, True):
                expected = is_promotable(value, np.append(others, value), factor, maximize)
                assert is_promotable_sorted(value, finite, n_nan, factor, maximize) == expected


def _run(studies: list[Any], events: list[Any], fresh: Any = None) -> tuple[list[bool], list[Any]]:
    """Decisions with trial ``i`` on ``studies[i % len(studies)]``, and every trial's system
    attributes: from each study's long-lived pruner, or from ``fresh()``, a new pruner
    (which reads every row) at each decision."""
    trials: dict[int, Any] = {}
    decisions = []
    for i, what, arg in events:
        study = studies[i % len(studies)]
        if i not in trials:
            trials[i] = study.ask()
        trial = trials[i]
        if what == "tell":
            state = {"pruned": hpo_core.TrialState.PRUNED, "fail": hpo_core.TrialState.FAIL}.get(arg)
            if state is None:
                study.tell(trial, arg)
            else:
                study.tell(trial, state=state)
            continue
        trial.report(arg, what)
        if fresh is None:
            decisions.append(bool(trial.should_prune()))
        else:
            study.view.invalidate()
            decisions.append(bool(fresh().prune(study, trial)))
    return decisions, [t.system_attrs for t in studies[0].get_trials()]


def _decide_both(make: Any, new_studies: Any, events: list[Any]) -> list[bool]:
    """The long-lived pruners decide as fresh ones, and record the same rung values."""
    ours = _run(new_studies(make), events)
    reference = _run(new_studies(make), events, fresh=make)
    assert ours == reference
    return ours[0]


MAKERS = {
    "successive_halving": lambda: SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    "successive_halving_bootstrap": lambda: SuccessiveHalvingPruner(min_resource=1, reduction_factor=3,
                                                                    bootstrap_count=1),
    "hyperband": lambda: HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=2),
}


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_rung_index_interleaved_trials_decide_as_a_full_scan(name: str, direction: str) -> None:
    def new_studies(make: Any) -> list[Any]:
        return [hpo_core.create_study(direction=direction, pruner=make(), study_name="rungs")]

    decisions = _decide_both(MAKERS[name], new_studies, interleaved(random_curves(2, n_trials=30), 5, 2))
    assert any(decisions) and not all(decisions)


@pytest.mark.parametrize("name", ["successive_halving", "hyperband"])
def test_rung_index_sees_rungs_recorded_by_another_worker(name: str, tmp_path: Path) -> None:
    # Two study objects (two workers) on one database: each pruner's index must pick up
    # the rung values the other worker wrote, through the sync.
    dbs = iter(range(2))

    def new_studies(make: Any) -> list[Any]:
        url = f"sqlite:///{tmp_path / f'rungs{next(dbs)}.db'}"
        first = hpo_core.create_study(storage=url, study_name="rungs", pruner=make())
        return [first, hpo_core.load_study(storage=url, study_name="rungs", pruner=make())]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        decisions = _decide_both(MAKERS[name], new_studies, interleaved(random_curves(3, n_trials=24), 4, 3))
    assert any(decisions) and not all(decisions)


def test_rung_index_survives_pickling_and_another_study() -> None:
    make = lambda: SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)  # noqa: E731
    pruner = make()
    events = interleaved(random_curves(4, n_trials=12), 3, 4)
    first = _run([hpo_core.create_study(pruner=pruner)], events)
    copy = pickle.loads(pickle.dumps(pruner))
    # The same pruner objects in new studies: their indexes start afresh.
    for reused in (pruner, copy):
        assert _run([hpo_core.create_study(pruner=reused)], events) == first
    assert first == _run([hpo_core.create_study(pruner=make())], events, fresh=make)


@pytest.mark.parametrize("maximize", [False, True])
def test_rung_index_leaves_out_the_deciding_rows_own_earlier_value(maximize: bool) -> None:
    from hpo_core.history import History
    from hpo_core.pruners._rungs import RungIndex

    h = History(1)
    values = [3.0, 1.0, math.nan, 2.0, 5.0]
    for row, v in enumerate(values):
        h.add_row(row, row, int(hpo_core.TrialState.RUNNING), 0.0)
        h.set_attr(row, "system", "completed_rung_0", v)
    index = RungIndex()
    for own in range(len(values)):
        for value in (0.5, 2.0, 4.0):
            others = np.array([v for row, v in enumerate(values) if row != own] + [value])
            n, promotable = index.decide(h, "completed_rung_0", own, value, reduction_factor=2, maximize=maximize)
            assert (n, promotable) == (len(others), is_promotable(value, others, 2, maximize))
    # A value changed while its trial runs replaces the old one.
    h.set_attr(4, "system", "completed_rung_0", 0.0)
    n, promotable = index.decide(h, "completed_rung_0", 0, 1.5, reduction_factor=2, maximize=maximize)
    assert (n, promotable) == (5, is_promotable(1.5, np.array([1.0, math.nan, 2.0, 0.0, 1.5]), 2, maximize))


def test_rung_index_refreshes_unless_its_own_write_is_the_only_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from hpo_core.history import History
    from hpo_core.pruners._rungs import RungIndex

    refreshes = []
    refresh = RungIndex._refresh
    monkeypatch.setattr(RungIndex, "_refresh", lambda self, *a: (refreshes.append(1), refresh(self, *a))[1])
    key = "completed_rung_0"
    h = History(1)
    for row in range(6):
        h.add_row(row, row, int(hpo_core.TrialState.RUNNING), 0.0)
    index = RungIndex()

    def decide(row: int, value: float, *, write: bool = True) -> tuple[int, bool]:
        result = index.decide(h, key, row, value, 2, False, record=True)
        if write:
            h.set_attr(row, "system", key, value)
        return result

    def expect(*competing: float) -> tuple[int, bool]:
        return len(competing), is_promotable(competing[-1], np.array(competing), 2, False)

    decide(0, 1.0)
    assert len(refreshes) == 1
    h.add_intermediate(1, 0, 0.5)  # reports and new rows alone: no refresh
    h.add_row(6, 6, int(hpo_core.TrialState.RUNNING), 0.0)
    assert decide(1, 0.5) == expect(1.0, 0.5) and len(refreshes) == 1
    h.set_attr(2, "system", key, 0.2)  # another writer's value, after the own write: read
    assert decide(3, 0.6) == expect(1.0, 0.5, 0.2, 0.6) and len(refreshes) == 2
    decide(4, 0.1, write=False)  # recorded, its write not (yet) done, and another one done
    h.set_attr(5, "system", key, 2.0)
    assert index.decide(h, key, 6, 0.4, 2, False) == expect(1.0, 0.5, 0.2, 0.6, 0.1, 2.0, 0.4)
    assert len(refreshes) == 3
    h.set_attr(0, "system", "other", 1)  # any system attribute counts
    index.decide(h, key, 6, 0.4, 2, False)
    assert len(refreshes) == 4
