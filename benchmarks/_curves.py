"""Recorded learning curves for pruning benchmarks (issue #13): loader and replay objective.

``make_curve_tables.py`` trains a model once on every point of a hyperparameter grid and
records its validation curve (one value per epoch, or per boosting stage); this module loads
those tables and replays them, so a pruning study costs lookups, not training, and is exactly
repeatable.

Notation, for a table with ``n_axes`` hyperparameters and ``n_steps`` steps:

- ``shape``: the grid, ``(len(axis_0), ..., len(axis_{n_axes-1}))``;
- ``error``: float64 ``(*shape, n_steps)``, validation error rate after step ``t + 1``
  (``n_wrong / n_val``, stored as int16 counts so ties are exact);
- ``loss``: float64 ``(*shape, n_steps)``, validation cross-entropy after step ``t + 1``;
- step ``s`` (1-based) is the resource: ``s`` epochs (MLP) or ``s`` trees per class (GBM).

Replay (:func:`make_objective`): the objective suggests each axis (a log-float or log-int axis
is suggested on its range and snapped to the nearest grid value in log space; a small int
axis with consecutive values is a plain ``suggest_int``; the rest are categorical), then calls
``trial.report(value, s)`` for ``s = 1..n_steps`` and raises the trial's library's
``TrialPruned`` as soon as ``trial.should_prune()`` says so. Each reported step adds one to an
:class:`EpochCounter` shared by the study, so a pruner's saving is ``counter.epochs`` against
``n_trials * n_steps``. The objective returns the final value; :attr:`CurveTable.best_final`
is the known optimum, for regret. It works with ``hpo_core`` and Optuna trials alike.

Only NumPy is imported here.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).with_name("data")
METRICS = ("error", "loss")


# ----------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Axis:
    """One grid axis: ``kind`` is ``"log_float"``, ``"log_int"``, ``"int"`` (consecutive ints)
    or ``"cat"``; ``values`` in increasing order (grid order for ``"cat"``)."""

    name: str
    kind: str
    values: tuple[Any, ...]

    def suggest(self, trial: Any) -> Any:
        """Suggest this axis on ``trial`` and return the grid value it maps to."""
        lo, hi = self.values[0], self.values[-1]
        if self.kind == "cat":
            return trial.suggest_categorical(self.name, list(self.values))
        if self.kind == "int":
            return int(trial.suggest_int(self.name, lo, hi))
        if self.kind == "log_int":
            return self.snap(trial.suggest_int(self.name, lo, hi, log=True))
        return self.snap(trial.suggest_float(self.name, lo, hi, log=True))

    def snap(self, x: float) -> Any:
        """The grid value nearest to ``x`` in log space (ties to the smaller one)."""
        logs = [math.log(v) for v in self.values]
        lx = math.log(x)
        i = bisect.bisect_left(logs, lx)
        if i == 0:
            return self.values[0]
        if i == len(logs):
            return self.values[-1]
        return self.values[i] if logs[i] - lx < lx - logs[i - 1] else self.values[i - 1]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "values": list(self.values)}


@dataclass(frozen=True)
class CurveSpec:
    """A recorded-curve table: its axes, number of steps and a one-line description."""

    name: str
    axes: tuple[Axis, ...]
    n_steps: int
    step_unit: str
    description: str

    @property
    def path(self) -> Path:
        return DATA_DIR / f"{self.name}.npz"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    def grid(self) -> list[dict[str, Any]]:
        """Every configuration, in C order of ``shape`` (the last axis varies fastest)."""
        out = []
        for idx in np.ndindex(*self.shape):
            out.append({a.name: a.values[i] for a, i in zip(self.axes, idx)})
        return out

    def describe(self) -> dict[str, Any]:
        return {"axes": [a.describe() for a in self.axes], "n_steps": self.n_steps, "step_unit": self.step_unit}


CURVES: dict[str, CurveSpec] = {s.name: s for s in (
    CurveSpec("mlp_digits_curves", (
        Axis("lr", "log_float", (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)),
        Axis("width", "log_int", (16, 32, 64, 128)),
        Axis("n_layers", "int", (1, 2, 3)),
        Axis("weight_decay", "cat", (0.0, 0.0001, 0.001)),
        Axis("batch_size", "cat", (32, 128)),
    ), 27, "epoch",
        "PyTorch MLP (ReLU, SGD momentum 0.9) on load_digits / 16, fixed 2/3 - 1/3 stratified split: "
        "learning rate 1e-3..0.3, width 16-128, 1-3 hidden layers, weight decay, batch size; "
        "validation error and loss after each of 27 epochs"),
    CurveSpec("gbm_curves", (
        Axis("learning_rate", "log_float", (0.01, 0.03, 0.1, 0.3)),
        Axis("max_leaf_nodes", "log_int", (4, 8, 16, 32)),
        Axis("min_samples_leaf", "log_int", (5, 20, 80)),
        Axis("l2_regularization", "cat", (0.0, 1.0, 10.0)),
    ), 81, "boosting iteration",
        "HistGradientBoostingClassifier (early_stopping=False) on load_digits, fixed 2/3 - 1/3 "
        "stratified split: learning rate 0.01-0.3, max_leaf_nodes 4-32, min_samples_leaf 5-80, "
        "l2_regularization; validation error and loss after each of 81 iterations"),
)}


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class CurveTable:
    """A loaded table: ``error`` and ``loss`` ``(*spec.shape, n_steps)``, and the meta dict."""

    spec: CurveSpec
    error: np.ndarray
    loss: np.ndarray
    meta: dict[str, Any]

    def values(self, metric: str = "error") -> np.ndarray:
        """``(*shape, n_steps)`` curves of ``metric`` (``"error"`` or ``"loss"``)."""
        if metric not in METRICS:
            raise ValueError(f"`metric` must be one of {list(METRICS)}, but got {metric!r}.")
        return self.error if metric == "error" else self.loss

    def index(self, params: dict[str, Any]) -> tuple[int, ...]:
        """Grid position of ``params`` (each value must be on its axis)."""
        return tuple(a.values.index(params[a.name]) for a in self.spec.axes)

    def curve(self, params: dict[str, Any], metric: str = "error") -> np.ndarray:
        """``(n_steps,)`` recorded curve of the configuration ``params``."""
        return self.values(metric)[self.index(params)]

    def final(self, metric: str = "error") -> np.ndarray:
        """``(*shape,)`` final values (after the last step)."""
        return self.values(metric)[..., -1]

    def best_final(self, metric: str = "error") -> float:
        """The smallest final value over the grid: the known optimum of the full-budget problem."""
        return float(self.final(metric).min())

    def argbest_final(self, metric: str = "error") -> dict[str, Any]:
        """A configuration with the smallest final value (the first in grid order)."""
        idx = np.unravel_index(int(self.final(metric).argmin()), self.spec.shape)
        return {a.name: a.values[int(i)] for a, i in zip(self.spec.axes, idx)}


@functools.lru_cache(maxsize=None)
def load_curves(name: str) -> CurveTable:
    """The recorded table ``name`` (a key of ``CURVES``).

    Raises ``ValueError`` when the stored grid differs from ``CURVES[name]`` (rerun
    ``make_curve_tables.py --tables name``).
    """
    if name not in CURVES:
        raise ValueError(f"`name` must be one of {sorted(CURVES)}, but got {name!r}.")
    spec = CURVES[name]
    with np.load(spec.path, allow_pickle=False) as f:
        n_wrong, loss, meta = f["n_wrong"], f["loss"], json.loads(str(f["meta"]))
    if meta["grid"] != json.loads(json.dumps(spec.describe())):
        raise ValueError(f"{spec.path} was built for another grid; rerun "
                         f"benchmarks/make_curve_tables.py --tables {name}")
    error = n_wrong.astype(np.float64) / meta["n_val"]
    error.flags.writeable = False
    loss = loss.astype(np.float64)
    loss.flags.writeable = False
    return CurveTable(spec, error, loss, meta)


# ----------------------------------------------------------------------------- replay
@dataclass
class EpochCounter:
    """Budget shared by the trials of a study: steps replayed, trials started and pruned.

    Thread-safe, so one counter can serve a study optimised with ``n_jobs > 1``.
    """

    epochs: int = 0
    n_trials: int = 0
    n_pruned: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, epochs: int = 0, trials: int = 0, pruned: int = 0) -> None:
        with self._lock:
            self.epochs += epochs
            self.n_trials += trials
            self.n_pruned += pruned


def _trial_pruned(trial: Any) -> type[Exception]:
    """The ``TrialPruned`` of the library ``trial`` comes from (Optuna or hpo_core)."""
    if type(trial).__module__.split(".")[0] == "optuna":
        import optuna

        return optuna.TrialPruned
    from hpo_core import TrialPruned

    return TrialPruned


def suggest(trial: Any, name: str) -> dict[str, Any]:
    """Suggest every axis of table ``name`` on ``trial``; returns the snapped grid configuration."""
    return {a.name: a.suggest(trial) for a in CURVES[name].axes}


def make_objective(name: str, *, counter: EpochCounter | None = None, metric: str = "error",
                   n_steps: int | None = None,
                   pruned_error: type[Exception] | None = None) -> Callable[[Any], float]:
    """A replay objective over table ``name`` for ``study.optimize`` (hpo_core or Optuna).

    Args:
        name: a key of ``CURVES``.
        counter: where replayed steps, trials and prunings are counted (a fresh one if None;
            read it back as ``objective.counter``).
        metric: ``"error"`` (validation error rate) or ``"loss"`` (validation cross-entropy).
        n_steps: replay only the first ``n_steps`` steps (default: all of them).
        pruned_error: the exception to raise when pruned (default: the ``TrialPruned`` of the
            trial's library).

    Returns:
        ``objective(trial) -> float``, the value at the last replayed step; it reports step
        ``s = 1..n_steps`` (the resource spent so far) before asking ``should_prune``.
    """
    table = load_curves(name)
    values = table.values(metric)
    total = table.spec.n_steps
    if n_steps is None:
        n_steps = total
    if not isinstance(n_steps, int) or not 1 <= n_steps <= total:
        raise ValueError(f"`n_steps` must be an int in the range [1, {total}], but got {n_steps!r}.")
    count = counter if counter is not None else EpochCounter()

    def objective(trial: Any) -> float:
        params = suggest(trial, name)
        curve = values[table.index(params)]
        trial.set_user_attr("grid_params", params)
        count.add(trials=1)
        for s in range(1, n_steps + 1):
            value = float(curve[s - 1])
            count.add(epochs=1)
            trial.report(value, s)
            if trial.should_prune():
                count.add(pruned=1)
                raise (pruned_error or _trial_pruned(trial))()
        return float(curve[n_steps - 1])

    objective.counter = count  # type: ignore[attr-defined]
    return objective


def recovery_counts(table: CurveTable, *, at_step: int, metric: str = "error",
                    quantile: float = 0.25) -> tuple[int, int]:
    """How many configurations are bad early but good at the end, and bad early and still bad.

    "Bad early": value at ``at_step`` above the median over the grid; "good at the end": final
    value in the best ``quantile`` of final values. Returns ``(recovered, stayed_bad)``, the
    latter counting early-bad configurations whose final value is above the median.
    """
    v = table.values(metric).reshape(-1, table.spec.n_steps)
    early, last = v[:, at_step - 1], v[:, -1]
    bad_early = early > np.median(early)
    recovered = int(np.sum(bad_early & (last <= np.quantile(last, quantile))))
    stayed = int(np.sum(bad_early & (last > np.median(last))))
    return recovered, stayed


def summarize(names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per table: shape, steps, best final error and loss, recording seconds."""
    rows = []
    for n in names or sorted(CURVES):
        t = load_curves(n)
        rows.append({"name": n, "shape": list(t.spec.shape), "n_steps": t.spec.n_steps,
                     "best_final_error": t.best_final("error"), "best_final_loss": t.best_final("loss"),
                     "seconds": t.meta["seconds"]})
    return rows
