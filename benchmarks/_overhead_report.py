"""The markdown report of ``overhead.py``: the tables per section, the memory table, the
machine, the method text and the mixed space's targets, from the rows of
:mod:`_overhead_timing`.
"""

from __future__ import annotations

import argparse
import os

import _common
from _overhead_timing import Row

__all__ = ["DBR_REF", "DICT_REF", "load_average", "machine_info", "memory_table", "report", "table", "targets"]

DICT_REF = "hpo_core `ask(dict)`"
DBR_REF = "hpo_core define-by-run"
# Targets of the mixed space (seconds per trial; ratios).
TARGET_SQLITE_DBR_S = 3e-3
TARGET_OPTUNA_RATIO = 10.0
TARGET_MEMORY_S = 10e-6


# ----------------------------------------------------------------------------- tables
def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 1000 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _ratio(row: Row, ref: Row | None) -> str:
    """``row / ref`` at the largest checkpoint both reached (>1: slower than hpo_core)."""
    if ref is None or row.error or ref.error:
        return "—"
    if row is ref:
        return "1 (reference)"
    common = sorted(set(row.medians) & set(ref.medians))
    if not common:
        return "—"
    c = common[-1]
    return f"{row.medians[c] / ref.medians[c]:.2f}× @ {c:,}"


def _cell(row: Row, c: int, scale: float) -> str:
    if row.error:
        return "error"
    if c in row.medians:
        return _fmt(row.medians[c] * scale)
    if c in row.na:
        return row.na[c]
    return "not run"


def table(rows: list[Row], cps: list[int], unit: str) -> str:
    """Markdown table: rows = library/path, columns = checkpoints, then the ratios and notes."""
    scale = {"µs": 1e6, "ms": 1e3}[unit]
    ref = next((r for r in rows if r.label == DICT_REF), None)
    dbr = next((r for r in rows if r.label == DBR_REF), None)
    head = ["library / path"] + [f"{c:,}" for c in cps]
    head += ["ratio vs hpo_core `ask(dict)`", "ratio vs hpo_core define-by-run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.label] + [_cell(r, c, scale) for c in cps]
        is_dbr = "define-by-run" in r.label
        cells += [_ratio(r, ref), _ratio(r, dbr) if is_dbr else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Cells: median {unit} per trial (ask + tell) in the window before the checkpoint.")
    for r in rows:
        notes = [n for n in r.notes if n] + ([f"**{r.error}**"] if r.error else [])
        if notes:
            lines.append(f"- {r.label}: " + "; ".join(notes) + ".")
    return "\n".join(lines)


def memory_table(rows: list[Row]) -> str:
    lines = ["| library / path | trials | RSS growth / trial | hpo_core history arrays / trial |",
             "|---|---|---|---|"]
    for r in rows:
        if r.error:
            continue
        rss = "—" if r.rss_per_trial is None else f"{r.rss_per_trial:,.0f} B"
        hist = "—" if r.history_per_trial is None else f"{r.history_per_trial:,.0f} B"
        lines.append(f"| {r.label} | {r.ran_to:,} | {rss} | {hist} |")
    lines.append("")
    lines.append("RSS growth: resident memory after the run minus before it (study alive), divided by "
                 "the trials, in the first round (later rounds reuse freed memory); allocator "
                 "slack and the order of the runs make it rough. History arrays: "
                 "`study._history().memory_bytes()` (array capacity, grown by doubling) / trials.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- machine
def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info(load_at_start: str | None = None) -> str:
    import sqlite3

    load = "" if load_at_start is None else (
        f"\n- Load average (1, 5, 15 min): {load_at_start} at the start, {load_average()} at the end")
    return (_common.machine_info(("optuna", "rustuna", "sqlalchemy"))
            + f"\n- SQLite library: {sqlite3.sqlite_version}" + load)


# ----------------------------------------------------------------------------- report
def report(args: argparse.Namespace, command: str, memory: tuple[list[Row], list[int]] | None,
           sqlite: tuple[list[Row], list[int]] | None) -> str:
    """The whole result as markdown: method, machine, one table per section."""
    parts = [
        f"Command: `{command}`",
        "",
        machine_info(getattr(args, "load_at_start", None)),
        "",
        f"Random sampler (seed {args.seed}), {_space_text(args)} Each "
        "library runs one study continuously; every ask+tell pair is timed with "
        "`time.perf_counter_ns`, and a cell is the median over the last "
        f"{args.window_frac:.0%} of the trials before the checkpoint (at least "
        f"{args.min_window} trials). A throwaway warm-up study ({args.warmup:,} trials in memory, "
        f"{args.sqlite_warmup:,} on SQLite) runs first so imports, JIT compilation and first-call "
        "caches are not counted. The libraries run in turn, round-robin, "
        f"{args.repeat} round(s) in memory and {args.sqlite_repeat} on SQLite, and each cell "
        "is the median over the rounds. Ratios: row median / hpo_core median at the largest checkpoint "
        "both reached (above 1: slower than hpo_core). \"not run\": the library was capped below "
        "that trial count; nothing is extrapolated.",
    ]
    if memory is not None:
        rows, cps = memory
        parts += ["", "#### In memory, tight loop (µs per trial)", "", table(rows, cps, "µs"),
                  "- hpo_core `ask_array`/`tell_array`: one timing per batch divided by its size; "
                  "the window is widened to at least 5 batches; a checkpoint below the batch size "
                  "has no value.",
                  "", "#### Memory (in memory, at the end of each run)", "", memory_table(rows)]
    if sqlite is not None:
        rows, cps = sqlite
        parts += ["", "#### SQLite file (ms per trial)", "",
                  "A fresh temporary database file per study, created through each library's own "
                  "SQLite storage (hpo_core and Optuna: `sqlite:///` URL; rustuna: "
                  "`rustuna.storages.SQLite3Storage`).", "", table(rows, cps, "ms")]
    if args.space == "mixed":
        parts += ["", "#### Targets (mixed space)", "", targets(memory, sqlite)]
    return "\n".join(parts) + "\n"


def _space_text(args: argparse.Namespace) -> str:
    if args.space == "uniform":
        return "10 floats in [0, 1], objective = their sum."
    return ("the 10-parameter mixed space of `overhead_tpe.py` (float, log float, float step 0.05, "
            "int, log int, int step 5, categoricals of 3 and 10 strings, two more floats), "
            "objective `overhead_tpe.objective` (a few arithmetic operations on five of them); "
            "hpo_core `ask(dict)` reads `trial.params` for it; Optuna and rustuna are timed "
            "define-by-run (10 `suggest_*` calls).")


def _largest(row: Row | None, cap: int | None = None) -> tuple[int, float] | None:
    """``(checkpoint, seconds)`` at the largest checkpoint of ``row`` (up to ``cap``)."""
    if row is None or row.error or not row.medians:
        return None
    cps = [c for c in row.medians if cap is None or c <= cap]
    return (max(cps), row.medians[max(cps)]) if cps else None


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets(memory: tuple[list[Row], list[int]] | None, sqlite: tuple[list[Row], list[int]] | None) -> str:
    """The issue's targets on the mixed space, one line each, from this run's medians."""
    lines = []
    if sqlite is not None:
        rows = {r.label: r for r in sqlite[0]}
        dbr = rows.get(DBR_REF)
        at = _largest(dbr)
        if at is not None:
            worst = max(dbr.medians.values())  # type: ignore[union-attr]
            lines.append(f"- hpo_core define-by-run on SQLite: {at[1] * 1e3:.2f} ms per trial at {at[0]:,} "
                         f"trials, at most {worst * 1e3:.2f} ms over the checkpoints (target at most "
                         f"{TARGET_SQLITE_DBR_S * 1e3:g} ms: {_verdict(worst <= TARGET_SQLITE_DBR_S)}).")
        opt = _largest(rows.get("Optuna define-by-run"))
        if at is not None and opt is not None and opt[0] in dbr.medians:  # type: ignore[union-attr]
            ratio = opt[1] / dbr.medians[opt[0]]  # type: ignore[union-attr]
            lines.append(f"- Optuna define-by-run on SQLite / hpo_core define-by-run at {opt[0]:,} trials: "
                         f"{ratio:.1f}x (target at least {TARGET_OPTUNA_RATIO:g}x: "
                         f"{_verdict(ratio >= TARGET_OPTUNA_RATIO)}).")
    if memory is not None:
        rows = {r.label: r for r in memory[0]}
        ref = rows.get(DICT_REF)
        at = _largest(ref)
        if at is not None:
            lines.append(f"- hpo_core `ask(dict)` + `trial.params` + `tell` in memory: {at[1] * 1e6:.2f} µs per "
                         f"trial at {at[0]:,} trials (target at most {TARGET_MEMORY_S * 1e6:g} µs: "
                         f"{_verdict(at[1] <= TARGET_MEMORY_S)}).")
        rs = _largest(rows.get("rustuna define-by-run"))
        if at is not None and rs is not None and rs[0] in ref.medians:  # type: ignore[union-attr]
            ratio = rs[1] / ref.medians[rs[0]]  # type: ignore[union-attr]
            lines.append(f"- rustuna define-by-run / hpo_core `ask(dict)` in memory at {rs[0]:,} trials: "
                         f"{ratio:.2f}x (target above 1: {_verdict(ratio > 1.0)}).")
    return "\n".join(lines) if lines else "No target could be evaluated (a row is missing or failed)."
