"""GPSampler's pure parts, without a study: output warping, the hyperparameter prior,
the factorisation, the posterior and its pending-point update, the trust region's
distance, the acquisitions and LogEHVI with their gradients, and the space coordinates.
The sampler's behaviour in studies is tested in test_gp_sampler.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution, SearchSpace
from hpo_core.samplers.gp import _acquisition, _model, _optimize


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
