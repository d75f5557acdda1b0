"""The results of ``sync.py`` and their markdown: per-condition cells, the tables of the
three sections with their targets, the machine and the method text.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

import _common
import numpy as np

__all__ = ["Block", "Cell", "StepsResult", "load_average", "report"]

TARGET_RUNNING_RATIO = 1.5
TARGET_TPE_S = 3e-3
TARGET_STEPS_S = 50e-6


# ----------------------------------------------------------------------------- results
@dataclass
class Cell:
    """Per-trial times (ns) of one condition, or why there are none."""

    label: str
    times_ns: list[int] = field(default_factory=list)
    sync_ns: list[int] = field(default_factory=list)  # see sync_probe
    error: str | None = None

    @property
    def median_s(self) -> float:
        return float(np.median(self.times_ns)) * 1e-9

    @property
    def p90_s(self) -> float:
        return float(np.percentile(self.times_ns, 90)) * 1e-9

    @property
    def sync_us(self) -> str:
        return f"{np.median(self.sync_ns) / 1e3:.0f}" if self.sync_ns else "—"

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times_ns)


@dataclass
class Block:
    """One table: a backend (``running``) or a history size (``tpe``)."""

    title: str
    cells: list[Cell]
    error: str | None = None


@dataclass
class StepsResult:
    n_trials: int
    n_steps: int
    build_s: float = 0.0
    reads_us: dict[str, float] = field(default_factory=dict)
    kept: int = 0
    error: str | None = None


# ----------------------------------------------------------------------------- tables
def _ms(x: float) -> str:
    return f"{x * 1e3:.2f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def running_table(blocks: list[Block], args: argparse.Namespace) -> str:
    lines = []
    for b in blocks:
        lines += [f"##### {b.title}", ""]
        if b.error and not any(c.ok for c in b.cells):
            lines += [b.error, ""]
            continue
        ref = b.cells[0] if b.cells and b.cells[0].ok and args.running_list[0] == 0 else None
        lines += [f"| RUNNING trials ({args.steps} reports each) | median ms per trial | p90 ms | trials timed "
                  "| ratio vs 0 RUNNING | sync after one trial, median µs |", "|---|---|---|---|---|---|"]
        for c in b.cells:
            if not c.ok:
                lines.append(f"| {c.label} | {c.error or 'error'} | | | | |")
                continue
            ratio = "—" if ref is None else ("1 (reference)" if c is ref else f"{c.median_s / ref.median_s:.2f}×")
            lines.append(f"| {c.label} | {_ms(c.median_s)} | {_ms(c.p90_s)} | {len(c.times_ns)} | {ratio} "
                         f"| {c.sync_us} |")
        last = b.cells[-1] if b.cells else None
        if ref is not None and last is not None and last.ok and last is not ref:
            growth = last.median_s / ref.median_s
            lines += ["", f"Target: at {last.label} within {TARGET_RUNNING_RATIO:g}x of 0 RUNNING: "
                      f"{growth:.2f}x, {_verdict(growth <= TARGET_RUNNING_RATIO)}."]
        if b.error:
            lines += ["", f"**{b.error}**"]
        lines.append("")
    return "\n".join(lines).rstrip()


def tpe_table(blocks: list[Block], args: argparse.Namespace) -> str:
    labels = [c.label for c in blocks[0].cells] if blocks else []
    head = (["finished trials"] + [f"{lab}: median (p90) ms" for lab in labels] + ["ratio", "target ≤ 3 ms"]
            + [f"sync after one trial, median µs ({lab})" for lab in labels])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for b in blocks:
        cells = list(b.cells)
        row = [b.title]
        for c in cells:
            row.append(f"{_ms(c.median_s)} ({_ms(c.p90_s)})" if c.ok else (c.error or b.error or "error"))
        if all(c.ok for c in cells) and len(cells) == 2:
            row.append(f"{cells[1].median_s / cells[0].median_s:.2f}×")
            worst = max(c.median_s for c in cells)
            row.append(_verdict(worst <= TARGET_TPE_S))
        else:
            row += ["—", "—"]
        row += [c.sync_us for c in cells]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Ratio: with the other process / nothing else running. Target: both medians at most 3 ms."]
    return "\n".join(lines)


def steps_table(res: StepsResult) -> str:
    if res.error and not res.reads_us:
        return f"**{res.error}**"
    lines = ["| read | median µs |", "|---|---|"]
    for k, v in res.reads_us.items():
        lines.append(f"| `{k}` | {v:.1f} |" if not k.startswith("the same") else f"| {k} | {v:.1f} |")
    key = "study.view.history.steps.at_step(s) + keep COMPLETE (take)"
    lines += ["", f"{res.n_trials:,} trials x {res.n_steps} steps ({res.n_trials * res.n_steps:,} reports "
              f"through `trial.report`, built in {res.build_s:.1f} s, "
              f"{res.build_s / max(res.n_trials * res.n_steps, 1) * 1e6:.2f} µs per report including the "
              f"asks and tells); {res.kept:,} COMPLETE rows kept per read."]
    if key in res.reads_us:
        v = res.reads_us[key]
        lines.append(f"Target: the read with keep COMPLETE at most {TARGET_STEPS_S * 1e6:g} µs: "
                     f"{v:.1f} µs, {_verdict(v * 1e-6 <= TARGET_STEPS_S)}.")
    if res.error:
        lines.append(f"**{res.error}**")
    return "\n".join(lines)


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info(load_at_start: str) -> str:
    import sqlite3

    return (_common.machine_info(("sqlalchemy", "psycopg")) + f"\n- SQLite library: {sqlite3.sqlite_version}"
            + f"\n- Load average (1, 5, 15 min): {load_at_start} at the start, {load_average()} at the end")


def report(args: argparse.Namespace, command: str, running: list[Block] | None, tpe: list[Block] | None,
           steps: StepsResult | None) -> str:
    parts = [f"Command: `{command}`", "", machine_info(args.load_at_start), "",
             f"TPE trial = `study.ask()`, the 10 `suggest_*` of the mixed space of `overhead_tpe.py`, "
             f"`study.tell`, timed as a whole. Studies prefilled with `ask_array`/`tell_array` (random "
             f"sampler), then `TPESampler(seed={args.seed})` and {args.warmup} untimed trials. RUNNING "
             f"trials: created by another process through its own storage (`ask`, the 10 `suggest_*`, "
             f"{args.steps} `trial.report`), never told"
             + (f", heartbeat every {args.heartbeat:g} s" if args.heartbeat else ", no heartbeat")
             + f". {args.window} trials timed per condition in {args.rounds} interleaved rounds. "
             f"\"Sync after one trial\" (a diagnostic): {args.sync_probes} more trials per condition after "
             "the window, each followed by `study.view.sync()` timed alone, which reads and applies that "
             "trial's changes, as the sync at the start of every TPE ask does."]
    if running is not None:
        parts += ["", f"#### RUNNING trials beside a {args.trials:,}-trial study (TPE trial, ms)", "",
                  running_table(running, args)]
    if tpe is not None:
        parts += ["", "#### TPE define-by-run on SQLite (ms per trial)", "", tpe_table(tpe, args)]
    if steps is not None:
        parts += ["", "#### Reading one step's values through a study's history (µs)", "", steps_table(steps)]
    return "\n".join(parts) + "\n"
