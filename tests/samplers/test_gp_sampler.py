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
from hpo_core.samplers.gp import GPSampler, _acquisition, _model, _optimize
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


def test_gp_warp_outputs_is_monotone_and_tames_outliers() -> None:
    v = np.array([0.0, 1.0, 2.0, 3.0, -1e9, np.nan, -np.inf])
    y = _model.warp_outputs(v)
    assert np.all(np.isfinite(y))
    finite = np.argsort(v[:5])
    assert np.all(np.diff(y[:5][finite]) > 0)  # order kept
    assert y[4] > -10.0  # the huge loss is compressed (log tail)
    assert y[6] == y[:5].min()  # -inf (a diverged run) is the worst finite value


def test_gp_log_prior_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(11)
    for theta in rng.normal(0.0, 2.0, (5, 6)):
        _, grad = _model._log_prior(theta)
        steps = 1e-6 * np.eye(6)
        fd = [(_model._log_prior(theta + h)[0] - _model._log_prior(theta - h)[0]) / 2e-6 for h in steps]
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("d", "mode"), [(2, 1.0), (5, 1.0), (10, math.sqrt(0.5)), (20, 0.5)])
def test_gp_lengthscale_prior_mode_shrinks_above_five_dimensions(d: int, mode: float) -> None:
    # theta[:d] = log(1 / lengthscale^2); the prior of one lengthscale peaks at `mode`.
    ls = np.exp(np.linspace(np.log(0.1), np.log(10.0), 4001))
    values = []
    for length in ls:
        theta = np.concatenate((np.full(d, -2.0 * np.log(length)), [0.0, np.log(1e-2)]))
        values.append(_model._log_prior(theta)[0])
    assert ls[int(np.argmax(values))] == pytest.approx(mode, rel=2e-3)


def test_gp_lengthscale_prior_shift_counts_numeric_dimensions_only() -> None:
    # 10 dimensions, 4 categorical: 6 numeric ones get mode sqrt(5/6), the categorical
    # ones keep mode 1; 10 categorical dimensions: no shift at all.
    is_cat = np.array([False] * 6 + [True] * 4)
    ls = np.exp(np.linspace(np.log(0.3), np.log(3.0), 2001))
    for dim, mode in ((0, math.sqrt(5 / 6)), (7, 1.0)):
        values = []
        for length in ls:
            theta = np.concatenate((np.zeros(10), [0.0, np.log(1e-2)]))
            theta[dim] = -2.0 * np.log(length)
            values.append(_model._log_prior(theta, is_cat)[0])
        assert ls[int(np.argmax(values))] == pytest.approx(mode, rel=3e-3)
    theta = np.concatenate((np.full(10, 0.3), [0.0, np.log(1e-2)]))
    unshifted = 10 * -0.1 * (np.exp(-0.3) + np.exp(0.3)) + (0.0 - 1.0) + (1.1 * np.log(1e-2) - 30 * 1e-2)
    assert _model._log_prior(theta, np.ones(10, dtype=bool))[0] == pytest.approx(unshifted, rel=1e-12)
    assert _model._log_prior(theta)[0] != pytest.approx(unshifted, rel=1e-6)  # 10 numeric: shifted


def test_gp_log_prior_gradient_in_ten_dimensions() -> None:
    rng = np.random.default_rng(12)
    theta = rng.normal(0.0, 1.0, 12)
    _, grad = _model._log_prior(theta)
    fd = [(_model._log_prior(theta + h)[0] - _model._log_prior(theta - h)[0]) / 2e-6 for h in 1e-6 * np.eye(12)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


def test_gp_lengthscale_prior_lets_an_unused_dimension_drop_out() -> None:
    # 20 points in 4-D, the output depends on x0 only: the MAP fit gives the other three
    # dimensions long lengthscales (about 3.6-4 here; the former Gamma(2, 0.5) prior held
    # them at 1.3-1.6, so the acquisition kept exploring them).
    rng = np.random.default_rng(3)
    X = rng.random((20, 4))
    y = np.sin(6.0 * X[:, 0])
    theta = _model.fit_theta(X, (y - y.mean()) / y.std(), np.zeros(4, dtype=bool), _model.default_theta(4))
    lengthscales = np.exp(-0.5 * theta[:4])
    assert lengthscales[0] < 0.5
    assert np.all(lengthscales[1:] > 2.5)


def test_gp_factorize_escalates_jitter_for_duplicates() -> None:
    X = np.zeros((5, 1))
    theta = np.array([0.0, 0.0, np.log(1e-12)])
    L = _model.factorize(X, np.zeros(1, dtype=bool), theta)
    assert L is not None and np.all(np.isfinite(L))


@pytest.mark.parametrize("kind", _acquisition.ACQUISITIONS)
def test_gp_acquisition_gradient_matches_finite_differences(kind: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((12, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1]
    y = (y - y.mean()) / y.std()
    is_cat = np.zeros(2, dtype=bool)
    # Fixed hyperparameters: what is checked is the acquisition's gradient, not the fit.
    # The model fitted to these points (noise ~ 3e-3) curves so sharply at the test points
    # that a central difference with eps 1e-6 is off by 3e-4 relative.
    model = _model.fit_model(X, y, is_cat, _model.default_theta(2), refit=False)
    assert model is not None
    best = float(y.max())

    def f(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _acquisition.acquisition(kind, *model.posterior(Z), best=best, beta=2.0)

    Z = rng.random((4, 2)) * 0.8 + 0.1
    _, grad = f(Z)
    eps = 1e-6
    for j in range(2):
        dz = np.zeros(2)
        dz[j] = eps
        fd = (f(Z + dz)[0] - f(Z - dz)[0]) / (2 * eps)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-4, atol=1e-6)


def test_gp_space_coords_round_trip_on_the_grid() -> None:
    space = SearchSpace({"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(1, 64, log=True),
                         "s": FloatDistribution(0.0, 1.0, step=0.25), "c": CategoricalDistribution(["a", "b", "c"])})
    coords = _optimize.SpaceCoords(space)
    X = space.from_unit(np.random.default_rng(0).random((50, 4)))
    np.testing.assert_allclose(coords.to_internal(coords.to_model(X)), X)
    assert set(coords.continuous.tolist()) == {0}


def test_gp_model_posterior_is_the_kernel_posterior() -> None:
    # GPModel.posterior is kernels.gp_posterior with K^-1 and alpha from the model's factor.
    from hpo_core import kernels

    rng = np.random.default_rng(4)
    X = np.column_stack((rng.random(30), rng.random(30), rng.integers(0, 4, 30)))
    is_cat = np.array([False, False, True])
    y = rng.normal(size=30)
    theta = np.array([np.log(3.0), np.log(0.5), np.log(2.0), 0.3, np.log(1e-3)])
    L = _model.factorize(X, is_cat, theta)
    assert L is not None
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    model = _model.GPModel(X, y, is_cat, theta, L, alpha)
    np.testing.assert_allclose(model.K_inv @ (L @ L.T), np.eye(30), atol=1e-8)
    Xq = np.column_stack((rng.random(7), rng.random(7), rng.integers(0, 5, 7)))
    Xq[0] = X[3]  # at a training point
    got = model.posterior(Xq)
    want = kernels.gp_posterior(Xq, X, is_cat, theta, np.linalg.inv(L @ L.T), alpha)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-9)


def test_gp_model_factorizes_the_kernel_matrix() -> None:
    # factorize's L L^T is a * kernels.matern52 + s2 I (no jitter needed here), and the
    # fit maximises kernels.gp_log_marginal_likelihood plus the prior.
    from hpo_core import kernels

    rng = np.random.default_rng(6)
    X = np.column_stack((rng.random(25), rng.random(25), rng.integers(0, 3, 25)))
    X[5] = X[2]  # a duplicate
    is_cat = np.array([False, False, True])
    y = rng.normal(size=25)
    theta = np.array([1.0, -0.5, 0.2, 0.1, np.log(1e-2)])
    L = _model.factorize(X, is_cat, theta)
    assert L is not None
    K = np.exp(theta[3]) * kernels.matern52(X, X, np.exp(theta[:3]), is_cat) + 1e-2 * np.eye(25)
    np.testing.assert_allclose(L @ L.T, K, rtol=1e-12, atol=1e-14)
    fitted = _model.fit_theta(X, y, is_cat, theta)

    def log_posterior(t: np.ndarray) -> float:
        return kernels.gp_log_marginal_likelihood(X, y, is_cat, t)[0] + _model._log_prior(t)[0]

    assert log_posterior(fitted) > log_posterior(theta)
    for p in range(5):  # a local maximum inside the bounds, or at a bound
        for step in (-1e-3, 1e-3):
            t = fitted.copy()
            t[p] += step
            lo, hi = _model._bounds(3, False)[p]
            if lo <= t[p] <= hi:
                assert log_posterior(t) <= log_posterior(fitted) + 1e-6


def _pending_case(p: int) -> tuple[_model.GPModel, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    X = np.column_stack((rng.random(40), rng.random(40), rng.integers(0, 3, 40)))
    y = np.sin(5.0 * X[:, 0]) + X[:, 1] - 0.3 * X[:, 2]
    model = _model.fit_model(X, (y - y.mean()) / y.std(), np.array([False, False, True]),
                             np.array([np.log(4.0), np.log(2.0), np.log(1.0), 0.2, np.log(1e-4)]), refit=False)
    assert model is not None
    Xp = np.column_stack((rng.random(p), rng.random(p), rng.integers(0, 3, p)))
    Xp[0] = X[3]  # a pending point on top of an observation
    Xq = np.column_stack((rng.random(30), rng.random(30), rng.integers(0, 3, 30)))
    Xq[:p] = Xp + 1e-3 * (np.arange(3) < 2)
    return model, Xp, Xq


@pytest.mark.parametrize("p", [1, 4])
def test_gp_condition_on_pending_equals_a_new_factorisation(p: int) -> None:
    model, Xp, Xq = _pending_case(p)
    cond = _model.condition_on_pending(model, Xp)
    assert cond.L is None  # the block update of K^-1, not a new factorisation
    X, mean = np.concatenate((model.X, Xp)), model.posterior(Xp)[0]
    y = np.concatenate((model.y, mean))
    L = _model.factorize(X, model.is_cat, model.theta)
    assert L is not None
    full = _model.GPModel(X, y, model.is_cat, model.theta, L, np.linalg.solve(L.T, np.linalg.solve(L, y)))
    np.testing.assert_allclose(cond.K_inv, full.K_inv, rtol=1e-8, atol=1e-10 * np.abs(full.K_inv).max())
    np.testing.assert_allclose(cond.alpha, full.alpha, rtol=1e-8, atol=1e-10 * np.abs(full.alpha).max())
    for got, want in zip(cond.posterior(Xq), full.posterior(Xq)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(cond.alpha[40:], 0.0)  # kriging believer: the mean is unchanged
    np.testing.assert_allclose(cond.posterior(Xq)[0], model.posterior(Xq)[0], rtol=1e-9, atol=1e-12)
    # One noisy observation at a point of variance v leaves v s2 / (v + s2) <= min(v, s2) there.
    assert np.all(cond.posterior(Xp)[1] <= np.minimum(model.posterior(Xp)[1], 1e-4) * (1 + 1e-6))


def test_gp_condition_on_pending_falls_back_to_a_new_factorisation(monkeypatch: pytest.MonkeyPatch) -> None:
    # When the Schur complement is not positive definite, K is factorised anew (with jitter).
    import scipy.linalg

    model, Xp, Xq = _pending_case(2)
    cholesky = scipy.linalg.cholesky

    def fail_small(a: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        if len(a) <= 2:
            raise np.linalg.LinAlgError("not positive definite")
        return cholesky(a, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(scipy.linalg, "cholesky", fail_small)
    cond = _model.condition_on_pending(model, Xp)
    assert cond.L is not None and len(cond.X) == 42
    np.testing.assert_allclose(cond.posterior(Xq)[0], model.posterior(Xq)[0], rtol=1e-7, atol=1e-9)


def test_gp_nearest_rows_follow_the_scaled_distance() -> None:
    rng = np.random.default_rng(2)
    X = np.column_stack((rng.random(40), rng.random(40), rng.integers(0, 3, 40)))
    is_cat = np.array([False, False, True])
    theta = np.array([np.log(4.0), np.log(0.25), np.log(2.0), 0.0, -4.0])
    keep = _model.nearest_rows(X, X[7], is_cat, theta, 10)
    r2 = 4.0 * (X[:, 0] - X[7, 0]) ** 2 + 0.25 * (X[:, 1] - X[7, 1]) ** 2 + 2.0 * (X[:, 2] != X[7, 2])
    np.testing.assert_array_equal(keep, np.sort(np.argsort(r2, kind="stable")[:10]))


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


def test_gp_log_feasibility_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((10, 2))
    c = X[:, 0] - X[:, 1]
    # Fixed hyperparameters (lengthscale 0.5, noise 1e-2): a fitted model of this linear c
    # is so confident that the test points lie deep in log Phi's tail (values near -900),
    # where rounding in the posterior variance swamps a central difference.
    model = _model.fit_model(X, (c - c.mean()) / c.std(), np.zeros(2, dtype=bool), _model.default_theta(2),
                             refit=False)
    assert model is not None

    def f(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _acquisition.log_feasibility(*model.posterior(Z), threshold=-0.3)

    Z = rng.random((5, 2)) * 0.8 + 0.1
    _, grad = f(Z)
    eps = 1e-6
    for j in range(2):
        dz = np.zeros(2)
        dz[j] = eps
        np.testing.assert_allclose(grad[:, j], (f(Z + dz)[0] - f(Z - dz)[0]) / (2 * eps), rtol=1e-4, atol=1e-6)


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


def test_gp_posterior_without_gradients_gives_the_same_values() -> None:
    rng = np.random.default_rng(5)
    X = np.column_stack((rng.random((40, 3)), rng.integers(0, 3, 40)))
    is_cat = np.array([False, False, False, True])
    y = np.sin(5.0 * X[:, 0]) + X[:, 1] - 0.4 * X[:, 3]
    model = _model.fit_model(X, (y - y.mean()) / y.std(), is_cat, _model.default_theta(4))
    Xq = np.column_stack((rng.random((25, 3)), rng.integers(0, 3, 25)))
    Xq[0] = X[3]  # at a training point: the variance floor
    full, values_only = model.posterior(Xq), model.posterior(Xq, grad=False)
    np.testing.assert_array_equal(values_only[0], full[0])
    np.testing.assert_array_equal(values_only[1], full[1])
    assert not values_only[2].any() and not values_only[3].any()
    assert full[2][:, :3].any() and full[3][:, :3].any()


@pytest.mark.parametrize("M", [2, 3])
def test_gp_improvement_boxes_tile_exactly_the_hypervolume_gained(M: int) -> None:
    from hpo_core import kernels
    from hpo_core.samplers.gp import _ehvi

    rng = np.random.default_rng(10 + M)
    for case in range(60):
        Y = rng.normal(size=(int(rng.integers(1, 30)), M))
        if case % 3 == 0:
            Y = np.round(Y, 1)  # ties between front points' coordinates
        front, ref = _ehvi.pareto_front(Y), Y.min(axis=0) - 0.5
        lows, highs = _ehvi.improvement_cells(front, ref)
        assert np.all(lows < highs)
        if M == 3 and len(front) >= 10:
            assert len(lows) < (len(front) + 1) ** 2  # merged, not the (p + 1)^3 grid
        for y in rng.normal(size=(5, M)) * 1.2:
            gained = np.prod(np.maximum(0.0, np.minimum(highs, y) - lows), axis=1).sum()
            # kernels.hypervolume minimises: negate the maximised values and the reference.
            exact = kernels.hypervolume(-np.vstack([front, y]), -ref) - kernels.hypervolume(-front, -ref)
            assert gained == pytest.approx(exact, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("M", [2, 3])
def test_gp_log_ehvi_matches_monte_carlo_and_its_gradient_finite_differences(M: int) -> None:
    from hpo_core.samplers.gp import _ehvi

    rng = np.random.default_rng(M)
    Y = rng.normal(size=(12, M))
    lows, highs = _ehvi.improvement_cells(_ehvi.pareto_front(Y), Y.min(axis=0) - 0.5)
    mean, var = rng.normal(size=(3, M)) * 0.7, rng.uniform(0.05, 0.5, size=(3, M))
    value, _ = _ehvi.log_ehvi(mean, var, np.zeros((3, M, 1)), np.zeros((3, M, 1)), lows, highs)
    for i in range(3):
        S = mean[i] + np.sqrt(var[i]) * rng.normal(size=(200_000, M))
        hvi = sum(np.prod(np.maximum(0.0, np.minimum(h, S) - lo), axis=1) for lo, h in zip(lows, highs))
        se = hvi.std() / np.sqrt(len(S))
        assert abs(np.exp(value[i]) - hvi.mean()) < 5 * se + 1e-12
    A, B = rng.normal(size=(M, 2)), rng.normal(size=(M, 2)) * 0.1

    def f(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu, v = (A @ x)[None], (0.2 + (B @ x) ** 2)[None]
        return _ehvi.log_ehvi(mu, v, A[None], (2.0 * (B @ x)[:, None] * B)[None], lows, highs)

    x = rng.normal(size=2)
    grad = f(x)[1][0]
    eps = 1e-6
    fd = [(f(x + eps * e)[0][0] - f(x - eps * e)[0][0]) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    deep, g = _ehvi.log_ehvi(np.full((1, M), -30.0), np.full((1, M), 0.01), np.ones((1, M, 1)),
                             np.zeros((1, M, 1)), lows, highs)
    assert np.isfinite(deep[0]) and np.isfinite(g).all() and g[0, 0] > 0  # LogEHVI far in the tail


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
