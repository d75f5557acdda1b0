"""The one writer (storages/_writer.apply_changes): a batch of changes is applied to a
History entirely or, on any exception (Ctrl-C included), not at all."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hpo_core.distributions import CategoricalDistribution, FloatDistribution
from hpo_core.history import History
from hpo_core.storages import InMemoryStorage
from hpo_core.storages._writer import Changes, apply_changes
from hpo_core.testing.storages import assert_rows_blank, history_record
from hpo_core.trial import StudyDirection, TrialState, create_trial

F = FloatDistribution(0.0, 1.0)
C = CategoricalDistribution(["a", "b"])
RUNNING, COMPLETE, PRUNED, FAIL = (int(s) for s in (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))


def _first_batch() -> Changes:
    """Trials 0-3: two COMPLETE (trial 1 the best), one RUNNING, one PRUNED."""
    return Changes(
        trials=[(0, 10, COMPLETE, [2.0], 1.0, 2.0), (1, 11, COMPLETE, [1.0], 1.0, 2.0),
                (2, 12, RUNNING, None, 1.0, math.nan), (3, 13, PRUNED, None, 1.0, 2.0)],
        params=[(0, "x", F, 0.5), (1, "x", F, 0.25), (2, "x", F, 0.75), (2, "c", C, 1.0)],
        attrs=[(0, "user", "k", [1]), (2, "system", "constraints", [0.5]), (2, "user", "k", "old")],
        reports=[(0, 1, 0.5), (2, 1, 0.25), (2, 2**40, 0.125)],
    )


def _second_batch(n_new: int = 50) -> Changes:
    """Finishes trial 2 as the new best (overwriting its attributes and adding a
    parameter and a report), and adds ``n_new`` trials with every kind of change."""
    new = range(4, 4 + n_new)
    return Changes(
        trials=[(2, 12, COMPLETE, [0.0], 1.0, 3.0)]
        + [(k, 10 + k, COMPLETE if k % 3 else FAIL, [float(k)] if k % 3 else None, 2.0, 3.0) for k in new],
        params=[(2, "y", F, 0.5)] + [(k, "x", F, k / 100) for k in new] + [(k, "z", C, 0.0) for k in new],
        attrs=[(2, "user", "k", "new"), (2, "system", "constraints", [-1.0, 2.0])]
        + [(k, "system", "constraints", [float(k)]) for k in new],
        reports=[(2, 3, 1.0), (2, 1, 9.0)] + [(k, 2**63 - 1, float(k)) for k in new],
    )


def _history() -> History:
    h = History(1, capacity=4, param_capacity=1)  # small: the second batch grows both
    apply_changes(h, _first_batch())
    return h


def _fail_after(k: int, method: Callable[..., Any]) -> Callable[..., Any]:
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        if calls[0] == k:
            raise KeyboardInterrupt
        calls[0] += 1
        return method(*args, **kwargs)

    return failing


def test_apply_changes_applies_every_change() -> None:
    h = _history()
    apply_changes(h, _second_batch())
    t = h.frozen(2)
    assert h.n == 54 and h.best_row == 2
    assert (t.state, t.values, t.params) == (TrialState.COMPLETE, [0.0], {"x": 0.75, "c": "b", "y": 0.5})
    assert t.user_attrs == {"k": "new"} and t.system_attrs == {"constraints": [-1.0, 2.0]}
    assert t.intermediate_values == {1: 0.25, 3: 1.0, 2**40: 0.125}  # the first report of a step wins
    assert h.numeric_column("constraints")[2].tolist() == [-1.0, 2.0]


@pytest.mark.parametrize("method, k", [
    ("add_row", 0), ("add_row", 30), ("set_param", 0), ("set_param", 77), ("set_attr", 1), ("set_attr", 40),
    ("add_intermediate", 0), ("add_intermediate", 2), ("add_intermediate", 40), ("set_state", 0), ("set_state", 30),
])
def test_apply_changes_interrupted_leaves_history_unchanged(
    method: str, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = _history()
    before = history_record(h)
    monkeypatch.setattr(h, method, _fail_after(k, getattr(h, method)))
    with pytest.raises(KeyboardInterrupt):
        apply_changes(h, _second_batch())
    assert history_record(h) == before
    assert_rows_blank(h)


def test_apply_changes_interrupted_then_applied_again_gives_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    h, expected = _history(), _history()
    apply_changes(expected, _second_batch())
    monkeypatch.setattr(h, "set_state", _fail_after(20, h.set_state))
    with pytest.raises(KeyboardInterrupt):
        apply_changes(h, _second_batch())
    monkeypatch.undo()
    apply_changes(h, _second_batch())
    assert history_record(h) == history_record(expected)


def test_apply_changes_error_leaves_history_unchanged() -> None:
    h = History(2)
    apply_changes(h, Changes(trials=[(0, 0, RUNNING, None, 1.0, math.nan)], reports=[(0, 1, [0.5, 1.5])]))
    before = history_record(h)
    bad = Changes(
        trials=[(0, 0, COMPLETE, [1.0, 2.0], 1.0, 2.0), (1, 1, RUNNING, None, 1.0, math.nan)],
        params=[(1, "x", F, 0.5)],
        reports=[(1, 1, [0.5, 1.5]), (1, 2, [0.5, 1.5, 2.5])],  # three values for two objectives
    )
    with pytest.raises(ValueError):
        apply_changes(h, bad)
    assert history_record(h) == before
    assert_rows_blank(h)


def test_apply_changes_rollback_keeps_the_batch_lock_free() -> None:
    h = _history()
    with pytest.raises(TypeError):  # three values for one objective
        apply_changes(h, Changes(reports=[(0, 5, [1.0, 2.0, 3.0])]))
    apply_changes(h, _second_batch())  # would block on a lock left held
    assert h.n == 54


def test_in_memory_storage_interrupted_template_trial_leaves_study_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = InMemoryStorage()
    sid = storage.create_new_study([StudyDirection.MINIMIZE], "s")
    tid, _ = storage.create_new_trial(sid)
    storage.set_trial_state_values(tid, TrialState.COMPLETE, [1.0])
    h = storage.get_history(sid)
    before = history_record(h)
    template = create_trial(value=0.5, params={"x": 0.5}, distributions={"x": F}, user_attrs={"k": 1},
                            intermediate_values={1: 0.5, 2: 0.25})
    monkeypatch.setattr(h, "add_intermediate", _fail_after(1, h.add_intermediate))
    with pytest.raises(KeyboardInterrupt):
        storage.create_new_trial(sid, template)
    assert history_record(h) == before
    monkeypatch.undo()
    tid, number = storage.create_new_trial(sid, template)
    assert number == 1 and storage.get_trial(tid).intermediate_values == {1: 0.5, 2: 0.25}
    assert np.array_equal(h.states[:2], [COMPLETE, COMPLETE])
