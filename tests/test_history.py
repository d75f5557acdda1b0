from __future__ import annotations

import pickle

import numpy as np
import pytest

from hpo_core.distributions import FloatDistribution, IntDistribution, SearchSpace
from hpo_core.history import History
from hpo_core.trial import TrialState

F = FloatDistribution(0.0, 1.0)


def test_history_grows_past_capacity_and_keeps_columns() -> None:
    h = History(1, capacity=2, param_capacity=1)
    for k in range(100):
        h.add_row(k, k, TrialState.RUNNING, 0.0)
        h.set_param(k, f"p{k % 3}", F, k / 100)
        h.set_state(k, TrialState.COMPLETE, [float(-k)], 1.0)
    assert h.n == 100 and h.X.flags.f_contiguous
    col = h.param_column("p1")
    assert np.isnan(col[0]) and col[1] == 0.01
    assert h.best_row == 99
    assert h.count(TrialState.COMPLETE) == 100


def test_history_intersection_is_incremental() -> None:
    h = History(1)
    for k in range(4):
        h.add_row(k, k, TrialState.RUNNING, 0.0)
        h.set_param(k, "a", F, 0.5)
        if k < 2:
            h.set_param(k, "b", F, 0.5)
        h.set_state(k, TrialState.COMPLETE, [0.0])
        if k == 0:
            assert list(h.intersection_search_space()) == ["a", "b"]
    assert list(h.intersection_search_space()) == ["a"]
    h.add_row(4, 4, TrialState.RUNNING, 0.0)
    h.set_param(4, "c", F, 0.1)
    h.set_param(4, "a", FloatDistribution(0.0, 2.0), 0.1)  # another range for `a`
    h.set_state(4, TrialState.COMPLETE, [0.0])
    assert list(h.intersection_search_space()) == []



def test_history_intersection_object_reused_while_unchanged() -> None:
    h = History(1)
    first = h.intersection_search_space()
    assert len(first) == 0 and h.intersection_search_space() is first
    spaces = []
    for k in range(3):
        h.add_row(k, k, TrialState.RUNNING, 0.0)
        h.set_param(k, "a", F, 0.5)
        h.set_param(k, "b", F, 0.5)
        h.set_state(k, TrialState.COMPLETE, [0.0])
        spaces.append(h.intersection_search_space())
    assert list(spaces[0]) == ["a", "b"] and spaces[0] is not first
    assert spaces[1] is spaces[0] and spaces[2] is spaces[0]
    # A RUNNING trial with a new parameter, then one that completes without `b`.
    h.add_row(3, 3, TrialState.RUNNING, 0.0)
    h.set_param(3, "c", F, 0.5)
    assert h.intersection_search_space() is spaces[0]
    h.set_param(3, "a", F, 0.5)
    h.set_state(3, TrialState.COMPLETE, [0.0])
    changed = h.intersection_search_space()
    assert list(changed) == ["a"] and changed is not spaces[0]
    assert h.intersection_search_space() is changed
    # Same name, another range: `a` leaves the intersection.
    h.add_row(4, 4, TrialState.RUNNING, 0.0)
    h.set_param(4, "a", FloatDistribution(0.0, 2.0), 0.5)
    h.set_state(4, TrialState.COMPLETE, [0.0])
    assert len(h.intersection_search_space()) == 0
    # The cache survives pickling as a plain equal value.
    assert pickle.loads(pickle.dumps(h)).intersection_search_space() == h.intersection_search_space()

def test_history_rejects_incompatible_distribution() -> None:
    h = History(1)
    h.add_row(0, 0, TrialState.RUNNING, 0.0)
    h.set_param(0, "a", F, 0.5)
    with pytest.raises(ValueError, match="`a`"):
        h.set_param(0, "a", IntDistribution(0, 1), 1.0)


def test_history_block_writes_match_row_writes() -> None:
    space = SearchSpace({"x": F, "n": IntDistribution(0, 9)})
    X = np.array([[0.1, 3.0], [0.2, 4.0], [0.3, 5.0]])
    a, b = History(1), History(1)
    rows = a.add_rows(3, 10, TrialState.RUNNING, 0.0)
    a.set_params_block(rows, space, X)
    a.set_states_block(rows, TrialState.COMPLETE, np.array([[3.0], [1.0], [2.0]]), 1.0)
    for k in range(3):
        b.add_row(k, 10 + k, TrialState.RUNNING, 0.0)
        b.set_params(k, space, X[k])
        b.set_state(k, TrialState.COMPLETE, [[3.0], [1.0], [2.0]][k], 1.0)
    for attr in ("states", "values", "trial_ids", "X", "codes"):
        np.testing.assert_array_equal(getattr(a, attr)[:3], getattr(b, attr)[:3])
    assert a.best_row == b.best_row == 1
    assert a.state_counts == b.state_counts


def test_history_memory_per_trial_is_small() -> None:
    h = History(1)
    space = SearchSpace({f"x{i}": F for i in range(10)})
    rows = h.add_rows(10000, 0, TrialState.RUNNING, 0.0)
    h.set_params_block(rows, space, np.zeros((10000, 10)))
    per_trial = h.memory_bytes() / 10000
    # 10 float64 + 10 int16 columns + values + ids + times: ~150 bytes, < 300 with slack.
    assert per_trial < 300


def test_history_keeps_each_rows_suggestion_order() -> None:
    """Rows list their parameters in the order they were set where that is not the
    column order; rows in column order keep nothing extra (``param_order``)."""
    h = History(1)
    d = FloatDistribution(0, 1)
    orders = [("a", "b", "c"), ("c", "a"), ("b", "c"), ("b", "a", "c")]
    for k, names in enumerate(orders):
        row = h.append_row(k, int(TrialState.RUNNING), 0.0)
        for name in names:
            h.set_param(row, name, d, 0.5)
    assert [tuple(h.frozen(r).params) for r in range(4)] == orders
    assert sorted(h.param_order) == [1, 3]  # rows 0 and 2 are in column order
    h2 = pickle.loads(pickle.dumps(h))
    assert [tuple(h2.frozen(r).params) for r in range(4)] == orders


def test_history_rollback_restores_the_suggestion_order() -> None:
    h = History(1)
    d = FloatDistribution(0, 1)
    row = h.append_row(0, int(TrialState.RUNNING), 0.0)
    h.set_param(row, "a", d, 0.5)
    h.set_param(row, "b", d, 0.5)
    h.append_row(1, int(TrialState.RUNNING), 0.0)
    h.set_param(1, "b", d, 0.5)
    h.begin()
    h.set_param(1, "a", d, 0.25)  # out of column order: kept for row 1
    h.set_param(0, "c", d, 0.25)
    assert tuple(h.frozen(1).params) == ("b", "a")
    h.rollback()
    assert (tuple(h.frozen(0).params), tuple(h.frozen(1).params)) == (("a", "b"), ("b",))
    assert h.param_order == {}
    h.set_param(1, "a", d, 0.25)  # after the rollback, the row's order is found again
    assert tuple(h.frozen(1).params) == ("b", "a")
