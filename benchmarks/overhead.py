"""Per-trial ask+tell overhead of the random sampler versus trial count.

Compares hpo_core with Optuna and rustuna on a 10-parameter space, in memory and on a
SQLite file, in one run. Two spaces (``--space``): ``uniform``, 10 floats in [0, 1]
with objective = their sum (the default), and ``mixed``, the 10-parameter mixed space
of ``overhead_tpe.py`` (floats, a log float, a stepped float, ints, a log int, a
stepped int, two categoricals) with its trivial objective. Each library runs one
study continuously; every ask+tell pair is timed with ``time.perf_counter_ns`` and
the table reports the median over a window of trials just before each checkpoint
(100, 1,000, 10,000, ...).

On the mixed space every library other than hpo_core is timed define-by-run (Optuna
too), and the report ends with the issue's targets: hpo_core define-by-run on SQLite
at most 3 ms per trial and at least 10x below Optuna; hpo_core's in-memory
``ask(fixed_distributions)`` + ``trial.params`` + ``tell`` at most 10 us per trial and
below rustuna's define-by-run loop.

Usage::

    python benchmarks/overhead.py                 # full size (100,000 trials in memory)
    python benchmarks/overhead.py --quick         # 10,000 trials in memory, 1,000 on SQLite
    python benchmarks/overhead.py --space mixed   # the mixed space (and the targets)
    python benchmarks/overhead.py --write-readme  # also update benchmarks/README.md

Run with the repository on ``PYTHONPATH`` (or ``pip install -e '.[benchmark]'``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import logging
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402  (shared machine info and README sections)
import overhead_tpe  # noqa: E402  (the 10-parameter mixed space and its objective)

N_PARAMS = 10
README = Path(__file__).with_name("README.md")
DICT_REF = "hpo_core `ask(dict)`"
DBR_REF = "hpo_core define-by-run"
MARKERS = {"uniform": "overhead", "mixed": "overhead-mixed"}
# Targets of the mixed space (seconds per trial; ratios).
TARGET_SQLITE_DBR_S = 3e-3
TARGET_OPTUNA_RATIO = 10.0
TARGET_MEMORY_S = 10e-6


def _rustuna_note(args: argparse.Namespace) -> str:
    calls = "`suggest_float`" if args.space == "uniform" else "`suggest_*`"
    return ("rustuna's `ask()` takes no fixed distributions, so it is timed define-by-run "
            f"(10 {calls} calls); compare it with hpo_core define-by-run")


# ----------------------------------------------------------------------------- the spaces
_MIXED = overhead_tpe.SPACE


def dists_of(module: Any, space: str) -> dict[str, Any]:
    """The distributions of ``space`` ("uniform" or "mixed") as ``module``'s classes."""
    if space == "uniform":
        return {f"x{i}": module.FloatDistribution(0.0, 1.0) for i in range(N_PARAMS)}
    return overhead_tpe.distributions(module)


def values_internal(names: list[str], X: np.ndarray, space: str) -> np.ndarray:
    """(n,) objective values from internal parameter columns ``X (n, d)`` named ``names``.

    The vectorised twin of ``sum(params.values())`` (uniform) and of
    ``overhead_tpe.objective`` (mixed): a categorical's internal value is its index.
    """
    col = {name: X[:, j] for j, name in enumerate(names)}
    if space == "uniform":
        return X.sum(axis=1)
    return (col["f_uniform"] ** 2 + col["f_extra0"] + col["f_extra1"] + col["i_uniform"] / 100.0
            + (col["c_small"] == 0.0))


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


def _batch_medians(ns: np.ndarray, ends: np.ndarray, sizes: np.ndarray, checkpoints: list[int],
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
def _rss_bytes() -> int | None:
    """Current resident set size (Linux ``/proc``); None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _time_loop(step: Callable[[], None], out: np.ndarray) -> None:
    """Fill ``out[i]`` with the nanoseconds one ``step()`` (an ask+tell pair) took."""
    clock = time.perf_counter_ns
    for i in range(len(out)):
        t0 = clock()
        step()
        out[i] = clock() - t0


def _measure(row: Row, make_step: Callable[[], tuple[Callable[[], None], Any]], n: int,
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
    rss0 = _rss_bytes()
    step, study = make_step()
    t0 = time.perf_counter()
    _time_loop(step, ns)
    row.wall_s = time.perf_counter() - t0
    rss1 = _rss_bytes()
    row.ran_to = n
    row.medians = _per_trial_medians(ns, checkpoints, args)
    if rss0 is not None and rss1 is not None:
        row.rss_per_trial = (rss1 - rss0) / n
    problem = check(study, n, args.space)
    if problem:
        row.error = f"sanity check failed: {problem}"
    return study


def _guard(row: Row, fn: Callable[[], None]) -> Row:
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


# ----------------------------------------------------------------------------- sanity checks
def _objective(params: dict[str, Any], space: str) -> float:
    return float(sum(params.values())) if space == "uniform" else overhead_tpe.objective(params)


def _check_hpo(study: Any, n: int, space: str = "uniform") -> str | None:
    """Every trial COMPLETE, its parameters inside their distributions and its value
    equal to the objective of its parameters."""
    import hpo_core

    h = study._history()
    if h.n != n:
        return f"history holds {h.n} trials, expected {n}"
    if not (h.states[:n] == int(hpo_core.TrialState.COMPLETE)).all():
        return "not every trial is COMPLETE"
    dists = dists_of(hpo_core, space)
    names = list(dists)
    X = h.X[:n][:, [h.param_index[name] for name in names]]
    if space == "uniform" and not ((X >= 0.0) & (X <= 1.0)).all():
        return "a parameter lies outside [0, 1]"
    if not np.isfinite(X).all():
        return "a trial lacks a parameter"
    if not np.allclose(h.values[:n, 0], values_internal(names, X, space), rtol=0, atol=1e-9):
        return "a stored value differs from the objective of the trial's parameters"
    for row in np.random.default_rng(0).integers(0, n, min(n, 50)).tolist():
        params = h.frozen(row).params
        for name, dist in dists.items():
            if not dist.contains(dist.to_internal_repr(params[name])):
                return f"trial {row}: {name}={params[name]!r} lies outside {dist!r}"
    if study.best_value != float(h.values[:n, 0].min()):
        return f"best_value {study.best_value!r} is not the minimum {h.values[:n, 0].min()!r}"
    return None


def _check_other(study: Any, n: int, space: str = "uniform") -> str | None:
    """Trial count and best trial consistent (Optuna and rustuna)."""
    trials = study.trials
    if len(trials) != n:
        return f"study holds {len(trials)} trials, expected {n}"
    best = study.best_trial
    if abs(_objective(best.params, space) - best.value) > 1e-9:
        return "best value differs from the objective of its parameters"
    return None


# ----------------------------------------------------------------------------- hpo_core
def _hpo_dists(space: str = "uniform") -> dict[str, Any]:
    import hpo_core

    return dists_of(hpo_core, space)


def _hpo_study(seed: int, storage: str | None = None) -> Any:
    import hpo_core

    sampler = hpo_core.samplers.RandomSampler(seed=seed)
    if storage is None:
        return hpo_core.create_study(sampler=sampler)
    return hpo_core.create_study(storage=storage, study_name="bench", sampler=sampler)


def bench_hpo_fixed(label: str, n: int, checkpoints: list[int], args: argparse.Namespace,
                    *, use_space: bool, storage: Callable[[], str | None] = lambda: None,
                    warmup: int) -> Row:
    """hpo_core ``study.ask(dists)`` (or a prebuilt ``SearchSpace``) then ``study.tell``."""
    import hpo_core

    row = Row(label)

    def make_step() -> tuple[Callable[[], None], Any]:
        study = _hpo_study(args.seed, storage())
        dists = _hpo_dists(args.space)
        space = hpo_core.SearchSpace(dists) if use_space else dists
        ask, tell = study.ask, study.tell
        objective = overhead_tpe.objective

        def step() -> None:
            t = ask(space)
            tell(t, sum(t.params.values()))

        def step_mixed() -> None:
            t = ask(space)
            tell(t, objective(t.params))

        return (step if args.space == "uniform" else step_mixed), study

    def run() -> None:
        study = _measure(row, make_step, n, warmup, checkpoints, args, _check_hpo)
        row.history_per_trial = study._history().memory_bytes() / n

    return _guard(row, run)


def bench_hpo_define_by_run(label: str, n: int, checkpoints: list[int], args: argparse.Namespace,
                            *, storage: Callable[[], str | None] = lambda: None, warmup: int) -> Row:
    """hpo_core ``study.ask()`` then 10 ``trial.suggest_*`` calls, then ``study.tell``."""
    row = Row(label)
    names = [f"x{i}" for i in range(N_PARAMS)]

    def make_step() -> tuple[Callable[[], None], Any]:
        study = _hpo_study(args.seed, storage())
        ask, tell = study.ask, study.tell
        objective, suggest_all = overhead_tpe.objective, overhead_tpe.suggest_all

        def step() -> None:
            t = ask()
            tell(t, sum([t.suggest_float(name, 0.0, 1.0) for name in names]))

        def step_mixed() -> None:
            t = ask()
            tell(t, objective(suggest_all(t)))

        return (step if args.space == "uniform" else step_mixed), study

    def run() -> None:
        study = _measure(row, make_step, n, warmup, checkpoints, args, _check_hpo)
        row.history_per_trial = study._history().memory_bytes() / n

    return _guard(row, run)


def bench_hpo_array(label: str, n: int, checkpoints: list[int], args: argparse.Namespace) -> Row:
    """hpo_core ``ask_array(space, batch)`` / ``tell_array``: one timing per batch."""
    import hpo_core

    row = Row(label)
    bs = args.batch_size

    def one_study(n_trials: int) -> tuple[Any, np.ndarray, np.ndarray]:
        study = _hpo_study(args.seed)
        space = hpo_core.SearchSpace(_hpo_dists(args.space))
        names = list(space.names)
        sizes = np.diff(np.r_[np.arange(0, n_trials, bs), n_trials])
        ns = np.zeros(len(sizes), dtype=np.int64)
        clock = time.perf_counter_ns
        for i, size in enumerate(sizes.tolist()):
            t0 = clock()
            b = study.ask_array(space, size)
            study.tell_array(b, values_internal(names, b.params, args.space))
            ns[i] = clock() - t0
        return study, ns, sizes

    def run() -> None:
        one_study(max(args.warmup, bs))
        gc.collect()
        rss0 = _rss_bytes()
        t0 = time.perf_counter()
        study, ns, sizes = one_study(n)
        row.wall_s = time.perf_counter() - t0
        rss1 = _rss_bytes()
        row.ran_to = n
        _batch_medians(ns, np.cumsum(sizes), sizes, checkpoints, args, row)
        if rss0 is not None and rss1 is not None:
            row.rss_per_trial = (rss1 - rss0) / n
        row.history_per_trial = study._history().memory_bytes() / n
        problem = _check_hpo(study, n, args.space)
        if problem:
            row.error = f"sanity check failed: {problem}"

    return _guard(row, run)


# ----------------------------------------------------------------------------- Optuna, rustuna
def bench_optuna(label: str, n: int, checkpoints: list[int], args: argparse.Namespace,
                 *, storage: Callable[[], str | None] = lambda: None, warmup: int) -> Row:
    """Optuna ``study.ask(fixed_distributions)`` then ``study.tell`` (uniform space), or
    define-by-run: ``study.ask()``, 10 ``trial.suggest_*`` calls, ``study.tell`` (mixed)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    row = Row(label)
    dists = dists_of(optuna.distributions, "uniform")
    objective, suggest_all = overhead_tpe.objective, overhead_tpe.suggest_all

    def make_step() -> tuple[Callable[[], None], Any]:
        sampler = optuna.samplers.RandomSampler(seed=args.seed)
        study = optuna.create_study(storage=storage(), sampler=sampler)
        ask, tell = study.ask, study.tell

        def step() -> None:
            t = ask(dists)
            tell(t, sum(t.params.values()))

        def step_mixed() -> None:
            t = ask()
            tell(t, objective(suggest_all(t)))

        return (step if args.space == "uniform" else step_mixed), study

    return _guard(row, lambda: _measure(row, make_step, n, warmup, checkpoints, args, _check_other))


def bench_rustuna(label: str, n: int, checkpoints: list[int], args: argparse.Namespace,
                  *, sqlite_path: Callable[[], str | None] = lambda: None, warmup: int) -> Row:
    """rustuna ``study.ask()`` then 10 ``trial.suggest_*`` calls, then ``study.tell(number, v)``.

    rustuna's ``ask`` takes no fixed distributions, so define-by-run is its only path.
    """
    import rustuna

    row = Row(label)
    names = [f"x{i}" for i in range(N_PARAMS)]
    objective, suggest_all = overhead_tpe.objective, overhead_tpe.suggest_all

    def make_step() -> tuple[Callable[[], None], Any]:
        path = sqlite_path()
        storage = None if path is None else rustuna.storages.SQLite3Storage(path)
        sampler = rustuna.samplers.RandomSampler(seed=args.seed)
        study = rustuna.create_study(storage=storage, sampler=sampler)
        ask, tell = study.ask, study.tell

        def step() -> None:
            t = ask()
            tell(t.number, sum([t.suggest_float(name, 0.0, 1.0) for name in names]))

        def step_mixed() -> None:
            t = ask()
            tell(t.number, objective(suggest_all(t)))

        return (step if args.space == "uniform" else step_mixed), study

    return _guard(row, lambda: _measure(row, make_step, n, warmup, checkpoints, args, _check_other))


def _have(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _not_installed(label: str, module: str) -> Row:
    row = Row(label)
    row.error = f"`{module}` is not installed"
    return row


# ----------------------------------------------------------------------------- sections
Job = tuple[str, Callable[[], Row], list[str]]  # label, benchmark, notes


def _rounds(jobs: list[Job], repeats: int) -> list[Row]:
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


def _other_jobs(args: argparse.Namespace, n: int, cps: list[int], *, n_opt: int, n_rs: int,
                opt_flag: str, rs_flag: str, storage: Callable[[str, bool], Callable[[], str]] | None,
                warmup: int) -> list[Job]:
    """Optuna and rustuna jobs (or a row saying the library is not installed)."""
    jobs: list[Job] = []
    opt_label = "Optuna `ask(dict)`" if args.space == "uniform" else "Optuna define-by-run"
    if _have("optuna"):
        st = (lambda: None) if storage is None else storage("o", True)
        notes = [f"capped at {n_opt:,} trials (`{opt_flag}`)"] if n_opt < n else []
        jobs.append((opt_label, lambda: bench_optuna(opt_label, n_opt, cps, args, storage=st,
                                                     warmup=warmup), notes))
    else:
        jobs.append((opt_label, lambda: _not_installed(opt_label, "optuna"), []))
    rs_label = "rustuna define-by-run" + ("" if storage is None else " (`SQLite3Storage`)")
    if _have("rustuna"):
        path = (lambda: None) if storage is None else storage("r", False)
        notes = [_rustuna_note(args)] + ([f"capped at {n_rs:,} trials (`{rs_flag}`)"] if n_rs < n else [])
        jobs.append((rs_label, lambda: bench_rustuna(rs_label, n_rs, cps, args, sqlite_path=path,
                                                     warmup=warmup), notes))
    else:
        jobs.append((rs_label, lambda: _not_installed(rs_label, "rustuna"), []))
    return jobs


def run_memory(args: argparse.Namespace) -> tuple[list[Row], list[int]]:
    """In memory, tight loop: every library up to its cap, checkpoints to ``--max-trials``."""
    cps = _checkpoints(args.max_trials)
    n, w = args.max_trials, args.warmup
    space_label = "hpo_core `ask(SearchSpace)`"
    array_label = f"hpo_core `ask_array`/`tell_array` (batches of {args.batch_size:,})"
    jobs: list[Job] = [
        (DICT_REF, lambda: bench_hpo_fixed(DICT_REF, n, cps, args, use_space=False, warmup=w), []),
        (space_label, lambda: bench_hpo_fixed(space_label, n, cps, args, use_space=True, warmup=w), []),
        (array_label, lambda: bench_hpo_array(array_label, n, cps, args), []),
        (DBR_REF, lambda: bench_hpo_define_by_run(DBR_REF, n, cps, args, warmup=w), []),
    ]
    jobs += _other_jobs(args, n, cps, n_opt=min(n, args.optuna_max_trials),
                        n_rs=min(n, args.rustuna_max_trials), opt_flag="--optuna-max-trials",
                        rs_flag="--rustuna-max-trials", storage=None, warmup=w)
    return _rounds(jobs, args.repeat), cps


def run_sqlite(args: argparse.Namespace, tmp: str) -> tuple[list[Row], list[int]]:
    """SQLite file, a fresh temporary database for every study (warm-up included)."""
    cps = _checkpoints(args.sqlite_max_trials)
    counter = iter(range(10**9))

    def fresh(prefix: str, url: bool = True) -> Callable[[], str]:
        def path() -> str:
            p = os.path.join(tmp, f"{prefix}{next(counter)}.db")
            return f"sqlite:///{p}" if url else p
        return path

    n, w = args.sqlite_max_trials, args.sqlite_warmup
    jobs: list[Job] = [
        (DICT_REF, lambda: bench_hpo_fixed(DICT_REF, n, cps, args, use_space=False,
                                           storage=fresh("h"), warmup=w), []),
        (DBR_REF, lambda: bench_hpo_define_by_run(DBR_REF, n, cps, args, storage=fresh("hd"),
                                                  warmup=w), []),
    ]
    jobs += _other_jobs(args, n, cps, n_opt=min(n, args.optuna_sqlite_max_trials),
                        n_rs=min(n, args.rustuna_sqlite_max_trials),
                        opt_flag="--optuna-sqlite-max-trials", rs_flag="--rustuna-sqlite-max-trials",
                        storage=fresh, warmup=w)
    return _rounds(jobs, args.sqlite_repeat), cps


def _checkpoints(max_trials: int) -> list[int]:
    """100, 1,000, 10,000, ... up to ``max_trials`` (which is added if not a power of ten)."""
    cps = [c for c in (10**k for k in range(2, 10)) if c <= max_trials]
    if not cps or cps[-1] != max_trials:
        cps.append(max_trials)
    return cps


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
def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info(load_at_start: str | None = None) -> str:
    import sqlite3

    load = "" if load_at_start is None else (
        f"\n- Load average (1, 5, 15 min): {load_at_start} at the start, {_load()} at the end")
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


def write_readme(path: Path, body: str, space: str = "uniform") -> None:
    """Replace the text between the markers of ``space`` in ``path`` (append the section if absent)."""
    _common.write_section(path, MARKERS[space], body)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Per-trial ask+tell overhead of the random sampler (10 parameters) "
        "versus trial count: hpo_core, Optuna and rustuna, in memory and on SQLite.",
    )
    p.add_argument("--space", choices=("uniform", "mixed"), default="uniform",
                   help="uniform: 10 floats in [0, 1], objective = their sum (default); mixed: the "
                   "10-parameter mixed space of overhead_tpe.py, Optuna and rustuna define-by-run, "
                   "and the issue's targets at the end")
    p.add_argument("--max-trials", type=int, default=None,
                   help="in-memory trials per study (checkpoints 100, 1,000, ... up to it); "
                   "default 100,000, or 10,000 with --quick")
    p.add_argument("--quick", action="store_true",
                   help="smaller run: 10,000 trials in memory, 1,000 on SQLite (100 for Optuna)")
    p.add_argument("--batch-size", type=int, default=1000, help="trials per ask_array batch (default 1,000)")
    p.add_argument("--optuna-max-trials", type=int, default=10_000,
                   help="cap on Optuna's in-memory trials (default 10,000; it is ~50x slower)")
    p.add_argument("--rustuna-max-trials", type=int, default=None,
                   help="cap on rustuna's in-memory trials (default: --max-trials)")
    p.add_argument("--sqlite-max-trials", type=int, default=None,
                   help="SQLite trials per study for hpo_core; default 10,000 (1,000 with --quick)")
    p.add_argument("--optuna-sqlite-max-trials", type=int, default=None,
                   help="cap on Optuna's SQLite trials; default 1,000 (100 with --quick)")
    p.add_argument("--rustuna-sqlite-max-trials", type=int, default=10_000,
                   help="cap on rustuna's SQLite trials (default 10,000)")
    p.add_argument("--repeat", type=int, default=3,
                   help="in-memory rounds over all libraries; each cell is the median of the "
                   "rounds (default 3)")
    p.add_argument("--sqlite-repeat", type=int, default=1, help="SQLite rounds (default 1)")
    p.add_argument("--warmup", type=int, default=200, help="trials in the throwaway warm-up study in memory (default 200)")
    p.add_argument("--sqlite-warmup", type=int, default=20, help="trials in the warm-up study on SQLite (default 20)")
    p.add_argument("--window-frac", type=float, default=0.1,
                   help="window before each checkpoint, as a fraction of the checkpoint (default 0.1)")
    p.add_argument("--min-window", type=int, default=50, help="smallest window, in trials (default 50)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument("--skip-memory", action="store_true", help="skip the in-memory section")
    p.add_argument("--skip-sqlite", action="store_true", help="skip the SQLite section")
    p.add_argument("--write-readme", action="store_true",
                   help=f"replace the marked section of {README.name} next to this script "
                   "(one section per --space)")
    args = p.parse_args(argv)
    if args.max_trials is None:
        args.max_trials = 10_000 if args.quick else 100_000
    if args.sqlite_max_trials is None:
        args.sqlite_max_trials = 1_000 if args.quick else 10_000
    if args.rustuna_max_trials is None:
        args.rustuna_max_trials = args.max_trials
    if args.optuna_sqlite_max_trials is None:
        args.optuna_sqlite_max_trials = 100 if args.quick else 1_000
    for name in ("max_trials", "batch_size", "optuna_max_trials", "rustuna_max_trials",
                 "sqlite_max_trials", "optuna_sqlite_max_trials", "rustuna_sqlite_max_trials",
                 "repeat", "sqlite_repeat"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0.0 < args.window_frac <= 1.0:
        p.error("--window-frac must be in (0, 1]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import hpo_core

    hpo_core.logging.set_verbosity(logging.WARNING)
    args.load_at_start = _load()
    command = shlex.join(["python", "benchmarks/overhead.py", *(sys.argv[1:] if argv is None else argv)])
    memory = sqlite = None
    if not args.skip_memory:
        print("In memory:", file=sys.stderr, flush=True)
        memory = run_memory(args)
        gc.collect()
    if not args.skip_sqlite:
        print("SQLite:", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="hpo_overhead_") as tmp:
            sqlite = run_sqlite(args, tmp)
        gc.collect()
    body = report(args, command, memory, sqlite)
    print(body)
    if args.write_readme:
        write_readme(README, body, args.space)
        print(f"Updated {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
