"""hpo_core.integration.OptunaSampler: our samplers inside Optuna.

Optuna's own sampler test cases (``optuna.testing.pytest_samplers``) run on the adapter
around each sampler of ours; then our checks: the same proposals as the native sampler
with the same seed, multi-objective, pruned and failed trials, constraints, several
studies, and workers sharing an Optuna RDB storage (a real SQLite file).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="the Optuna adapter needs optuna")
pytest.importorskip("optuna.testing.pytest_samplers", reason="optuna ships its sampler test cases")

from optuna.testing import pytest_samplers  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core import samplers  # noqa: E402
from hpo_core.integration import OptunaSampler  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _cmaes_available() -> bool:
    try:
        import cmaes  # noqa: F401
    except ImportError:
        return False
    return True


_SINGLE: dict[str, Callable[[], Any]] = {
    "tpe": lambda: samplers.TPESampler(n_startup_trials=3, seed=0),
    "tpe_univariate": lambda: samplers.TPESampler(n_startup_trials=3, multivariate=False, seed=0),
    "random": lambda: samplers.RandomSampler(seed=0),
    "qmc": lambda: samplers.QMCSampler(seed=0),
    "gp": lambda: samplers.GPSampler(n_startup_trials=3, seed=0),
    "auto": lambda: samplers.AutoSampler(seed=0),
}
_MULTI: dict[str, Callable[[], Any]] = {
    "tpe": lambda: samplers.TPESampler(n_startup_trials=3, seed=0),
    "nsga2": lambda: samplers.NSGAIISampler(population_size=4, seed=0),
    "random": lambda: samplers.RandomSampler(seed=0),
}


class TestOptunaCasesSingle(pytest_samplers.BasicSamplerTestCase, pytest_samplers.RelativeSamplerTestCase):
    @pytest.fixture(params=sorted(_SINGLE))
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], Any]:
        return lambda: OptunaSampler(_SINGLE[request.param]())


class TestOptunaCasesMulti(pytest_samplers.MultiObjectiveSamplerTestCase):
    @pytest.fixture(params=sorted(_MULTI))
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], Any]:
        return lambda: OptunaSampler(_MULTI[request.param]())


# ----------------------------------------------------------------------------- our checks
def _objective(trial: Any) -> float:
    x = trial.suggest_float("x", -5, 5)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 8)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    if kind == "a":  # a conditional parameter: sampled independently
        x += trial.suggest_float("extra", 0, 1)
    return (x - 1) ** 2 + abs(np.log10(lr) + 3) + n / 8 + (kind == "c")


@pytest.mark.parametrize("name", ["tpe", "tpe_univariate", "random", "qmc"])
def test_optuna_sampler_proposes_as_the_native_sampler(name: str) -> None:
    native = hpo_core.create_study(sampler=_SINGLE[name]())
    native.optimize(_objective, n_trials=40)
    study = optuna.create_study(sampler=OptunaSampler(_SINGLE[name]()))
    study.optimize(_objective, n_trials=40)
    assert [t.params for t in study.trials] == [t.params for t in native.trials]
    assert [t.value for t in study.trials] == [t.value for t in native.trials]


def test_optuna_sampler_gp_proposes_as_the_native_sampler() -> None:
    def objective(trial: Any) -> float:
        return (trial.suggest_float("x", -3, 3) - 1) ** 2 + trial.suggest_int("n", 0, 4)

    native = hpo_core.create_study(sampler=samplers.GPSampler(n_startup_trials=4, seed=1))
    native.optimize(objective, n_trials=12)
    study = optuna.create_study(sampler=OptunaSampler(samplers.GPSampler(n_startup_trials=4, seed=1)))
    study.optimize(objective, n_trials=12)
    np.testing.assert_allclose([t.params["x"] for t in study.trials], [t.params["x"] for t in native.trials])


def test_optuna_sampler_multi_objective_as_the_native_sampler() -> None:
    def objective(trial: Any) -> tuple[float, float]:
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        return x**2 + y, (1 - x) ** 2 - y

    for make in (
        lambda: samplers.TPESampler(n_startup_trials=5, seed=3),
        lambda: samplers.NSGAIISampler(population_size=6, seed=3),
    ):
        native = hpo_core.create_study(directions=["minimize", "maximize"], sampler=make())
        native.optimize(objective, n_trials=30)
        study = optuna.create_study(directions=["minimize", "maximize"], sampler=OptunaSampler(make()))
        study.optimize(objective, n_trials=30)
        assert [t.params for t in study.trials] == [t.params for t in native.trials]
        assert len(study.best_trials) > 0


def _pruned_failed(trial: Any) -> float:
    x = trial.suggest_float("x", -5, 5)
    for step in range(3):
        trial.report(x * x + step, step)
    if trial.number % 5 == 3:
        raise optuna.TrialPruned()
    if trial.number % 7 == 4:
        raise ValueError("a failing trial")
    return x * x


def test_optuna_sampler_mirrors_pruned_and_failed_trials() -> None:
    inner = samplers.TPESampler(n_startup_trials=4, seed=0)
    study = optuna.create_study(sampler=OptunaSampler(inner))
    study.optimize(_pruned_failed, n_trials=30, catch=(ValueError,))
    native = hpo_core.create_study(sampler=samplers.TPESampler(n_startup_trials=4, seed=0))

    def native_objective(trial: Any) -> float:
        try:
            return _pruned_failed(trial)
        except optuna.TrialPruned:
            raise hpo_core.TrialPruned() from None

    native.optimize(native_objective, n_trials=30, catch=(ValueError,))
    assert [t.params for t in study.trials] == [t.params for t in native.trials]
    assert [t.state.name for t in study.trials] == [t.state.name for t in native.trials]
    states = {t.state.name for t in study.trials}
    assert {"COMPLETE", "PRUNED", "FAIL"} <= states


def test_optuna_sampler_mirrors_a_prefilled_study_as_the_native_sampler_sees_it() -> None:
    rng = np.random.default_rng(0)
    space = {
        "x": ("float", -5.0, 5.0, {}),
        "lr": ("float", 1e-5, 1e-1, {"log": True}),
        "n": ("int", 1, 8, {}),
        "kind": ("cat", ["a", "b", "c"], None, {}),
    }

    def dists(lib: Any) -> dict[str, Any]:
        out = {}
        for name, (kind, low, high, opts) in space.items():
            if kind == "float":
                out[name] = lib.distributions.FloatDistribution(low, high, **opts)
            elif kind == "int":
                out[name] = lib.distributions.IntDistribution(low, high)
            else:
                out[name] = lib.distributions.CategoricalDistribution(low)
        return out

    rows = [
        {
            "x": float(rng.uniform(-5, 5)),
            "lr": float(10 ** rng.uniform(-5, -1)),
            "n": int(rng.integers(1, 9)),
            "kind": str(rng.choice(["a", "b", "c"])),
        }
        for _ in range(40)
    ]
    values = rng.uniform(0, 1, 40).tolist()
    native = hpo_core.create_study(sampler=samplers.TPESampler(seed=5))
    study = optuna.create_study(sampler=OptunaSampler(samplers.TPESampler(seed=5)))
    for k, (params, value) in enumerate(zip(rows, values)):
        if k == 20:  # one PRUNED trial with reports in the middle of a block of COMPLETE ones
            native.add_trial(
                hpo_core.create_trial(
                    params=params,
                    distributions=dists(hpo_core),
                    state=hpo_core.TrialState.PRUNED,
                    intermediate_values={0: value},
                )
            )
            study.add_trial(
                optuna.trial.create_trial(
                    params=params,
                    distributions=dists(optuna),
                    state=optuna.trial.TrialState.PRUNED,
                    intermediate_values={0: value},
                )
            )
            continue
        native.add_trial(hpo_core.create_trial(params=params, distributions=dists(hpo_core), value=value))
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists(optuna), value=value))
    native.optimize(_objective, n_trials=10)
    study.optimize(_objective, n_trials=10)
    assert [t.params for t in study.trials[40:]] == [t.params for t in native.trials[40:]]


def test_optuna_sampler_serves_several_studies() -> None:
    sampler = OptunaSampler(samplers.TPESampler(n_startup_trials=3, seed=0))
    a = optuna.create_study(sampler=sampler)
    b = optuna.create_study(sampler=sampler, direction="maximize")
    for _ in range(15):  # interleaved: each ask syncs its own study's mirror
        for study in (a, b):
            trial = study.ask()
            study.tell(trial, trial.suggest_float("x", -1, 1) ** 2)
    assert a.best_value < 0.2 and b.best_value > 0.5
    assert len(a.trials) == len(b.trials) == 15


def test_optuna_sampler_sees_trials_added_and_enqueued() -> None:
    study = optuna.create_study(sampler=OptunaSampler(samplers.TPESampler(n_startup_trials=2, seed=0)))
    dist = optuna.distributions.FloatDistribution(-5, 5)
    for x in (4.0, -4.0, 0.5, 0.6):
        study.add_trial(optuna.trial.create_trial(params={"x": x}, distributions={"x": dist}, value=x * x))
    study.enqueue_trial({"x": 0.25})
    study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=6)
    assert study.trials[4].params["x"] == 0.25  # the enqueued point, not a proposal
    assert all(-5 <= t.params["x"] <= 5 for t in study.trials)


def test_optuna_sampler_stores_constraints_as_optuna_does() -> None:
    def constraints(trial: Any) -> list[float]:
        return [trial.params["x"] - 0.5]

    inner = samplers.TPESampler(n_startup_trials=4, constraints_func=constraints, seed=0)
    study = optuna.create_study(sampler=OptunaSampler(inner))
    study.optimize(lambda t: -t.suggest_float("x", 0, 1), n_trials=25)
    for t in study.trials:
        assert t.system_attrs["constraints"] == [t.params["x"] - 0.5]
    feasible = [t for t in study.trials[4:] if t.params["x"] <= 0.5]
    assert len(feasible) > 5  # the sampler models feasibility


def test_optuna_sampler_cmaes_keeps_its_state_in_the_optuna_study() -> None:
    if not _cmaes_available():
        pytest.skip("CmaEsSampler needs the cmaes package (pip install 'hpo_core[cmaes]')")
    study = optuna.create_study(sampler=OptunaSampler(samplers.CmaEsSampler(seed=0, n_startup_trials=0)))
    study.optimize(
        lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2 + t.suggest_float("y", -3, 3) ** 2, n_trials=40
    )
    assert study.best_value < 0.5
    # The CMA-ES run lives in the Optuna study's system attributes, for other workers.
    assert study._storage.get_study_system_attrs(study._study_id)


def test_optuna_sampler_runs_in_threads_and_under_hyperband() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 5)
        for step in range(9):
            trial.report((x - 1) ** 2 + 1 / (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return (x - 1) ** 2

    sampler = OptunaSampler(samplers.TPESampler(n_startup_trials=5, seed=0))
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9)
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=40, n_jobs=2)
    assert len(study.trials) == 40
    assert all(t.state.is_finished() for t in study.trials)
    mirror = sampler._mirror(study, -1, force=True)  # synced as at the next ask
    h = mirror.storage.get_history(0)
    # Every Optuna trial is one row, in its state, with its value.
    assert [int(s) for s in h.states[: h.n]] == [t.state.value for t in study.trials]
    complete = [t.number for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert h.values[complete, 0].tolist() == [study.trials[k].value for k in complete]


def test_optuna_sampler_grid_stops_the_optuna_study_and_fixed_params_hold() -> None:
    grid = samplers.GridSampler({"x": [0, 1, 2], "y": ["a", "b"]})
    study = optuna.create_study(sampler=OptunaSampler(grid))
    study.optimize(
        lambda t: t.suggest_int("x", 0, 2) + (t.suggest_categorical("y", ["a", "b"]) == "a"), n_trials=20
    )
    assert sorted((t.params["x"], t.params["y"]) for t in study.trials) == [
        (x, y) for x in (0, 1, 2) for y in ("a", "b")
    ]  # every point once, then the grid stopped Optuna's optimize
    fixed = samplers.PartialFixedSampler({"x": 1.5}, samplers.TPESampler(n_startup_trials=3, seed=0))
    study = optuna.create_study(sampler=OptunaSampler(fixed))
    study.optimize(lambda t: t.suggest_float("x", 0, 2) + t.suggest_float("y", 0, 1), n_trials=10)
    assert {t.params["x"] for t in study.trials} == {1.5}


def test_optuna_sampler_pickles_and_reseeds() -> None:
    sampler = OptunaSampler(samplers.TPESampler(seed=0))
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    copy = pickle.loads(pickle.dumps(sampler))
    assert isinstance(copy.sampler, samplers.TPESampler)
    copy.reseed_rng()
    study2 = optuna.create_study(sampler=copy)
    study2.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert len(study2.trials) == 3


def test_optuna_sampler_rejects_a_non_sampler() -> None:
    with pytest.raises(TypeError, match="sampler"):
        OptunaSampler(optuna.samplers.TPESampler())


def _worker(url: str, n_trials: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = OptunaSampler(samplers.TPESampler(n_startup_trials=5))
    study = optuna.load_study(study_name="shared", storage=url, sampler=sampler)
    study.optimize(
        lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("n", 0, 3), n_trials=n_trials
    )


def test_optuna_sampler_workers_share_an_optuna_rdb_storage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(study_name="shared", storage=url)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(url, 15)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    study = optuna.load_study(study_name="shared", storage=url)
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert len(trials) == 30
    assert study.best_value < 1.0
    # A sampler that joins later mirrors both workers' trials from the file.
    sampler = OptunaSampler(samplers.TPESampler(n_startup_trials=5, seed=0))
    late = optuna.load_study(study_name="shared", storage=url, sampler=sampler)
    late.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("n", 0, 3), n_trials=2)
    mirror = sampler._mirrors[late._storage][late._study_id]
    assert mirror.storage.get_n_trials(0) == 32


def _cmaes_worker(url: str, n_trials: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = OptunaSampler(samplers.CmaEsSampler(n_startup_trials=0, popsize=4))
    study = optuna.load_study(study_name="cma", storage=url, sampler=sampler)

    def objective(trial: Any) -> float:
        trial.set_user_attr("pid", os.getpid())
        return (trial.suggest_float("x", -3, 3) - 1) ** 2 + trial.suggest_float("y", -3, 3) ** 2

    study.optimize(objective, n_trials=n_trials)


def test_optuna_sampler_cmaes_workers_share_one_run_through_an_optuna_rdb_storage(tmp_path: Path) -> None:
    if not _cmaes_available():
        pytest.skip("CmaEsSampler needs the cmaes package (pip install 'hpo_core[cmaes]')")
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(study_name="cma", storage=url)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_cmaes_worker, args=(url, 24)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    study = optuna.load_study(study_name="cma", storage=url)
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert len(trials) == 48
    # Each trial's generation went into Optuna's trial, for the other worker's mirror.
    # (Trials asked before any finished have no joint space: sampled independently.)
    by_gen: dict[int, set[int]] = {}
    for t in trials:
        if "generation" in t.system_attrs:
            by_gen.setdefault(t.system_attrs["generation"], set()).add(t.user_attrs["pid"])
    assert (
        sum(len(p) for p in by_gen.values()) > 0
        and sum("generation" in t.system_attrs for t in trials) >= len(trials) - 4
    )
    # One CMA-ES run shared through the study: generations mix both workers' trials.
    assert any(len(pids) == 2 for pids in by_gen.values())
    assert len(by_gen) < 48 / 4 + 2
