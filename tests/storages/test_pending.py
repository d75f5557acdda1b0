"""PendingParams: suggested parameters waiting to be written with a trial's next write."""

from __future__ import annotations

import threading

from hpo_core.storages._pending import PendingParams


def test_pop_waits_for_a_flush_that_holds_the_trials_rows() -> None:
    # The background flush has taken trial 7's rows and is writing them (slowly). The
    # trial's end must not be written before them: pop waits for that flush to commit.
    entered, release = threading.Event(), threading.Event()
    written: list[dict[int, list[tuple[str, float, str]]]] = []

    def slow_flush(study_id: int, per_trial: dict[int, list[tuple[str, float, str]]]) -> None:
        entered.set()
        assert release.wait(10)
        written.append(per_trial)

    pending = PendingParams(slow_flush, delay=0.0)
    pending.add(1, 7, ("x", 0.5, "{}"))
    assert entered.wait(10)  # the flush has the rows
    popped: list[list[tuple[str, float, str]]] = []
    waiter = threading.Thread(target=lambda: popped.append(pending.pop(7)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not popped  # still waiting for the flush
    release.set()
    waiter.join(10)
    assert popped == [[]]  # the flush wrote them
    assert written == [{7: [("x", 0.5, "{}")]}]
    pending.close()


def test_pop_takes_the_rows_of_its_trial_only() -> None:
    pending = PendingParams(lambda sid, rows: None, delay=3600.0)
    pending.add(1, 7, ("x", 0.5, "{}"))
    pending.add(1, 8, ("y", 1.0, "{}"))
    assert pending.pop(7) == [("x", 0.5, "{}")]
    assert pending.pop(7) == []
    assert pending.pop(8) == [("y", 1.0, "{}")]
    pending.close()
