"""Changes to how TPE treats PRUNED trials, measured on the recorded learning curves (issue 13).

hpo_core's ``TPESampler`` ranks every COMPLETE trial above every PRUNED one (Optuna 5.0's
rule). With ``SuccessiveHalvingPruner`` at Optuna 5.0's defaults (its ``"auto"`` rule, spelled
``hpo_asha:auto_rule=s100``; hpo_core's own ``"auto"`` differs, see ``learning_curves.py``) this
run of TPE + ASHA does not reach full-budget TPE's final best within 1/3 of the epochs (``learning_curves.py``).
This script measures three changes proposed in the literature, each a subclass of the
library's sampler that acts only in a study with PRUNED trials (the full-budget reference
runs through the same subclass and must give the same trials as the plain sampler: checked
on every seed):

- ``random``: BOHB's random fraction (Falkner et al. 2018, "BOHB: Robust and Efficient
  Hyperparameter Optimization at Scale", ICML, Sec. 4.2; HpBandSter's
  ``random_fraction=1/3``): a third of the trials are proposed uniformly at random.
- ``dedupe``: a COMPLETE trial whose value and reports equal an earlier COMPLETE trial's
  (a re-run of a configuration under a deterministic objective) does not enter the good
  group; it stays in the bad one (the replay snaps close suggestions to one grid point, so
  exact equality of the parameters, Optuna issue 332's remedy, never fires on these
  continuous spaces; equal curves do).
- ``common:c``: rank finished trials, COMPLETE and PRUNED alike, by their value at one
  common step ``b``: the deepest step that at least ``c * gamma(n)`` finished trials
  reached (BOHB's "largest budget with enough observations"); trials that stopped before
  ``b`` rank after, deepest first, then by their last value.

Usage::

    nice python benchmarks/tpe_pruned_variants.py --first-seed 100 --seeds 20
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import _curves  # noqa: E402
import learning_curves as lc  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.samplers.tpe import _ask_rows  # noqa: E402
from hpo_core.samplers.tpe import _sampler as tpe  # noqa: E402

_COMPLETE, _PRUNED, _MAX_STEP = tpe._COMPLETE, tpe._PRUNED, _ask_rows._MAX_STEP
_DONE = hpo_core.trial.TrialState.COMPLETE
PLAIN = hpo_core.samplers.TPESampler


def make_variant(spec: str) -> type[Any]:
    """A ``TPESampler`` subclass for ``spec``: "plain", "random", "dedupe", "common:c", or
    several joined by "+"."""
    parts = spec.split("+")
    random_fraction = 1 / 3 if "random" in parts else 0.0
    dedupe = "dedupe" in parts
    common = next((float(p.split(":")[1]) for p in parts if p.startswith("common:")), 0.0)

    class Variant(PLAIN):  # type: ignore[misc, valid-type]
        def _reset_history_caches(self) -> None:
            super()._reset_history_caches()
            self._explore = (-1, False)
            self._signatures: dict[int, tuple[Any, ...]] = {}

        def _sample_space(
            self, study: Any, h: Any, trial: Any, space: Any, complete_has_all: bool = False
        ) -> Any:
            if random_fraction and trial is not None and h.count(_PRUNED):
                number, explore = self._explore
                if number != trial.number:  # one draw per trial: its parameters agree
                    explore = bool(self._rng.random() < random_fraction)
                    self._explore = (trial.number, explore)
                if explore:
                    return space.from_unit(self._rng.random((1, len(space))))[0]
            return super()._sample_space(study, h, trial, space, complete_has_all)

        def _split(
            self, study: Any, h: Any, states: np.ndarray, n_fin: int, use_hint: bool = True
        ) -> np.ndarray:
            if not h.count(_PRUNED) or len(study.directions) > 1:
                return super()._split(study, h, states, n_fin, use_hint)
            if dedupe:
                repeats = self._repeats(h, states)
                if len(repeats):
                    states = states.copy()
                    states[repeats] = -1  # out of the split; still COMPLETE (bad) for the caller
                    use_hint = False
            if common:
                gamma = self._gamma or tpe.default_gamma
                sign = -1.0 if study.directions[0] == hpo_core.study.StudyDirection.MAXIMIZE else 1.0
                return _split_common(h, states, int(gamma(n_fin)), common, sign)
            return super()._split(study, h, states, n_fin, use_hint)

        def _repeats(self, h: Any, states: np.ndarray) -> np.ndarray:
            seen: set[tuple[Any, ...]] = set()
            out = []
            for row in np.flatnonzero(states == _COMPLETE).tolist():
                sig = self._signatures.get(row)
                if sig is None:  # a finished trial's reports never change
                    steps, values = h.steps.of_row(row)
                    sig = self._signatures[row] = (float(h.values[row, 0]), steps.tobytes(), values.tobytes())
                if sig in seen:
                    out.append(row)
                seen.add(sig)
            return np.asarray(out, dtype=np.intp)

    Variant.__name__ = f"TPESampler[{spec}]"
    return Variant


def _split_common(h: Any, states: np.ndarray, n_below: int, c: float, sign: float) -> np.ndarray:
    """The ``n_below`` best finished rows by value at the deepest step reached by at least
    ``c * n_below`` of them; the rows that stopped earlier after, deepest first."""
    rows = np.flatnonzero((states == _COMPLETE) | (states == _PRUNED))
    if n_below == 0 or len(rows) == 0:
        return rows[:0]
    last_step, last_value = h.steps.last_at_or_before(_MAX_STEP, rows.astype(np.int64))
    need = min(len(rows), max(n_below, int(c * n_below)))
    b = int(np.sort(last_step)[::-1][need - 1])
    _, at_b = h.steps.last_at_or_before(b, rows.astype(np.int64))
    key = np.where(last_step >= b, sign * at_b[:, 0], np.inf)
    last = sign * last_value[:, 0]
    order = np.lexsort(
        (rows, np.where(np.isnan(last), np.inf, last), -last_step, np.where(np.isnan(key), np.inf, key))
    )
    return np.sort(rows[order[:n_below]])


def diagnose(table: str, pruned: str, seeds: range, budget_trials: int) -> str:
    """Where the plain sampler's pruned runs stop the trials of the configurations that would
    reach the seed's target: per seed, how many such trials ran and at which steps they stopped.

    Then the seeds split by whether the run reached the target within 1/3 of the budget,
    each group read within that first third: the epochs on re-runs of completed
    configurations, the trials of target configurations and where they stopped, and, for
    those stopped at a rung, how many trials were ahead of them there and how many distinct
    curves (equal curves up to the rung counted once, as ``rung=distinct`` in
    ``learning_curves.py``); and how many a rung counting distinct curves would have kept.
    The rung read-out assumes one successive-halving ladder that every trial competes in
    (ASHA, not Hyperband's brackets).
    """
    import collections

    from hpo_core.pruners._successive_halving import is_promotable

    curves = _curves.load_curves(table)
    n_steps = _curves.CURVES[table].n_steps
    budget = budget_trials * n_steps
    flat = curves.values().reshape(-1, n_steps)
    final = flat[:, -1]
    stops: collections.Counter[int] = collections.Counter()
    n_seeds_sampled = 0
    n_runs = 0
    groups: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for seed in seeds:
        target = lc.best_within(lc.run_one(table, "hpo_tpe", seed, budget_trials)["events"], budget)
        name, kwargs = lc.parse(pruned)
        pruner = lc.make_pruner(hpo_core, "hpo_core", str(lc.CONFIGS[name][1]), kwargs)
        study = hpo_core.create_study(sampler=PLAIN(seed=seed), pruner=pruner, study_name=f"{table}-{seed}")
        counter = _curves.EpochCounter()
        trials: list[tuple[int, int, bool, int]] = []  # grid index, last step, completed, epochs so far

        def record(study: Any, trial: Any, counter: _curves.EpochCounter = counter, trials: list[Any] = trials) -> None:
            cell = int(np.ravel_multi_index(curves.index(trial.user_attrs["grid_params"]), curves.spec.shape))
            trials.append((cell, max(trial.intermediate_values), trial.state == _DONE, counter.epochs))
            if counter.epochs >= budget:
                study.stop()

        study.optimize(_curves.make_objective(table, counter=counter), callbacks=[record])
        hits = [step for cell, step, _, _ in trials if final[cell] <= target]
        n_seeds_sampled += bool(hits)
        n_runs += len(hits)
        stops.update(hits)
        reached = next((e for cell, _, done, e in trials if done and final[cell] <= target), np.inf)
        groups[reached <= lc.TARGET_FRACTION * budget].append(
            _first_third(trials, flat, target, budget, getattr(pruner, "_reduction_factor", 0), is_promotable))
    where = ", ".join(f"step {s}: {c}" for s, c in sorted(stops.items()))
    lines = [
        f"- `{table}`, {lc.label(pruned)}: trials of a configuration at or below the seed's target ran in "
        f"{n_seeds_sampled} of {len(seeds)} seeds ({n_runs} trials); they stopped at {where} "
        f"(step {n_steps}: completed)."
    ]
    for within, g in groups.items():
        if not g:
            continue
        stopped = [a for d in g for a in d["ahead"]]
        lines.append(
            f"  - {len(g)} seeds {'within' if within else 'NOT within'} 1/3 (first third of the budget): target = grid "
            f"optimum in {sum(d['optimum'] for d in g)}; epochs on re-runs of completed configurations, median "
            f"{100 * np.median([d['rerun'] for d in g]):.0f} %; distinct configurations tried, median "
            f"{np.median([d['distinct'] for d in g]):.0f}; a target configuration ran in "
            f"{sum(d['n_target'] > 0 for d in g)} seeds ({sum(d['n_target'] for d in g)} trials, "
            f"{sum(d['n_stopped'] for d in g)} pruned, at steps {sorted({s for d in g for s in d['steps']})}); "
            f"at the rung, median {np.median([a[0] for a in stopped]) if stopped else float('nan'):.0f} trials ahead "
            f"({np.median([a[1] for a in stopped]) if stopped else float('nan'):.0f} distinct curves); kept by a rung "
            f"counting distinct curves: {sum(a[2] for a in stopped)} trials in "
            f"{sum(any(a[2] for a in d['ahead']) for d in g)} seeds"
        )
    return "\n".join(lines)


def _first_third(trials: list[tuple[int, int, bool, int]], flat: np.ndarray, target: float, budget: int,
                 rf: int, is_promotable: Any) -> dict[str, Any]:
    """One seed's read-out of :func:`diagnose` over the trials that ended within 1/3 of the budget."""
    final = flat[:, -1]
    early = [t for t in trials if t[3] <= lc.TARGET_FRACTION * budget]
    completed: set[int] = set()
    rerun = prev = 0
    for cell, _, done, epochs in early:
        rerun += (epochs - prev) if done and cell in completed else 0
        completed.update([cell] if done else [])
        prev = epochs
    ahead = []  # (trials ahead at the rung, distinct curves ahead, kept if distinct) per target trial pruned
    for i, (cell, step, done, _) in enumerate(early):
        if done or final[cell] > target:
            continue
        rivals = [c for c, s, _, _ in early[:i] if s >= step]  # everyone who reported at this rung before
        mine = flat[cell, step - 1]
        distinct = {flat[c, :step].tobytes(): flat[c, step - 1] for c in rivals if c != cell}
        distinct.pop(flat[cell, :step].tobytes(), None)
        kept = bool(rf) and is_promotable(mine, np.array([*distinct.values(), mine]), rf, False)
        ahead.append((sum(flat[c, step - 1] < mine for c in rivals), sum(v < mine for v in distinct.values()), kept))
    return {"optimum": target <= final.min(), "rerun": rerun / max(prev, 1), "distinct": len({t[0] for t in early}),
            "n_target": sum(final[t[0]] <= target for t in early), "n_stopped": len(ahead),
            "steps": [t[1] for t in early if not t[2] and final[t[0]] <= target], "ahead": ahead}


def _use(sampler_class: type[Any]) -> None:
    """Make ``learning_curves.run_one`` build its TPE samplers from ``sampler_class``."""
    hpo_core.samplers.__dict__["TPESampler"] = sampler_class


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="plain,random,dedupe,random+dedupe,common:1,common:2,common:4")
    p.add_argument(
        "--pruned",
        default="hpo_asha:auto_rule=s100,hpo_bohb:min_resource=1",
        help="pruned configurations of learning_curves.CONFIGS (default: Optuna 5.0's default rules)",
    )
    p.add_argument("--tables", default=",".join(_curves.CURVES))
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--first-seed", type=int, default=100)
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--out", type=Path, help="write the per-seed fractions of every row to this JSON file")
    p.add_argument(
        "--diagnose",
        action="store_true",
        help="also say where plain TPE + ASHA stops the target's configurations",
    )
    args = p.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rev = _common.git_rev()
    t0 = time.perf_counter()
    lines = [
        "| table | pruner | TPE variant | epochs to reach the target / full budget: median | seeds within 1/3 | "
        "seeds within the full budget | best final error at the full budget (median) | trials, median | "
        "epochs on re-run configurations |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    record: list[dict[str, Any]] = []
    for table in args.tables.split(","):
        n_steps = _curves.CURVES[table].n_steps
        budget = args.budget * n_steps
        _use(PLAIN)
        refs = [lc.run_one(table, "hpo_tpe", s, args.budget) for s in seeds]
        targets = [lc.best_within(r["events"], budget) for r in refs]
        for variant in args.variants.split(","):
            _use(make_variant(variant))
            try:
                same = [lc.run_one(table, "hpo_tpe", s, args.budget)["events"] for s in seeds]
                if same != [r["events"] for r in refs]:
                    raise AssertionError(f"{variant}: the full-budget (unpruned) runs changed")
                for pruned in args.pruned.split(","):
                    print(f"{table} {pruned} {variant} ...", file=sys.stderr, flush=True)
                    runs = [lc.run_one(table, pruned, s, args.budget) for s in seeds]
                    fr = [lc.epochs_to_reach(r["events"], t, budget) / budget for r, t in zip(runs, targets)]
                    rep = np.median([r["n_repeats"] * n_steps / r["replayed"] for r in runs])
                    best = np.median([lc.best_within(r["events"], budget) for r in runs])
                    record.append({"table": table, "pruned": pruned, "variant": variant, "targets": targets,
                                   "fractions": fr, "n_trials": [r["n_trials"] for r in runs],
                                   "n_repeats": [r["n_repeats"] for r in runs],
                                   "replayed": [r["replayed"] for r in runs]})
                    lines.append(
                        f"| `{table}` | {lc.label(pruned).replace('hpo_core TPE + ', '')} | {variant} | "
                        f"{lc._fmt_fraction(float(np.median(fr)))} | "
                        f"{sum(f <= lc.TARGET_FRACTION for f in fr)}/{len(fr)} | "
                        f"{sum(np.isfinite(fr))}/{len(fr)} | {best:.4f} | "
                        f"{np.median([r['n_trials'] for r in runs]):.0f} | {100 * rep:.0f} % |"
                    )
            finally:
                _use(PLAIN)
    command = "python benchmarks/tpe_pruned_variants.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    print(
        f"- Command: `{command.strip()}` at {rev} ({time.perf_counter() - t0:.0f} s); seeds "
        f"{seeds.start}-{seeds.stop - 1}; every variant's full-budget runs equal the plain sampler's.\n"
    )
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command.strip(), "git": rev, "seeds": [seeds.start, seeds.stop - 1],
                                        "budget_trials": args.budget, "rows": record}) + "\n")
    if args.diagnose:
        print()
        for table in args.tables.split(","):
            for pruned in args.pruned.split(","):
                print(diagnose(table, pruned, seeds, args.budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
