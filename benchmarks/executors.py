"""Executors: trials per second of threads and worker processes, and Ray beside Ray Tune.

Part 1 (threads and processes, on SQLite): an objective that sleeps 50 ms, at 1, 2, 4
and 8 workers, ``ROUNDS * workers`` trials each (so the ideal time is ``ROUNDS * 50
ms`` at every width). Reported: trials per second over the whole ``optimize`` call
(worker start-up included) and the efficiency against the ideal, ``ideal time /
measured time``; and the same over the trials alone (first start to last end, from the
trials' timestamps), which leaves out the start-up of the worker processes.

Part 2 (Ray, two trials at a time, 1,000 trivial trials ``x ** 2`` on one float, TPE):
``hpo_core`` with ``executor=RayExecutor()`` (the sampler in the driver, one Ray task
per trial) against Ray Tune driving Optuna (``tune.Tuner`` with
``OptunaSearch``, ``max_concurrent_trials=2``), in the same process on the same local
Ray (``ray.init(num_cpus=2)``, its start not counted). Both use in-memory studies.

    python benchmarks/executors.py                       # everything, 3 repeats
    python benchmarks/executors.py --quick               # 1 repeat, 200 Ray trials
    python benchmarks/executors.py --write-readme        # and write benchmarks/README.md's section
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402

import hpo_core  # noqa: E402

SLEEP = 0.05


def sleeping(trial: Any) -> float:
    x = trial.suggest_float("x", -10, 10)
    time.sleep(SLEEP)
    return x * x


def trivial(trial: Any) -> float:
    x = trial.suggest_float("x", -10, 10)
    return x * x


def run_throughput(kind: str, workers: int, rounds: int, tmp: str) -> dict[str, float]:
    """One ``optimize`` call on a fresh SQLite file; times in seconds."""
    path = Path(tmp) / f"{kind}-{workers}-{time.monotonic_ns()}.db"
    study = hpo_core.create_study(storage=f"sqlite:///{path}", sampler=hpo_core.samplers.RandomSampler(seed=0))
    n = rounds * workers
    start = time.perf_counter()
    study.optimize(sleeping, n_trials=n, n_jobs=workers, executor=None if kind == "threads" else "process")
    wall = time.perf_counter() - start
    trials = study.trials
    assert len(trials) == n and all(t.state == hpo_core.TrialState.COMPLETE for t in trials)
    first = min(t.datetime_start for t in trials if t.datetime_start is not None)
    last = max(t.datetime_complete for t in trials if t.datetime_complete is not None)
    return {"wall": wall, "trials": (last - first).total_seconds(), "n": n}


def throughput(args: argparse.Namespace, log: Any) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("threads", "processes"):
            for k in args.workers:
                runs = [run_throughput(kind, k, args.rounds, tmp) for _ in range(args.repeats)]
                ideal = args.rounds * SLEEP
                wall = statistics.median(r["wall"] for r in runs)
                busy = statistics.median(r["trials"] for r in runs)
                row = {"kind": kind, "workers": k, "n": runs[0]["n"], "wall": wall, "busy": busy,
                       "tps": runs[0]["n"] / wall, "eff": ideal / wall,
                       "tps_busy": runs[0]["n"] / busy, "eff_busy": ideal / busy,
                       "walls": [r["wall"] for r in runs]}
                log(f"{kind:9s} {k} workers: {row['tps']:6.1f} trials/s ({row['eff']:.0%}), "
                    f"trials alone {row['tps_busy']:6.1f} ({row['eff_busy']:.0%}); walls "
                    + ", ".join(f"{w:.2f}" for w in row["walls"]))
                rows.append(row)
    return rows


def run_hpo_ray(n: int) -> float:
    from hpo_core.distributed import RayExecutor

    study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=0))
    start = time.perf_counter()
    study.optimize(trivial, n_trials=n, n_jobs=2, executor=RayExecutor(resources_per_trial={"cpu": 1}))
    elapsed = time.perf_counter() - start
    assert len(study.trials) == n and all(t.state == hpo_core.TrialState.COMPLETE for t in study.trials)
    return elapsed


def tune_objective(config: dict[str, float]) -> dict[str, float]:
    return {"loss": config["x"] ** 2}


def run_tune(n: int, tmp: str) -> float:
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    search = OptunaSearch(metric="loss", mode="min", seed=0)  # Optuna's TPESampler
    tuner = tune.Tuner(
        tune_objective,
        param_space={"x": tune.uniform(-10, 10)},
        # reuse_actors: one trainable actor per slot for all trials (Tune's fastest setting;
        # without it each trial starts a new worker process, about 1 s each here).
        tune_config=tune.TuneConfig(search_alg=search, num_samples=n, max_concurrent_trials=2,
                                    reuse_actors=True),
        run_config=tune.RunConfig(storage_path=tmp, verbose=0),
    )
    start = time.perf_counter()
    results = tuner.fit()
    elapsed = time.perf_counter() - start
    assert len(results) == n and not results.errors
    return elapsed


def ray_part(args: argparse.Namespace, log: Any) -> dict[str, Any]:
    import ray

    # Tune's per-trial loggers (CSV, JSON, TensorBoard) off: only the scheduling is compared.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    init = time.perf_counter() - t0
    log(f"ray.init(num_cpus=2): {init:.1f} s")
    run_hpo_ray(20)  # warm the worker processes of both, once
    hpo = []
    for _ in range(args.ray_repeats):
        hpo.append(run_hpo_ray(args.ray_trials))
        log(f"hpo_core RayExecutor, {args.ray_trials} trials: {hpo[-1]:.2f} s")
    tune_times = []
    if not args.skip_tune:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.tune_repeats):
                tune_times.append(run_tune(args.ray_trials, tmp))
                log(f"Ray Tune + OptunaSearch, {args.ray_trials} trials: {tune_times[-1]:.2f} s")
    ray.shutdown()
    return {"init": init, "hpo": hpo, "tune": tune_times}


def report(args: argparse.Namespace, command: str, rows: list[dict[str, Any]], ray_res: dict[str, Any] | None,
           load: tuple[float, float, float]) -> str:
    lines = [
        "## Executors: threads, worker processes, Ray",
        "",
        "```",
        command,
        "```",
        "",
        _common.machine_info(["ray", "optuna"]),
        f"- The machine has 2 cores, shared with other work (load average {load[0]:.2f} at the start); "
        f"medians of {args.repeats} runs (Ray: {args.ray_repeats}; Ray Tune: {args.tune_repeats}).",
        "",
    ]
    if rows:
        lines += [
            f"Throughput on SQLite, an objective sleeping {SLEEP * 1e3:.0f} ms, {args.rounds} trials per "
            f"worker (ideal time {args.rounds * SLEEP:.1f} s at every width). *Whole call*: over the "
            "`optimize` call, worker processes' start-up included; *trials alone*: from the first "
            "trial's start to the last one's end.",
            "",
            "| executor | workers | trials | trials/s, whole call | efficiency | trials/s, trials alone | efficiency |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(f"| {r['kind']} | {r['workers']} | {r['n']} | {r['tps']:.1f} | {r['eff']:.0%} | "
                         f"{r['tps_busy']:.1f} | {r['eff_busy']:.0%} |")
        lines.append("")
    if ray_res is not None:
        hpo, tune = ray_res["hpo"], ray_res["tune"]
        lines += [
            f"Ray, {args.ray_trials} trivial trials (`x ** 2`, TPE), two at a time, on a local "
            f"`ray.init(num_cpus=2)` ({ray_res['init']:.1f} s to start, not counted):",
            "",
            "| driver | seconds | trials/s | runs |",
            "|---|---|---|---|",
            f"| hpo_core `optimize(n_jobs=2, executor=RayExecutor())` | {statistics.median(hpo):.2f} | "
            f"{args.ray_trials / statistics.median(hpo):.0f} | " + ", ".join(f"{t:.2f}" for t in hpo) + " |",
        ]
        if tune:
            lines.append(
                f"| Ray Tune + `OptunaSearch`, `max_concurrent_trials=2` | {statistics.median(tune):.2f} | "
                f"{args.ray_trials / statistics.median(tune):.0f} | " + ", ".join(f"{t:.2f}" for t in tune) + " |")
        lines += [
            "",
            "hpo_core keeps the study and TPE in the driver and runs each trial as one Ray task that "
            "connects back for its `suggest_float` and result. Tune runs with `reuse_actors=True`, its "
            "fastest setting here: without it each Tune trial starts a new worker process (54 s for 50 "
            "trials in a trial run of this script on this machine, about 1 s per trial).",
        ]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4,8", help="comma-separated worker counts")
    parser.add_argument("--rounds", type=int, default=20, help="trials per worker")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ray-trials", type=int, default=1000)
    parser.add_argument("--ray-repeats", type=int, default=3)
    parser.add_argument("--tune-repeats", type=int, default=3)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-tune", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 200 Ray trials")
    parser.add_argument("--write-readme", action="store_true", help="write the section of benchmarks/README.md")
    args = parser.parse_args()
    if args.quick:
        args.repeats = args.ray_repeats = args.tune_repeats = 1
        args.ray_trials = min(args.ray_trials, 200)
    args.workers = [int(w) for w in args.workers.split(",")]
    command = "python benchmarks/executors.py " + " ".join(sys.argv[1:])
    hpo_core.logging.set_verbosity(logging.WARNING)
    _common.git_rev()  # name the code now, before the tree moves on
    load = os.getloadavg()

    def log(msg: str) -> None:
        print(msg, flush=True)

    rows = [] if args.skip_throughput else throughput(args, log)
    ray_res = None if args.skip_ray else ray_part(args, log)
    text = report(args, command.replace(" --write-readme", "").rstrip(), rows, ray_res, load)
    print("\n" + text)
    if args.write_readme:
        _common.write_section(_common.README, "executors", text)


if __name__ == "__main__":
    main()
