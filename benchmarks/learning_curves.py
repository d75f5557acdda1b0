"""TPE with ASHA and with Hyperband (BOHB) against full-budget TPE on recorded learning curves
(issue 13), hpo_core and Optuna 5.0 side by side.

Each study replays a table of ``_curves.CURVES`` (real PyTorch MLP and gradient-boosting
curves on ``load_digits``; one step = one epoch or one boosting iteration) through
``_curves.make_objective``, which reports every step, stops when ``should_prune()`` says so
and counts every replayed step in an :class:`_curves.EpochCounter`. The score is the
validation error after the last step (lower is better).

For every table and seed:

- **full-budget TPE** (``hpo_tpe``, ``optuna_tpe``): the library's ``TPESampler(seed=seed)``
  at its defaults, no pruning, ``--budget`` trials of every step: ``budget * n_steps`` epochs,
  the *full budget*. Its *target* is the best final error it reaches with them.
- **pruned TPE** (``hpo_asha``, ``hpo_bohb``, ``optuna_asha``, ``optuna_bohb``): the same
  sampler with ``SuccessiveHalvingPruner()`` (asynchronous successive halving, ASHA) or
  ``HyperbandPruner()`` (with TPE, BOHB-style: in both libraries TPE models every trial,
  Optuna 5.0's because its bracket study filters ``get_trials`` but TPE calls
  ``_get_trials``; ``hpo_bohb:sampler_scope=bracket`` models each bracket apart;
  ``hpo_bohb_all`` is kept as a name of ``hpo_bohb`` for the runs recorded under it),
  at each library's default arguments unless a spec sets them
  (``hpo_asha:min_resource=3:reduction_factor=3``). The defaults differ in one place:
  hpo_core's ``min_resource="auto"`` is ``max(1, R // reduction_factor)`` for ``R`` the
  steps a trial runs (the default of both pruners), Optuna 5.0's is ``max(1, s // 100)``
  (ASHA) and ``min_resource=1`` (Hyperband); ``hpo_asha:auto_rule=s100`` and
  ``hpo_bohb:min_resource=1`` give Optuna's in hpo_core; ``rung=distinct`` (a prototype, both
  libraries) counts trials whose reports up to a rung are equal once there. It runs as many trials as it likes
  until it has spent the full budget's epochs; after each trial the epochs so far and, if
  the trial completed (ran every step), its final error are recorded.

Read off per seed, against the target of the same library's full-budget TPE with the same
seed: the epochs at which the run's best *completed* trial first has a final error at or
below the target, as a fraction of the full budget (a pruned trial's last report is not a
final score and never counts); and the best final error the run holds when it has spent the
full budget. A run that never reaches the target within the full budget has no fraction
("> 1"). The full-budget runs get the same read-out against their own target (the share of
their budget after which they hold their final best).

Usage::

    nice python benchmarks/learning_curves.py                       # 20 seeds, 100-trial budget
    nice python benchmarks/learning_curves.py --seeds 20 --write-readme \\
        --out benchmarks/results/learning_curves.json --plot benchmarks/results/learning_curves.png
    python benchmarks/learning_curves.py --seeds 2 --budget 10 --configs hpo_tpe,hpo_asha
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
import _curves  # noqa: E402
import _runners  # noqa: E402

MARKER = "learning-curves"
TARGET_FRACTION = 1 / 3
N_GRID = 301  # points of the best-so-far curves (fractions 0, 1/300, ..., 1 of the budget)

# name -> (library, pruner class in <library>.pruners or None for no pruning, label)
CONFIGS: dict[str, tuple[str, str | None, str]] = {
    "hpo_tpe": ("hpo_core", None, "hpo_core TPE, full budget"),
    "hpo_asha": ("hpo_core", "SuccessiveHalvingPruner", "hpo_core TPE + ASHA"),
    "hpo_bohb": ("hpo_core", "HyperbandPruner", "hpo_core TPE + Hyperband (BOHB)"),
    # Recorded before sampler_scope="study" became the default: the same as hpo_bohb now.
    "hpo_bohb_all": ("hpo_core", "HyperbandPruner", "hpo_core TPE on every trial + Hyperband"),
    "optuna_tpe": ("optuna", None, "Optuna TPE, full budget"),
    "optuna_asha": ("optuna", "SuccessiveHalvingPruner", "Optuna TPE + ASHA"),
    "optuna_bohb": ("optuna", "HyperbandPruner", "Optuna TPE + Hyperband (BOHB)"),
}
REFERENCE = {"hpo_core": "hpo_tpe", "optuna": "optuna_tpe"}

# Rules for an automatic min_resource, prototyped through the spec option auto_rule=NAME
# (``hpo_asha:auto_rule=rf1``): min_resource from ``s`` and the reduction factor ``rf``. For
# ASHA ``s`` is the highest last step of the completed trials (what Optuna's "auto" reads),
# for Hyperband its max_resource (given, or that step + 1 with "auto"). Like "auto", the
# rule is applied at the first decision after a trial completed; nothing is pruned before.
# hpo_core's "auto" is rf1r for ASHA and rf1 for Hyperband (one rule: R // rf, R = s + 1).
AUTO_RULES: dict[str, Callable[[int, int], int]] = {
    "s100": lambda s, rf: max(1, s // 100),  # Optuna 5.0's SuccessiveHalvingPruner "auto"
    "rf1": lambda s, rf: max(1, s // rf),  # one rung below s: rungs at s/rf and ~s
    "rf2": lambda s, rf: max(1, s // rf**2),  # two rungs below s: s/rf^2, s/rf, ~s
    "s10": lambda s, rf: max(1, s // 10),  # the first decision after a tenth of the steps
    # one rung below R = s + 1, the steps 0..s (Optuna's max_resource="auto"): for ASHA,
    # rf1 on R; for Hyperband, whose s is already R, the same as rf1
    "rf1r": lambda s, rf: max(1, (s + 1) // rf),
}

PROTOCOL = """\
Each study replays a recorded table (`_curves.make_objective`: every step is reported,
`should_prune()` is asked after each, every replayed step is counted); the score is the
validation error after the last step. Per table and seed:

- **Full-budget TPE**: the library's `TPESampler(seed=seed)` at its defaults, no pruner,
  `--budget` trials of every step. Those epochs are the *full budget*; the best final error
  of its trials is the seed's *target*.
- **Pruned TPE**: the same sampler with `SuccessiveHalvingPruner()` (asynchronous successive
  halving, ASHA) or `HyperbandPruner()` (with TPE, BOHB-style: in both libraries TPE models
  every trial, Optuna 5.0's because its bracket study filters `get_trials` while TPE calls
  `_get_trials`; pruning decisions are per bracket), at the library's default arguments
  unless the row names others. The defaults differ in `min_resource`: hpo_core's `"auto"`
  (the default of both pruners) is `max(1, R // reduction_factor)` for `R` the steps a
  trial runs (`s + 1` for `s` the highest last step of the completed trials, or
  Hyperband's `max_resource`); Optuna 5.0's is `max(1, s // 100)` for ASHA and 1 for
  Hyperband. It runs trials until it has spent the full budget's epochs (pruned
  trials' steps included), so it may run more trials than the full-budget run.
- **Read-out**: the epochs at which the run's best *completed* trial (one that ran every step;
  a pruned trial's last report is not a final score) first has a final error at or below the
  target of the same library's full-budget TPE with the same seed, divided by the full budget.
  A run that does not get there within the full budget counts as "> 1" (and as 1 in the
  mean, which is then a lower bound, "≥"). For the full-budget rows the same number is the
  share of their budget after which they already hold their final best. *Seeds within 1/3*:
  fraction ≤ 1/3. The 1/3 target is *met* when the median over seeds is ≤ 1/3. *Epochs on
  re-run configurations*: median share of the replayed steps spent by completed trials of a
  grid configuration that had completed before (the replay is deterministic, so such a trial
  cannot improve the best).
"""
REUSE_NOTE = """\
With `--reuse` a configuration trained before resumes from the furthest step any of its
trials reached: a trial costs only the steps past that, and every configuration, full-budget
TPE included, runs until it has spent the full budget or `--max-trials` trials.
"""


def _library(lib: str) -> Any:
    if lib == "hpo_core":
        import hpo_core

        hpo_core.logging.set_verbosity(logging.WARNING)
        return hpo_core
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def parse(spec: str) -> tuple[str, dict[str, Any]]:
    """``"hpo_asha:min_resource=9"`` -> ``("hpo_asha", {"min_resource": 9})`` (a name of CONFIGS)."""
    return _runners.parse_sampler(spec, tuple(CONFIGS))


def label(spec: str) -> str:
    """Table label of a configuration spec (its options appended)."""
    name, kwargs = parse(spec)
    opts = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return CONFIGS[name][2] + (f" ({opts})" if opts else "")


def _completed_last_step(study: Any, lib: str) -> int | None:
    """The highest last step of the study's COMPLETE trials (None if none reported)."""
    if lib == "hpo_core":
        from hpo_core.pruners._successive_halving import last_completed_step

        return last_completed_step(study.view.history)
    import optuna

    steps = [t.last_step for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
             if t.last_step is not None]
    return max(steps, default=None)


class DistinctCurveRungs:
    """A stand-in for hpo_core's ``RungIndex`` (prototype of the spec option
    ``rung=distinct``): at a rung, trials whose reports up to the deciding trial's last
    step are equal (a re-run of one configuration under a deterministic objective) count
    once, so re-runs do not crowd the best ``1 / reduction_factor``. Scans every row at
    each decision (signatures of finished rows cached): fine for a benchmark, O(n)."""

    def __init__(self) -> None:
        self._sigs: dict[tuple[int, int], tuple[bytes, bytes]] = {}

    def _signature(self, history: Any, row: int, step: int) -> tuple[bytes, bytes]:
        sig = self._sigs.get((row, step))
        if sig is None:
            steps, values = history.steps.of_row(row)
            keep = steps <= step
            sig = (np.ascontiguousarray(steps[keep]).tobytes(), np.ascontiguousarray(values[keep]).tobytes())
            if history.states.item(row) not in (-1, 0, 4):  # finished (not unknown, RUNNING, WAITING): its reports never change
                self._sigs[(row, step)] = sig
        return sig

    def decide(self, history: Any, key: str, own_row: int, value: float, reduction_factor: int,
               maximize: bool, brackets: Any = None, bracket: int = 0, record: bool = False) -> tuple[int, bool]:
        from hpo_core.pruners._successive_halving import is_promotable

        step = int(history.steps.last_value(own_row)[0])
        own = self._signature(history, own_row, step)
        seen = {own}
        competing = [value]
        for row in range(history.n):
            attrs = history.system_attrs[row]
            if row == own_row or not attrs or key not in attrs:
                continue
            if brackets is not None and brackets[row] != bracket:
                continue
            sig = self._signature(history, row, step)
            if sig not in seen:
                seen.add(sig)
                competing.append(float(attrs[key]))
        arr = np.asarray(competing)
        arr = np.where(np.isnan(arr), -np.inf if maximize else np.inf, arr)  # NaN ranks last
        return len(arr), is_promotable(value, arr, reduction_factor, maximize)

    def forget(self, key: str, own_row: int) -> None:
        pass


def _distinct_rungs(pruner: Any) -> Any:
    """``pruner`` (hpo_core's successive halving or Hyperband) with :class:`DistinctCurveRungs`."""
    if hasattr(pruner, "_rungs"):
        pruner._rungs = DistinctCurveRungs()
        return pruner
    initialize = pruner._initialize

    def _initialize(history: Any) -> None:
        initialize(history)
        for sub in pruner._pruners:
            sub._rungs = DistinctCurveRungs()

    pruner._initialize = _initialize
    return pruner


def _optuna_distinct_rungs(pruner: Any) -> Any:
    """``pruner`` (Optuna 5.0's successive halving or Hyperband) with the rule of
    :class:`DistinctCurveRungs`: during its ``prune``, Optuna's module-level
    ``_get_competing_values`` counts equal curves once."""
    import optuna.pruners._successive_halving as sh

    prune = pruner.prune

    def distinct_prune(study: Any, trial: Any) -> bool:
        step = trial.last_step

        def signature(t: Any) -> tuple[tuple[int, float], ...]:
            return tuple((s, v) for s, v in sorted(t.intermediate_values.items()) if s <= step)

        own = signature(trial)

        def competing(trials: list[Any], value: float, rung_key: str) -> list[float]:
            seen, out = {own}, []
            for t in trials:
                if t.number == trial.number or rung_key not in t.system_attrs:
                    continue
                sig = signature(t)
                if sig not in seen:
                    seen.add(sig)
                    out.append(t.system_attrs[rung_key])
            return [*out, value]

        saved, sh._get_competing_values = sh._get_competing_values, competing
        try:
            return bool(prune(study, trial))
        finally:
            sh._get_competing_values = saved

    pruner.prune = distinct_prune
    return pruner


def make_pruner(mod: Any, lib: str, pruner_name: str, kwargs: dict[str, Any]) -> Any:
    """``mod.pruners.<pruner_name>(**kwargs)``; with ``auto_rule=NAME`` in ``kwargs`` a
    subclass whose min_resource is ``AUTO_RULES[NAME]`` (set where the library sets "auto");
    with ``rung="distinct"`` equal curves count once at a rung (:class:`DistinctCurveRungs`;
    for Optuna :func:`_optuna_distinct_rungs`)."""
    kwargs = dict(kwargs)
    if kwargs.pop("rung", None) == "distinct":
        pruner = make_pruner(mod, lib, pruner_name, kwargs)
        return _distinct_rungs(pruner) if lib == "hpo_core" else _optuna_distinct_rungs(pruner)
    base = getattr(mod.pruners, pruner_name)
    if "auto_rule" not in kwargs:
        return base(**kwargs)
    rule = AUTO_RULES[kwargs.pop("auto_rule")]
    if pruner_name == "SuccessiveHalvingPruner":
        kwargs["min_resource"] = "auto"

        class RuleASHA(base):  # type: ignore[valid-type,misc]
            def prune(self, study: Any, trial: Any, *args: Any) -> bool:
                if self._min_resource is None:
                    s = _completed_last_step(study, lib)
                    if s is None:
                        return False
                    self._min_resource = rule(s, self._reduction_factor)
                return bool(super().prune(study, trial, *args))

        return RuleASHA(**kwargs)

    class RuleHyperband(base):  # type: ignore[valid-type,misc]
        def _setup(self, study: Any) -> bool:
            if self._max_resource in (None, "auto"):
                s = _completed_last_step(study, lib)
                if s is None:
                    return False
                self._max_resource = s + 1
            self._min_resource = rule(self._max_resource, self._reduction_factor)
            return True

        def _try_initialization(self, study: Any) -> None:  # Optuna
            if self._setup(study):
                super()._try_initialization(study)

        def prune(self, study: Any, trial: Any) -> bool:
            if lib == "hpo_core" and not self._pruners and not self._setup(study):
                return False
            return bool(super().prune(study, trial))

    return RuleHyperband(**kwargs)


class _Ledger:
    """Epochs charged to a study, completed trials and re-runs, trial by trial.

    ``reuse=False``: every replayed step costs one epoch. ``reuse=True``: a grid
    configuration trained to step ``s`` before is resumed from there (its curve is known),
    so a trial costs only the steps past the furthest any earlier trial of its configuration
    reached.
    """

    def __init__(self, reuse: bool) -> None:
        self.reuse = reuse
        self.epochs = 0
        self.events: list[list[float]] = []  # [epochs so far, final error] per completed trial
        self.trained: dict[tuple[Any, ...], int] = {}  # configuration -> furthest step reached
        self.completed: set[tuple[Any, ...]] = set()
        self.n_repeats = 0  # completed trials of a configuration that had completed before

    def add(self, params: dict[str, Any], steps: int, value: float | None) -> None:
        key = tuple(params.values())
        done = self.trained.get(key, 0)
        self.epochs += max(steps - done, 0) if self.reuse else steps
        self.trained[key] = max(done, steps)
        if value is not None:
            self.events.append([self.epochs, value])
            self.n_repeats += key in self.completed
            self.completed.add(key)


def run_one(table: str, spec: str, seed: int, budget_trials: int, *, reuse: bool = False,
            max_trials: int | None = None) -> dict[str, Any]:
    """One study of configuration ``spec`` on ``table`` until it has spent
    ``budget_trials * n_steps`` epochs (or run ``max_trials`` trials).

    Returns ``events`` (``[epochs so far, final error]`` after each completed trial, in
    order), ``epochs`` (charged; see :class:`_Ledger` for ``reuse``), ``replayed`` (steps
    replayed), ``n_trials``, ``n_pruned``, ``n_repeats`` (completed trials of a grid
    configuration that had already completed: the replay is deterministic, so they cannot
    improve the best) and ``seconds``.
    """
    name, kwargs = parse(spec)
    lib, pruner_name, _ = CONFIGS[name]
    mod = _library(lib)
    pruner = make_pruner(mod, lib, pruner_name, kwargs) if pruner_name else mod.pruners.NopPruner()
    # The study name fixes Hyperband's brackets (a hash of name and trial number): the same
    # for both libraries.
    study = mod.create_study(sampler=mod.samplers.TPESampler(seed=seed), pruner=pruner,
                             study_name=f"{table}-{seed}")
    counter = _curves.EpochCounter()
    budget = budget_trials * _curves.CURVES[table].n_steps
    complete = mod.trial.TrialState.COMPLETE
    ledger = _Ledger(reuse)

    def callback(study: Any, trial: Any) -> None:
        steps = max(trial.intermediate_values, default=0)  # the objective reports steps 1..k
        ledger.add(trial.user_attrs["grid_params"], steps, float(trial.value) if trial.state == complete else None)
        if ledger.epochs >= budget or (max_trials is not None and counter.n_trials >= max_trials):
            study.stop()

    t0 = time.perf_counter()
    study.optimize(_curves.make_objective(table, counter=counter), callbacks=[callback])
    return {"events": ledger.events, "epochs": ledger.epochs, "replayed": counter.epochs,
            "n_trials": counter.n_trials, "n_pruned": counter.n_pruned, "n_repeats": ledger.n_repeats,
            "seconds": time.perf_counter() - t0}


# ----------------------------------------------------------------------------- read-out
def best_within(events: Sequence[Sequence[float]], epochs: float) -> float:
    """Best final error among the trials completed within ``epochs`` (inf if none)."""
    return min((v for e, v in events if e <= epochs), default=math.inf)


def epochs_to_reach(events: Sequence[Sequence[float]], target: float, budget: float) -> float:
    """Epochs after which a completed trial's final error is first ``<= target``, if that is
    within ``budget``; inf otherwise."""
    return next((e for e, v in events if v <= target and e <= budget), math.inf)


def best_so_far(events: Sequence[Sequence[float]], grid: np.ndarray) -> np.ndarray:
    """Best final error of the trials completed within each epoch count of ``grid``
    (inf before the first)."""
    if not events:
        return np.full(len(grid), math.inf)
    arr = np.asarray(events, dtype=float)
    running = np.minimum.accumulate(arr[:, 1])
    idx = np.searchsorted(arr[:, 0], grid, side="right") - 1
    return np.where(idx >= 0, running[np.maximum(idx, 0)], math.inf)


def summarize(runs: dict[str, dict[str, list[dict[str, Any]]]], budget_trials: int) -> list[dict[str, Any]]:
    """One row per (table, configuration): fractions of the full budget needed to reach the
    target, per seed, and their summaries."""
    rows = []
    for table, by_spec in runs.items():
        budget = budget_trials * _curves.CURVES[table].n_steps
        for spec, seeds in by_spec.items():
            lib = CONFIGS[parse(spec)[0]][0]
            targets = [best_within(r["events"], budget) for r in by_spec[REFERENCE[lib]]]
            fractions = [epochs_to_reach(r["events"], t, budget) / budget for r, t in zip(seeds, targets)]
            reached = [f for f in fractions if math.isfinite(f)]
            rows.append({
                "table": table, "config": spec, "label": label(spec), "n_seeds": len(seeds),
                "budget_epochs": budget, "targets": targets, "fractions": fractions,
                "median_fraction": float(np.median(fractions)),
                # A seed that never reaches the target counts at the full budget: a lower bound.
                "mean_fraction": float(np.mean(np.minimum(fractions, 1.0))),
                "mean_is_lower_bound": len(reached) < len(fractions),
                "n_within_target": sum(f <= TARGET_FRACTION for f in fractions),
                "n_reached": len(reached),
                "median_best_at_budget": float(np.median([best_within(r["events"], budget) for r in seeds])),
                "median_trials": float(np.median([r["n_trials"] for r in seeds])),
                "median_pruned": float(np.median([r["n_pruned"] for r in seeds])),
                # share of the replayed steps spent on completed trials that re-ran a completed configuration
                "repeat_share": float(np.median([r["n_repeats"] * _curves.CURVES[table].n_steps / r["replayed"]
                                                 for r in seeds])),
                "seconds": float(sum(r["seconds"] for r in seeds)),
            })
    return rows


def _fmt_fraction(f: float) -> str:
    return "> 1" if not math.isfinite(f) else f"{f:.2f}"


def markdown(rows: list[dict[str, Any]], budget_trials: int) -> str:
    """The results table and, for each pruned configuration, the verdict on the 1/3 target."""
    out = ["| table | configuration | target: full-budget TPE's final best (median) | epochs to reach it / "
           "full budget: median | mean | seeds within 1/3 | seeds within the full budget | best final error "
           "at the full budget (median) | trials (pruned), median | epochs on re-run configurations |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for r in rows:
        n = r["n_seeds"]
        mean = ("≥ " if r["mean_is_lower_bound"] else "") + f"{r['mean_fraction']:.2f}"
        out.append(f"| `{r['table']}` | {r['label']} | {np.median(r['targets']):.4f} | "
                   f"{_fmt_fraction(r['median_fraction'])} | {mean} | {r['n_within_target']}/{n} | "
                   f"{r['n_reached']}/{n} | {r['median_best_at_budget']:.4f} | "
                   f"{r['median_trials']:.0f} ({r['median_pruned']:.0f}) | {100 * r['repeat_share']:.0f} % |")
        if CONFIGS[parse(r["config"])[0]][1] is not None:
            held = r["median_fraction"] <= TARGET_FRACTION
            verdicts.append(f"- `{r['table']}`, {r['label']}: median {_fmt_fraction(r['median_fraction'])} "
                            f"of the full budget, {r['n_within_target']} of {n} seeds within 1/3: target "
                            f"{'met' if held else 'NOT met'}")
    budgets = ", ".join(f"`{t}` {budget_trials} x {_curves.CURVES[t].n_steps} = "
                        f"{budget_trials * _curves.CURVES[t].n_steps:,} epochs"
                        for t in dict.fromkeys(r["table"] for r in rows))
    return "\n".join(out) + f"\n\nFull budget: {budgets}.\n\n" + "\n".join(verdicts) + "\n"


def plot(runs: dict[str, dict[str, list[dict[str, Any]]]], budget_trials: int, path: Path) -> None:
    """Best final error against epochs spent (fraction of the full budget): median over seeds
    and the 25-75 % band, one panel per table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {None: "black", "SuccessiveHalvingPruner": "tab:blue", "HyperbandPruner": "tab:red"}
    fig, axes = plt.subplots(1, len(runs), figsize=(6.5 * len(runs), 4.8), squeeze=False)
    x = np.linspace(0.0, 1.0, N_GRID)
    for ax, (table, by_spec) in zip(axes[0], runs.items()):
        budget = budget_trials * _curves.CURVES[table].n_steps
        for i, (spec, seeds) in enumerate(by_spec.items()):
            lib, pruner_name, _ = CONFIGS[parse(spec)[0]]
            curves = np.array([best_so_far(r["events"], x * budget) for r in seeds])
            # "nearest": no interpolation between inf (no completed trial yet) and inf
            quartiles = np.percentile(curves, [25, 50, 75], axis=0, method="nearest")
            lo, med, hi = np.where(np.isfinite(quartiles), quartiles, np.nan)
            color = colors[pruner_name] if i < 6 else f"C{i}"
            style = "-" if lib == "hpo_core" else "--"
            ax.plot(x, med, style, color=color, label=label(spec), lw=1.6 if lib == "hpo_core" else 1.2)
            ax.fill_between(x, lo, hi, color=color, alpha=0.08 if lib == "hpo_core" else 0.04)
        ax.axvline(TARGET_FRACTION, color="grey", ls=":", lw=1, label="1/3 of the full budget")
        ax.axhline(_curves.load_curves(table).best_final(), color="grey", lw=0.8, label="grid optimum")
        ax.set_yscale("log")
        ax.set_xlabel(f"epochs spent / full budget ({budget:,} {_curves.CURVES[table].step_unit}s)")
        ax.set_ylabel("best final validation error (completed trials)")
        ax.set_title(f"{table} ({len(next(iter(by_spec.values())))} seeds; median, 25-75 %)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", default=",".join(_curves.CURVES), help="comma-separated keys of _curves.CURVES")
    p.add_argument("--configs", default=",".join(c for c in CONFIGS if c != "hpo_bohb_all"),
                   help="comma-separated specs name[:key=value...] (pruner arguments); the full-budget TPE of "
                        "each library named is added when missing")
    p.add_argument("--seeds", type=int, default=20, help="how many seeds: FIRST_SEED .. FIRST_SEED + SEEDS - 1")
    p.add_argument("--first-seed", type=int, default=0, help="the first seed (fresh seeds for a verdict: e.g. 100)")
    p.add_argument("--budget", type=int, default=100, help="trials of the full-budget TPE (each runs every step)")
    p.add_argument("--reuse", action="store_true",
                   help="a configuration trained before resumes from the furthest step it reached (repeats cost "
                        "only new steps); every configuration then runs until it has spent the full budget")
    p.add_argument("--max-trials", type=int, help="stop a study after this many trials (default: 20 x --budget "
                                                   "with --reuse, none without)")
    p.add_argument("--out", type=Path, help="write the runs and the summary to this JSON file")
    p.add_argument("--plot", type=Path, help="write the plot to this PNG file (needs matplotlib)")
    p.add_argument("--write-readme", action="store_true", help="update the section of benchmarks/README.md")
    args = p.parse_args(argv)
    if args.reuse and args.max_trials is None:
        args.max_trials = 20 * args.budget
    tables = args.tables.split(",")
    specs = [s for s in args.configs.split(",") if s]
    for spec in specs:
        parse(spec)  # fail early on a bad name
    libs = dict.fromkeys(CONFIGS[parse(s)[0]][0] for s in specs)
    specs = [REFERENCE[lib] for lib in libs if REFERENCE[lib] not in specs] + specs
    rev = _common.git_rev()  # the code this process runs
    t0 = time.perf_counter()
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table in tables:
        _curves.load_curves(table)
        runs[table] = {}
        for spec in specs:
            print(f"{table} {spec}: {args.seeds} seeds ...", file=sys.stderr, flush=True)
            runs[table][spec] = [run_one(table, spec, seed, args.budget, reuse=args.reuse, max_trials=args.max_trials)
                                 for seed in range(args.first_seed, args.first_seed + args.seeds)]
    rows = summarize(runs, args.budget)
    command = "python benchmarks/learning_curves.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    body = ("## Learning curves: TPE with ASHA and Hyperband (BOHB) against full-budget TPE (issue #13)\n\n"
            + _common.machine_info(["optuna"])
            + f"\n- Command: `{command.strip()}` ({time.perf_counter() - t0:.0f} s)\n\n"
            + PROTOCOL + ("\n" + REUSE_NOTE if args.reuse else "") + "\n" + markdown(rows, args.budget))
    if args.plot:
        link = os.path.relpath(args.plot.resolve(), _common.README.parent)
        body += (f"\n![Best final error against epochs spent, median over seeds]({link})\n\n"
                 "Median over seeds of the best final error of the completed trials against the epochs "
                 "spent (25-75 % band); solid hpo_core, dashed Optuna.\n")
    print(body)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command.strip(), "git": rev, "budget_trials": args.budget,
                                        "reuse": args.reuse, "max_trials": args.max_trials,
                                        "seeds": args.seeds, "first_seed": args.first_seed, "summary": rows,
                                        "runs": runs},
                                       separators=(",", ":")) + "\n")
    if args.plot:
        plot(runs, args.budget, args.plot)
    if args.write_readme:
        _common.write_section(_common.README, MARKER, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
