"""``trial.should_prune()`` cost against the study size, hpo_core against Optuna 5.0 (issue 13).

Each library runs one in-memory study per pruner. Every trial reports 100 steps of a
synthetic learning curve (a decaying loss with a per-trial floor and noise, the same
numbers for both libraries) and calls ``should_prune()`` after each report, stopping
when pruned, as a training loop does; the study grows to each checkpoint (1,000 and
10,000 trials for hpo_core, 1,000 for Optuna by default: its pruners read every trial
at every call). At each checkpoint, ``--probes`` fresh trials report 60 steps and the
``should_prune()`` call at step 60 is timed (``--probe step60``; the trial is then told
PRUNED), or report every step and call ``should_prune()`` after each, every call timed,
and complete (``--probe every``: the training loop itself; each probe adds one COMPLETE
value at every step, which changes every step's percentile); the table gives the
median. Target: at most 50 us at 10,000 trials, flat with the study size, and at least
100x below Optuna's same pruner in the same run. Each library runs at its own defaults
(what a user gets); successive halving and Hyperband, whose ``min_resource="auto"``
differs, also run in both at Optuna's setting (the ``(min_resource=1)`` rows).

The multi-objective pruners (no Optuna counterpart) run on 2-objective studies: the
second objective is another curve of the same family; ``--prefill add`` grows those
studies by ask / report / tell without ``should_prune`` (``add_trials`` takes one value
per step).

Usage::

    python benchmarks/pruners.py                   # 1,000 / 10,000 trials (Optuna 1,000)
    python benchmarks/pruners.py --quick           # 200 / 1,000 (Optuna 200)
    python benchmarks/pruners.py --probe every     # time every call of a training loop
    python benchmarks/pruners.py --busy            # beside one other process spinning on a core
    python benchmarks/pruners.py --write-readme    # also update benchmarks/README.md
    python benchmarks/pruners.py --pruners NopPruner,WilcoxonPruner   # the floor beside one pruner
"""

from __future__ import annotations

import argparse
import logging
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402

README = Path(__file__).with_name("README.md")
MARKER = "pruners"
N_STEPS = 100
PROBE_STEP = 60
TARGET_US = 50.0
TARGET_RATIO = 100.0

# name -> how to build it from a pruners module (hpo_core.pruners or optuna.pruners)
PRUNERS: dict[str, Callable[[Any], Any]] = {
    # The floor: a pruner that returns False at once (the cost of `should_prune` itself).
    "NopPruner": lambda m: m.NopPruner(),
    "MedianPruner": lambda m: m.MedianPruner(),
    "PercentilePruner(25)": lambda m: m.PercentilePruner(25.0),
    "ThresholdPruner(upper=1.5)": lambda m: m.ThresholdPruner(upper=1.5),
    "PatientPruner(Median; 3)": lambda m: m.PatientPruner(m.MedianPruner(), patience=3),
    # Each library's own defaults (what a user gets), then both at Optuna 5.0's setting: the
    # two differ in `min_resource` only (see `_settings`).
    "SuccessiveHalvingPruner": lambda m: m.SuccessiveHalvingPruner(),
    "SuccessiveHalvingPruner(min_resource=1)": lambda m: m.SuccessiveHalvingPruner(min_resource=1),
    "HyperbandPruner": lambda m: m.HyperbandPruner(),
    "HyperbandPruner(min_resource=1)": lambda m: m.HyperbandPruner(min_resource=1),
    "WilcoxonPruner": lambda m: m.WilcoxonPruner(),
    "MultiObjectiveSuccessiveHalvingPruner": lambda m: m.MultiObjectiveSuccessiveHalvingPruner(),
    "MultiObjectiveMedianPruner": lambda m: m.MultiObjectiveMedianPruner(),
}
MULTI_OBJECTIVE = {"MultiObjectiveSuccessiveHalvingPruner", "MultiObjectiveMedianPruner"}  # hpo_core only


def curves(n: int, seed: int) -> np.ndarray:
    """(n, N_STEPS) losses: exp decay to a per-trial floor, with noise (both libraries)."""
    rng = np.random.default_rng(seed)
    floor = rng.uniform(0.05, 1.0, size=(n, 1))
    rate = rng.uniform(0.02, 0.2, size=(n, 1))
    t = np.arange(N_STEPS)[None, :]
    return floor + (2.0 - floor) * np.exp(-rate * t) + rng.normal(0, 0.02, size=(n, N_STEPS))


def _prefill(mod: Any, study: Any, data: np.ndarray, first: int, n: int) -> None:
    """Add ``n`` COMPLETE trials with every step reported (rows ``first ...`` of ``data``)."""
    dist = mod.distributions.FloatDistribution(0.0, 1.0)
    create = mod.create_trial if hasattr(mod, "create_trial") else mod.trial.create_trial
    study.add_trials([
        create(state=mod.trial.TrialState.COMPLETE, value=float(data[r, -1]), params={"x": 0.5},
               distributions={"x": dist}, intermediate_values={s: float(v) for s, v in enumerate(data[r])})
        for r in range(first, first + n)])


def _grow_mo(study: Any, data: np.ndarray, data2: np.ndarray, first: int, n: int) -> None:
    """Add ``n`` COMPLETE 2-objective trials by ask / report / tell (no ``should_prune``)."""
    for r in range(first, first + n):
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        for step in range(N_STEPS):
            trial.report([float(data[r, step]), float(data2[r, step])], step)
        study.tell(trial, [float(data[r, -1]), float(data2[r, -1])])


def run(lib: str, pruner_name: str, checkpoints: list[int], probes: int, seed: int, prefill: str = "loop",
        probe: str = "step60") -> dict[int, float]:
    """Median seconds of ``should_prune`` at each checkpoint: at step 60 of fresh trials
    (``probe="step60"``) or at every step of fresh trials that then complete
    (``probe="every"``); the study grown by training loops that call ``should_prune`` at
    every step, or by ``add_trials`` of complete curves with ``prefill="add"``."""
    mo = pruner_name in MULTI_OBJECTIVE
    if lib == "hpo_core":
        import hpo_core as mod
    else:
        import optuna as mod

        mod.logging.set_verbosity(mod.logging.WARNING)
    directions = ["minimize", "minimize"] if mo else ["minimize"]
    study = mod.create_study(directions=directions, pruner=PRUNERS[pruner_name](mod.pruners),
                             sampler=mod.samplers.RandomSampler(seed=seed))
    total = max(checkpoints) + probes * len(checkpoints)
    data = curves(total, seed)
    data2 = curves(total, seed + 1)  # the second objective of the multi-objective studies

    def report(trial: Any, r: int, step: int) -> None:
        trial.report([float(data[r, step]), float(data2[r, step])] if mo else float(data[r, step]), step)

    def final(r: int, step: int) -> Any:
        return [float(data[r, step]), float(data2[r, step])] if mo else float(data[r, step])

    row = 0
    out = {}
    for c in checkpoints:
        if prefill == "add" and len(study.trials) < c:
            n = c - len(study.trials)
            if mo:
                _grow_mo(study, data, data2, row, n)
            else:
                _prefill(mod, study, data, row, n)
            row += n
        while len(study.trials) < c:  # grow the study with full training loops
            trial = study.ask()
            trial.suggest_float("x", 0.0, 1.0)
            for step in range(N_STEPS):
                report(trial, row, step)
                if trial.should_prune():
                    study.tell(trial, state=mod.trial.TrialState.PRUNED)
                    break
            else:
                study.tell(trial, final(row, N_STEPS - 1))
            row += 1
        times = []
        for _ in range(probes):  # timed
            trial = study.ask()
            trial.suggest_float("x", 0.0, 1.0)
            if probe == "every":  # every call of a training loop that is never stopped
                for step in range(N_STEPS):
                    report(trial, row, step)
                    t0 = time.perf_counter()
                    trial.should_prune()
                    times.append(time.perf_counter() - t0)
                study.tell(trial, final(row, N_STEPS - 1))
            else:  # the call at step 60 of a fresh trial
                for step in range(PROBE_STEP + 1):
                    report(trial, row, step)
                t0 = time.perf_counter()
                trial.should_prune()
                times.append(time.perf_counter() - t0)
                study.tell(trial, state=mod.trial.TrialState.PRUNED)
            row += 1
        out[c] = statistics.median(times)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--pruners", default=",".join(PRUNERS), help="comma-separated names of PRUNERS")
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--optuna-sizes", default="1000")
    p.add_argument("--probes", type=int, default=30)
    p.add_argument("--prefill", choices=("loop", "add"), default="loop",
                   help="grow the study by training loops calling should_prune (loop) or by add_trials of complete curves (add)")
    p.add_argument("--probe", choices=("step60", "every"), default="step60",
                   help="time the call at step 60 of fresh trials, or every call of fresh trials' training loops")
    p.add_argument("--busy", action="store_true", help="keep one other process spinning on a core throughout")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write-readme", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.optuna_sizes, args.probes = "200,1000", "200", 10
    sizes = [int(s) for s in args.sizes.split(",")]
    optuna_sizes = [int(s) for s in args.optuna_sizes.split(",") if s]
    names = [n for n in PRUNERS if n in args.pruners.split(",")]
    import hpo_core

    _common.git_rev()  # now: it names the code this process runs, whatever the tree does meanwhile
    hpo_core.logging.set_verbosity(logging.WARNING)
    head = "| pruner | " + " | ".join([*(f"hpo_core {s:,} (us)" for s in sizes), *(f"Optuna {s:,} (us)" for s in optuna_sizes)]) \
        + " | Optuna / hpo_core |"
    rows = [head, "|" + "---|" * (2 + len(sizes) + len(optuna_sizes))]
    from rdb_scale import busy_core  # one spinning process (--busy)

    with busy_core(args.busy):
        verdicts = _measure(names, sizes, optuna_sizes, args, rows)
    busy = ", one other process spinning on a core throughout" if args.busy else ""
    command = "python benchmarks/pruners.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    probed = (f"Median of {args.probes} calls at step {PROBE_STEP} of fresh trials" if args.probe == "step60" else
              f"Median of every `should_prune` call ({args.probes} fresh trials x {N_STEPS} steps, each trial "
              "then COMPLETE)")
    every = ", every call of a training loop" if args.probe == "every" else ""
    body = (f"## `should_prune` against the study size{every}{busy} (issue #13)\n\n" + _common.machine_info(["optuna"])
            + f"\n- Command: `{command.strip()}`\n\n{probed}; "
            + (f"every earlier trial reported {N_STEPS} steps and called `should_prune` after each.\n\n"
               if args.prefill == "loop" else
               f"the earlier trials were added complete (`add_trials`, {N_STEPS} steps each; the multi-objective "
               "ones by ask / report / tell), so successive halving and Hyperband find no rung attributes on "
               "them.\n\n")
            + _settings(names) + "\n".join(rows) + "\n\n" + "\n".join(verdicts) + "\n")
    print(body)
    if args.write_readme:
        marker = (MARKER + ("-quick" if args.quick else "") + ("-add" if args.prefill == "add" else "")
                  + ("-every" if args.probe == "every" else "") + ("-busy" if args.busy else ""))
        _common.write_section(README, marker, body)
    return 0


def _measure(names: list[str], sizes: list[int], optuna_sizes: list[int], args: Any, rows: list[str]) -> list[str]:
    """Run every pruner of ``names``; append its table row to ``rows``; return the verdicts."""
    import hpo_core

    verdicts = []
    for name in names:
        if not hasattr(hpo_core.pruners, name.split("(")[0]):
            print(f"skipping {name}: not in hpo_core.pruners", file=sys.stderr)
            continue
        print(f"{name}: hpo_core ...", file=sys.stderr, flush=True)
        ours = run("hpo_core", name, sizes, args.probes, args.seed, args.prefill, args.probe)
        theirs: dict[int, float] = {}
        if optuna_sizes and name not in MULTI_OBJECTIVE:
            print(f"{name}: Optuna ...", file=sys.stderr, flush=True)
            theirs = run("optuna", name, optuna_sizes, args.probes, args.seed, args.prefill, args.probe)
        common = [s for s in optuna_sizes if s in ours and s in theirs]
        ratio = f"{theirs[max(common)] / ours[max(common)]:.0f}x at {max(common):,}" if common else "-"
        rows.append(f"| {name} | " + " | ".join([*(f"{ours[s] * 1e6:.1f}" for s in sizes),
                                                   *(_us(theirs[s]) if s in theirs else "-" for s in optuna_sizes)])
                    + f" | {ratio} |")
        big, small = max(sizes), min(sizes)
        if name == "NopPruner":  # the floor: no target applies
            verdicts.append(f"- {name} (the floor of `should_prune`): {ours[big] * 1e6:.2f} us at {big:,}"
                            + (f"; Optuna's {theirs[max(common)] * 1e6:.2f} us" if common else ""))
            continue
        verdicts.append(f"- {name}: {ours[big] * 1e6:.1f} us at {big:,} (target {TARGET_US:g} us: "
                        f"{'met' if ours[big] * 1e6 <= TARGET_US else 'NOT met'}; {big:,} / {small:,}: "
                        f"{ours[big] / ours[small]:.2f}x)"
                        + (f"; {theirs[max(common)] / ours[max(common)]:.0f}x below Optuna (target "
                           f"{TARGET_RATIO:g}x: {'met' if theirs[max(common)] / ours[max(common)] >= TARGET_RATIO else 'NOT met'})"
                           if common else ""))
    return verdicts

def _settings(names: list[str]) -> str:
    """The sentence under the table's heading that says which settings each library ran."""
    if not any(n.startswith(("SuccessiveHalvingPruner", "HyperbandPruner")) for n in names):
        return ""
    from hpo_core.pruners._successive_halving import auto_min_resource

    return ("Each library builds a row's pruner with the arguments in its name and its own defaults for the "
            "rest, what a user gets. They differ in `min_resource` only: hpo_core's, `\"auto\"` = `max(1, R // "
            f"reduction_factor)` for R = {N_STEPS} steps, is {auto_min_resource(N_STEPS, 4)} in these studies for "
            f"`SuccessiveHalvingPruner()` and {auto_min_resource(N_STEPS, 3)} for `HyperbandPruner()`; Optuna's is "
            f"{max(1, (N_STEPS - 1) // 100)} for both (its successive halving's `\"auto\"`, `max(1, last_step // "
            "100)`, and its Hyperband default). The `(min_resource=1)` rows run both libraries at Optuna's "
            "setting.\n\n")


def _us(seconds: float) -> str:
    """Microseconds: one decimal below 100 us (the O(1) pruners), none above."""
    us = seconds * 1e6
    return f"{us:.1f}" if us < 100 else f"{us:.0f}"


if __name__ == "__main__":
    sys.exit(main())
