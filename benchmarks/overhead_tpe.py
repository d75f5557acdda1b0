"""Per-trial ask+tell overhead of TPE samplers versus history size.

Compares hpo_core's TPESampler (define-by-run and ``ask(SearchSpace)``), Optuna's
TPESampler (``ask(fixed_distributions)``, default settings) and rustuna's TPESampler
(define-by-run; its ``ask()`` takes no distributions), in memory, on a 10-parameter
mixed space (float, log float, float step, int, log int, int step, two categoricals,
two more floats) with a trivial objective.

Method, per history size N and library: a fresh study (seed 0) is prefilled with
``N - window`` finished trials through the library's ``add_trial`` (the same random
points and random values for every library), then ``window`` consecutive ask+tell
pairs are timed one by one with ``time.perf_counter_ns``; the table shows the median and
the 90th percentile. The first timed pair is a probe: if it takes more than
``--ask-limit`` seconds the cell is skipped, and a cell whose time per ask extrapolated
linearly from the previous size exceeds the limit is skipped without being prefilled;
the table says which. Slow cells time fewer pairs (``--cell-budget``, at least
``--min-window``).

Also measured: resident memory per trial of each study (RSS growth over prefill and
timed window / N) and the cold start of each library, i.e. the first ask+tell in a
fresh process after 100 prefilled trials, with hpo_core's Numba cache cold (an empty
``NUMBA_CACHE_DIR``) and warm (the same directory, second process).

Usage::

    python benchmarks/overhead_tpe.py                          # 100 ... 100,000
    python benchmarks/overhead_tpe.py --sizes 100,1000 --window 20
    python benchmarks/overhead_tpe.py --write-readme            # also update README.md
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

MARKER = "tpe-overhead"
# (name, kind, low, high, options): the 10-parameter mixed space, one definition for all libraries.
SPACE_MIXED: list[tuple[str, str, Any, Any, dict[str, Any]]] = [
    ("f_uniform", "float", -5.0, 5.0, {}),
    ("f_log", "float", 1e-5, 1.0, {"log": True}),
    ("f_step", "float", 0.0, 1.0, {"step": 0.05}),
    ("i_uniform", "int", 0, 100, {}),
    ("i_log", "int", 1, 1024, {"log": True}),
    ("i_step", "int", 0, 100, {"step": 5}),
    ("c_small", "cat", ["a", "b", "c"], None, {}),
    ("c_large", "cat", [f"c{i}" for i in range(10)], None, {}),
    ("f_extra0", "float", 0.0, 1.0, {}),
    ("f_extra1", "float", 0.0, 1.0, {}),
]
# ``--space discrete``: 10 parameters, all discrete (ints plain, log and stepped, stepped
# floats, categoricals), where TPESampler's ``skip_evaluated`` rule applies.
SPACE_DISCRETE: list[tuple[str, str, Any, Any, dict[str, Any]]] = [
    ("i_uniform", "int", 0, 100, {}),
    ("i_log", "int", 1, 1024, {"log": True}),
    ("i_step", "int", 0, 100, {"step": 5}),
    ("f_step", "float", 0.0, 1.0, {"step": 0.05}),
    ("f_step2", "float", -2.0, 2.0, {"step": 0.25}),
    ("i_small", "int", 0, 7, {}),
    ("i_log2", "int", 2, 256, {"log": True}),
    ("c_small", "cat", ["a", "b", "c"], None, {}),
    ("c_large", "cat", [f"c{i}" for i in range(10)], None, {}),
    ("c_bool", "cat", [False, True], None, {}),
]
SPACES = {"mixed": SPACE_MIXED, "discrete": SPACE_DISCRETE}
SPACE = list(SPACE_MIXED)  # the space of this run (``--space`` replaces the contents)
PATHS = ("hpo_dbr", "hpo_space", "hpo_space_exact", "hpo_dbr_plain", "optuna", "rustuna")
LABELS = {
    "hpo_dbr": "hpo_core define-by-run",
    "hpo_space": "hpo_core `ask(SearchSpace)`",
    "hpo_space_exact": "hpo_core `ask(SearchSpace)`, exact `g` (`max_bad_components=10**12`)",
    "hpo_dbr_plain": "hpo_core define-by-run, `skip_evaluated=False`",
    "optuna": "Optuna `ask(fixed_distributions)`",
    "rustuna": "rustuna define-by-run",
}
# Extra TPESampler arguments of the hpo_core paths (``--n-ei-candidates``); Optuna and
# rustuna keep their defaults.
HPO_TPE_OPTIONS: dict[str, Any] = {}


# ----------------------------------------------------------------------------- the space
def random_params(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random points of ``SPACE`` in external representation (on the step grids)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list[Any]] = {}
    for name, kind, low, high, opts in SPACE:
        if kind == "cat":
            cols[name] = [low[i] for i in rng.integers(0, len(low), n)]
        elif opts.get("log"):
            v = np.exp(rng.uniform(np.log(low), np.log(high), n))
            cols[name] = (np.clip(np.round(v), low, high).astype(int).tolist() if kind == "int"
                          else np.clip(v, low, high).tolist())
        elif "step" in opts:
            k = rng.integers(0, int(round((high - low) / opts["step"])) + 1, n)
            v = low + k * opts["step"]
            cols[name] = v.astype(int).tolist() if kind == "int" else np.minimum(v, high).tolist()
        elif kind == "int":
            cols[name] = rng.integers(low, high + 1, n).tolist()
        else:
            cols[name] = rng.uniform(low, high, n).tolist()
    return [{name: cols[name][i] for name, *_ in SPACE} for i in range(n)]


def objective(params: dict[str, Any]) -> float:
    """The trivial objective: a few arithmetic operations on the parameters."""
    if "f_uniform" not in params:  # the discrete space
        return float((params["i_uniform"] - 30) ** 2 / 100.0 + params["f_step"] + params["i_small"]
                     + (params["c_small"] == "a"))
    return float(params["f_uniform"] ** 2 + params["f_extra0"] + params["f_extra1"]
                 + params["i_uniform"] / 100.0 + (params["c_small"] == "a"))


def suggest_all(trial: Any) -> dict[str, Any]:
    """Define-by-run: suggest every parameter of ``SPACE`` (hpo_core, Optuna, rustuna API)."""
    out = {}
    for name, kind, low, high, opts in SPACE:
        if kind == "float":
            out[name] = trial.suggest_float(name, low, high, **opts)
        elif kind == "int":
            out[name] = trial.suggest_int(name, low, high, **opts)
        else:
            out[name] = trial.suggest_categorical(name, low)
    return out


def distributions(module: Any) -> dict[str, Any]:
    """``SPACE`` as the distributions of ``module`` (hpo_core, optuna.distributions, rustuna.distributions)."""
    out = {}
    for name, kind, low, high, opts in SPACE:
        if kind == "float":
            out[name] = module.FloatDistribution(low, high, **opts)
        elif kind == "int":
            out[name] = module.IntDistribution(low, high, **opts)
        else:
            out[name] = module.CategoricalDistribution(list(low))
    return out


# ----------------------------------------------------------------------------- libraries
@dataclass
class Study:
    """One library's study behind a uniform face: ``add(params, value)`` and ``step()``."""

    obj: Any
    add: Callable[[dict[str, Any], float], None]
    step: Callable[[], None]
    n_trials: Callable[[], int]
    history_bytes: Callable[[], int | None] = lambda: None


def make_study(path: str, sampler: str) -> Study:
    """A fresh in-memory study of ``path`` with the ``sampler`` kind ("tpe" or "random"), seed 0."""
    if path.startswith("hpo_"):
        import hpo_core

        if sampler == "tpe":
            from hpo_core.samplers import TPESampler

            # The default builds the bad estimator g from a resample of max_bad_components
            # observations once there are more; the "exact" path turns that off, like
            # Optuna and rustuna, which use every observation.
            extra: dict[str, Any] = {"max_bad_components": 10**12} if path == "hpo_space_exact" else {}
            if path == "hpo_dbr_plain":  # Optuna's choice on grids too (the previous default)
                extra["skip_evaluated"] = False
            s: Any = TPESampler(seed=0, **HPO_TPE_OPTIONS, **extra)
        else:
            s = hpo_core.samplers.RandomSampler(seed=0)
        study = hpo_core.create_study(sampler=s)
        dists = distributions(hpo_core)
        space = hpo_core.SearchSpace(dists)
        create = hpo_core.create_trial

        def add(params: dict[str, Any], value: float) -> None:
            study.add_trial(create(params=params, distributions=dists, value=value))

        if path in ("hpo_space", "hpo_space_exact"):
            def step() -> None:
                t = study.ask(space)
                study.tell(t, objective(t.params))
        else:
            def step() -> None:
                t = study.ask()
                study.tell(t, objective(suggest_all(t)))

        return Study(study, add, step, lambda: study._history().n,
                     lambda: study._history().memory_bytes())
    if path == "optuna":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cls = optuna.samplers.TPESampler if sampler == "tpe" else optuna.samplers.RandomSampler
        study = optuna.create_study(sampler=cls(seed=0))
        dists = distributions(optuna.distributions)
        create = optuna.trial.create_trial

        def add(params: dict[str, Any], value: float) -> None:
            study.add_trial(create(params=params, distributions=dists, value=value))

        def step() -> None:
            t = study.ask(dists)
            study.tell(t, objective(t.params))

        return Study(study, add, step, lambda: len(study.get_trials(deepcopy=False)))
    if path == "rustuna":
        import rustuna

        cls = rustuna.samplers.TPESampler if sampler == "tpe" else rustuna.samplers.RandomSampler
        study = rustuna.create_study(sampler=cls(seed=0))
        dists = distributions(rustuna.distributions)
        create = rustuna.create_trial

        def add(params: dict[str, Any], value: float) -> None:
            study.add_trial(create(params=params, distributions=dists, value=value))

        def step() -> None:
            t = study.ask()
            study.tell(t.number, objective(suggest_all(t)))

        return Study(study, add, step, lambda: len(study.trials))
    raise ValueError(f"unknown path {path!r}; choose from {PATHS}")


# ----------------------------------------------------------------------------- measurement
@dataclass
class Cell:
    """One (path, N) measurement; ``skipped`` says why there is no timing."""

    path: str
    size: int
    times_ns: list[int] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    prefill_s: float = 0.0
    rss_per_trial: float | None = None
    history_per_trial: float | None = None

    @property
    def median_us(self) -> float:
        return float(np.median(self.times_ns)) / 1e3

    @property
    def p90_us(self) -> float:
        return float(np.percentile(self.times_ns, 90)) / 1e3


def measure(path: str, size: int, args: argparse.Namespace, prefill: list[dict[str, Any]],
            values: np.ndarray) -> Cell:
    """Prefill a fresh study to ``size - window`` trials, then time up to ``window`` ask+tell pairs."""
    cell = Cell(path, size)
    window = min(args.window, size)
    gc.collect()
    rss0 = _common.rss_bytes()
    study = make_study(path, args.sampler)
    t0 = time.perf_counter()
    for i in range(size - window):
        study.add(prefill[i], float(values[i]))
    cell.prefill_s = time.perf_counter() - t0
    clock = time.perf_counter_ns
    t = clock()
    study.step()
    probe = clock() - t
    cell.times_ns.append(probe)
    if probe * 1e-9 > args.ask_limit:
        cell.skipped = f"skipped (one ask+tell took {probe * 1e-9:.1f} s)"
        return cell
    # Slow cells time fewer pairs: at most --cell-budget seconds, at least --min-window pairs.
    n = max(min(window, int(args.cell_budget / max(probe * 1e-9, 1e-9))), min(args.min_window, window))
    for _ in range(n - 1):
        t = clock()
        study.step()
        cell.times_ns.append(clock() - t)
    rss1 = _common.rss_bytes()
    if study.n_trials() != size - window + n:
        cell.error = f"study holds {study.n_trials()} trials, expected {size - window + n}"
    if rss0 is not None and rss1 is not None:
        cell.rss_per_trial = (rss1 - rss0) / study.n_trials()
    hb = study.history_bytes()
    if hb is not None:
        cell.history_per_trial = hb / study.n_trials()
    return cell


def run_cells(args: argparse.Namespace, log: Callable[[str], None]) -> list[Cell]:
    """Every (path, size) cell, sizes ascending; a path stops growing once it exceeds the limit."""
    largest = max(args.size_list)
    prefill = random_params(largest, seed=1)
    values = np.random.default_rng(2).uniform(0.0, 1.0, largest)
    cells: list[Cell] = []
    last: dict[str, Cell] = {}
    for size in args.size_list:
        for path in args.path_list:
            prev = last.get(path)
            if prev is not None and (prev.skipped or prev.error):
                cells.append(Cell(path, size, skipped=prev.skipped or "skipped (smaller size failed)"))
                continue
            if prev is not None:
                est = prev.median_us * 1e-6 * size / prev.size
                if est > args.ask_limit:
                    cells.append(Cell(path, size, skipped=f"skipped (est. {est:.1f} s per ask, "
                                      f"linear from {prev.size:,})"))
                    log(f"  {LABELS[path]} @ {size:,}: {cells[-1].skipped}")
                    continue
            try:
                cell = measure(path, size, args, prefill, values)
            except Exception as e:  # noqa: BLE001 - a benchmark records a failure and goes on
                cell = Cell(path, size, error=f"{type(e).__name__}: {e}")
            cells.append(cell)
            last[path] = cell
            msg = cell.error or cell.skipped or (
                f"median {cell.median_us:,.1f} µs, p90 {cell.p90_us:,.1f} µs over {len(cell.times_ns)} "
                f"(prefill {cell.prefill_s:.1f} s)")
            log(f"  {LABELS[path]} @ {size:,}: {msg}")
            gc.collect()
    return cells


COLD_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import overhead_tpe as o
path, sampler = sys.argv[2], sys.argv[3]
o.HPO_TPE_OPTIONS.update(json.loads(sys.argv[4]))
o.SPACE[:] = o.SPACES[sys.argv[5]]
study = o.make_study(path, sampler)  # imports the library
t1 = time.perf_counter()
for p, v in zip(o.random_params(100, seed=1), [0.1 * i % 1.0 for i in range(100)]):
    study.add(p, v)
t2 = time.perf_counter()
study.step()
t3 = time.perf_counter()
study.step()
t4 = time.perf_counter()
backend = None
if path.startswith("hpo_"):
    import hpo_core.kernels as k
    backend = k.backend_name()
print(json.dumps({"import_s": t1 - t0, "first_s": t3 - t2, "second_s": t4 - t3, "backend": backend}))
"""


def cold_start(args: argparse.Namespace, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """First and second ask+tell in fresh processes (after 100 prefilled trials)."""
    here = str(Path(__file__).resolve().parent)
    rows = []
    cases: list[tuple[str, str, dict[str, str]]] = []
    for path in args.path_list:
        if path in ("hpo_space_exact", "hpo_dbr_plain"):
            continue  # same code path and kernels as hpo_space / hpo_dbr at 100 trials
        if path.startswith("hpo_"):
            backends = [None, "numba"] if args.sampler == "tpe" else [None]
            for backend in backends:
                env = {"HPO_CORE_BACKEND": backend} if backend else {}
                cases += [(path, "cold", env), (path, "warm", env)]
        else:
            cases.append((path, "fresh process", {}))
    cache_dirs: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory(prefix="hpo_tpe_cold_") as tmp:
        for path, cache, extra in cases:
            env = {**os.environ, **extra}
            if path.startswith("hpo_"):
                key = (path, extra.get("HPO_CORE_BACKEND", "default"))
                if key not in cache_dirs:  # one empty cache per (path, backend): cold, then warm
                    cache_dirs[key] = tempfile.mkdtemp(dir=tmp)
                env["NUMBA_CACHE_DIR"] = cache_dirs[key]
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", COLD_SCRIPT, here, path, args.sampler,
                                   json.dumps(HPO_TPE_OPTIONS), args.space],
                                  capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t
            row: dict[str, Any] = {"path": path, "cache": cache, "env": extra, "process_s": wall}
            if proc.returncode != 0:
                row["error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
            else:
                row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            rows.append(row)
            log(f"  cold start {LABELS[path]} ({cache}, {extra or 'default backend'}): "
                + (row.get("error") or f"first {row['first_s'] * 1e3:.1f} ms, import {row['import_s']:.2f} s"))
    return rows


# ----------------------------------------------------------------------------- report
def _fmt_us(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def tables(cells: list[Cell], cold: list[dict[str, Any]], args: argparse.Namespace) -> str:
    sizes, paths = args.size_list, args.path_list
    by = {(c.path, c.size): c for c in cells}
    head = "| library / path | " + " | ".join(f"N = {s:,}" for s in sizes) + " |"
    lines = [head, "|" + "---|" * (len(sizes) + 1)]
    for p in paths:
        row = []
        for s in sizes:
            c = by.get((p, s))
            if c is None:
                row.append("not run")
            elif c.error:
                row.append(f"error: {c.error}")
            elif c.skipped:
                row.append(c.skipped)
            else:
                row.append(f"{_fmt_us(c.median_us)} ({_fmt_us(c.p90_us)}) n={len(c.times_ns)}")
        lines.append(f"| {LABELS[p]} | " + " | ".join(row) + " |")
    out = ["#### µs per ask+tell: median (p90) n=timed pairs", "", *lines]

    def ratio(num: str, den: str, s: int) -> str:
        a, b = by.get((num, s)), by.get((den, s))
        if a is None or b is None or not a.times_ns or not b.times_ns or a.skipped or b.skipped \
                or a.error or b.error:
            return "—"
        return f"{a.median_us / b.median_us:.2f}×"

    pairs = [(n, d) for n, d in (("optuna", "hpo_space"), ("optuna", "hpo_space_exact"),
                                         ("rustuna", "hpo_dbr"), ("optuna", "hpo_dbr"), ("hpo_dbr", "hpo_dbr_plain"))
             if n in paths and d in paths]
    if pairs:
        head = "| N | " + " | ".join(f"{LABELS[n]} / {LABELS[d]}" for n, d in pairs) + " |"
        out += ["", "#### Ratios of medians (above 1: slower than hpo_core)", "", head,
                "|" + "---|" * (len(pairs) + 1)]
        out += [f"| {s:,} | " + " | ".join(ratio(n, d, s) for n, d in pairs) + " |" for s in sizes]

    out += ["", "#### Memory at the largest size each path ran", "",
            "| library / path | N | RSS growth / trial | hpo_core history arrays / trial | prefill time |",
            "|---|---|---|---|---|"]
    for p in paths:
        ran = [c for c in cells if c.path == p and c.times_ns and not c.error]
        if not ran:
            continue
        c = max(ran, key=lambda c: c.size)
        rss = "—" if c.rss_per_trial is None else f"{c.rss_per_trial:,.0f} B"
        hist = "—" if c.history_per_trial is None else f"{c.history_per_trial:,.0f} B"
        out.append(f"| {LABELS[p]} | {c.size:,} | {rss} | {hist} | {c.prefill_s:.1f} s |")

    if cold:
        out += ["", "#### Cold start: fresh process, 100 prefilled trials", "",
                "| library / path | `HPO_CORE_BACKEND` (`backend_name()`) | compile cache | import + study | first ask+tell | "
                "second ask+tell | whole process |", "|---|---|---|---|---|---|---|"]
        for r in cold:
            if "error" in r:
                out.append(f"| {LABELS[r['path']]} | {r['env'] or 'default'} | {r['cache']} | "
                           f"error: {r['error']} | | | |")
                continue
            backend = "—" if not r.get("backend") else (
                f"{r['env'].get('HPO_CORE_BACKEND', 'unset')} ({r['backend']})")
            out.append(f"| {LABELS[r['path']]} | {backend} | {r['cache']} | {r['import_s']:.2f} s | "
                       f"{r['first_s'] * 1e3:,.1f} ms | {r['second_s'] * 1e3:,.1f} ms | "
                       f"{r['process_s']:.2f} s |")
    return "\n".join(out)


def report(cells: list[Cell], cold: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    sampler = {"tpe": "TPESampler", "random": "RandomSampler"}[args.sampler]
    options = "".join(f", {k}={v}" for k, v in HPO_TPE_OPTIONS.items())
    method = (
        f"{sampler} (seed 0, default settings{options and ' but hpo_core' + options}) in each "
        "library, in memory; hpo_core's default "
        "TPESampler builds its bad-observation estimator g from a weighted resample of "
        "`max_bad_components` = 1,024 observations once there are more (an approximation), while "
        "Optuna and rustuna use every observation, so the exact-g row is the like-for-like one "
        f"above about 1,000 trials. Space: 10 parameters {SPACE_TEXT[args.space]}; objective: a few "
        "arithmetic operations. Per size N a fresh study is "
        f"prefilled with N - {args.window} finished trials through `add_trial` (the same random "
        "points and values in every library), then consecutive ask+tell pairs are timed one by one "
        f"(up to {args.window}; fewer when slow: about {args.cell_budget:g} s per cell, at least "
        f"{args.min_window}); the first pair is a probe and a cell whose probe takes over "
        f"{args.ask_limit:g} s, or whose time extrapolated linearly from the previous size would, "
        "is skipped. RSS growth: resident memory after the timed pairs minus before the study was "
        "created, divided by its trials (rough: allocator slack). Cold start: a new Python process "
        "imports the library, prefills 100 trials and times its first two ask+tell pairs; for "
        "hpo_core `NUMBA_CACHE_DIR` points to an empty directory (cold), then the same directory "
        "again (warm); `backend_name()` is the default kernel backend, and a kernel it lacks comes "
        "from the fastest available backend that has it."
    )
    return "\n".join([f"Command: `{command}`", "",
                      _common.machine_info(("optuna", "rustuna")), "", method, "",
                      tables(cells, cold, args)]) + "\n"


SPACE_TEXT = {
    "mixed": "(float, log float, float step 0.05, int, log int, int step 5, categorical of 3 and of 10, "
             "two more floats)",
    "discrete": "(`--space discrete`, all discrete: int 0-100, log int 1-1024, int step 5, float step 0.05, "
                "float step 0.25 in [-2, 2], int 0-7, log int 2-256, categoricals of 3, 10 and 2; hpo_core's "
                "`skip_evaluated` rule applies)",
}


# ----------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Per-trial ask+tell overhead of TPE samplers versus "
                                "history size: hpo_core, Optuna and rustuna, in memory.")
    p.add_argument("--sizes", default="100,1000,10000,100000",
                   help="history sizes N (default 100,1000,10000,100000)")
    p.add_argument("--paths", default=",".join(PATHS), help=f"subset of {','.join(PATHS)}")
    p.add_argument("--sampler", choices=("tpe", "random"), default="tpe",
                   help="sampler kind in every library (random: to test the script without TPE)")
    p.add_argument("--window", type=int, default=50, help="timed ask+tell pairs per cell (default 50)")
    p.add_argument("--min-window", type=int, default=10, help="fewest timed pairs in a slow cell (default 10)")
    p.add_argument("--cell-budget", type=float, default=30.0,
                   help="seconds of timed pairs per cell before the window shrinks (default 30)")
    p.add_argument("--ask-limit", type=float, default=2.0,
                   help="skip a cell whose ask+tell takes (or is estimated to take) longer (default 2 s)")
    p.add_argument("--skip-cold", action="store_true", help="skip the cold-start processes")
    p.add_argument("--space", choices=tuple(SPACES), default="mixed",
                   help="mixed (default: floats, ints, categoricals) or discrete (all discrete, 10 "
                        "parameters; the README table reads the mixed one)")
    p.add_argument("--n-ei-candidates", type=int, default=None,
                   help="n_ei_candidates of hpo_core's TPESampler (default: the sampler's default)")
    p.add_argument("--write-readme", action="store_true",
                   help=f"write the tables into {_common.README.name} between {MARKER} markers")
    args = p.parse_args(argv)
    try:
        args.size_list = sorted({int(s.replace("_", "")) for s in args.sizes.split(",")})
    except ValueError:
        p.error(f"--sizes must be comma-separated integers, but got {args.sizes!r}")
    SPACE[:] = SPACES[args.space]
    args.path_list = [s for s in args.paths.split(",") if s]
    for s in args.path_list:
        if s not in PATHS:
            p.error(f"unknown path {s!r} in --paths; choose from {','.join(PATHS)}")
    if args.window < 1 or args.min_window < 1 or min(args.size_list) < 1:
        p.error("--window, --min-window and --sizes must be at least 1")
    if args.n_ei_candidates is not None:
        if args.n_ei_candidates < 1:
            p.error("--n-ei-candidates must be at least 1")
        HPO_TPE_OPTIONS["n_ei_candidates"] = args.n_ei_candidates
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/overhead_tpe.py", *(sys.argv[1:] if argv is None else argv)])

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    # Warm-up: imports, JIT compilation and first-call caches are not part of the cells.
    for path in args.path_list:
        study = make_study(path, args.sampler)
        for p, v in zip(random_params(30, seed=3), np.linspace(0, 1, 30)):
            study.add(p, float(v))
        for _ in range(5):
            study.step()
    cells = run_cells(args, log)
    cold = [] if args.skip_cold else cold_start(args, log)
    body = report(cells, cold, args, command)
    print(body)
    if args.write_readme and args.space != "mixed":
        log("--write-readme writes the mixed space's table only; not written")
    elif args.write_readme:
        _common.write_section(_common.README, MARKER, body)
        log(f"Updated {_common.README} ({MARKER})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
