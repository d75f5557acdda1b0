"""The data layer under load: per-trial cost beside RUNNING trials, and step reads.

Three sections (``--sections``, default all), each timed in one run:

* ``running``: a TPE trial on an RDB storage, i.e. ``study.ask()``, 10 ``suggest_*``
  calls on the 10-parameter mixed space of ``overhead_tpe.py`` and ``study.tell``,
  timed as a whole, in a study of 10,000 finished trials with 0, 64 and 256 RUNNING
  trials that reported 20 steps each, on SQLite and on PostgreSQL. The RUNNING trials
  belong to another process (another storage object, as another worker's would), which
  creates them (``ask``, the 10 ``suggest_*``, 20 ``trial.report``) and then waits
  without telling them. Target: at 256 running, within 1.5x of the 0-running figure
  (the change-sequence sync reads what changed, not what runs).
* ``tpe``: the same TPE trial on SQLite at 2,000 and 10,000 finished trials, once with
  nothing else running and once while another process holds 256 RUNNING trials (20
  reports each) in the same file. Target: at most 3 ms per trial.
* ``steps``: reading the step-s values of 10,000 trials that reported 100 steps each
  through a real study's history, as a pruner does: ``study.view.history``, then
  ``history.steps.at_step(s)`` and keeping the COMPLETE rows (``take``). ``steps.py``
  times the bare ``StepIndex``; here the index, states and view are a study's. Target:
  at most 50 us (the target of ``steps.py``).

Method: studies are prefilled fast with ``ask_array``/``tell_array`` and the random
sampler on the same space (values from the objective), then their sampler is switched
to ``TPESampler(seed=0)``; a few untimed trials pay the first sync and the sampler's
caches. Each condition has its own study (its own SQLite file), and the conditions of a
section are timed in turn, ``--rounds`` times, each round timing ``window / rounds``
consecutive trials per condition in a rotating order, so that load from elsewhere on
the machine spreads over all of them. Cells: the median (and 90th percentile) of the
per-trial times, ``time.perf_counter_ns``.

Usage::

    python benchmarks/sync.py --help
    python benchmarks/sync.py --quick                 # about a minute
    python benchmarks/sync.py                         # full size
    python benchmarks/sync.py --sections running --postgres-url postgresql://user@host/db
    python benchmarks/sync.py --write-readme          # also update benchmarks/README.md

PostgreSQL: ``--postgres-url`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
the benchmark creates studies named ``hpo_sync_bench_<pid>_<k>`` there and deletes them
at the end. Where the server cannot be reached its rows say so and the rest runs.

The studies and the holder process live in ``_sync_studies.py``, the result cells, tables
and report in ``_sync_report.py``.
"""

from __future__ import annotations

import argparse
import functools
import gc
import logging
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402  (machine info, README sections)
from _sync_report import Block, Cell, StepsResult, load_average, report  # noqa: E402
from _sync_studies import (  # noqa: E402  (the studies, the holder process)
    Studies,
    hold,
    holder,
    n_finished,
    postgres_problem,
    prefill,
    tpe_trial,
    use_tpe,
)

README = Path(__file__).with_name("README.md")
MARKER = "sync"
SECTIONS = ("running", "tpe", "steps")
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


# ----------------------------------------------------------------------------- timing
def trial_steps(studies: list[Any]) -> list[Callable[[], None]]:
    """One ``tpe_trial`` call per study, as argument-less callables."""
    return [functools.partial(tpe_trial, study) for study in studies]


def interleave(cells: list[Cell], steps: list[Callable[[], None]], window: int, rounds: int) -> None:
    """Time ``window`` calls of each ``steps[i]`` into ``cells[i]``, in ``rounds`` rounds.

    Each round times a slice of consecutive calls per condition, starting with a
    different condition each round, so that a burst of load from elsewhere on the
    machine lands on every condition rather than on one.
    """
    clock = time.perf_counter_ns
    live = [i for i, c in enumerate(cells) if c.error is None]
    sizes = np.diff(np.linspace(0, window, rounds + 1).round().astype(int)).tolist()
    for k, size in enumerate(sizes):
        order = live[k % len(live):] + live[: k % len(live)] if live else []
        for i in order:
            cell, step = cells[i], steps[i]
            try:
                for _ in range(size):
                    t0 = clock()
                    step()
                    cell.times_ns.append(clock() - t0)
            except Exception as e:  # noqa: BLE001 - record it; the other conditions go on
                cell.error = f"{type(e).__name__}: {e}"
                live.remove(i)


def sync_probe(cells: list[Cell], studies: list[Any], n: int) -> None:
    """Diagnostic: after each of ``n`` more TPE trials, time ``study.view.sync()`` alone,
    a sync that reads and applies that one trial's changes (what each ask's sync does).

    Run after the timed window, since these trials' next asks find nothing to sync.
    """
    clock = time.perf_counter_ns
    for cell, study in zip(cells, studies):
        if not cell.ok:
            continue
        try:
            for _ in range(n):
                tpe_trial(study)
                t0 = clock()
                study.view.sync()
                cell.sync_ns.append(clock() - t0)
        except Exception as e:  # noqa: BLE001 - a diagnostic: note it, keep the timings
            cell.sync_ns.clear()
            cell.error = f"sync probe failed: {type(e).__name__}: {e}"


# ----------------------------------------------------------------------------- section: running
def run_running(args: argparse.Namespace, tmp: str, studies: Studies, log: Callable[[str], None]) -> list[Block]:
    """Section ``running``: one study per RUNNING count and backend, conditions interleaved."""
    import hpo_core

    blocks = []
    for backend in args.backend_list:
        log(f"running: {backend}")
        block = Block(backend, [Cell(f"{r:,} RUNNING") for r in args.running_list])
        blocks.append(block)
        if backend == "postgresql":
            problem = postgres_problem(args.postgres_url)
            if problem:
                block.error = f"skipped: {args.postgres_url} cannot be used ({problem})"
                log(f"  {block.error}")
                continue
        try:
            urls = [args.postgres_url if backend == "postgresql"
                    else f"sqlite:///{os.path.join(tmp, f'running_{r}.db')}" for r in args.running_list]
            made = []
            t0 = time.perf_counter()
            for url in urls:
                study = studies.create(url)
                prefill(study, args.trials, args.seed)
                made.append(study)
            log(f"  prefilled {len(made)} x {args.trials:,} trials in {time.perf_counter() - t0:.1f} s")
            specs = [(url, s.study_name, r) for url, s, r in zip(urls, made, args.running_list) if r]
            with holder(specs, args) as h:
                log(f"  holder: {h.n:,} RUNNING trials x {args.steps} reports in {h.setup_s:.1f} s")
                for study in made:
                    use_tpe(study, args)
                interleave(block.cells, trial_steps(made), args.window, args.rounds)
                sync_probe(block.cells, made, args.sync_probes)
                for cell, study, r in zip(block.cells, made, args.running_list):
                    running = study._history().count(int(hpo_core.TrialState.RUNNING))
                    if cell.ok and running != r:
                        cell.error = f"the study holds {running} RUNNING trials, expected {r}"
        except Exception as e:  # noqa: BLE001 - a benchmark reports failures, it does not stop
            block.error = f"{type(e).__name__}: {e}"
        for cell in block.cells:
            log(f"  {cell.label}: " + (cell.error or f"median {cell.median_s * 1e3:.2f} ms over {len(cell.times_ns)}"))
        gc.collect()
    return blocks


# ----------------------------------------------------------------------------- section: tpe
def run_tpe(args: argparse.Namespace, tmp: str, studies: Studies, log: Callable[[str], None]) -> list[Block]:
    """Section ``tpe``: SQLite, idle and beside a holder process, at each history size."""
    log("tpe: SQLite")
    labels = ("nothing else running", f"{args.tpe_running:,} RUNNING in another process")
    urls = [f"sqlite:///{os.path.join(tmp, f'tpe_{k}.db')}" for k in ("idle", "held")]
    blocks = [Block(f"{size:,}", [Cell(label) for label in labels]) for size in args.tpe_size_list]
    made = [studies.create(url) for url in urls]

    def grow(size: int) -> None:
        for study in made:
            missing = size - n_finished(study)
            if missing > 0:
                prefill(study, missing, args.seed + size)

    try:
        # The RUNNING trials are created after the first prefill, so they are the newest
        # trials at the first size, as another worker's would be.
        grow(args.tpe_size_list[0])
        with holder([(urls[1], made[1].study_name, args.tpe_running)], args) as h:
            log(f"  holder: {h.n:,} RUNNING trials x {args.steps} reports in {h.setup_s:.1f} s")
            for size, block in zip(args.tpe_size_list, blocks):
                try:
                    grow(size)
                    for study in made:
                        use_tpe(study, args)
                    interleave(block.cells, trial_steps(made), args.window, args.rounds)
                    sync_probe(block.cells, made, args.sync_probes)
                except Exception as e:  # noqa: BLE001 - a benchmark reports failures, it does not stop
                    block.error = f"{type(e).__name__}: {e}"
                for cell in block.cells:
                    log(f"  {size:,}, {cell.label}: "
                        + (cell.error or f"median {cell.median_s * 1e3:.2f} ms over {len(cell.times_ns)}"))
    except Exception as e:  # noqa: BLE001
        for block in blocks:
            block.error = block.error or f"{type(e).__name__}: {e}"
    return blocks


# ----------------------------------------------------------------------------- section: steps
def build_steps_study(n_trials: int, n_steps: int, seed: int) -> tuple[Any, np.ndarray]:
    """In-memory study: each trial reports ``n_steps`` steps, then ends COMPLETE (90%),
    PRUNED (5%) or stays RUNNING (5%), one trial after the other as a study runs them."""
    import hpo_core

    PRUNED = hpo_core.TrialState.PRUNED
    rng = np.random.default_rng(seed)
    fate = rng.choice(3, n_trials, p=[0.9, 0.05, 0.05]).tolist()
    curves = rng.uniform(0.0, 1.0, (n_trials, n_steps)).tolist()
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=seed))
    steps = list(range(n_steps))
    for i in range(n_trials):
        t = study.ask()
        t.suggest_float("x", 0.0, 1.0)
        report = t.report
        for step, v in zip(steps, curves[i]):
            report(v, step)
        if fate[i] == 0:
            study.tell(t, curves[i][-1])
        elif fate[i] == 1:
            study.tell(t, state=PRUNED)
    return study, np.array(fate) == 0


def _median_us(fn: Callable[[int], object], repeats: int) -> float:
    times = np.empty(repeats)
    clock = time.perf_counter_ns
    for i in range(repeats):
        t0 = clock()
        fn(i)
        times[i] = clock() - t0
    return float(np.median(times)) / 1e3


def run_steps(args: argparse.Namespace, log: Callable[[str], None]) -> StepsResult:
    """Section ``steps``: the pruner's read of one step through a study's history."""
    import hpo_core

    res = StepsResult(args.step_trials, args.step_count)
    log(f"steps: building {args.step_trials:,} trials x {args.step_count} reports in memory")
    try:
        t0 = time.perf_counter()
        study, is_complete = build_steps_study(args.step_trials, args.step_count, args.seed)
        res.build_s = time.perf_counter() - t0
        COMPLETE = int(hpo_core.TrialState.COMPLETE)
        view = study.view
        lo, hi = args.step_count // 4, max(3 * args.step_count // 4, args.step_count // 4 + 1)
        mid = list(range(lo, hi))

        def at_step(i: int) -> Any:
            return view.history.steps.at_step(mid[i % len(mid)])

        def keep_complete(i: int) -> Any:  # the recipe of StepIndex.at_step's docstring
            h = view.history
            rows, values = h.steps.at_step(mid[i % len(mid)])
            keep = np.flatnonzero(h.states[rows] == COMPLETE)
            return rows.take(keep), values.take(keep, axis=0)

        def keep_complete_fresh(i: int) -> Any:  # the first read of a pruning decision
            view.invalidate()
            return keep_complete(i)

        rows, values = keep_complete(0)
        expected = np.flatnonzero(is_complete)
        if not np.array_equal(np.sort(rows), expected) or len(values) != len(expected):
            res.error = f"kept {len(rows)} rows at step {mid[0]}, expected the {len(expected)} COMPLETE trials"
        res.kept = len(rows)
        gc.disable()
        try:
            h = view.history
            res.reads_us["steps.at_step(s)"] = _median_us(lambda i: h.steps.at_step(mid[i % len(mid)]), args.repeats)
            res.reads_us["study.view.history.steps.at_step(s)"] = _median_us(at_step, args.repeats)
            res.reads_us["study.view.history.steps.at_step(s) + keep COMPLETE (take)"] = _median_us(
                keep_complete, args.repeats)
            res.reads_us["the same after view.invalidate() (first read of a decision: syncs)"] = _median_us(
                keep_complete_fresh, args.repeats)
        finally:
            gc.enable()
    except Exception as e:  # noqa: BLE001
        res.error = f"{type(e).__name__}: {e}"
    log("  " + (res.error or ", ".join(f"{k}: {v:.1f} us" for k, v in res.reads_us.items())))
    return res


# ----------------------------------------------------------------------------- command line
def _int_list(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="The data layer under load: a TPE trial beside RUNNING trials (SQLite, PostgreSQL), "
        "TPE define-by-run on SQLite beside another process, and step reads through a study's history.")
    p.add_argument("--quick", action="store_true",
                   help="smaller windows and 1,000-trial steps study (about a minute)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated subset of {', '.join(SECTIONS)} (default all)")
    p.add_argument("--trials", type=int, default=10_000,
                   help="running: finished trials in each study (default 10,000)")
    p.add_argument("--running", default="0,64,256",
                   help="running: RUNNING trial counts, the first is the reference (default 0,64,256)")
    p.add_argument("--backends", default="sqlite,postgresql", help="running: sqlite, postgresql or both")
    p.add_argument("--postgres-url", default=os.environ.get("HPO_CORE_TEST_POSTGRES_URL", POSTGRES_URL),
                   help=f"PostgreSQL database for the running section (default {POSTGRES_URL}, or "
                   "$HPO_CORE_TEST_POSTGRES_URL)")
    p.add_argument("--steps", type=int, default=20, help="reports per RUNNING trial (default 20)")
    p.add_argument("--heartbeat", type=float, default=None,
                   help="the holder records every RUNNING trial's heartbeat this often, in seconds "
                   "(default: never; it just waits)")
    p.add_argument("--tpe-sizes", default="2000,10000",
                   help="tpe: finished-trial counts (default 2,000,10,000)")
    p.add_argument("--tpe-running", type=int, default=256,
                   help="tpe: RUNNING trials the other process holds (default 256)")
    p.add_argument("--window", type=int, default=None,
                   help="trials timed per condition (default 200, 50 with --quick)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5, 2 with --quick)")
    p.add_argument("--warmup", type=int, default=5, help="untimed TPE trials per study first (default 5)")
    p.add_argument("--sync-probes", type=int, default=None,
                   help="trials after the window whose sync is timed alone (default 50, 20 with --quick)")
    p.add_argument("--step-trials", type=int, default=None,
                   help="steps: trials of the study (default 10,000; 2,000 with --quick)")
    p.add_argument("--step-count", type=int, default=100, help="steps: reports per trial (default 100)")
    p.add_argument("--repeats", type=int, default=2000, help="steps: calls per read timing (default 2,000)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument("--write-readme", action="store_true",
                   help=f"replace the marked section of {README.name} next to this script")
    # The holder process (started by the benchmark itself).
    p.add_argument("--hold", nargs=3, action="append", metavar=("URL", "STUDY", "N"), help=argparse.SUPPRESS)
    p.add_argument("--hold-steps", type=int, default=20, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.hold:
        return args
    try:
        args.running_list = _int_list(args.running)
        args.tpe_size_list = _int_list(args.tpe_sizes)
    except ValueError as e:
        p.error(str(e))
    args.section_list = [s.strip() for s in args.sections.split(",") if s.strip()]
    args.backend_list = [b.strip().replace("postgres", "postgresql").replace("postgresqlql", "postgresql")
                         for b in args.backends.split(",") if b.strip()]
    for s in args.section_list:
        if s not in SECTIONS:
            p.error(f"--sections: unknown section {s!r}; choose from {', '.join(SECTIONS)}")
    for b in args.backend_list:
        if b not in ("sqlite", "postgresql"):
            p.error(f"--backends: unknown backend {b!r}; choose sqlite, postgresql")
    if args.window is None:
        args.window = 50 if args.quick else 200
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.sync_probes is None:
        args.sync_probes = 20 if args.quick else 50
    if args.step_trials is None:
        args.step_trials = 2_000 if args.quick else 10_000
    if not args.running_list or min(args.running_list) < 0:
        p.error("--running must list counts >= 0")
    if not args.tpe_size_list or min(args.tpe_size_list) < 1:
        p.error("--tpe-sizes must list counts >= 1")
    for name in ("trials", "window", "rounds", "step_trials", "step_count", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rounds > args.window:
        p.error("--rounds must not exceed --window")
    for name in ("steps", "warmup", "tpe_running", "sync_probes"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must be at least 0")
    if args.heartbeat is not None and args.heartbeat <= 0:
        p.error("--heartbeat must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.hold:
        return hold([(u, s, int(n)) for u, s, n in args.hold], args.hold_steps, args.heartbeat)
    import hpo_core

    hpo_core.logging.set_verbosity(logging.WARNING)
    _common.git_rev()  # name the code this process imported before anything runs
    args.load_at_start = load_average()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    command = shlex.join(["python", "benchmarks/sync.py", *(sys.argv[1:] if argv is None else argv)])
    running = tpe = steps = None
    studies = Studies()
    try:
        with tempfile.TemporaryDirectory(prefix="hpo_sync_") as tmp:
            if "running" in args.section_list:
                running = run_running(args, tmp, studies, log)
            if "tpe" in args.section_list:
                tpe = run_tpe(args, tmp, studies, log)
            studies.delete_all()
    finally:
        studies.delete_all()
    if "steps" in args.section_list:
        steps = run_steps(args, log)
    body = report(args, command, running, tpe, steps)
    print(body)
    if args.write_readme:
        _common.write_section(README, MARKER, body)
        log(f"Updated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
