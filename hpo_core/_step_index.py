"""Step-indexed intermediate values: the store behind ``trial.report(value, step)``.

Notation:

* ``r``: a row, the trial number (int >= 0). ``s``: a step, ``0 <= s < 2**63``, int64.
* ``m``: ``n_values``, floats per report (one per objective); NaN allowed.
* ``n``: reports recorded (``n_reports``); ``k``: reports at one step; ``L``: reports of
  one row; ``q``: rows in a query.
* log: ``rows (n,)``, ``steps (n,)`` int64, ``values (n, m)`` float64, in report order.
* row segments (:class:`_Segments`, id = row): per row, its steps ascending and their
  values; for ``of_row``, ``last``, ``last_at_or_before`` and the repeat check.
* step buckets (:class:`_Segments`, id from the dict ``step -> id``): per step, the rows
  that reported at it, in report order, and their values; for ``at_step``, ``reached``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo_core._validation import check_int

__all__ = ["StepIndex"]

_MIN_ARENA = 64


def _scalars(a: np.ndarray) -> Any:
    """A memoryview of 1-D ``a``: Python ints and floats in and out, ~3x faster than NumPy."""
    return memoryview(a)  # type: ignore[arg-type]


class _Segments:
    """Growable segments, one per id, packed in one pair of arrays (an arena).

    Segment ``i``: ``keys[off[i]:off[i] + cnt[i]]`` (``keys (N,)`` int64) and the same rows
    of ``vals (N, m)``, room ``cap[i]``. A full segment moves to the tail with twice the
    room; a full tail copies all segments into new arrays of twice the live room. Entries
    are copied amortized O(1) times; the arena holds at most ~4x the entries.

    The writer reads and writes single entries through :func:`_scalars` views (``k_``,
    ``v_``, ``off_``, ``cnt_``, ``cap_``). Readers take
    ``snap`` in one attribute load and read ``cnt`` before ``off``, safe beside the
    writer: data is written before the count or offset that exposes it, moves write past
    every segment, compaction and id growth replace the arrays. Shifts inside a segment
    (out-of-order insert, rollback) are not safe.
    """

    def __init__(self, n_values: int, first_cap: int) -> None:
        self.first_cap = first_cap
        self.keys, self.vals = np.zeros(_MIN_ARENA, np.int64), np.zeros((_MIN_ARENA, n_values))
        self.off, self.cnt, self.cap = (np.zeros(8, np.int64) for _ in range(3))
        self.tail = self.live = 0  # first free slot; sum of cap
        self._publish()

    def _publish(self) -> None:
        self.snap = (self.keys, self.vals, self.off, self.cnt)
        self.k_, self.off_, self.cnt_, self.cap_ = (_scalars(a) for a in (self.keys, self.off, self.cnt, self.cap))
        # memoryviews are 1-D only: with m > 1 a report's values are written as a row.
        self.v_: Any = _scalars(self.vals.reshape(-1)) if self.vals.shape[1] == 1 else self.vals

    def grow_ids(self, n_ids: int) -> None:
        """Make room for ids ``[0, n_ids)``; new ids are empty."""
        size = max(n_ids, 2 * len(self.cnt))
        grown = [np.zeros(size, np.int64) for _ in range(3)]
        for new, old in zip(grown, (self.off, self.cnt, self.cap)):
            new[: len(old)] = old
        self.off, self.cnt, self.cap = grown
        self._publish()

    def append(self, i: int, key: int, value: Any) -> None:
        """Append ``(key, value)`` to segment ``i``: the hot path of every report."""
        n = self.cnt_[i]
        if n == self.cap_[i]:
            self._grow(i, n)
        p = self.off_[i] + n
        self.k_[p] = key
        self.v_[p] = value
        self.cnt_[i] = n + 1  # last: readers see the entry once it is written

    def insert(self, i: int, j: int, key: int, value: Any) -> None:
        """Insert ``(key, value)`` at position ``j < cnt[i]`` of segment ``i``: O(cnt[i] - j)."""
        n = self.cnt_[i]
        if n == self.cap_[i]:
            self._grow(i, n)
        o = self.off_[i]
        p = o + j
        self.keys[p + 1 : o + n + 1] = self.keys[p : o + n]  # NumPy handles the overlap
        self.vals[p + 1 : o + n + 1] = self.vals[p : o + n]
        self.k_[p] = key
        self.v_[p] = value
        self.cnt_[i] = n + 1

    def remove(self, i: int, j: int) -> None:
        """Remove the entry at position ``j < cnt[i]`` of segment ``i``: O(cnt[i] - j)."""
        n = self.cnt_[i]
        if j < n - 1:
            o = self.off_[i]
            self.keys[o + j : o + n - 1] = self.keys[o + j + 1 : o + n]
            self.vals[o + j : o + n - 1] = self.vals[o + j + 1 : o + n]
        self.cnt_[i] = n - 1

    def find(self, i: int, key: int) -> int:
        """Position of the first entry of segment ``i`` whose key is ``>= key``."""
        o = self.off_[i]
        return int(np.searchsorted(self.keys[o : o + self.cnt_[i]], key))

    def _grow(self, i: int, n: int) -> None:
        cap = max(self.first_cap, 2 * n)
        self.live += cap - self.cap_[i]
        self.cap_[i] = cap
        if self.tail + cap > len(self.keys):
            self._compact()
            return
        o, t = self.off_[i], self.tail
        self.keys[t : t + n] = self.keys[o : o + n]
        self.vals[t : t + n] = self.vals[o : o + n]
        self.off_[i] = t  # after the copy: a reader seeing the new offset finds the data
        self.tail = t + cap

    def _compact(self) -> None:
        """Copy every segment into new arrays of twice the live room: O(entries + ids)."""
        off, cnt, cap = self.off, self.cnt, self.cap
        new_off = np.cumsum(cap) - cap
        # Entry t of segment i moves from off[i] + t to new_off[i] + t.
        t = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        src, dst = np.repeat(off, cnt) + t, np.repeat(new_off, cnt) + t
        size = max(2 * self.live, _MIN_ARENA)
        keys, vals = np.zeros(size, np.int64), np.zeros((size, self.vals.shape[1]))
        keys[dst], vals[dst] = self.keys.take(src), self.vals.take(src, axis=0)
        self.keys, self.vals, self.off, self.cnt = keys, vals, new_off, cnt.copy()
        self.tail = self.live
        self._publish()

    def load(self, cnt: np.ndarray, keys: np.ndarray, vals: np.ndarray) -> None:
        """Fill empty segments: ``cnt (n_ids,)``; entries grouped by id, in id order."""
        self.grow_ids(len(cnt))
        self.cnt[: len(cnt)] = cnt
        self.cap[:] = self.cnt
        self.off[:] = np.cumsum(self.cap) - self.cap
        self.tail = self.live = total = len(keys)
        self.keys = np.zeros(max(2 * total, _MIN_ARENA), np.int64)
        self.vals = np.zeros((len(self.keys), vals.shape[1]))
        self.keys[:total], self.vals[:total] = keys, vals
        self._publish()


def _lift(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray, step: int) -> np.ndarray:
    """Per segment, the index of its last key ``<= step``, by binary lifting.

    One gather per bit of the longest segment, vectorised across segments: O(q log L). A
    try past ``hi`` tries ``hi`` instead, which is right either way (``hi`` is the end).

    Args:
        keys: (N,) int64 arena, ascending in each segment ``keys[lo + 1 : hi + 1]``.
        lo: (q,) int64 segment starts minus one; overwritten. hi: (q,) int64 last indices.
        step: the bound.

    Returns:
        ``lo``, (q,) int64: indices in ``[start - 1, hi]``, ``start - 1`` where none fits.
    """
    for b in reversed(range(int((hi - lo).max()).bit_length())):
        cand = np.minimum(lo + (1 << b), hi)
        np.copyto(lo, cand, where=keys.take(cand, mode="clip") <= step)  # clip: index -1
    return lo


def _fits(keys: np.ndarray, off: np.ndarray, cnt: np.ndarray, at: np.ndarray, step: int) -> np.ndarray:
    """Whether ``at`` (in ``[off - 1, off + cnt - 1]``) is each segment's last key ``<= step``."""
    c = at - off + 1
    # Indices outside the segment are clipped into the arena and masked by c == 0, c == cnt.
    ok = (c == 0) | (keys.take(at, mode="clip") <= step)
    ok &= (c == cnt) | (keys.take(at + 1, mode="clip") > step)
    return ok


def _last_at_or_before(keys: np.ndarray, off: np.ndarray, cnt: np.ndarray, step: int) -> np.ndarray:
    """Per (ascending) segment, the index of its last key ``<= step``.

    Guess, then verify exactly: the guess is the count of keys ``<= step`` in the longest
    segment, capped at each segment's length. Where trials share a step schedule (the
    usual case, trials pruned early included) or ``step`` is past every key (the last
    report of each row) it fits every segment, for two gathers; segments it misses go to
    :func:`_lift`, and all do when a probe of 16 segments shows the guess failing.

    Args:
        keys: (N,) int64 arena, N >= 1. off, cnt: (q,) int64 offsets and lengths, q >= 1.
        step: the bound.

    Returns:
        (q,) int64 indices into ``keys``; ``off - 1`` where no key is ``<= step``.
    """
    first = int(np.argmax(cnt))
    o0 = int(off[first])
    g = int(np.searchsorted(keys[o0 : o0 + int(cnt[first])], step, side="right"))
    at = off + np.minimum(cnt, g) - 1
    probe = slice(None, None, max(len(off) // 16, 1))
    if not _fits(keys, off[probe], cnt[probe], at[probe], step).all():
        return _lift(keys, off - 1, off + cnt - 1, step)
    ok = _fits(keys, off, cnt, at, step)
    if not ok.all():
        miss = np.flatnonzero(~ok)
        at[miss] = _lift(keys, off[miss] - 1, off[miss] + cnt[miss] - 1, step)
    return at


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class StepIndex:
    """Intermediate values of a study, indexed by trial (row) and by step.

    A report is ``(row, step, values (m,))``; the first report of a ``(row, step)`` wins.
    Design (see the module Notation): the log (for rollback, pickling, ``log``), per-row
    segments sorted by step, per-step buckets in report order; segments and buckets are
    vectors of vectors in one arena each. A report is appended where it belongs, and a
    bucket is one contiguous slice: ``at_step`` returns views in O(1), never rebuilt.
    ``last_at_or_before`` is vectorised over rows: two gathers a row where trials share
    a step schedule, else binary lifting over each row's sorted steps, O(q log L).

    Measured (``benchmarks/steps.py`` at 45218e3: 10,000 trials x 100 steps, 1,000,000
    reports, medians; a 2-core machine shared with other jobs, so ranges over runs):
    ``add`` 1.4-3.7 us (a dict-of-dicts insert: 0.3-0.4 us); ``at_step`` 1.5 us, plus
    keeping the COMPLETE trials 26-30 us (target 50); ``last_at_or_before`` of 10,000 rows
    0.12-0.18 ms on a shared schedule or at ``2**63 - 1``, 0.45-0.83 ms on per-trial
    schedules (four or more 10,000-element gathers: a compiled kernel would be faster);
    pickle round trip 80 ms; memory 104 bytes per report.

    Trusts its input: the storage boundary validates rows (int >= 0), steps
    (``0 <= s < 2**63``) and values (a float when ``m == 1``, else ``m`` floats); a value
    NumPy cannot store raises before anything changes. ``add`` is O(1) amortized, plus
    O(L) for a step below the row's highest (a shift); one interrupted midway
    (KeyboardInterrupt) may be partial. One writer; readers beside it (CPython) see the
    state before or after each ``add``, but a row being shifted may read torn.

    Example:
        >>> index = StepIndex()
        >>> index.add(0, 1, 0.5), index.add(1, 1, 0.7), index.add(0, 1, 9.0)
        (True, True, False)
        >>> rows, values = index.at_step(1)
        >>> rows.tolist(), values[:, 0].tolist()
        ([0, 1], [0.5, 0.7])
        >>> index.as_dict(0)
        {1: 0.5}
    """

    def __init__(self, n_values: int = 1) -> None:
        self.n_values: int = check_int("n_values", n_values, low=1, owner="StepIndex")  # type: ignore[assignment]
        self._by_row = _Segments(self.n_values, first_cap=8)
        self._by_step = _Segments(self.n_values, first_cap=8)
        self._bucket_of: dict[int, int] = {}
        self._n = 0
        self._log = (np.zeros(_MIN_ARENA, np.int64), np.zeros(_MIN_ARENA, np.int64),
                     np.zeros((_MIN_ARENA, self.n_values)))
        self._log_views()
        self._no_rows = _readonly(np.zeros(0, np.int64))
        self._no_values = _readonly(np.zeros((0, self.n_values)))

    def _load(self, rows: np.ndarray, steps: np.ndarray, values: np.ndarray) -> None:
        """Fill an empty index from a log without repeats, vectorised: O(n log n)."""
        size = max(2 * len(rows), _MIN_ARENA)
        self._log = (np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros((size, self.n_values)))
        for dst, src in zip(self._log, (rows, steps, values)):
            dst[: len(rows)] = src
        self._log_views()
        self._n = len(rows)
        by_row = np.lexsort((steps, rows))
        self._by_row.load(np.bincount(rows, minlength=1), steps[by_row], values[by_row])
        unique, bucket = np.unique(steps, return_inverse=True)
        by_step = np.argsort(bucket, kind="stable")  # report order within a step
        self._by_step.load(np.bincount(bucket, minlength=1), rows[by_step], values[by_step])
        self._bucket_of = dict(zip(unique.tolist(), range(len(unique))))

    # ------------------------------------------------------------------ writes
    def add(self, row: int, step: int, value: float | Sequence[float] | np.ndarray) -> bool:
        """Record a report unless ``(row, step)`` was reported before (first wins).

        Args:
            row: trial number, >= 0. step: ``0 <= step < 2**63``.
            value: a float when ``n_values == 1``, else ``n_values`` floats; NaN allowed.

        Returns:
            True if recorded, False if ignored as a repeat.
        """
        seg = self._by_row
        if row >= len(seg.cnt):
            seg.grow_ids(row + 1)
        n = j = seg.cnt_[row]
        if n:
            last = seg.k_[seg.off_[row] + n - 1]
            if step <= last:  # a repeat, or a step below the row's highest
                if step == last:
                    return False
                j = seg.find(row, step)
                if seg.k_[seg.off_[row] + j] == step:
                    return False
        k = self._n
        self._write_log(k, row, step, value)  # first: a bad value fails before any change
        if j < n:
            seg.insert(row, j, step, value)
        else:
            seg.append(row, step, value)
        bucket = self._bucket_of.get(step)
        if bucket is None:
            bucket = len(self._bucket_of)
            if bucket >= len(self._by_step.cnt):
                self._by_step.grow_ids(bucket + 1)
            self._bucket_of[step] = bucket  # after the growth: readers may look it up now
        self._by_step.append(bucket, row, value)
        self._n = k + 1
        return True

    def _write_log(self, k: int, row: int, step: int, value: Any) -> None:
        if k == len(self._log[0]):
            self._log = tuple(np.concatenate([a, np.zeros_like(a)]) for a in self._log)  # type: ignore[assignment]
            self._log_views()
        self._log_r[k] = row
        self._log_s[k] = step
        self._log_v[k] = value

    def _log_views(self) -> None:
        rows, steps, values = self._log  # the writer's fast scalar access, as in _Segments
        self._log_r, self._log_s = _scalars(rows), _scalars(steps)
        self._log_v: Any = _scalars(values.reshape(-1)) if self.n_values == 1 else values

    def mark(self) -> int:
        """A token for :meth:`rollback`: the number of reports so far. O(1)."""
        return self._n

    def rollback(self, token: int) -> None:
        """Undo every :meth:`add` recorded since :meth:`mark` returned ``token``.

        Walks the undone reports newest first (a Python loop), each O(1), the last entry of
        its row and bucket, or O(L) if it came below its row's highest step: about the cost
        of the adds undone. Capacity is kept, emptied buckets too. Tokens survive pickling;
        a token is void after a rollback past it.

        Raises:
            ValueError: ``token`` is not in ``[0, n_reports]``.
        """
        n = self._n
        if not 0 <= token <= n:
            raise ValueError(f"StepIndex: `token` must be an int in the range [0, {n}], but got {token}.")
        self._n = token
        seg, buckets = self._by_row, self._by_step
        for row, step in zip(self._log[0][token:n][::-1].tolist(), self._log[1][token:n][::-1].tolist()):
            m = seg.cnt_[row]
            seg.remove(row, m - 1 if seg.k_[seg.off_[row] + m - 1] == step else seg.find(row, step))
            bucket = self._bucket_of[step]
            buckets.remove(bucket, buckets.cnt_[bucket] - 1)

    # ------------------------------------------------------------------ reads
    @property
    def n_reports(self) -> int:
        """Number of reports recorded (repeats excluded)."""
        return self._n

    def log(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All reports in report order: ``rows (n,)``, ``steps (n,)``, ``values (n, m)``.

        Read-only views; later reports do not show in them.
        """
        n = self._n
        return tuple(_readonly(a[:n]) for a in self._log)  # type: ignore[return-value]

    def at_step(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Trials that reported exactly at ``step``, in report order. O(1), no copy.

        Returns:
            ``rows`` (k,) int64 and ``values`` (k, m) float64, read-only views; later
            reports do not show in them (reports after a rollback may). To keep COMPLETE
            trials, ``keep = np.flatnonzero(states[rows] == COMPLETE)``, then
            ``rows.take(keep)``, ``values.take(keep, axis=0)``: ``values[mask]`` on 2-D
            values is about 5x slower.
        """
        bucket = self._bucket_of.get(step)
        if bucket is None:
            return self._no_rows, self._no_values
        keys, vals, off, cnt = self._by_step.snap
        k = int(cnt[bucket])  # count before offset (see _Segments)
        o = int(off[bucket])
        return _readonly(keys[o : o + k]), _readonly(vals[o : o + k])

    def reached(self, step: int) -> int:
        """Number of trials that reported at ``step``. O(1)."""
        bucket = self._bucket_of.get(step)
        return 0 if bucket is None else int(self._by_step.cnt[bucket])

    def at_step_since(self, step: int, start: int, column: int = 0) -> tuple[int, list[int], list[float]]:
        """``(k, rows[start:], values[start:, column])`` of :meth:`at_step` as lists, for a
        reader that keeps up with a step's reports and reads a few new ones (no views:
        ~0.4 us where :meth:`at_step` and the slices cost ~1.4 us)."""
        bucket = self._bucket_of.get(step)
        if bucket is None:
            return 0, [], []
        keys, vals, off, cnt = self._by_step.snap
        k = cnt.item(bucket)  # count before offset (see _Segments)
        o = off.item(bucket)
        return k, keys[o + start : o + k].tolist(), vals[o + start : o + k, column].tolist()

    def last_at_or_before(self, step: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, its highest reported step ``<= step`` and that report's values.

        Vectorised: O(q) where trials share a step schedule, else O(q log L).

        Args:
            step: the bound, ``0 <= step < 2**63``.
            rows: (q,) int64 trial numbers, any order, repeats allowed.

        Returns:
            ``steps`` (q,) int64, -1 where the row has no report ``<= step``, and
            ``values`` (q, m) float64, NaN there. New arrays.
        """
        keys, vals, off, cnt = self._by_row.snap
        rows = np.asarray(rows, np.int64)
        if rows.size == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.n_values))
        if int(rows.max()) >= len(cnt):  # rows past every reporting trial
            known = rows < len(cnt)
            rows = np.where(known, rows, 0)
            n = np.where(known, cnt.take(rows), 0)
        else:
            n = cnt.take(rows)
        o = off.take(rows)  # count before offset (see _Segments)
        at = _last_at_or_before(keys, o, n, step)
        steps = keys.take(at, mode="clip")
        values = vals.take(at, axis=0, mode="clip")  # take: vals[at] is ~5x slower on 2-D
        none = at < o
        if none.any():
            steps[none] = -1
            values[none] = np.nan
        return steps, values

    def _segment(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        keys, vals, off, cnt = self._by_row.snap
        if row >= len(cnt):
            return self._no_rows, self._no_values
        n = int(cnt[row])
        o = int(off[row])
        return keys[o : o + n], vals[o : o + n]

    def of_row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Reports of ``row`` sorted by step: ``steps (L,)`` int64, ``values (L, m)``; copies."""
        steps, values = self._segment(row)
        return steps.copy(), values.copy()

    def row_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The by-row arrays in one snapshot, for a compiled reader that slices rows itself
        (``kernels.paired_signed_rank_rows``): ``keys (N,)`` int64, ``vals (N, m)``,
        ``off (R,)``, ``cnt (R,)``; row ``r < R`` reported ``keys[off[r] : off[r] + cnt[r]]``
        (ascending steps) with values ``vals[...]``; rows ``>= R`` reported nothing. Read-only
        for the caller, and safe beside the writer as :meth:`row_view` is."""
        return self._by_row.snap  # type: ignore[no-any-return]

    def row_view(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`of_row` without the copies: views into the index, for a reader that uses
        them at once and never writes to them (a pruner's decision; ~0.6 us less than the
        copies). A report written later may land in a new buffer or, for this row, shift
        the view's entries: read them before the row's next report."""
        return self._segment(row)

    def as_dict(self, row: int) -> dict[int, Any]:
        """``{step: value}`` of ``row``, by step, for ``FrozenTrial.intermediate_values``.

        Values are floats when ``n_values == 1``, else tuples of ``n_values`` floats.
        """
        steps, values = self._segment(row)
        if self.n_values == 1:
            return dict(zip(steps.tolist(), values[:, 0].tolist()))
        return dict(zip(steps.tolist(), map(tuple, values.tolist())))

    def last(self, row: int) -> tuple[int, np.ndarray]:
        """``(step, values (m,))`` of the highest step ``row`` reported; ``(-1, NaN)`` if none."""
        steps, values = self._segment(row)
        if len(steps) == 0:
            return -1, np.full(self.n_values, np.nan)
        return int(steps[-1]), values[-1].copy()

    def last_value(self, row: int, column: int = 0) -> tuple[int, float]:
        """``(step, value)``: the highest step ``row`` reported and objective ``column``'s
        value there, as Python scalars; ``(-1, NaN)`` if none. No arrays (``.item``
        reads): ~0.5 us where :meth:`last` costs ~1.4 us, for the pruners that read only
        the latest report."""
        keys, vals, off, cnt = self._by_row.snap
        if row < len(cnt):
            n = cnt.item(row)  # count before offset (see _Segments)
            if n:
                p = off.item(row) + n - 1
                return keys.item(p), vals.item(p, column)
        return -1, float("nan")

    def memory_bytes(self) -> int:
        """Bytes held: every array's capacity, and the step dict (its table, plus 64 bytes
        a step for the key and id objects, an estimate for CPython ints)."""
        arrays = [*self._log]
        for seg in (self._by_row, self._by_step):
            arrays += [seg.keys, seg.vals, seg.off, seg.cnt, seg.cap]
        return sum(a.nbytes for a in arrays) + sys.getsizeof(self._bucket_of) + 64 * len(self._bucket_of)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        rows, steps, values = (a.copy() for a in self.log())
        return {"n_values": self.n_values, "rows": rows, "steps": steps, "values": values}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["n_values"])  # type: ignore[misc]
        self._load(state["rows"], state["steps"], state["values"])
