"""Many workers on one PostgreSQL or MariaDB study (issue 12).

Three sections, each on a fresh PostgreSQL schema / MariaDB database that is dropped
afterwards:

- ``pertrial``: per-trial ask+tell through PostgreSQL with TPE, define-by-run on the
  10-parameter mixed space of ``overhead_tpe.py``, one continuous study to 10,000
  trials; the median of the trials just before 1,000 and 10,000. Optuna 5.0's
  ``RDBStorage`` with its TPE on the same server in the same run (to 1,000 trials by
  default: it reads every trial at every ask). Targets: at most 5 ms at 10,000, flat
  from 1,000 to 10,000, and at least 20x below Optuna.
- ``workers``: 8 worker processes x 1,000 TPE trials (trivial objective) on one
  study, on PostgreSQL, MariaDB, a journal file and a journal on Redis: every trial in
  a final state, none lost, none run twice, numbers dense; wall time and trials per
  second.
- ``throughput``: a 50 ms sleeping objective at 1, 2, 4 and 8 worker processes on
  PostgreSQL and on a journal file: trials per second and efficiency against the
  ideal (k / 50 ms).

Usage::

    python benchmarks/rdb_scale.py                    # everything, full size
    python benchmarks/rdb_scale.py --quick            # small sizes (a smoke run)
    python benchmarks/rdb_scale.py --sections pertrial --busy
    python benchmarks/rdb_scale.py --write-readme     # also update benchmarks/README.md

``--busy`` keeps one other process spinning on a core during the timed sections, as a
user's machine would. Server URLs: ``--postgres-url`` (default
``$HPO_CORE_TEST_POSTGRES_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``) and
``--mysql-url`` (``$HPO_CORE_TEST_MYSQL_URL`` or ``mysql+pymysql://root@127.0.0.1:3306/test``).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import multiprocessing
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import overhead_tpe  # noqa: E402  (the 10-parameter mixed space and its objective)

ROOT = Path(__file__).resolve().parents[1]
README = Path(__file__).with_name("README.md")
MARKER = "rdb-scale"
POSTGRES_URL = os.environ.get("HPO_CORE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("HPO_CORE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("HPO_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TARGET_MS = 5.0
TARGET_RATIO = 20.0
SLEEP_S = 0.05


# --------------------------------------------------------------------------- databases
@contextlib.contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """A URL of a new, empty PostgreSQL schema or MySQL database, dropped afterwards."""
    import sqlalchemy as sa

    name = f"hpo_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base_url, poolclass=sa.pool.NullPool)
    url = sa.engine.make_url(base_url)
    is_pg = url.get_backend_name() == "postgresql"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}" if is_pg else f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    if is_pg:
        out = url.update_query_dict({"options": f"-csearch_path={name}"})
    else:
        out = url.set(database=name)
    try:
        yield out.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE" if is_pg else f"DROP DATABASE {name}")
        engine.dispose()


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """One other process spinning on a core (``--busy``)."""
    if not on:
        yield
        return
    proc = multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
    proc.start()
    try:
        yield
    finally:
        proc.terminate()
        proc.join()


# --------------------------------------------------------------------------- per trial
def _windows(times: list[float], checkpoints: list[int], frac: float = 0.1, min_window: int = 50) -> dict[int, float]:
    """Median seconds per trial over the window of trials just before each checkpoint."""
    out = {}
    for c in checkpoints:
        if c <= len(times):
            w = max(min_window, int(c * frac))
            out[c] = statistics.median(times[max(0, c - w):c])
    return out


def _timed_trials(study: Any, n: int) -> list[float]:
    """Seconds of each of ``n`` define-by-run ask + objective + tell (same API in both libraries)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        trial = study.ask()
        study.tell(trial, overhead_tpe.objective(overhead_tpe.suggest_all(trial)))
        times.append(time.perf_counter() - t0)
    return times


def run_hpo(url: str, n: int, seed: int) -> list[float]:
    import hpo_core

    hpo_core.logging.set_verbosity(logging.WARNING)
    storage = hpo_core.storages.RDBStorage(url)
    times = _timed_trials(hpo_core.create_study(storage=storage, sampler=hpo_core.samplers.TPESampler(seed=seed)), n)
    storage.close()
    return times


def run_optuna(url: str, n: int, seed: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    times = _timed_trials(optuna.create_study(storage=storage, sampler=optuna.samplers.TPESampler(seed=seed)), n)
    storage.engine.dispose()
    return times


def section_pertrial(args: argparse.Namespace, log: Any) -> str:
    checkpoints = sorted({c for c in (100, 1_000, 2_000, 5_000, 10_000, 20_000) if c <= args.trials} | {args.trials})
    with busy_core(args.busy):
        with fresh_database(args.postgres_url) as url:
            log(f"hpo_core TPE define-by-run on PostgreSQL, {args.trials} trials")
            t0 = time.perf_counter()
            ours = _windows(run_hpo(url, args.trials, args.seed), checkpoints)
            log(f"  done in {time.perf_counter() - t0:.0f} s")
        with fresh_database(args.postgres_url) as url:
            log(f"Optuna TPE define-by-run on PostgreSQL (RDBStorage), {args.optuna_trials} trials")
            t0 = time.perf_counter()
            theirs = _windows(run_optuna(url, args.optuna_trials, args.seed), checkpoints)
            log(f"  done in {time.perf_counter() - t0:.0f} s")
    rows = ["| trials | hpo_core (ms/trial) | Optuna 5.0 RDBStorage (ms/trial) | Optuna / hpo_core |", "|---|---|---|---|"]
    for c in checkpoints:
        o = ours.get(c)
        t = theirs.get(c)
        ratio = f"{t / o:.0f}x" if o and t else "-"
        rows.append(f"| {c:,} | {o * 1e3:.2f} | {'-' if t is None else f'{t * 1e3:.1f}'} | {ratio} |" if o else f"| {c:,} | - | - | - |")
    verdict = []
    last = max(ours)
    verdict.append(f"- at most {TARGET_MS:g} ms at {last:,}: {ours[last] * 1e3:.2f} ms "
                   f"({'met' if ours[last] * 1e3 <= TARGET_MS else 'NOT met'})")
    if 1_000 in ours and last != 1_000:
        verdict.append(f"- flat from 1,000 to {last:,}: {ours[1_000] * 1e3:.2f} -> {ours[last] * 1e3:.2f} ms "
                       f"({ours[last] / ours[1_000]:.2f}x)")
    common = [c for c in checkpoints if c in ours and c in theirs]
    if common:
        c = max(common)
        r = theirs[c] / ours[c]
        verdict.append(f"- at least {TARGET_RATIO:g}x below Optuna (at {c:,}, the largest count both ran): "
                       f"{r:.0f}x ({'met' if r >= TARGET_RATIO else 'NOT met'})")
    busy = " (one other process spinning on a core)" if args.busy else ""
    return ("### Per-trial ask+tell on PostgreSQL, TPE, define-by-run, 10-parameter mixed space" + busy + "\n\n"
            + "\n".join(rows) + "\n\nMedian over the trials just before each count (10 %, at least 50).\n\n"
            + "\n".join(verdict))


# --------------------------------------------------------------------------- workers
def open_storage(spec: str) -> Any:
    """A database URL as it is, or ``journal-file:<path>`` / ``journal-redis:<url>#<prefix>``
    as a journal storage (worker scripts get this function's source)."""
    import hpo_core

    if spec.startswith("journal-file:"):
        from hpo_core.storages.journal import JournalFileBackend

        return hpo_core.storages.JournalStorage(JournalFileBackend(spec.split(":", 1)[1]))
    if spec.startswith("journal-redis:"):
        from hpo_core.storages.journal import JournalRedisBackend

        url, _, prefix = spec.split(":", 1)[1].rpartition("#")
        return hpo_core.storages.JournalStorage(JournalRedisBackend(url, prefix=prefix))
    return spec


WORKER = """
import sys, time, logging, pathlib
from typing import Any
import hpo_core
""" + inspect.getsource(open_storage) + """
hpo_core.logging.set_verbosity(logging.WARNING)
url, me, n, barrier, k, sleep, sampler = sys.argv[1:8]
n, k, sleep = int(n), int(k), float(sleep)
barrier = pathlib.Path(barrier)
(barrier / me).touch()
deadline = time.monotonic() + 300
while len(list(barrier.iterdir())) < k and time.monotonic() < deadline:
    time.sleep(0.002)
s = hpo_core.samplers.TPESampler(seed=int(me)) if sampler == "tpe" else hpo_core.samplers.RandomSampler(seed=int(me))
study = hpo_core.load_study(study_name="scale", storage=open_storage(url), sampler=s)
count = [0]
def objective(trial):
    x = trial.suggest_float("x", -5, 5)
    y = trial.suggest_int("y", 0, 10)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    trial.set_user_attr("run", f"{me}:{count[0]}")
    count[0] += 1
    if sleep:
        time.sleep(sleep)
    return x * x + y + (c == "a")
t0 = time.time()
study.optimize(objective, n_trials=n)
print(t0, time.time())
"""


def run_workers(url: str, k: int, n: int, sleep: float, sampler: str) -> dict[str, Any]:
    import hpo_core

    hpo_core.create_study(storage=open_storage(url), study_name="scale")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as barrier:
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(i), str(n), barrier, str(k), str(sleep), sampler],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(k)]
        outs = [p.communicate(timeout=3600) for p in procs]
    for p, (_, err) in zip(procs, outs):
        if p.returncode != 0:
            raise RuntimeError(f"a worker failed:\n{err[-3000:]}")
    spans = [tuple(map(float, o.split())) for o, _ in outs]
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    trials = hpo_core.load_study(study_name="scale", storage=open_storage(url)).trials
    runs = [t.user_attrs.get("run") for t in trials]
    expected = {f"{i}:{j}" for i in range(k) for j in range(n)}
    return {
        "n": len(trials), "wall": wall,
        "dense": [t.number for t in trials] == list(range(k * n)),
        "final": all(t.state.is_finished() for t in trials),
        "complete": sum(t.state == hpo_core.TrialState.COMPLETE for t in trials),
        "exact": sorted(r for r in runs if r is not None) == sorted(expected) and len(runs) == len(expected),
    }


@contextlib.contextmanager
def fresh_journal() -> Iterator[str]:
    """A new journal file (deleted afterwards), as an ``open_storage`` spec."""
    with tempfile.TemporaryDirectory() as d:
        yield f"journal-file:{d}/journal.log"


@contextlib.contextmanager
def fresh_redis_journal(url: str) -> Iterator[str]:
    """A new key prefix on the Redis server (its keys deleted afterwards), as an spec."""
    import redis

    prefix = f"hpo_bench_{uuid.uuid4().hex[:10]}"
    try:
        yield f"journal-redis:{url}#{prefix}"
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def section_workers(args: argparse.Namespace, log: Any) -> str:
    rows = ["| storage | workers x trials | trials stored | all final | none lost or run twice | numbers dense | wall (s) | trials/s |",
            "|---|---|---|---|---|---|---|---|"]
    stores = (("PostgreSQL", lambda: fresh_database(args.postgres_url)), ("MariaDB", lambda: fresh_database(args.mysql_url)),
              ("journal file", fresh_journal), ("journal on Redis", lambda: fresh_redis_journal(args.redis_url)))
    for name, fresh in stores:
        if name not in args.worker_storages:
            continue
        with fresh() as url:
            log(f"{args.workers} workers x {args.worker_trials} TPE trials on {name}")
            r = run_workers(url, args.workers, args.worker_trials, 0.0, "tpe")
        log(f"  {r}")
        rows.append(f"| {name} | {args.workers} x {args.worker_trials:,} | {r['n']:,} | {r['final']} | {r['exact']} | "
                    f"{r['dense']} | {r['wall']:.1f} | {r['n'] / r['wall']:.0f} |")
    return (f"### {args.workers} worker processes on one study, TPE, trivial objective\n\n" + "\n".join(rows)
            + "\n\nEach trial records `worker:k` in a user attribute; \"none lost or run twice\" checks "
            "that every worker's k = 0 .. n-1 is stored exactly once.")


def section_throughput(args: argparse.Namespace, log: Any) -> str:
    rows = ["| storage | workers | trials | wall (s) | trials/s | ideal (k / 50 ms) | efficiency |",
            "|---|---|---|---|---|---|---|"]
    for name, fresh in (("PostgreSQL", lambda: fresh_database(args.postgres_url)), ("journal file", fresh_journal)):
        for k in args.throughput_workers:
            with fresh() as url:
                log(f"throughput: {k} workers x {args.throughput_trials} trials of 50 ms on {name}")
                r = run_workers(url, k, args.throughput_trials, SLEEP_S, "tpe")
            if not (r["dense"] and r["exact"] and r["final"]):
                raise RuntimeError(f"lost or duplicated trials: {r}")
            rate, ideal = r["n"] / r["wall"], k / SLEEP_S
            rows.append(f"| {name} | {k} | {r['n']:,} | {r['wall']:.1f} | {rate:.1f} | {ideal:.0f} | {rate / ideal:.0%} |")
    return "### Throughput with a 50 ms sleeping objective (worker processes, TPE)\n\n" + "\n".join(rows)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default="pertrial,workers,throughput")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    p.add_argument("--busy", action="store_true", help="keep one other process spinning on a core")
    p.add_argument("--trials", type=int, default=10_000, help="hpo_core trials in the per-trial study")
    p.add_argument("--optuna-trials", type=int, default=1_000, help="Optuna trials in the per-trial study")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--worker-trials", type=int, default=1_000)
    p.add_argument("--throughput-workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 8])
    p.add_argument("--throughput-trials", type=int, default=60, help="trials per worker")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--postgres-url", default=POSTGRES_URL)
    p.add_argument("--mysql-url", default=MYSQL_URL)
    p.add_argument("--redis-url", default=REDIS_URL)
    p.add_argument("--worker-storages", type=lambda s: s.split(","),
                   default=["PostgreSQL", "MariaDB", "journal file", "journal on Redis"],
                   help="comma-separated, of: PostgreSQL, MariaDB, journal file, journal on Redis")
    p.add_argument("--write-readme", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.trials, args.optuna_trials = 300, 100
        args.workers, args.worker_trials = 4, 25
        args.throughput_workers, args.throughput_trials = [1, 2], 10
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    parts = []
    sections = args.sections.split(",")
    for name, fn in (("pertrial", section_pertrial), ("workers", section_workers), ("throughput", section_throughput)):
        if name in sections:
            parts.append(fn(args, log))
    command = "python benchmarks/rdb_scale.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    title = "## Many workers on PostgreSQL, MariaDB and the journal (issue #12)"
    body = (title + (": one other process busy" if args.busy else "") + "\n\n"
            + _common.machine_info(["optuna", "sqlalchemy", "psycopg"]) + f"\n- Command: `{command.strip()}`\n\n"
            + "\n\n".join(parts) + "\n")
    print(body)
    if args.write_readme:
        _common.write_section(README, MARKER + ("-busy" if args.busy else "") + ("-quick" if args.quick else ""), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
