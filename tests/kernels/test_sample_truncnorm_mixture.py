from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats

Args = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]


def _uniforms(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.random(n), rng.uniform(np.nextafter(0.0, 1.0), 1.0, n)


def _case_typical(rng: np.random.Generator) -> Args:
    k = 10
    mus, sigmas, w = rng.normal(0.5, 2.0, k), rng.uniform(0.05, 3.0, k), rng.dirichlet(np.ones(k))
    return (*_uniforms(rng, 200), mus, sigmas, w, -2.0, 3.0)


def _case_one_component(rng: np.random.Generator) -> Args:
    return (*_uniforms(rng, 50), np.array([0.3]), np.array([0.2]), np.ones(1), 0.0, 1.0)


def _case_zero_observations(rng: np.random.Generator) -> Args:
    return (np.empty(0), np.empty(0), np.array([0.3, 0.5]), np.array([0.2, 0.1]), np.ones(2), 0.0, 1.0)


def _case_one_observation(rng: np.random.Generator) -> Args:
    return (np.array([0.7]), np.array([0.2]), np.array([0.3, 0.5]), np.array([0.2, 0.1]), np.ones(2), 0.0, 1.0)


def _case_identical(rng: np.random.Generator) -> Args:
    return (np.full(5, 0.5), np.full(5, 0.25), np.full(3, 0.4), np.full(3, 0.1), np.ones(3), 0.0, 1.0)


def _case_unnormalised_weights(rng: np.random.Generator) -> Args:
    return (*_uniforms(rng, 100), np.array([0.1, 0.5, 0.9]), np.full(3, 0.1), np.array([2.0, 0.0, 6.0]), 0.0, 1.0)


def _case_infinite_low(rng: np.random.Generator) -> Args:
    *u, mus, sigmas, w, _, _ = _case_typical(rng)
    return (*u, mus, sigmas, w, -np.inf, 3.0)  # type: ignore[return-value]


def _case_infinite_high(rng: np.random.Generator) -> Args:
    *u, mus, sigmas, w, _, _ = _case_typical(rng)
    return (*u, mus, sigmas, w, -2.0, np.inf)  # type: ignore[return-value]


def _case_both_infinite(rng: np.random.Generator) -> Args:
    *u, mus, sigmas, w, _, _ = _case_typical(rng)
    return (*u, mus, sigmas, w, -np.inf, np.inf)  # type: ignore[return-value]


def _case_tiny_sigma(rng: np.random.Generator) -> Args:
    mus = np.array([0.5, 0.0, 1.0, 1.5, -0.25])
    return (*_uniforms(rng, 100), mus, np.full(5, 1e-12), np.ones(5), 0.0, 1.0)


def _case_far_outside(rng: np.random.Generator) -> Args:
    mus = np.array([1.0 + 1e4 * 0.1, -1e5, 32.0, -40.0])
    sigmas = np.array([0.1, 1e-2, 1.0, 1.0])
    return (*_uniforms(rng, 100), mus, sigmas, np.ones(4), 0.0, 1.0)


def _case_extreme_uniforms(rng: np.random.Generator) -> Args:
    u_value = np.array([5e-324, 1e-300, 1e-17, 0.5, 1.0 - 2**-53, np.nextafter(1.0, 0.0)])
    return (np.linspace(0.0, 0.99, 6), u_value, np.array([0.2, 3.0]), np.array([0.3, 0.5]), np.ones(2), 0.0, 1.0)


CASES: dict[str, Callable[[np.random.Generator], Args]] = {
    name.removeprefix("_case_"): fn for name, fn in list(globals().items()) if name.startswith("_case_")
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sample_truncnorm_mixture_matches_reference(
    backend: ModuleType, reference: ModuleType, assert_same: Any, case: str, seed: int
) -> None:
    args = CASES[case](np.random.default_rng(seed))
    expected = reference.sample_truncnorm_mixture(*args)
    # atol: a sample is mu + s * x_std, so its rounding error is absolute, about
    # eps * |mu| (or eps * |bound - mu| far in a tail), not relative to the sample.
    scale = max(1.0, float(np.max(np.abs(args[2]), initial=0.0)))
    assert_same(backend.sample_truncnorm_mixture(*args), expected, atol=1e-14 * scale)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sample_truncnorm_mixture_inside_bounds(backend: ModuleType, case: str) -> None:
    args = CASES[case](np.random.default_rng(0))
    low, high = args[-2], args[-1]
    out = backend.sample_truncnorm_mixture(*args)
    assert out.shape == args[0].shape
    assert np.all((out >= low) & (out <= high))


def test_sample_truncnorm_mixture_picks_components_by_cumulative_weight(backend: ModuleType) -> None:
    # Narrow, well separated components; weight 0 is never picked.
    mus, sigmas = np.array([0.1, 0.5, 0.9]), np.full(3, 1e-6)
    weights = np.array([1.0, 0.0, 3.0])
    u_component = np.array([0.0, 0.1, 0.2499, 0.25, 0.6, 0.9999])
    out = backend.sample_truncnorm_mixture(u_component, np.full(6, 0.5), mus, sigmas, weights, 0.0, 1.0)
    np.testing.assert_allclose(out, [0.1, 0.1, 0.1, 0.9, 0.9, 0.9], atol=1e-5)


def test_sample_truncnorm_mixture_is_deterministic(backend: ModuleType) -> None:
    args = CASES["typical"](np.random.default_rng(5))
    np.testing.assert_array_equal(backend.sample_truncnorm_mixture(*args), backend.sample_truncnorm_mixture(*args))


# --- the reference against SciPy ------------------------------------------------------


@pytest.mark.parametrize("low, high", [(-2.0, 3.0), (-np.inf, 1.0), (0.0, np.inf), (4.0, 5.0), (-9.0, -8.5)])
def test_sample_truncnorm_mixture_reference_is_scipy_ppf(reference: ModuleType, low: float, high: float) -> None:
    q = np.array([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0 - 1e-9])
    mu, sigma = 0.4, 1.3
    got = reference.sample_truncnorm_mixture(np.zeros_like(q), q, np.array([mu]), np.array([sigma]), np.ones(1), low, high)
    expected = stats.truncnorm.ppf(q, (low - mu) / sigma, (high - mu) / sigma, mu, sigma)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_sample_truncnorm_mixture_reference_ks_test(reference: ModuleType) -> None:
    rng = np.random.default_rng(42)
    mus, sigmas, w = np.array([-1.0, 0.5, 2.5, 9.0]), np.array([0.5, 1.0, 0.3, 2.0]), np.array([0.2, 0.3, 0.4, 0.1])
    low, high = -1.5, 3.0
    n = 20_000
    samples = reference.sample_truncnorm_mixture(rng.random(n), rng.random(n), mus, sigmas, w, low, high)
    a, b = (low - mus) / sigmas, (high - mus) / sigmas

    def cdf(v: np.ndarray) -> np.ndarray:
        return sum(w[j] * stats.truncnorm.cdf(v, a[j], b[j], mus[j], sigmas[j]) for j in range(4))

    assert stats.kstest(samples, cdf).pvalue > 1e-3


def test_sample_truncnorm_mixture_reference_far_outside_hugs_the_bound(reference: ModuleType) -> None:
    # A component 1e4 sigmas above the range is an exponential tail inside it:
    # F(x) ~ exp(-|b| (high - x) / sigma), so F^-1(q) ~ high + sigma log(q) / |b|.
    mu, sigma, high = 1e4 + 1.0, 1.0, 1.0
    q = np.array([0.1, 0.5, 0.9])
    got = reference.sample_truncnorm_mixture(np.zeros(3), q, np.array([mu]), np.array([sigma]), np.ones(1), 0.0, high)
    b = (high - mu) / sigma
    np.testing.assert_allclose(got, high + sigma * np.log(q) / abs(b), rtol=0, atol=1e-7)
