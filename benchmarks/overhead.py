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
The timing loop and rounds live in ``_overhead_timing.py``, the tables and the report in
``_overhead_report.py``.
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
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402  (shared machine info and README sections)
import overhead_tpe  # noqa: E402  (the 10-parameter mixed space and its objective)
from _overhead_report import DBR_REF, DICT_REF, load_average, report  # noqa: E402
from _overhead_timing import Job, Row, batch_medians, checkpoints_up_to, guard, measure, rounds, rss_bytes  # noqa: E402

N_PARAMS = 10
README = Path(__file__).with_name("README.md")
MARKERS = {"uniform": "overhead", "mixed": "overhead-mixed"}


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
        study = measure(row, make_step, n, warmup, checkpoints, args, _check_hpo)
        row.history_per_trial = study._history().memory_bytes() / n

    return guard(row, run)


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
        study = measure(row, make_step, n, warmup, checkpoints, args, _check_hpo)
        row.history_per_trial = study._history().memory_bytes() / n

    return guard(row, run)


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
        rss0 = rss_bytes()
        t0 = time.perf_counter()
        study, ns, sizes = one_study(n)
        row.wall_s = time.perf_counter() - t0
        rss1 = rss_bytes()
        row.ran_to = n
        batch_medians(ns, np.cumsum(sizes), sizes, checkpoints, args, row)
        if rss0 is not None and rss1 is not None:
            row.rss_per_trial = (rss1 - rss0) / n
        row.history_per_trial = study._history().memory_bytes() / n
        problem = _check_hpo(study, n, args.space)
        if problem:
            row.error = f"sanity check failed: {problem}"

    return guard(row, run)


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

    return guard(row, lambda: measure(row, make_step, n, warmup, checkpoints, args, _check_other))


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

    return guard(row, lambda: measure(row, make_step, n, warmup, checkpoints, args, _check_other))


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
    cps = checkpoints_up_to(args.max_trials)
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
    return rounds(jobs, args.repeat), cps


def run_sqlite(args: argparse.Namespace, tmp: str) -> tuple[list[Row], list[int]]:
    """SQLite file, a fresh temporary database for every study (warm-up included)."""
    cps = checkpoints_up_to(args.sqlite_max_trials)
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
    return rounds(jobs, args.sqlite_repeat), cps


# ----------------------------------------------------------------------------- command line
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
    args.load_at_start = load_average()
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
