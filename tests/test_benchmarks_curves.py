"""The recorded learning-curve tables for pruning (``benchmarks/_curves.py``, issue #13).

Checks the committed tables against their grids, that the curves are not trivial (final
values spread out; some configurations that start badly recover, others do not), and that
the replay objective reports every step, counts the epochs it replays and runs under
``hpo_core.create_study()`` and under Optuna.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


curves = _load("_curves")
NAMES = sorted(curves.CURVES)


# ----------------------------------------------------------------------------- tables
@pytest.mark.parametrize("name", NAMES)
def test_curve_table_matches_its_grid(name: str) -> None:
    spec = curves.CURVES[name]
    table = curves.load_curves(name)
    assert table.error.shape == table.loss.shape == (*spec.shape, spec.n_steps)
    assert table.meta["complete"] and table.meta["n_configs"] == math.prod(spec.shape)
    assert table.meta["n_val"] > 0 and table.meta["seconds"] > 0
    assert len(spec.grid()) == math.prod(spec.shape)
    with np.load(spec.path, allow_pickle=False) as f:
        assert f["fit_seconds"].shape == spec.shape and np.all(f["fit_seconds"] > 0)
    sidecar = json.loads(spec.path.with_suffix(".json").read_text())
    assert sidecar == table.meta


@pytest.mark.parametrize("name", NAMES)
def test_curve_table_values_are_in_range(name: str) -> None:
    table = curves.load_curves(name)
    assert np.all((table.error >= 0.0) & (table.error <= 1.0))
    assert np.all(np.isfinite(table.loss)) and np.all(table.loss >= 0.0)
    # Error rates are multiples of 1 / n_val: the stored counts are exact.
    k = table.error * table.meta["n_val"]
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_curve_table_best_final_is_the_grid_minimum(name: str) -> None:
    table = curves.load_curves(name)
    best = table.argbest_final()
    assert table.curve(best)[-1] == table.best_final() == table.meta["best_final_error"]
    finals = [table.curve(p)[-1] for p in table.spec.grid()]
    assert min(finals) == table.best_final()


def test_curve_tables_are_small() -> None:
    for name in NAMES:
        assert curves.CURVES[name].path.stat().st_size < 400_000


def test_curve_table_rejects_a_changed_grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "gbm_curves"
    with np.load(curves.CURVES[name].path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["grid"]["n_steps"] += 1
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(tmp_path / f"{name}.npz", **arrays)
    monkeypatch.setattr(curves, "DATA_DIR", tmp_path)
    curves.load_curves.cache_clear()
    try:
        with pytest.raises(ValueError, match="another grid"):
            curves.load_curves(name)
    finally:
        curves.load_curves.cache_clear()
    with pytest.raises(ValueError, match="`name`"):
        curves.load_curves("nope")


# ----------------------------------------------------------------------------- not trivial
@pytest.mark.parametrize("name", NAMES)
def test_curve_finals_differ_across_configurations(name: str) -> None:
    table = curves.load_curves(name)
    finals = table.final().ravel()
    assert len(np.unique(finals)) >= 30
    assert np.quantile(finals, 0.9) - table.best_final() > 0.02


@pytest.mark.parametrize("name", NAMES)
def test_curves_improve_with_training(name: str) -> None:
    table = curves.load_curves(name)
    v = table.error.reshape(-1, table.spec.n_steps)
    assert np.median(v[:, -1]) < np.median(v[:, 0])
    assert table.best_final() < v[:, 0].min()


# Measured on the committed tables (benchmarks/README.md, issue #13 section): at `step`,
# "bad early" = worse than the grid's median; of those, `recovered` end in the best quarter
# of final errors and `stayed_bad` end worse than the median final error.
RECOVERY = {  # name: (step, recovered, stayed_bad)
    "mlp_digits_curves": (1, 8, 167),
    "gbm_curves": (3, 8, 51),
}


@pytest.mark.parametrize("name", NAMES)
def test_curves_some_early_bad_configurations_recover_and_some_do_not(name: str) -> None:
    step, recovered, stayed_bad = RECOVERY[name]
    assert curves.recovery_counts(curves.load_curves(name), at_step=step) == (recovered, stayed_bad)


@pytest.mark.parametrize("name", NAMES)
def test_curves_cross_the_final_winner_does_not_lead_early(name: str) -> None:
    table = curves.load_curves(name)
    v = table.error.reshape(-1, table.spec.n_steps)
    best = int(np.argmin(v[:, -1]))
    assert np.sum(v[:, 0] < v[best, 0]) >= 10  # at least 10 configurations ahead of it after one step


# ----------------------------------------------------------------------------- replay
def test_axis_snaps_to_the_nearest_grid_value_in_log_space() -> None:
    axis = curves.Axis("lr", "log_float", (0.001, 0.01, 0.1))
    assert axis.snap(0.0005) == 0.001 and axis.snap(0.5) == 0.1
    assert axis.snap(0.003) == 0.001 and axis.snap(0.004) == 0.01
    assert axis.snap(0.01) == 0.01


class _ScriptedTrial:
    """A trial stand-in: suggests fixed values and prunes at ``prune_at``."""

    def __init__(self, params: dict[str, Any], prune_at: int | None = None) -> None:
        self.params, self.prune_at = params, prune_at
        self.reports: list[tuple[float, int]] = []
        self.user_attrs: dict[str, Any] = {}

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        assert log and low <= self.params[name] <= high
        return self.params[name]

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        assert low <= self.params[name] <= high
        return self.params[name]

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        assert self.params[name] in choices
        return self.params[name]

    def report(self, value: float, step: int) -> None:
        self.reports.append((value, step))

    def should_prune(self) -> bool:
        return self.prune_at is not None and self.reports[-1][1] >= self.prune_at

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value


@pytest.mark.parametrize("name", NAMES)
def test_replay_reports_the_recorded_curve_and_counts_steps(name: str) -> None:
    table = curves.load_curves(name)
    params = table.argbest_final()
    objective = curves.make_objective(name)
    trial = _ScriptedTrial(params)
    assert objective(trial) == table.best_final()
    n = table.spec.n_steps
    assert [s for _, s in trial.reports] == list(range(1, n + 1))
    np.testing.assert_array_equal([v for v, _ in trial.reports], table.curve(params))
    assert trial.user_attrs["grid_params"] == params

    class Pruned(Exception):
        pass

    loss_objective = curves.make_objective(name, counter=objective.counter, metric="loss", pruned_error=Pruned)
    with pytest.raises(Pruned):
        loss_objective(_ScriptedTrial(params, prune_at=3))
    c = objective.counter
    assert (c.epochs, c.n_trials, c.n_pruned) == (n + 3, 2, 1)


def test_replay_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n_steps"):
        curves.make_objective("gbm_curves", n_steps=0)
    with pytest.raises(ValueError, match="metric"):
        curves.make_objective("gbm_curves", metric="auc")


def test_replay_under_hpo_core_with_nop_pruner() -> None:
    import hpo_core

    name = "mlp_digits_curves"
    table = curves.load_curves(name)
    objective = curves.make_objective(name, n_steps=9)
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0),
                                  pruner=hpo_core.pruners.NopPruner())
    study.optimize(objective, n_trials=12)
    c = objective.counter
    assert (c.epochs, c.n_trials, c.n_pruned) == (12 * 9, 12, 0)
    for t in study.trials:
        params = t.user_attrs["grid_params"]
        assert t.value == table.curve(params)[8]
        assert t.intermediate_values == {s: table.curve(params)[s - 1] for s in range(1, 10)}
    assert study.best_value >= table.best_final()


def test_replay_prunes_with_the_trial_library_exception() -> None:
    import hpo_core

    class PruneAfterThree(hpo_core.pruners.NopPruner):
        def prune(self, study: Any, trial: Any) -> bool:
            return max(trial.intermediate_values, default=0) >= 3

    objective = curves.make_objective("gbm_curves")
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=1), pruner=PruneAfterThree())
    study.optimize(objective, n_trials=5)
    assert all(t.state == hpo_core.trial.TrialState.PRUNED for t in study.trials)
    c = objective.counter
    assert (c.epochs, c.n_trials, c.n_pruned) == (15, 5, 5)


def test_replay_under_optuna() -> None:
    if importlib.util.find_spec("optuna") is None:
        pytest.skip("needs optuna (pip install -e '.[benchmark,quality]')")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = "gbm_curves"
    table = curves.load_curves(name)
    objective = curves.make_objective(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.ThresholdPruner(upper=0.2))
    study.optimize(objective, n_trials=20)
    c = objective.counter
    states = [t.state for t in study.trials]
    n_pruned = states.count(optuna.trial.TrialState.PRUNED)
    assert c.n_trials == 20 and c.n_pruned == n_pruned == 10  # measured with this seed
    assert c.epochs < 20 * table.spec.n_steps
    assert c.epochs == sum(len(t.intermediate_values) for t in study.trials)
    for t in study.trials:
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert t.value == table.curve(t.user_attrs["grid_params"])[-1]
