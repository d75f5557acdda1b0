from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

Args = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float, float]


def _weights(rng: np.random.Generator, k: int) -> np.ndarray:
    return np.log(rng.dirichlet(np.ones(k))) if k else np.empty(0)


def _case_typical(rng: np.random.Generator) -> Args:
    k = 15
    mus, sigmas = rng.normal(2.0, 4.0, k), rng.uniform(0.3, 5.0, k)
    return np.arange(-3.0, 8.0), mus, sigmas, _weights(rng, k), -3.0, 7.0, 1.0


def _case_fractional_step(rng: np.random.Generator) -> Args:
    k = 8
    mus, sigmas = rng.uniform(0.0, 2.0, k), rng.uniform(0.05, 1.0, k)
    return np.linspace(0.0, 2.0, 9), mus, sigmas, _weights(rng, k), 0.0, 2.0, 0.25


def _case_zero_components(rng: np.random.Generator) -> Args:
    return np.arange(4.0), np.empty(0), np.empty(0), np.empty(0), 0.0, 3.0, 1.0


def _case_one_component(rng: np.random.Generator) -> Args:
    return np.arange(6.0), np.array([2.4]), np.array([1.3]), np.zeros(1), 0.0, 5.0, 1.0


def _case_zero_observations(rng: np.random.Generator) -> Args:
    return np.empty(0), np.array([1.0, 2.0]), np.ones(2), np.log([0.5, 0.5]), 0.0, 5.0, 1.0


def _case_identical_points_and_components(rng: np.random.Generator) -> Args:
    return np.full(5, 3.0), np.full(3, 2.0), np.full(3, 0.7), np.full(3, -np.log(3.0)), 0.0, 5.0, 1.0


def _case_single_grid_point(rng: np.random.Generator) -> Args:
    return np.array([4.0]), np.array([1.0, 9.0]), np.array([2.0, 0.1]), np.log([0.3, 0.7]), 4.0, 4.0, 1.0


def _case_tiny_sigma(rng: np.random.Generator) -> Args:
    # sigma 1e-12: on a grid point, half-way between two, on a bin edge, and outside.
    mus = np.array([5.0, 2.5, 7.5000001, -3.0, 13.0])
    return np.arange(11.0), mus, np.full(5, 1e-12), _weights(rng, 5), 0.0, 10.0, 1.0


def _case_far_outside(rng: np.random.Generator) -> Args:
    mus = np.array([1000.0, 10.0 + 1e4 * 1e-3, -1e6, 4.0])
    sigmas = np.array([1.0, 1e-3, 10.0, 2.0])
    return np.arange(11.0), mus, sigmas, _weights(rng, 4), 0.0, 10.0, 1.0


def _case_huge_sigma(rng: np.random.Generator) -> Args:
    # Bins a billionth of sigma wide: the midpoint expansion's regime.
    x = np.array([0.0, 1.0, 500.0, 999_999.0, 1e6])
    return x, np.array([0.0, 3e5, -2e9]), np.array([1e9, 1e6, 1e9]), _weights(rng, 3), 0.0, 1e6, 1.0


def _case_points_outside(rng: np.random.Generator) -> Args:
    x, mus, sigmas, lw, low, high, step = _case_typical(rng)
    return np.array([low - step, high + step, -np.inf, np.inf, 0.0]), mus, sigmas, lw, low, high, step


CASES: dict[str, Callable[[np.random.Generator], Args]] = {
    name.removeprefix("_case_"): fn for name, fn in list(globals().items()) if name.startswith("_case_")
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_pmf_discrete_truncnorm_mixture_matches_reference(
    backend: ModuleType, reference: ModuleType, assert_same: Any, case: str, seed: int
) -> None:
    args = CASES[case](np.random.default_rng(seed))
    assert_same(
        backend.log_pmf_discrete_truncnorm_mixture(*args), reference.log_pmf_discrete_truncnorm_mixture(*args)
    )


@pytest.mark.parametrize("case", ["typical", "fractional_step", "tiny_sigma", "far_outside", "one_component"])
def test_log_pmf_discrete_truncnorm_mixture_sums_to_one(backend: ModuleType, case: str) -> None:
    x, mus, sigmas, lw, low, high, step = CASES[case](np.random.default_rng(0))
    grid = low + step * np.arange(round((high - low) / step) + 1)
    log_pmf = backend.log_pmf_discrete_truncnorm_mixture(grid, mus, sigmas, lw, low, high, step)
    assert special.logsumexp(log_pmf) == pytest.approx(0.0, abs=1e-12)


def test_log_pmf_discrete_truncnorm_mixture_outside_grid_is_neg_inf(backend: ModuleType) -> None:
    out = backend.log_pmf_discrete_truncnorm_mixture(
        np.array([-1.0, 6.0]), np.array([2.0]), np.array([1.0]), np.zeros(1), 0.0, 5.0, 1.0
    )
    assert np.all(out == -np.inf)


def test_log_pmf_discrete_truncnorm_mixture_reference_matches_scipy(reference: ModuleType) -> None:
    x, mus, sigmas, lw, low, high, step = CASES["typical"](np.random.default_rng(3))
    cdf = stats.norm.cdf
    w = np.exp(lw)
    pmf = sum(
        w[j]
        * (cdf(x + step / 2, mus[j], sigmas[j]) - cdf(x - step / 2, mus[j], sigmas[j]))
        / (cdf(high + step / 2, mus[j], sigmas[j]) - cdf(low - step / 2, mus[j], sigmas[j]))
        for j in range(len(mus))
    )
    got = reference.log_pmf_discrete_truncnorm_mixture(x, mus, sigmas, lw, low, high, step)
    # rtol 1e-9: scipy's linear-space differences of Phi lose a few digits in the tails.
    np.testing.assert_allclose(got, np.log(pmf), rtol=1e-9)


@pytest.mark.parametrize(
    "x, mu, sigma, low, high, step",
    [
        (10.0, 1000.0, 1.0, 0.0, 10.0, 1.0),
        (9.0, 1000.0, 1.0, 0.0, 10.0, 1.0),
        (10.0, 1000.0, 1e-3, 0.0, 10.0, 1.0),
        (0.0, 0.0, 1e9, 0.0, 10.0, 1.0),
        (5.0, 0.0, 1e9, 0.0, 1e6, 1.0),
        (9.0, 5.0, 0.5, 0.0, 10.0, 1.0),
        (0.0, 5.0, 1e-12, 0.0, 10.0, 1.0),
        (4.0, 5.0, 1e-12, 0.0, 10.0, 1.0),
        (3.0, 5.0, 1.0, 0.0, 10.0, 1e-7),
    ],
)
def test_log_pmf_discrete_truncnorm_mixture_reference_matches_mpmath(
    reference: ModuleType, x: float, mu: float, sigma: float, low: float, high: float, step: float
) -> None:
    mp = pytest.importorskip("mpmath")
    with mp.workdps(80):
        def log_mass(lo: float, hi: float) -> Any:
            a, b = (mp.mpf(lo) - mu) / sigma, (mp.mpf(hi) - mu) / sigma
            if a > 0:
                a, b = -b, -a
            return mp.log(mp.erfc(-b / mp.sqrt(2)) - mp.erfc(-a / mp.sqrt(2)))

        half = step / 2  # exact in binary, as in the kernels
        expected = float(log_mass(x - half, x + half) - log_mass(low - half, high + half))
    got = reference.log_pmf_discrete_truncnorm_mixture(
        np.array([x]), np.array([mu]), np.array([sigma]), np.zeros(1), low, high, step
    )
    np.testing.assert_allclose(got[0], expected, rtol=1e-12, atol=1e-14)
