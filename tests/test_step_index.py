from __future__ import annotations

import pickle
import sys
import threading

import numpy as np
import pytest

from hpo_core._step_index import StepIndex


class _Reference:
    """Brute-force model: a dict per row and a list per step, in report order."""

    def __init__(self) -> None:
        self.by_row: dict[int, dict[int, tuple[float, ...]]] = {}
        self.by_step: dict[int, list[tuple[int, tuple[float, ...]]]] = {}

    def add(self, row: int, step: int, value: tuple[float, ...]) -> bool:
        d = self.by_row.setdefault(row, {})
        if step in d:
            return False
        d[step] = value
        self.by_step.setdefault(step, []).append((row, value))
        return True

    def last_at_or_before(self, step: int, row: int) -> tuple[int, tuple[float, ...] | None]:
        steps = [s for s in self.by_row.get(row, {}) if s <= step]
        return (max(steps), self.by_row[row][max(steps)]) if steps else (-1, None)


def _observable(index: StepIndex, rows: range, steps: list[int]) -> list[object]:
    """Everything a reader can see, as plain lists (NaN made comparable)."""
    def plain(a: np.ndarray) -> list[object]:
        return np.where(np.isnan(a), -999.0, a).tolist() if a.dtype.kind == "f" else a.tolist()

    out: list[object] = [index.n_reports, *(plain(a) for a in index.log())]
    for r in rows:
        out += [plain(a) for a in index.of_row(r)]
    for s in steps:
        out += [plain(a) for a in index.at_step(s)] + [index.reached(s)]
    return out


def _random_reports(rng: np.random.Generator, n: int, n_rows: int, shared: bool) -> list[tuple[int, int, float]]:
    """Reports with repeats, out-of-order steps, ties and NaN. ``shared``: steps on a grid."""
    steps = rng.integers(0, 30, n) * 7 if shared else rng.integers(0, 2**62, n) % rng.choice([50, 2**40], n)
    values = rng.choice([0.5, 1.0, np.nan, *rng.normal(size=5)], n)  # ties and NaN
    return list(zip(rng.integers(0, n_rows, n).tolist(), steps.tolist(), values.tolist()))


def test_step_index_at_step_in_report_order_with_ties() -> None:
    index = StepIndex()
    for row, step, value in [(2, 1, 0.5), (0, 1, 0.5), (1, 3, 0.5), (1, 1, 0.25)]:
        assert index.add(row, step, value)
    rows, values = index.at_step(1)
    assert rows.tolist() == [2, 0, 1]
    assert values.shape == (3, 1) and values[:, 0].tolist() == [0.5, 0.5, 0.25]
    assert index.reached(1) == 3 and index.reached(3) == 1 and index.n_reports == 4


def test_step_index_at_step_since_is_at_step_sliced() -> None:
    index = StepIndex(2)
    assert index.at_step_since(1, 0) == (0, [], [])
    for row, step, value in [(2, 1, (0.5, 1.0)), (0, 1, (0.25, 2.0)), (1, 3, (0.5, 3.0)), (1, 1, (0.75, 4.0))]:
        index.add(row, step, value)
    rows, values = index.at_step(1)
    for start in range(4):
        for column in (0, 1):
            expected = (3, rows[start:].tolist(), values[start:, column].tolist())
            assert index.at_step_since(1, start, column) == expected


def test_step_index_at_step_returns_read_only_views() -> None:
    index = StepIndex()
    index.add(0, 1, 0.5)
    rows, values = index.at_step(1)
    with pytest.raises(ValueError):
        rows[0] = 3
    with pytest.raises(ValueError):
        values[0] = 3.0
    index.add(1, 1, 0.7)  # later reports do not show in a view taken before
    assert rows.tolist() == [0] and index.at_step(1)[0].tolist() == [0, 1]


def test_step_index_duplicate_report_ignored_first_wins() -> None:
    index = StepIndex()
    assert index.add(0, 5, 1.0)
    assert index.add(0, 2, 2.0)
    assert not index.add(0, 5, 9.0)  # repeat of the latest step
    assert not index.add(0, 2, 9.0)  # repeat of an older step
    assert index.as_dict(0) == {2: 2.0, 5: 1.0}
    assert index.n_reports == 2 and index.reached(5) == 1


def test_step_index_nan_is_stored() -> None:
    index = StepIndex()
    assert index.add(0, 1, float("nan"))
    assert not index.add(0, 1, 1.0)
    assert np.isnan(index.at_step(1)[1][0, 0])
    assert np.isnan(index.as_dict(0)[1])
    steps, values = index.last_at_or_before(3, np.array([0]))
    assert steps.tolist() == [1] and np.isnan(values[0, 0])


def test_step_index_missing_steps() -> None:
    index = StepIndex()
    for step in (0, 10, 20):
        index.add(0, step, float(step))
    index.add(1, 15, 1.5)
    rows, values = index.at_step(5)
    assert rows.shape == (0,) and values.shape == (0, 1) and index.reached(5) == 0
    steps, values = index.last_at_or_before(14, np.array([0, 1, 2, 1000]))
    assert steps.tolist() == [10, -1, -1, -1]
    assert values[0, 0] == 10.0 and np.isnan(values[1:]).all()
    assert index.last(2)[0] == -1 and np.isnan(index.last(2)[1]).all()
    assert index.of_row(1000)[0].shape == (0,) and index.as_dict(1000) == {}


def test_step_index_out_of_order_steps_sorted_per_row() -> None:
    index = StepIndex()
    for step in (5, 2, 9, 0, 7):
        index.add(0, step, step / 10)
        index.add(1, 100 - step, step / 10)  # trials interleave
    steps, values = index.of_row(0)
    assert steps.tolist() == [0, 2, 5, 7, 9] and values[:, 0].tolist() == [0.0, 0.2, 0.5, 0.7, 0.9]
    assert list(index.as_dict(0)) == [0, 2, 5, 7, 9]
    assert index.last(0)[0] == 9 and index.last(0)[1].tolist() == [0.9]
    assert index.last_at_or_before(6, np.array([0]))[0].tolist() == [5]
    assert index.log()[1].tolist()[:4] == [5, 95, 2, 98]  # the log keeps report order


def test_step_index_vector_values() -> None:
    index = StepIndex(n_values=3)
    index.add(0, 1, [1.0, 2.0, np.nan])
    index.add(1, 1, np.array([4.0, 5.0, 6.0]))
    index.add(1, 3, (7.0, 8.0, 9.0))
    assert not index.add(1, 1, [0.0, 0.0, 0.0])
    rows, values = index.at_step(1)
    assert rows.tolist() == [0, 1] and values.shape == (2, 3)
    assert values[1].tolist() == [4.0, 5.0, 6.0]
    assert index.as_dict(1) == {1: (4.0, 5.0, 6.0), 3: (7.0, 8.0, 9.0)}
    steps, values = index.last_at_or_before(2, np.array([1, 0, 5]))
    assert steps.tolist() == [1, 1, -1] and values.shape == (3, 3)
    assert values[0].tolist() == [4.0, 5.0, 6.0] and np.isnan(values[2]).all()
    assert index.last(1)[1].tolist() == [7.0, 8.0, 9.0]


def test_step_index_64_bit_steps() -> None:
    big = [0, 2**31, 2**40, 2**62 + 1, 2**63 - 1]
    index = StepIndex()
    for step in reversed(big):
        index.add(0, step, float(step % 1000))
    index.add(1, 2**40, 1.0)
    assert index.of_row(0)[0].tolist() == big and index.of_row(0)[0].dtype == np.int64
    assert index.at_step(2**40)[0].tolist() == [0, 1] and index.reached(2**63 - 1) == 1
    assert index.last_at_or_before(2**40 - 1, np.array([0, 1]))[0].tolist() == [2**31, -1]
    assert index.last_at_or_before(2**63 - 1, np.array([0, 1]))[0].tolist() == [2**63 - 1, 2**40]
    assert not index.add(0, 2**63 - 1, 0.0)


def test_step_index_last_at_or_before_empty_and_repeated_rows() -> None:
    index = StepIndex()
    steps, values = index.last_at_or_before(3, np.zeros(0, np.int64))
    assert steps.shape == (0,) and values.shape == (0, 1)
    assert index.last_at_or_before(3, np.array([0, 7]))[0].tolist() == [-1, -1]
    index.add(3, 2, 1.0)
    assert index.last_at_or_before(3, np.array([3, 3, 0]))[0].tolist() == [2, 2, -1]


def test_step_index_last_at_or_before_shared_schedule_with_exceptions() -> None:
    index, ref = StepIndex(), _Reference()
    for step in range(0, 100, 10):
        for row in range(100):
            if row % 9 == 4 and step > 40:  # some trials pruned at step 40
                continue
            s = 45 if row in (37, 53, 71) and step == 40 else step  # off the schedule, not probed
            index.add(row, s, row + s / 100)
            ref.add(row, s, (row + s / 100,))
    for step in (0, 40, 44, 45, 50, 95, 2**63 - 1):
        steps, values = index.last_at_or_before(step, np.arange(100))
        want = [ref.last_at_or_before(step, r) for r in range(100)]
        assert steps.tolist() == [s for s, _ in want]
        assert values[:, 0].tolist() == [np.nan if v is None else v[0] for _, v in want]


@pytest.mark.parametrize("shared", [True, False], ids=["shared-steps", "random-steps"])
def test_step_index_matches_brute_force(seed: int, shared: bool) -> None:
    rng = np.random.default_rng(seed)
    index, ref = StepIndex(), _Reference()
    for row, step, value in _random_reports(rng, 3000, 60, shared):
        assert index.add(row, step, value) == ref.add(row, step, (value,))
    all_steps = sorted(ref.by_step)
    queries = [*rng.choice(all_steps, 20).tolist(), *rng.integers(0, 2**62, 5).tolist(), 0, 2**63 - 1]
    for step in queries:
        rows = rng.integers(0, 70, 200)  # rows 60..69 never reported
        got_steps, got_values = index.last_at_or_before(step, rows)
        for r, s, v in zip(rows.tolist(), got_steps.tolist(), got_values[:, 0].tolist()):
            want_s, want_v = ref.last_at_or_before(step, r)
            assert s == want_s
            assert np.isnan(v) if want_v is None else np.array_equal([v], want_v, equal_nan=True)
    for step in all_steps:
        rows, values = index.at_step(step)
        assert rows.tolist() == [r for r, _ in ref.by_step[step]]
        assert np.array_equal(values[:, 0], [v[0] for _, v in ref.by_step[step]], equal_nan=True)
    for row, d in ref.by_row.items():
        got = index.as_dict(row)
        assert list(got) == sorted(d) and np.array_equal(list(got.values()), [d[s][0] for s in sorted(d)], equal_nan=True)


def test_step_index_rollback_restores_state(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = _random_reports(rng, 200, 10, shared=False)
    after = _random_reports(rng, 300, 15, shared=False)
    index, fresh = StepIndex(), StepIndex()
    for report in before:
        index.add(*report)
        fresh.add(*report)
    token = index.mark()
    for report in after:
        index.add(*report)
    index.rollback(token)
    steps = sorted({s for _, s, _ in before + after})
    assert _observable(index, range(20), steps) == _observable(fresh, range(20), steps)
    for report in after:  # the undone reports can be made again
        assert index.add(*report) == fresh.add(*report)
    assert _observable(index, range(20), steps) == _observable(fresh, range(20), steps)


def test_step_index_rollback_across_growth() -> None:
    index = StepIndex()
    index.add(0, 0, 0.0)
    index.add(1, 1, 1.0)
    expected = _observable(index, range(3), [0, 1])
    token = index.mark()
    arrays = (index._log[0], index._by_row.keys, index._by_step.keys, index._by_row.cnt, index._by_step.cnt)
    for row in range(3000):  # grows the log, both arenas (compactions) and both id tables
        for step in range(row % 7, 20, 3):
            index.add(row, step, row + step / 100)
    assert index._log[0] is not arrays[0] and index._by_row.keys is not arrays[1]
    assert index._by_step.keys is not arrays[2] and index._by_row.cnt is not arrays[3]
    assert index._by_step.cnt is not arrays[4]
    index.rollback(token)
    assert _observable(index, range(3), [0, 1]) == expected
    assert index.last_at_or_before(30, np.arange(3000)).__getitem__(0)[:3].tolist() == [0, 1, -1]
    assert index.n_reports == 2 and index.reached(5) == 0 and index.at_step(5)[0].size == 0


def test_step_index_rollback_nested_marks() -> None:
    index = StepIndex()
    index.add(0, 3, 1.0)
    outer = index.mark()
    index.add(0, 1, 2.0)  # out of order: undone from the middle of the row
    inner = index.mark()
    index.add(0, 2, 3.0)
    index.add(1, 3, 4.0)
    index.rollback(inner)
    assert index.as_dict(0) == {1: 2.0, 3: 1.0} and index.at_step(3)[0].tolist() == [0]
    index.rollback(outer)
    assert index.as_dict(0) == {3: 1.0} and index.n_reports == 1
    with pytest.raises(ValueError, match="token"):
        index.rollback(inner)


def test_step_index_pickle_round_trip() -> None:
    rng = np.random.default_rng(0)
    index = StepIndex(n_values=2)
    for row, step, value in _random_reports(rng, 500, 20, shared=False):
        index.add(row, step, (value, -value))
    token = index.mark()
    index.add(0, 2**50, (1.0, 2.0))
    clone = pickle.loads(pickle.dumps(index))
    steps = sorted(set(index.log()[1].tolist()))
    assert _observable(clone, range(25), steps) == _observable(index, range(25), steps)
    assert not clone.add(0, 2**50, (9.0, 9.0)) and clone.add(21, 2**50, (1.0, 2.0))
    clone.rollback(token)  # tokens survive pickling
    index.rollback(token)
    assert _observable(clone, range(25), steps) == _observable(index, range(25), steps)


def test_step_index_memory_bytes_grows() -> None:
    index = StepIndex()
    empty = index.memory_bytes()
    for row in range(1000):
        index.add(row, 1, 0.5)
    assert index.memory_bytes() > empty + 1000 * 24


def test_step_index_n_values_checked() -> None:
    with pytest.raises(ValueError, match="n_values"):
        StepIndex(n_values=0)
    with pytest.raises(TypeError, match="n_values"):
        StepIndex(n_values=1.5)  # type: ignore[arg-type]


def test_step_index_readers_beside_one_writer() -> None:
    # A smoke test: reads interleaved with adds (and arena moves) stay consistent. Races
    # in a window of a few bytecodes are unlikely to show here; the ordering is argued
    # in _Segments' docstring.
    index = StepIndex()
    done = threading.Event()
    errors: list[str] = []

    def check() -> None:
        for step in range(0, 40, 3):
            rows, values = index.at_step(step)
            if not np.array_equal(values[:, 0], rows * 1000.0 + step):
                errors.append(f"at_step({step})")
        steps, values = index.last_at_or_before(20, np.arange(500))
        ok = steps >= 0
        if not np.array_equal(values[ok, 0], np.flatnonzero(ok) * 1000.0 + steps[ok]):
            errors.append("last_at_or_before")

    def read() -> None:
        try:
            while not done.is_set():
                check()
        except Exception as e:  # pragma: no cover - reported by the assert below
            errors.append(repr(e))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, inside add and reads
    reader = threading.Thread(target=read)
    reader.start()
    try:
        for step in range(40):  # in step order, so no row is ever shifted
            for row in range(500):
                index.add(row, step, row * 1000.0 + step)
    finally:
        done.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert errors == []
