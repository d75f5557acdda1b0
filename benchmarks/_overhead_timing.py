"""How ``overhead.py`` times a library: one study, every ask+tell pair timed, medians in
windows before the checkpoints, rounds over the libraries.

A :class:`Row` holds one library/path's result. :func:`measure` warms up on a throwaway
study, then times ``n`` ask+tell pairs on a fresh one with ``time.perf_counter_ns``;
:func:`batch_medians` does the same for ``ask_array`` batches; :func:`guard` records a
failure in the row instead of raising; :func:`rounds` runs the jobs round-robin and keeps
the median of each cell.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from _common import rss_bytes

__all__ = ["Job", "Row", "batch_medians", "checkpoints_up_to", "guard", "measure", "rounds", "rss_bytes"]


# ----------------------------------------------------------------------------- results
@dataclass
class Row:
    """One library/path: medians per checkpoint (seconds per trial) and notes."""

    label: str
    ran_to: int = 0  # trials actually run in the measured study
    medians: dict[int, float] = field(default_factory=dict)
    na: dict[int, str] = field(default_factory=dict)  # checkpoint -> why no value
    notes: list[str] = field(default_factory=list)
    rss_per_trial: float | None = None
    history_per_trial: float | None = None
    wall_s: float = 0.0
    error: str | None = None


def _window(c: int, frac: float, min_window: int) -> int:
    """Trials in the window that ends at checkpoint ``c``: ``frac * c``, at least ``min_window``."""
    return min(c, max(int(c * frac), min_window))


def _per_trial_medians(ns: np.ndarray, checkpoints: list[int], args: argparse.Namespace) -> dict[int, float]:
    """Median seconds per trial in the window before each checkpoint reached."""
    out = {}
    for c in checkpoints:
        if c <= len(ns):
            out[c] = float(np.median(ns[c - _window(c, args.window_frac, args.min_window): c])) * 1e-9
    return out


def batch_medians(ns: np.ndarray, ends: np.ndarray, sizes: np.ndarray, checkpoints: list[int],
                   args: argparse.Namespace, row: Row) -> None:
    """Median per-trial time over the batches that end inside each checkpoint's window.

    A batch holds ``--batch-size`` trials, so the window is widened to at least five
    batches (capped at the checkpoint) to give the median something to work with.
    """
    per_trial = ns / sizes * 1e-9
    for c in checkpoints:
        if c > row.ran_to:
            continue
        w = min(c, max(_window(c, args.window_frac, args.min_window), 5 * args.batch_size))
        sel = (ends > c - w) & (ends <= c)
        if not sel.any() or ends[sel][-1] != c:
            row.na[c] = f"n/a (batch of {args.batch_size:,})"
            continue
        row.medians[c] = float(np.median(per_trial[sel]))


# ----------------------------------------------------------------------------- timing
def _time_loop(step: Callable[[], None], out: np.ndarray) -> None:
    """Fill ``out[i]`` with the nanoseconds one ``step()`` (an ask+tell pair) took."""
    clock = time.perf_counter_ns
    for i in range(len(out)):
        t0 = clock()
        step()
        out[i] = clock() - t0


def measure(row: Row, make_step: Callable[[], tuple[Callable[[], None], Any]], n: int,
             warmup: int, checkpoints: list[int], args: argparse.Namespace,
             check: Callable[[Any, int, str], str | None]) -> Any:
    """Warm up on a throwaway study, then time ``n`` ask+tell pairs on a fresh one.

    The warm-up pays for imports, JIT compilation and first-call caches so that the
    early checkpoints measure the steady state rather than start-up.
    """
    step, _ = make_step()
    _time_loop(step, np.empty(warmup, dtype=np.int64))
    del step, _
    gc.collect()
    ns = np.zeros(n, dtype=np.int64)
    rss0 = rss_bytes()
    step, study = make_step()
    t0 = time.perf_counter()
    _time_loop(step, ns)
    row.wall_s = time.perf_counter() - t0
    rss1 = rss_bytes()
    row.ran_to = n
    row.medians = _per_trial_medians(ns, checkpoints, args)
    if rss0 is not None and rss1 is not None:
        row.rss_per_trial = (rss1 - rss0) / n
    problem = check(study, n, args.space)
    if problem:
        row.error = f"sanity check failed: {problem}"
    return study


def guard(row: Row, fn: Callable[[], None]) -> Row:
    """Run one library's benchmark; record (not raise) an exception so the others still run."""
    print(f"  {row.label} ...", file=sys.stderr, flush=True)
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - a benchmark reports failures, it does not stop
        row.error = f"{type(e).__name__}: {e}"
    gc.collect()
    msg = row.error or f"{row.ran_to:,} trials in {row.wall_s:.1f} s"
    print(f"    -> {msg}", file=sys.stderr, flush=True)
    return row


# ----------------------------------------------------------------------------- rounds
Job = tuple[str, Callable[[], Row], list[str]]  # label, benchmark, notes


def rounds(jobs: list[Job], repeats: int) -> list[Row]:
    """Run every job ``repeats`` times, round-robin, and keep the median of each cell.

    Interleaving the libraries spreads a burst of load from elsewhere on the machine
    over all of them instead of one; the median across rounds then drops it.
    """
    runs: list[list[Row]] = [[] for _ in jobs]
    for k in range(repeats):
        if repeats > 1:
            print(f" round {k + 1}/{repeats}", file=sys.stderr, flush=True)
        for (_, fn, _), out in zip(jobs, runs):
            out.append(fn())
            gc.collect()
    return [_combine(label, notes, rs) for (label, _, notes), rs in zip(jobs, runs)]


def _combine(label: str, notes: list[str], runs: list[Row]) -> Row:
    """One row from repeated runs: per-checkpoint median; the first error wins."""
    row = Row(label, ran_to=runs[0].ran_to, na=runs[0].na, notes=[*runs[0].notes, *notes])
    row.error = next((r.error for r in runs if r.error), None)
    for c in runs[0].medians:
        row.medians[c] = float(np.median([r.medians[c] for r in runs if c in r.medians]))

    def med(xs: list[float | None]) -> float | None:
        vals = [x for x in xs if x is not None]
        return float(np.median(vals)) if vals else None

    # Later rounds reuse memory the allocator kept from earlier ones, so RSS growth
    # is only meaningful in the first round.
    row.rss_per_trial = runs[0].rss_per_trial
    row.history_per_trial = med([r.history_per_trial for r in runs])
    row.wall_s = med([r.wall_s for r in runs]) or 0.0
    return row


def checkpoints_up_to(max_trials: int) -> list[int]:
    """100, 1,000, 10,000, ... up to ``max_trials`` (which is added if not a power of ten)."""
    cps = [c for c in (10**k for k in range(2, 10)) if c <= max_trials]
    if not cps or cps[-1] != max_trials:
        cps.append(max_trials)
    return cps
