"""Gaussian-process kernels: backends vs reference vs scikit-learn, mpmath and finite differences."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import mpmath
import numpy as np
import pytest
from scipy.linalg import cho_solve, cholesky
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from hpo_core import kernels
from hpo_core.kernels import _backends, _reference

GP_KERNELS = ["matern52", "gp_log_marginal_likelihood", "gp_posterior", "log_ei"]
Case = dict[str, Any]

RTOL = 1e-10  # conftest's default

# Central differences (f(x + h) - f(x - h)) / 2h: truncation O(h^2 f''') plus rounding
# O(cond(K) 1e-16 |f| / h). The log likelihood reaches |f| ~ 500 with cond(K) ~ 1e3 in
# these cases, so theta takes h = 1e-4 (measured worst error 1.4e-7 relative to
# max(1, |grad|)) and is checked at 1e-5; Xq takes h = 1e-5 (worst 2e-8), checked at
# 1e-6. A wrong term would be off by O(1) relative.
H_THETA, FD_TOL_THETA = 1e-4, 1e-5
H_XQ, FD_TOL_XQ = 1e-5, 1e-6


@pytest.fixture
def gpbackend(backend: ModuleType) -> ModuleType:
    """Backends implementing the GP kernels (cext does not; the dispatcher falls back)."""
    if not hasattr(backend, "gp_posterior"):
        pytest.skip(f"{backend.BACKEND_NAME} has no GP kernels; the dispatcher falls back")
    return backend


def _make(rng: np.random.Generator, *, n: int = 12, d: int = 3, n_cat: int = 0, noise: float = 1e-2,
          n_duplicates: int = 0, m: int = 7) -> Case:
    """n points (the first n_duplicates repeated at the end), the last n_cat dims categorical."""
    X = rng.random((n, d))
    Xq = rng.random((m, d))
    X[:, d - n_cat:] = rng.integers(0, 3, (n, n_cat))
    Xq[:, d - n_cat:] = rng.integers(0, 3, (m, n_cat))
    X = np.vstack([X, X[:n_duplicates]])
    y = rng.standard_normal(len(X))
    if len(y) > 1:
        y = (y - y.mean()) / y.std()
    is_cat = np.arange(d) >= d - n_cat
    theta = np.concatenate([rng.uniform(np.log(0.5), np.log(20.0), d), [rng.uniform(-0.5, 0.5), np.log(noise)]])
    return dict(X=X, y=y, Xq=Xq, is_cat=is_cat, theta=theta)


CASES: dict[str, Callable[[np.random.Generator], Case]] = {
    "continuous": lambda rng: _make(rng),
    "categorical": lambda rng: _make(rng, d=4, n_cat=2),
    "only_categorical": lambda rng: _make(rng, d=2, n_cat=2),
    "one_observation": lambda rng: _make(rng, n=1),
    "duplicates_with_noise": lambda rng: _make(rng, n_duplicates=4),
    "many_points": lambda rng: _make(rng, n=60, d=5, n_cat=1, m=20),
    "one_dimension": lambda rng: _make(rng, d=1),
}


def _factor(c: Case) -> tuple[np.ndarray, np.ndarray]:
    """K^-1 and alpha = K^-1 y of the case's K, by SciPy (Cholesky, then two solves)."""
    d = len(c["is_cat"])
    rho, a, s2 = np.exp(c["theta"][:d]), np.exp(c["theta"][d]), np.exp(c["theta"][d + 1])
    K = a * _reference.matern52(c["X"], c["X"], rho, c["is_cat"]) + s2 * np.eye(len(c["X"]))
    L = cholesky(K, lower=True)
    return cho_solve((L, True), np.eye(len(K))), cho_solve((L, True), c["y"])


def _posterior(module: ModuleType, c: Case, Xq: np.ndarray | None = None, *,
               grad: bool = True) -> tuple[np.ndarray, ...]:
    K_inv, alpha = _factor(c)
    return module.gp_posterior(  # type: ignore[no-any-return]
        c["Xq"] if Xq is None else Xq, c["X"], c["is_cat"], c["theta"], K_inv, alpha, grad=grad)


def _sklearn_gp(c: Case) -> GaussianProcessRegressor:
    """sklearn's GP with the case's (continuous) hyperparameters fixed; alpha=0: no extra jitter."""
    d = len(c["is_cat"])
    ls = np.exp(-0.5 * c["theta"][:d])
    kernel = (ConstantKernel(np.exp(c["theta"][d]), "fixed")
              * Matern(length_scale=ls, nu=2.5, length_scale_bounds="fixed")
              + WhiteKernel(np.exp(c["theta"][d + 1]), "fixed"))
    return GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=False, alpha=0.0).fit(c["X"], c["y"])


@pytest.mark.parametrize("name", GP_KERNELS)
def test_gp_kernels_share_signature_and_summary(gpbackend: ModuleType, name: str) -> None:
    ref, fn = getattr(_reference, name), getattr(gpbackend, name)
    assert list(inspect.signature(fn).parameters) == list(inspect.signature(ref).parameters)
    summary = ref.__doc__.strip().splitlines()[0]
    assert fn.__doc__.strip().splitlines()[0] == summary
    assert getattr(kernels, name).__doc__.strip().splitlines()[0] == summary
    assert name in kernels.__all__ and name in gpbackend.__all__ and name in _reference.__all__


# --- matern52 --------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_matern52_matches_reference(gpbackend: ModuleType, assert_same: Any, case: str, seed: int) -> None:
    c = CASES[case](np.random.default_rng(seed))
    rho = np.exp(c["theta"][: len(c["is_cat"])])
    for X1, X2 in [(c["X"], c["Xq"]), (c["X"], c["X"]), (c["X"][:0], c["Xq"])]:
        assert_same(gpbackend.matern52(X1, X2, rho, c["is_cat"]), _reference.matern52(X1, X2, rho, c["is_cat"]))


def test_matern52_reference_matches_sklearn(seed: int) -> None:
    c = _make(np.random.default_rng(seed), d=4)
    ls = np.exp(-0.5 * c["theta"][:4])
    expected = Matern(length_scale=ls, nu=2.5)(c["X"], c["Xq"])
    np.testing.assert_allclose(_reference.matern52(c["X"], c["Xq"], ls**-2, c["is_cat"]), expected, rtol=1e-12)


def test_matern52_categorical_is_hamming(gpbackend: ModuleType) -> None:
    c = _make(np.random.default_rng(0), d=3, n_cat=2)
    rho = np.array([2.0, 0.5, 3.0])
    out = gpbackend.matern52(c["X"], c["Xq"], rho, c["is_cat"])
    for i, x in enumerate(c["X"]):
        for j, q in enumerate(c["Xq"]):
            r = np.sqrt(rho[0] * (x[0] - q[0]) ** 2 + rho[1] * (x[1] != q[1]) + rho[2] * (x[2] != q[2]))
            assert out[i, j] == pytest.approx((1 + np.sqrt(5) * r + 5 / 3 * r**2) * np.exp(-np.sqrt(5) * r), rel=1e-14)


def test_matern52_is_exactly_one_at_zero_distance(gpbackend: ModuleType) -> None:
    X = np.array([[0.3, 1.0], [0.3 + 1e-12, 1.0], [1e-300, 2.0]])
    out = gpbackend.matern52(X, X, np.array([1e6, 1.0]), np.array([False, True]))
    assert np.all(np.diag(out) == 1.0) and np.all(np.isfinite(out))
    # The reference expands r^2 = |u|^2 + |v|^2 - 2 u.v (u = sqrt(rho) x = 300 here): its
    # documented absolute error 4e-16 (|u|^2 + |v|^2) = 7e-11 in r^2, 6e-11 in k. The
    # compiled backends take the exact difference (r^2 = 1e-18).
    assert out[0, 1] == pytest.approx(1.0, abs=1e-10)


def test_matern52_reference_rounding_is_within_its_documented_bound(seed: int) -> None:
    # Near-duplicate points, where the expanded r^2 cancels: |k - exact k| stays below
    # 5/6 * 4e-16 (|u|^2 + |v|^2) (module docstring of _reference_gp, "Rounding").
    rng = np.random.default_rng(seed)
    X1 = rng.random((20, 10))
    X2 = X1 + rng.normal(0.0, 1e-7, X1.shape)
    rho = np.full(10, 1e4)  # the sampler's largest inverse squared lengthscale
    got = _reference.matern52(X1, X2, rho, np.zeros(10, bool))
    r2 = (((X1[:, None, :] - X2[None, :, :]) ** 2) * rho).sum(axis=2)
    r = np.sqrt(r2)
    exact = (1 + np.sqrt(5) * r + 5 / 3 * r2) * np.exp(-np.sqrt(5) * r)
    bound = 5 / 6 * 4e-16 * ((rho * X1**2).sum(axis=1)[:, None] + (rho * X2**2).sum(axis=1)[None, :])
    assert np.all(np.abs(got - exact) <= bound + 1e-15)


# --- gp_log_marginal_likelihood ----------------------------------------------------------


def _lml(module: ModuleType, c: Case, theta: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    return module.gp_log_marginal_likelihood(  # type: ignore[no-any-return]
        c["X"], c["y"], c["is_cat"], c["theta"] if theta is None else theta
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_gp_log_marginal_likelihood_matches_reference(gpbackend: ModuleType, assert_same: Any, case: str,
                                                      seed: int) -> None:
    c = CASES[case](np.random.default_rng(seed))
    (value, grad), (ref_value, ref_grad) = _lml(gpbackend, c), _lml(_reference, c)
    assert isinstance(value, float)
    assert_same(np.asarray(value), np.asarray(ref_value))
    # Each component sums entries of alpha alpha^T - K^-1, whose size is set by the largest
    # component: one that cancels to ~0 keeps an error ~cond(K) 1e-16 |grad|_max (seen:
    # 6e-11 relative on a component 1e-4 of the largest), so the atol scales with it.
    assert_same(grad, ref_grad, atol=RTOL * max(1.0, float(np.abs(ref_grad).max())))


@pytest.mark.parametrize("case", sorted(CASES))
def test_gp_log_marginal_likelihood_gradient_matches_finite_differences(gpbackend: ModuleType, case: str,
                                                                        seed: int) -> None:
    c = CASES[case](np.random.default_rng(seed))
    _, grad = _lml(gpbackend, c)
    fd = np.empty_like(grad)
    for p in range(len(grad)):
        step = np.zeros_like(grad)
        step[p] = H_THETA
        fd[p] = (_lml(gpbackend, c, c["theta"] + step)[0] - _lml(gpbackend, c, c["theta"] - step)[0]) / (2 * H_THETA)
    np.testing.assert_allclose(grad, fd, rtol=FD_TOL_THETA, atol=FD_TOL_THETA)


def test_gp_log_marginal_likelihood_reference_matches_sklearn(seed: int) -> None:
    c = _make(np.random.default_rng(seed), d=4)
    value, grad = _lml(_reference, c)
    gp = _sklearn_gp(c)
    np.testing.assert_allclose(value, gp.log_marginal_likelihood_value_, rtol=1e-10)
    # sklearn's gradient is w.r.t. (log a, log l_1..l_d, log s2) with log l = -log(rho) / 2.
    free = gp.kernel.clone_with_theta(gp.kernel_.theta)
    for k in ("k1__k1__constant_value_bounds", "k1__k2__length_scale_bounds", "k2__noise_level_bounds"):
        free.set_params(**{k: (1e-10, 1e10)})
    sk_gp = GaussianProcessRegressor(kernel=free, optimizer=None, alpha=0.0).fit(c["X"], c["y"])
    sk_value, sk_grad = sk_gp.log_marginal_likelihood(sk_gp.kernel_.theta, eval_gradient=True)
    np.testing.assert_allclose(sk_value, value, rtol=1e-10)
    np.testing.assert_allclose(grad, np.concatenate([-0.5 * sk_grad[1:5], sk_grad[[0, 5]]]), rtol=1e-9)


def test_gp_log_marginal_likelihood_of_no_observations_is_zero(gpbackend: ModuleType) -> None:
    c = _make(np.random.default_rng(0), n=0)
    value, grad = _lml(gpbackend, c)
    assert value == 0.0 and np.all(grad == 0.0) and grad.shape == (5,)


NOT_PD: dict[str, Callable[[], Case]] = {
    # Two identical points with zero noise (exp(-800) underflows): K = [[1, 1], [1, 1]].
    "singular": lambda: dict(X=np.array([[0.5, 0.5], [0.5, 0.5]]), y=np.array([1.0, -1.0]),
                             is_cat=np.array([False, False]), theta=np.array([0.0, 0.0, 0.0, -800.0])),
    # Forty points with a lengthscale of 1000 and no noise: eigenvalues far below 1e-16.
    "ill_conditioned": lambda: dict(X=np.random.default_rng(0).random((40, 2)), y=np.ones(40),
                                    is_cat=np.array([False, False]), theta=np.array([-13.8, -13.8, 0.0, -800.0])),
    # log a = 1000 overflows: K is not finite.
    "overflow": lambda: dict(X=np.random.default_rng(0).random((5, 2)), y=np.ones(5),
                             is_cat=np.array([False, False]), theta=np.array([0.0, 0.0, 1000.0, -2.0])),
}


@pytest.mark.parametrize("case", sorted(NOT_PD))
def test_gp_log_marginal_likelihood_not_positive_definite_is_minus_inf(gpbackend: ModuleType, case: str) -> None:
    c = NOT_PD[case]()
    with np.errstate(over="ignore"):
        value, grad = _lml(gpbackend, c)
    assert value == -np.inf
    np.testing.assert_array_equal(grad, np.zeros(4))


# --- gp_posterior ------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_gp_posterior_matches_reference(gpbackend: ModuleType, assert_same: Any, case: str, seed: int) -> None:
    c = CASES[case](np.random.default_rng(seed))
    for got, expected in zip(_posterior(gpbackend, c), _posterior(_reference, c), strict=True):
        # Each entry is a sum over the observations; one that cancels to ~0 keeps an error
        # relative to the array's largest entry (seen: 3e-13), hence the scaled atol.
        assert_same(got, expected, atol=RTOL * max(1.0, float(np.abs(expected).max(initial=0.0))))


@pytest.mark.parametrize("case", sorted(CASES))
def test_gp_posterior_without_gradients_gives_the_same_values(gpbackend: ModuleType, case: str, seed: int) -> None:
    c = CASES[case](np.random.default_rng(seed))
    full, values_only = _posterior(gpbackend, c), _posterior(gpbackend, c, grad=False)
    np.testing.assert_array_equal(values_only[0], full[0])
    np.testing.assert_array_equal(values_only[1], full[1])
    assert values_only[2].shape == full[2].shape and not values_only[2].any() and not values_only[3].any()


@pytest.mark.parametrize("case", sorted(CASES))
def test_gp_posterior_gradients_match_finite_differences(gpbackend: ModuleType, case: str, seed: int) -> None:
    c = CASES[case](np.random.default_rng(seed))
    _, _, dmean, dvar = _posterior(gpbackend, c)
    for p in range(c["Xq"].shape[1]):
        if c["is_cat"][p]:
            assert np.all(dmean[:, p] == 0.0) and np.all(dvar[:, p] == 0.0)
            continue
        step = np.zeros_like(c["Xq"])
        step[:, p] = H_XQ
        m_hi, v_hi, _, _ = _posterior(gpbackend, c, c["Xq"] + step)
        m_lo, v_lo, _, _ = _posterior(gpbackend, c, c["Xq"] - step)
        np.testing.assert_allclose(dmean[:, p], (m_hi - m_lo) / (2 * H_XQ), rtol=FD_TOL_XQ, atol=FD_TOL_XQ)
        np.testing.assert_allclose(dvar[:, p], (v_hi - v_lo) / (2 * H_XQ), rtol=FD_TOL_XQ, atol=FD_TOL_XQ)


def test_gp_posterior_reference_matches_sklearn(seed: int) -> None:
    c = _make(np.random.default_rng(seed), d=4, noise=1e-3)
    mean, var, _, _ = _posterior(_reference, c)
    sk_mean, sk_std = _sklearn_gp(c).predict(c["Xq"], return_std=True)
    np.testing.assert_allclose(mean, sk_mean, rtol=1e-10, atol=1e-12)
    # sklearn's std includes the WhiteKernel noise (its diag is s2 at the query points).
    np.testing.assert_allclose(var, sk_std**2 - np.exp(c["theta"][-1]), rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("noise", [1e-6, 0.0])
def test_gp_posterior_at_a_training_point(gpbackend: ModuleType, noise: float) -> None:
    # With s2 = 0 (one point, so K stays positive definite) var rounds to ~0 and is
    # clipped to the floor 1e-12 a, where dvar is 0; with s2 = 1e-6 it is ~s2, not clipped.
    c = _make(np.random.default_rng(1), n=1 if noise == 0.0 else 12)
    c["theta"][-1] = np.log(noise) if noise else -800.0  # exp(-800) underflows to 0.0
    mean, var, dmean, dvar = _posterior(gpbackend, c, c["X"][:1])
    a = np.exp(c["theta"][len(c["is_cat"])])
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(dmean)) and np.all(np.isfinite(dvar))
    assert 1e-12 * a <= var[0] <= 10 * max(noise, 1e-12 * a)
    if noise == 0.0:
        assert var[0] == 1e-12 * a and np.all(dvar == 0.0)
        assert mean[0] == pytest.approx(c["y"][0], rel=1e-12)


# --- log_ei ------------------------------------------------------------------------------

MPMATH_Z = [-1e4, -1e3, -100.0, -40.0, -10.0, -1.0, 0.0, 1.0, 5.0, 40.0]


def _mp_log_ei(z: float) -> tuple[float, float]:
    """(log h(z), Phi(z) / h(z)) with 50 significant digits."""
    with mpmath.workdps(50):
        zz = mpmath.mpf(z)
        Phi = mpmath.ncdf(zz)
        h = mpmath.npdf(zz) + zz * Phi
        return float(mpmath.log(h)), float(Phi / h)


def test_log_ei_matches_mpmath(gpbackend: ModuleType) -> None:
    value, deriv = gpbackend.log_ei(np.array(MPMATH_Z))
    expected = np.array([_mp_log_ei(z) for z in MPMATH_Z])
    np.testing.assert_allclose(value, expected[:, 0], rtol=1e-13)
    np.testing.assert_allclose(deriv, expected[:, 1], rtol=1e-13)


def test_log_ei_matches_mpmath_on_a_dense_grid(gpbackend: ModuleType) -> None:
    # Both sides of each branch switch (z = -1, -10) and the zero of log h near z = 0.9,
    # where only an absolute error is meaningful.
    z = np.concatenate([-np.logspace(4, -3, 120), np.linspace(-1.0001, -0.9999, 5), np.linspace(-10.001, -9.999, 5),
                        [0.0], np.logspace(-3, np.log10(40.0), 60)])
    value, deriv = gpbackend.log_ei(z)
    expected = np.array([_mp_log_ei(float(zi)) for zi in z])
    np.testing.assert_allclose(value, expected[:, 0], rtol=1e-14, atol=2e-15)
    np.testing.assert_allclose(deriv, expected[:, 1], rtol=1e-13)


def test_log_ei_matches_reference(gpbackend: ModuleType, assert_same: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = np.concatenate([rng.uniform(-50, 50, 200), -np.logspace(-3, 200, 50), [-np.inf, np.inf, np.nan, 1e300]])
    with np.errstate(over="ignore"):
        for got, expected in zip(gpbackend.log_ei(z), _reference.log_ei(z), strict=True):
            assert_same(got, expected)
        Z = z[:250].reshape(10, 25)  # any shape
        for got, expected in zip(gpbackend.log_ei(Z), _reference.log_ei(Z), strict=True):
            assert_same(got, expected)


def test_log_ei_limits(gpbackend: ModuleType) -> None:
    value, deriv = gpbackend.log_ei(np.array([-np.inf, np.inf]))
    np.testing.assert_array_equal(value, [-np.inf, np.inf])
    np.testing.assert_array_equal(deriv, [np.inf, 0.0])


# --- dispatch ------------------------------------------------------------------------------


def test_gp_kernels_fall_back_for_backends_without_them(reset_default_backend: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # cext does not implement the GP kernels: the dispatcher takes them from the
    # first available backend in BACKENDS order that does (numba where it is installed).
    c = _make(np.random.default_rng(0), d=3, n_cat=1)
    for name in kernels.available_backends():
        monkeypatch.setenv("HPO_CORE_BACKEND", name)
        _backends._reset_default()
        for kernel in GP_KERNELS:
            served = kernels.kernel_backend_name(kernel)
            assert hasattr(kernels.get_backend(served), kernel)
            if hasattr(kernels.get_backend(name), kernel):
                assert served == name
        value, _ = kernels.gp_log_marginal_likelihood(c["X"], c["y"], c["is_cat"], c["theta"])
        np.testing.assert_allclose(value, _lml(_reference, c)[0], rtol=1e-10)
        mean, *_ = kernels.gp_posterior(c["Xq"], c["X"], c["is_cat"], c["theta"], *_factor(c))
        np.testing.assert_allclose(mean, _posterior(_reference, c)[0], rtol=1e-10)


def test_gp_kernels_check_shapes(reset_default_backend: None) -> None:
    c = _make(np.random.default_rng(0))
    K_inv, alpha = _factor(c)
    with pytest.raises(ValueError, match="is_categorical"):
        kernels.matern52(c["X"], c["Xq"], np.ones(3), np.zeros(2, bool))
    with pytest.raises(ValueError, match="inv_sq_lengthscales"):
        kernels.matern52(c["X"], c["Xq"], np.ones(2), c["is_cat"])
    with pytest.raises(ValueError, match="theta"):
        kernels.gp_log_marginal_likelihood(c["X"], c["y"], c["is_cat"], c["theta"][:-1])
    with pytest.raises(ValueError, match="`y`"):
        kernels.gp_log_marginal_likelihood(c["X"], c["y"][:-1], c["is_cat"], c["theta"])
    with pytest.raises(ValueError, match="Xq"):
        kernels.gp_posterior(c["Xq"][:, :2], c["X"], c["is_cat"], c["theta"], K_inv, alpha)
    with pytest.raises(ValueError, match="alpha"):
        kernels.gp_posterior(c["Xq"], c["X"], c["is_cat"], c["theta"], K_inv, alpha[:-1])
    with pytest.raises(ValueError, match="K_inv"):
        kernels.gp_posterior(c["Xq"], c["X"], c["is_cat"], c["theta"], K_inv[:-1], alpha)
