"""Journal storage: per-trial ask+tell on a journal file, and the time to open a long journal.

(a) Per trial: one study per library on a fresh journal file, the random sampler,
define-by-run on the 10-parameter mixed space of ``overhead_tpe.py`` (floats, log and
stepped floats, ints, log and stepped ints, two categoricals) with its trivial
objective. Every ask+tell pair (ten ``suggest_*`` calls in between) is timed with
``time.perf_counter_ns`` after a warm-up study; the table gives the median over the
window of trials just before each checkpoint (10 % of it, at least 200 trials).
Rows: hpo_core's ``JournalStorage(JournalFileBackend(path))`` (the default: no fsync,
the durability of hpo_core's SQLite storage), the same with ``fsync=True``, and
Optuna's ``JournalStorage(JournalFileBackend(path))`` (which fsyncs every append) as
the anchor, all in the same run. Target: hpo_core at most 1 ms per trial at 10,000.

(b) Open: a journal of N trials (100,000 by default) written by hpo_core as in (a),
snapshots on (the default interval), then in fresh processes (three each, the median
reported): the time until ``load_study`` returns with the history synced ("open"),
and until ``study.trials`` returns as well ("+ trials"), with the snapshot and with a
backend that keeps none (a full replay). The journals of (a) at 10,000 trials are
opened too, Optuna's included. Target: a 100,000-trial journal opens in at most 2 s.

Usage::

    python benchmarks/journal.py                  # (a) to 10,000 trials, (b) at 100,000
    python benchmarks/journal.py --quick          # (a) to 1,000, (b) at 10,000
    python benchmarks/journal.py --write-readme   # also update benchmarks/README.md

Run with the repository on ``PYTHONPATH`` (or ``pip install -e '.[benchmark]'``).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402  (machine info and README sections)
import overhead_tpe  # noqa: E402  (the mixed space and its objective)

MARKER = "journal"
TARGET_TRIAL_S = 1e-3
TARGET_OPEN_S = 2.0


# ----------------------------------------------------------------------------- (a) per trial
def _hpo_study(path: str, fsync: bool) -> Any:
    import hpo_core
    from hpo_core.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(path, fsync=fsync))
    return hpo_core.create_study(storage=storage, study_name="bench",
                                 sampler=hpo_core.samplers.RandomSampler(seed=0))


def _optuna_study(path: str) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    return optuna.create_study(storage=storage, study_name="bench", sampler=optuna.samplers.RandomSampler(seed=0))


def _time_study(study: Any, n: int) -> np.ndarray:
    """Nanoseconds of each of ``n`` define-by-run ask+tell pairs."""
    ask, tell = study.ask, study.tell
    objective, suggest_all = overhead_tpe.objective, overhead_tpe.suggest_all
    clock = time.perf_counter_ns
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        t0 = clock()
        t = ask()
        tell(t, objective(suggest_all(t)))
        out[i] = clock() - t0
    return out


def _check(study: Any, n: int) -> str | None:
    trials = study.trials
    if len(trials) != n or [t.number for t in trials] != list(range(n)):
        return f"{len(trials)} trials, expected {n} numbered 0..{n - 1}"
    if any(abs(t.value - overhead_tpe.objective(t.params)) > 1e-9 for t in trials[:: max(1, n // 200)]):
        return "a value differs from the objective of its parameters"
    return None


def run_per_trial(args: argparse.Namespace, workdir: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
    rows = []
    paths: list[tuple[str, Callable[[str], Any]]] = [
        ("hpo_core, `JournalFileBackend(path)`", lambda p: _hpo_study(p, False)),
        ("hpo_core, `JournalFileBackend(path, fsync=True)`", lambda p: _hpo_study(p, True)),
        ("Optuna 5.0, `JournalFileBackend(path)`", _optuna_study),
    ]
    for k, (label, make) in enumerate(paths):
        log(f"  {label} ...")
        _time_study(make(str(workdir / f"warmup{k}.log")), args.warmup)
        gc.collect()
        path = workdir / f"journal{k}.log"
        t0 = time.perf_counter()
        study = make(str(path))
        ns = _time_study(study, args.trials)
        wall = time.perf_counter() - t0
        medians = {}
        for c in args.checkpoints:
            w = min(c, max(int(0.1 * c), 200))
            medians[c] = float(np.median(ns[c - w : c])) * 1e-9
        rows.append({"label": label, "medians": medians, "mean": float(ns.mean()) * 1e-9,
                     "max": float(ns.max()) * 1e-9, "wall": wall, "path": str(path),
                     "bytes": path.stat().st_size, "error": _check(study, args.trials)})
        log(f"    -> {args.trials:,} trials in {wall:.1f} s")
    return rows


# ----------------------------------------------------------------------------- (b) open
OPEN_CODE = r"""
import json, logging, sys, time
t0 = time.perf_counter()
kind, path, mode = sys.argv[1:4]
if kind == "optuna":
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    study = optuna.load_study(study_name="bench", storage=storage)
    t1 = time.perf_counter()
    n = len(study.trials)
else:
    import hpo_core
    from hpo_core.storages.journal import BaseJournalBackend, JournalFileBackend, JournalStorage
    hpo_core.logging.set_verbosity(logging.WARNING)

    class NoSnapshot(BaseJournalBackend):
        def __init__(self, inner):
            self.inner = inner
        def read_logs(self, k):
            return self.inner.read_logs(k)
        def append_logs(self, logs):
            self.inner.append_logs(logs)

    t0 = time.perf_counter()
    backend = JournalFileBackend(path)
    storage = JournalStorage(backend if mode == "snapshot" else NoSnapshot(backend))
    study = hpo_core.load_study(study_name="bench", storage=storage)
    study._history()
    t1 = time.perf_counter()
    n = len(study.trials)
t2 = time.perf_counter()
print(json.dumps({"open": t1 - t0, "trials": t2 - t0, "n": n}))
"""


def _open_once(kind: str, path: str, mode: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(_common.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", OPEN_CODE, kind, path, mode], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _open_median(kind: str, path: str, mode: str, repeats: int) -> dict[str, float]:
    runs = [_open_once(kind, path, mode) for _ in range(repeats)]
    return {key: float(np.median([r[key] for r in runs])) for key in ("open", "trials", "n")}


def _snapshot_covers(path: Path) -> int:
    """Entries covered by the snapshot next to the journal ``path`` (0 if none)."""
    snap = Path(str(path) + ".snapshot")
    if not snap.exists():
        return 0
    with open(snap, "rb") as f:
        f.readline()  # the magic line
        return int(json.loads(f.readline())["log_pos"])


def build_long_journal(args: argparse.Namespace, path: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Write ``args.open_trials`` trials as in (a), with snapshots on (the default), and
    keep the snapshot of 5,000 trials before the end aside (``.snapshot.early``)."""
    from hpo_core.storages._journal import _snapshot
    from hpo_core.storages.journal import JournalFileBackend

    log(f"  writing a {args.open_trials:,}-trial journal ...")
    study = _hpo_study(str(path), False)
    early = max(args.open_trials - 5_000, 0)
    t0 = time.perf_counter()
    ns = _time_study(study, early)
    snap = Path(str(path) + ".snapshot")
    if snap.exists():
        Path(str(snap) + ".early").write_bytes(snap.read_bytes())
    ns = np.concatenate([ns, _time_study(study, args.open_trials - early)])
    wall = time.perf_counter() - t0
    storage = study._storage
    with storage._lock:  # what one snapshot of the whole journal costs (saved aside)
        t1 = time.perf_counter()
        data = _snapshot.dump(storage._state)
        t2 = time.perf_counter()
        JournalFileBackend(str(path.with_name("scratch.log"))).save_snapshot(data)
        t3 = time.perf_counter()
    log(f"    -> {wall:.1f} s")
    return {"wall": wall, "median": float(np.median(ns)) * 1e-9, "p99": float(np.quantile(ns, 0.99)) * 1e-9,
            "max": float(ns.max()) * 1e-9, "entries": storage._state.log_pos, "bytes": path.stat().st_size,
            "dump": t2 - t1, "save": t3 - t2, "snapshot_bytes": len(data)}


def _swap_early(path: Path) -> None:
    """Swap the journal's snapshot with the one kept aside (call twice to undo)."""
    snap = Path(str(path) + ".snapshot")
    early, tmp = Path(str(snap) + ".early"), Path(str(snap) + ".swap")
    os.replace(snap, tmp)
    os.replace(early, snap)
    os.replace(tmp, early)


def run_open(args: argparse.Namespace, workdir: Path, per_trial: list[dict[str, Any]],
             log: Callable[[str], None]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = workdir / "long.log"
    build = build_long_journal(args, path, log)
    cells = []
    journals = [(f"hpo_core, {args.open_trials:,} trials", "hpo", path)]
    journals += [(f"hpo_core, {args.trials:,} trials (from (a))", "hpo", Path(per_trial[0]["path"])),
                 (f"Optuna 5.0, {args.trials:,} trials (from (a))", "optuna", Path(per_trial[2]["path"]))]
    for label, kind, p in journals:
        modes = ["full"]
        if kind == "hpo" and _snapshot_covers(p):
            modes = ["snapshot", "full"]
            if Path(str(p) + ".snapshot.early").exists():
                modes.insert(1, "early")
        for mode in modes:
            log(f"  opening {label}, {mode} ...")
            if mode == "early":
                _swap_early(p)
            try:
                covers = _snapshot_covers(p) if mode != "full" else 0
                cells.append({"label": label, "mode": mode, "covers": covers, "entries": _entries(p, kind),
                              **_open_median(kind, str(p), "full" if mode == "full" else "snapshot", args.repeats)})
            finally:
                if mode == "early":
                    _swap_early(p)
    return build, cells


def _entries(path: Path, kind: str) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


# ----------------------------------------------------------------------------- report
def _ms(s: float) -> str:
    return f"{s * 1e3:,.2f} ms" if s < 1 else f"{s:,.2f} s"


def report(args: argparse.Namespace, per_trial: list[dict[str, Any]], build: dict[str, Any] | None,
           cells: list[dict[str, Any]], command: str) -> str:
    out = ["## Journal storage (issue #12)", "",
           f"Command: `{command}` (`benchmarks/journal.py`; see its docstring for the method).", "",
           _common.machine_info(["optuna"]), "",
           "### Per-trial ask+tell on a journal file (random sampler, define-by-run, mixed space)", ""]
    head = "| storage | " + " | ".join(f"median at {c:,}" for c in args.checkpoints) + " | mean | journal size |"
    out += [head, "|---" * (len(args.checkpoints) + 3) + "|"]
    for r in per_trial:
        cells_ = " | ".join(_ms(r["medians"][c]) for c in args.checkpoints)
        note = f" (check failed: {r['error']})" if r["error"] else ""
        out.append(f"| {r['label']}{note} | {cells_} | {_ms(r['mean'])} | {r['bytes'] / 1e6:,.1f} MB |")
    last = args.checkpoints[-1]
    hpo, hpo_sync, opt = (r["medians"][last] for r in per_trial)
    out += ["", f"Optuna / hpo_core at {last:,} trials: {opt / hpo:.1f}x (default), {opt / hpo_sync:.1f}x "
            f"(both fsync every append). Target at most {TARGET_TRIAL_S * 1e3:g} ms per trial: "
            f"{'met' if hpo <= TARGET_TRIAL_S else 'missed'} ({_ms(hpo)}; with fsync {_ms(hpo_sync)}).", ""]
    if build is not None:
        out += ["### Opening a journal", "",
                f"The {args.open_trials:,}-trial journal: {build['entries']:,} entries, "
                f"{build['bytes'] / 1e6:,.1f} MB, written in {build['wall']:.1f} s (median {_ms(build['median'])} "
                f"per trial, 99th percentile {_ms(build['p99'])}, slowest {_ms(build['max'])}: the trials whose "
                f"writer saved a snapshot). Its snapshot: {build['snapshot_bytes'] / 1e6:,.1f} MB, pickled in "
                f"{_ms(build['dump'])} and written in {_ms(build['save'])}.", "",
                f"Median of {args.repeats} fresh processes each; \"open\" = `load_study` with the history synced, "
                "\"+ trials\" = then `study.trials` (one `FrozenTrial` per trial).", "",
                "| journal | read | open | + trials |", "|---|---|---|---|"]
        for c in cells:
            if c["mode"] == "full":
                mode = f"all {c['entries']:,} entries (no snapshot)"
            else:
                mode = f"snapshot of {c['covers']:,} entries + the {c['entries'] - c['covers']:,} after it"
            out.append(f"| {c['label']} | {mode} | {_ms(c['open'])} | {_ms(c['trials'])} |")
        big = [c for c in cells if c["label"].startswith(f"hpo_core, {args.open_trials:,}") and c["mode"] != "full"]
        if big:
            worst = max(big, key=lambda c: c["open"])
            out += ["", f"Target: a {args.open_trials:,}-trial journal opens in at most {TARGET_OPEN_S:g} s: "
                    f"{'met' if worst['open'] <= TARGET_OPEN_S else 'missed'} with a snapshot (at most "
                    f"{_ms(worst['open'])}; {_ms(worst['trials'])} with `study.trials`)."]
    return "\n".join(out) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Journal storage: per-trial overhead and time to open.")
    p.add_argument("--quick", action="store_true", help="1,000 trials in (a), a 10,000-trial journal in (b)")
    p.add_argument("--trials", type=int, default=None, help="trials per study in (a) (default 10,000)")
    p.add_argument("--open-trials", type=int, default=None, help="trials of the journal opened in (b) (default 100,000)")
    p.add_argument("--warmup", type=int, default=200, help="warm-up trials per library (default 200)")
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per open timing (default 3)")
    p.add_argument("--skip-open", action="store_true", help="skip (b)")
    p.add_argument("--write-readme", action="store_true", help="write the report into benchmarks/README.md")
    args = p.parse_args(argv)
    args.trials = args.trials or (1_000 if args.quick else 10_000)
    args.open_trials = args.open_trials or (10_000 if args.quick else 100_000)
    args.checkpoints = [c for c in (1_000, 10_000, 100_000) if c <= args.trials] or [args.trials]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python benchmarks/journal.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    import hpo_core

    hpo_core.logging.set_verbosity(logging.WARNING)
    _common.git_rev()  # names the code this process runs

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="hpo_journal_bench_") as tmp:
        workdir = Path(tmp)
        log("(a) per-trial ask+tell")
        per_trial = run_per_trial(args, workdir, log)
        build, cells = (None, []) if args.skip_open else run_open(args, workdir, per_trial, log)
        text = report(args, per_trial, build, cells, command.strip())
    print(text)
    if args.write_readme:
        _common.write_section(_common.README, MARKER, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
