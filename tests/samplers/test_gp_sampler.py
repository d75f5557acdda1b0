"""GPSampler in studies: the sampler contract, search quality, grids, batches, failures,
constraints, several objectives, threads and arguments. Its pure parts (model,
acquisitions, LogEHVI, space coordinates) are tested in test_gp_math.py."""

from __future__ import annotations

import math
import pickle
import threading
import warnings
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution, SearchSpace
from hpo_core.samplers import RandomSampler
from hpo_core.samplers.gp import GPSampler, _model, _optimize
from hpo_core.testing import SamplerContract
from hpo_core.trial import Trial, TrialState


class TestGPSamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> GPSampler:
        return GPSampler(seed=seed, n_startup_trials=4, n_candidates=128, n_starts=2)


def _mixed(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("n", 0, 20)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return (x - 1.3) ** 2 + (math.log10(lr) + 2.0) ** 2 + 0.05 * (n - 7) ** 2 + (c != "b")


def _fast(seed: int, **kwargs: Any) -> GPSampler:
    return GPSampler(seed=seed, n_candidates=256, n_starts=3, **kwargs)


def test_gp_beats_random_on_a_mixed_space_at_the_median_over_seeds() -> None:
    gp, rnd = [], []
    for seed in range(5):
        s = hpo_core.create_study(sampler=_fast(seed))
        s.optimize(_mixed, n_trials=30)
        gp.append(s.best_value)
        r = hpo_core.create_study(sampler=RandomSampler(seed=seed))
        r.optimize(_mixed, n_trials=30)
        rnd.append(r.best_value)
    assert np.median(gp) < 0.5 * np.median(rnd)
    assert np.median(gp) < 0.3


def test_gp_ints_and_categories_land_on_their_grid() -> None:
    study = hpo_core.create_study(sampler=_fast(0, n_startup_trials=5))
    study.optimize(_mixed, n_trials=15)
    for t in study.trials:
        assert isinstance(t.params["n"], int) and 0 <= t.params["n"] <= 20
        assert t.params["c"] in ("a", "b", "c")
        assert 1e-4 <= t.params["lr"] <= 1.0


def test_gp_does_not_repeat_a_configuration_in_a_discrete_space() -> None:
    # 4 x 3 = 12 configurations, a deterministic objective: after the random startup the GP
    # proposes an untried configuration while any remains, so 12 trials cover the grid
    # whenever the two startup trials differ (they do for this seed).
    def objective(trial: Trial) -> float:
        n = trial.suggest_int("n", 0, 3)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        return (n - 2) ** 2 + 0.5 * (c != "b")

    study = hpo_core.create_study(sampler=_fast(0, n_startup_trials=2))
    study.optimize(objective, n_trials=12)
    configs = [(t.params["n"], t.params["c"]) for t in study.trials]
    assert configs[0] != configs[1]
    assert len(set(configs)) == 12


def test_gp_maximize_skips_taken_grid_points_only_in_discrete_spaces() -> None:
    discrete = _optimize.SpaceCoords(SearchSpace({"n": IntDistribution(0, 9), "c": CategoricalDistribution(["a", "b"])}))
    target = discrete.to_model(np.array([[4.0, 1.0]]))

    def acq(Z: np.ndarray, grad: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return -np.abs(Z - target).sum(axis=1), np.zeros(Z.shape)

    Z = discrete.snap(np.random.default_rng(0).random((64, 2)) * [1.0, 2.0])
    np.testing.assert_array_equal(_optimize.maximize(acq, discrete, Z), target[0])
    taken = frozenset(_optimize.grid_keys(discrete, target))
    z = _optimize.maximize(acq, discrete, Z, taken=taken)
    assert _optimize.grid_keys(discrete, z[None])[0] not in taken  # the best untried point instead
    assert abs(z - target[0]).sum() < 0.2
    # Every point taken (an exhausted grid): the search still returns a point.
    every = frozenset(_optimize.grid_keys(discrete, Z))
    assert _optimize.maximize(acq, discrete, Z, taken=every).shape == (2,)
    # With a continuous dimension ``taken`` is ignored (a repeat has measure zero there).
    mixed = _optimize.SpaceCoords(SearchSpace({"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(0, 9)}))
    point = mixed.to_model(np.array([[0.5, 4.0]]))

    def acq2(Z: np.ndarray, grad: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return -((Z - point) ** 2).sum(axis=1), -2.0 * (Z - point) * np.array([1.0, 0.0])

    Z2 = np.concatenate((point, mixed.snap(np.random.default_rng(1).random((32, 2)))))
    z2 = _optimize.maximize(acq2, mixed, Z2, taken=frozenset(_optimize.grid_keys(mixed, point)))
    np.testing.assert_allclose(z2, point[0])


def test_gp_reproducible_with_a_seed() -> None:
    runs = []
    for _ in range(2):
        s = hpo_core.create_study(sampler=_fast(3, n_startup_trials=4))
        s.optimize(_mixed, n_trials=10)
        runs.append([t.params for t in s.trials])
    assert runs[0] == runs[1]


def test_gp_batch_of_eight_is_diverse() -> None:
    # RUNNING trials are pending points (kriging believer): the batch must not repeat
    # a point, and should spread over the space rather than pile onto the incumbent.
    study = hpo_core.create_study(sampler=_fast(1, n_startup_trials=6))
    space = SearchSpace({"x": FloatDistribution(-5.0, 5.0), "y": FloatDistribution(-5.0, 5.0)})
    for _ in range(12):
        t = study.ask(space)
        study.tell(t, (t.params["x"] - 1.0) ** 2 + (t.params["y"] + 2.0) ** 2)
    batch = study.ask(space, n=8)
    pts = np.array([[t.params["x"], t.params["y"]] for t in batch])
    dist = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    assert dist[np.triu_indices(8, 1)].min() > 1e-3  # no duplicates
    assert np.median(dist[np.triu_indices(8, 1)]) > 0.1


def test_gp_handles_ill_conditioned_histories() -> None:
    # Duplicated points, a constant objective, huge outliers and inf: no crash, and every
    # proposal stays inside the space.
    space = {"x": FloatDistribution(0.0, 1.0), "k": IntDistribution(1, 3)}
    cases = {
        "duplicates": lambda i: ({"x": 0.5, "k": 2}, 1.0 + 0.0 * i),
        "constant": lambda i: ({"x": (i % 7) / 7, "k": 1 + i % 3}, 3.0),
        "outliers": lambda i: ({"x": (i % 7) / 7, "k": 1 + i % 3}, 1e12 if i % 4 == 0 else float(i % 5)),
        "inf": lambda i: ({"x": (i % 7) / 7, "k": 1 + i % 3}, math.inf if i % 3 == 0 else float(i)),
    }
    for name, make in cases.items():
        study = hpo_core.create_study(sampler=_fast(0, n_startup_trials=3))
        for i in range(12):
            params, value = make(i)
            study.add_trial(hpo_core.create_trial(params=params, distributions=space, value=value))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                t = study.ask(SearchSpace(space))
                assert 0.0 <= t.params["x"] <= 1.0 and t.params["k"] in (1, 2, 3), name
                study.tell(t, 1.0)


def test_gp_failed_and_nan_trials_do_not_stop_the_study() -> None:
    study = hpo_core.create_study(sampler=_fast(0, n_startup_trials=3))

    def objective(t: Trial) -> float:
        x = t.suggest_float("x", -1.0, 1.0)
        if t.number % 4 == 3:
            return math.nan
        return x * x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=12)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAIL) == 3 and states.count(TrialState.COMPLETE) == 9


def test_gp_conditional_parameters_sampled_outside_the_joint_space() -> None:
    def objective(t: Trial) -> float:
        x = t.suggest_float("x", 0.0, 1.0)
        if t.suggest_categorical("kind", ["a", "b"]) == "a":
            return x + t.suggest_float("extra", 0.0, 1.0)
        return x

    study = hpo_core.create_study(sampler=_fast(0, n_startup_trials=4))
    study.optimize(objective, n_trials=12)
    assert all(0.0 <= t.params.get("extra", 0.5) <= 1.0 for t in study.trials)


def test_gp_maximize_direction() -> None:
    study = hpo_core.create_study(direction="maximize", sampler=_fast(0, n_startup_trials=5))
    study.optimize(lambda t: -((t.suggest_float("x", -3.0, 3.0) - 2.0) ** 2), n_trials=20)
    assert abs(study.best_params["x"] - 2.0) < 0.2


@pytest.mark.parametrize("acq", ["ucb", "pi"])
def test_gp_other_acquisitions_optimize(acq: str) -> None:
    study = hpo_core.create_study(sampler=_fast(0, acquisition=acq, n_startup_trials=5))
    study.optimize(lambda t: (t.suggest_float("x", -3.0, 3.0) - 1.0) ** 2, n_trials=20)
    assert study.best_value < 0.05


def test_gp_pickle_round_trip_continues_the_stream() -> None:
    a = _fast(5, n_startup_trials=3)
    b = pickle.loads(pickle.dumps(a))
    results = []
    for sampler in (a, b):
        s = hpo_core.create_study(sampler=sampler)
        s.optimize(lambda t: t.suggest_float("x", 0.0, 1.0) ** 2, n_trials=6)
        results.append([t.params["x"] for t in s.trials])
    assert results[0] == results[1]


def test_gp_rejects_more_than_three_objectives_by_name() -> None:
    study = hpo_core.create_study(directions=["minimize"] * 4, sampler=_fast(0, n_startup_trials=0))
    space = SearchSpace({"x": FloatDistribution(0.0, 1.0)})
    study.add_trial(hpo_core.create_trial(params={"x": 0.1}, distributions=dict(space), values=[1.0, 2.0, 3.0, 4.0]))
    study.add_trial(hpo_core.create_trial(params={"x": 0.2}, distributions=dict(space), values=[2.0, 1.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="directions"):
        study.ask(space)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"n_startup_trials": -1}, "n_startup_trials"),
    ({"acquisition": "ei"}, "acquisition"),
    ({"beta": 0.0}, "beta"),
    ({"deterministic_objective": 1}, "deterministic_objective"),
    ({"n_candidates": 0}, "n_candidates"),
    ({"n_starts": -1}, "n_starts"),
    ({"max_fit_trials": 1}, "max_fit_trials"),
    ({"max_exact_trials": 1}, "max_exact_trials"),
    ({"seed": -3}, "seed"),
])
def test_gp_rejects_bad_arguments_by_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        GPSampler(**kwargs)


def test_gp_trust_region_and_fit_subset_kick_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Beyond max_exact_trials the posterior uses the nearest trials to the best one and
    # the hyperparameters are fit on at most max_fit_trials.
    sizes: list[tuple[int, int]] = []
    fit = _model.fit_model

    def spy(X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta0: np.ndarray, **kw: Any) -> Any:
        sub = kw.get("fit_subset")
        sizes.append((len(X), len(X) if sub is None else len(sub)))
        return fit(X, y, is_cat, theta0, **kw)

    monkeypatch.setattr(_model, "fit_model", spy)
    study = hpo_core.create_study(sampler=_fast(0, max_exact_trials=20, max_fit_trials=8))
    dists = {"x": FloatDistribution(0.0, 1.0)}
    rng = np.random.default_rng(0)
    for x in rng.random(40):
        study.add_trial(hpo_core.create_trial(params={"x": float(x)}, distributions=dists, value=float((x - 0.3) ** 2)))
    t = study.ask(SearchSpace(dists))
    assert sizes[-1] == (20, 8)
    assert 0.0 <= t.params["x"] <= 1.0


def _constrained(t: Trial) -> float:
    x = t.suggest_float("x", -2.0, 2.0)
    y = t.suggest_float("y", -2.0, 2.0)
    return (x - 1.0) ** 2 + (y - 1.0) ** 2


def _constraint(frozen: Any) -> list[float]:
    return [frozen.params["x"] + frozen.params["y"] - 1.0]  # feasible: x + y <= 1


def test_gp_constraints_steer_to_the_feasible_optimum() -> None:
    # Unconstrained optimum (1, 1) is infeasible; the constrained one is (0.5, 0.5), value 0.5.
    bests = []
    for seed in range(3):
        study = hpo_core.create_study(sampler=_fast(seed, constraints_func=_constraint))
        study.optimize(_constrained, n_trials=30)
        feasible = [t for t in study.trials if t.system_attrs["constraints"][0] <= 0.0]
        bests.append(min(t.value for t in feasible))
        late = study.trials[-10:]
        assert sum(t.system_attrs["constraints"][0] <= 0.0 for t in late) >= 6
    assert np.median(bests) < 0.6


def test_gp_constraints_with_no_feasible_trial_yet_seek_feasibility() -> None:
    # Feasible only in a corner (x + y <= -2.5): the startup trials are all infeasible.
    def corner(frozen: Any) -> list[float]:
        return [frozen.params["x"] + frozen.params["y"] + 2.5]

    study = hpo_core.create_study(sampler=_fast(0, constraints_func=corner, n_startup_trials=5))
    for x, y in [(0.0, 0.0), (1.0, 1.0), (1.5, -0.5), (-1.0, 1.0), (0.5, 1.5)]:
        study.enqueue_trial({"x": x, "y": y})
    study.optimize(_constrained, n_trials=20)
    assert any(t.system_attrs["constraints"][0] <= 0.0 for t in study.trials[5:])


def test_gp_constraints_func_result_must_be_numbers() -> None:
    study = hpo_core.create_study(sampler=_fast(0, constraints_func=lambda t: "bad"))
    with pytest.raises(TypeError, match="constraints_func"):
        study.optimize(_constrained, n_trials=1, catch=())


def test_gp_sampler_reused_for_another_study_forgets_the_first() -> None:
    # Per-row caches (constraint values) belong to one history: a second study on the
    # same sampler must read its own trials' values, not the first study's rows.
    sampler = _fast(0, n_startup_trials=3, constraints_func=lambda t: [t.params["x"] - 10.0])
    a = hpo_core.create_study(sampler=sampler)
    a.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=6)  # all feasible (x - 10 < 0)
    sampler._constraints_func = lambda t: [t.params["x"] + 10.0]  # now every trial infeasible
    b = hpo_core.create_study(sampler=sampler)
    b.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=6)
    h = b._history()
    rows = np.arange(h.n)
    assert np.all(sampler._constraints_of(h, rows)[:, 0] > 0.0)


def _zdt1(t: Trial) -> tuple[float, float]:
    x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(4)]
    g = 1.0 + 9.0 * sum(x[1:]) / 3.0
    return x[0], g * (1.0 - math.sqrt(x[0] / g))


def test_gp_two_objectives_beat_random_on_hypervolume() -> None:
    from hpo_core import kernels

    ref = np.array([1.1, 11.0])
    hv = {"gp": [], "random": []}
    for seed in range(3):
        for name, sampler in (("gp", _fast(seed)), ("random", RandomSampler(seed=seed))):
            study = hpo_core.create_study(directions=["minimize", "minimize"], sampler=sampler)
            study.optimize(_zdt1, n_trials=30)
            hv[name].append(kernels.hypervolume(np.array([t.values for t in study.trials]), ref))
    assert np.median(hv["gp"]) > np.median(hv["random"]) + 0.5


def test_gp_three_objectives_and_a_maximised_one_run() -> None:
    def objective(t: Trial) -> tuple[float, float, float]:
        x, y = t.suggest_float("x", 0.0, 1.0), t.suggest_int("k", 0, 4)
        return x, (1.0 - x) ** 2 + 0.1 * y, -x * y  # the last maximised

    study = hpo_core.create_study(directions=["minimize", "minimize", "maximize"], sampler=_fast(0, n_startup_trials=4))
    study.optimize(objective, n_trials=10)
    assert len(study.best_trials) >= 2
    assert all(t.params["k"] in range(5) for t in study.trials)


# ------------------------------------------------------------------ threads
def _two_objectives_mixed(t: Trial) -> tuple[float, float]:
    return _mixed(t), (t.params["x"] + 2.0) ** 2


@pytest.mark.parametrize("case", ["single", "constrained", "two_objectives"])
def test_gp_optimize_with_two_threads_completes_every_trial(case: str) -> None:
    # optimize(n_jobs=2): both threads share the sampler (its caches, warm starts and
    # generator) while their GP math runs outside its lock; every trial must complete
    # with values of its distributions.
    kwargs: dict[str, Any] = {"n_startup_trials": 4}
    if case == "constrained":
        kwargs["constraints_func"] = lambda t: [t.params["x"] - 1.0]
    sampler = _fast(0, **kwargs)
    directions = ["minimize", "minimize"] if case == "two_objectives" else ["minimize"]
    study = hpo_core.create_study(directions=directions, sampler=sampler)
    objective = _two_objectives_mixed if case == "two_objectives" else _mixed
    study.optimize(objective, n_trials=20, n_jobs=2, catch=())
    assert len(study.trials) == 20
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        assert -5.0 <= t.params["x"] <= 5.0 and 1e-4 <= t.params["lr"] <= 1.0
        assert t.params["n"] in range(21) and t.params["c"] in ("a", "b", "c")
        assert t.values is not None and all(math.isfinite(v) for v in t.values)
    assert sampler._theta  # the GP ran and its warm starts were recorded


def test_gp_sampler_fits_and_maximises_outside_its_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = _fast(0, n_startup_trials=3, constraints_func=lambda t: [t.params["x"]])
    held: list[bool] = []
    fit, maximize = _model.fit_model, _optimize.maximize

    def fit_spy(*args: Any, **kwargs: Any) -> Any:
        held.append(sampler._lock.locked())
        return fit(*args, **kwargs)

    def maximize_spy(*args: Any, **kwargs: Any) -> Any:
        held.append(sampler._lock.locked())
        return maximize(*args, **kwargs)

    monkeypatch.setattr(_model, "fit_model", fit_spy)
    monkeypatch.setattr(_optimize, "maximize", maximize_spy)
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=6)
    assert len(held) == 3 * 3 and not any(held)  # objective fit, constraint fit, maximize per GP ask


def test_gp_two_threads_fit_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each thread's first fit waits for the other's: with the fit under the sampler's lock
    # the second thread could never get there and the barrier would break (its timeout
    # only guards against a hang).
    sampler = _fast(0, n_startup_trials=3)
    barrier = threading.Barrier(2, timeout=60)
    met: list[bool] = []
    fit = _model.fit_model

    def meet(*args: Any, **kwargs: Any) -> Any:
        if len(met) < 2:
            try:
                barrier.wait()
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
        return fit(*args, **kwargs)

    study = hpo_core.create_study(sampler=sampler)
    space = {"x": FloatDistribution(-1.0, 1.0)}
    for x in (-0.9, -0.2, 0.4, 0.8):
        study.add_trial(hpo_core.create_trial(params={"x": x}, distributions=space, value=x * x))
    monkeypatch.setattr(_model, "fit_model", meet)
    study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=2, n_jobs=2, catch=())
    assert met == [True, True]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_gp_independent_sampler_and_its_warning() -> None:
    """Optuna's ``independent_sampler`` / ``warn_independent_sampling``: a parameter outside
    the joint space goes to the independent sampler, with Optuna's log line after startup."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    inner = hpo_core.samplers.TPESampler(seed=0)
    study = hpo_core.create_study(sampler=GPSampler(seed=0, n_startup_trials=2, independent_sampler=inner))
    hpo_core.logging.get_logger().addHandler(handler)
    try:
        study.optimize(lambda t: t.suggest_float("x", 0, 1) + (t.suggest_float("y", 0, 1) if t.number % 2 else 0),
                       n_trials=6)
    finally:
        hpo_core.logging.get_logger().removeHandler(handler)
    lines = [r.getMessage() for r in records if "sampled independently" in r.getMessage()]
    assert lines and all("`y`" in m and "`TPESampler` instead of `GPSampler`" in m for m in lines)
    quiet = hpo_core.create_study(sampler=GPSampler(seed=0, n_startup_trials=2, warn_independent_sampling=False))
    hpo_core.logging.get_logger().addHandler(handler)
    records.clear()
    try:
        quiet.optimize(lambda t: t.suggest_float("x", 0, 1) + (t.suggest_float("y", 0, 1) if t.number % 2 else 0),
                       n_trials=6)
    finally:
        hpo_core.logging.get_logger().removeHandler(handler)
    assert not [r for r in records if "sampled independently" in r.getMessage()]
    with pytest.raises(TypeError, match="independent_sampler"):
        GPSampler(independent_sampler=object())  # type: ignore[arg-type]
