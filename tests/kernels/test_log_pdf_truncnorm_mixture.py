from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import integrate, stats

Args = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]


def _weights(rng: np.random.Generator, k: int) -> np.ndarray:
    return np.log(rng.dirichlet(np.ones(k))) if k else np.empty(0)


def _case_typical(rng: np.random.Generator) -> Args:
    k = 20
    mus, sigmas = rng.normal(0.5, 2.0, k), rng.uniform(0.05, 3.0, k)
    x = np.concatenate([rng.uniform(-2.0, 3.0, 50), [-2.0, 3.0]])
    return x, mus, sigmas, _weights(rng, k), -2.0, 3.0


def _case_zero_components(rng: np.random.Generator) -> Args:
    return rng.uniform(0.0, 1.0, 5), np.empty(0), np.empty(0), np.empty(0), 0.0, 1.0


def _case_one_component(rng: np.random.Generator) -> Args:
    return rng.uniform(0.0, 1.0, 7), np.array([0.3]), np.array([0.2]), np.zeros(1), 0.0, 1.0


def _case_zero_observations(rng: np.random.Generator) -> Args:
    return np.empty(0), rng.uniform(0, 1, 3), np.full(3, 0.5), _weights(rng, 3), 0.0, 1.0


def _case_one_observation(rng: np.random.Generator) -> Args:
    return np.array([0.25]), rng.uniform(0, 1, 3), np.full(3, 0.5), _weights(rng, 3), 0.0, 1.0


def _case_identical_points_and_components(rng: np.random.Generator) -> Args:
    return np.full(6, 0.4), np.full(4, 0.7), np.full(4, 0.3), np.full(4, -np.log(4.0)), 0.0, 1.0


def _case_infinite_low(rng: np.random.Generator) -> Args:
    x, mus, sigmas, lw, _, _ = _case_typical(rng)
    return np.concatenate([x, [-1e3, -40.0]]), mus, sigmas, lw, -np.inf, 3.0


def _case_infinite_high(rng: np.random.Generator) -> Args:
    x, mus, sigmas, lw, _, _ = _case_typical(rng)
    return np.concatenate([x, [1e3, 40.0]]), mus, sigmas, lw, -2.0, np.inf


def _case_both_infinite(rng: np.random.Generator) -> Args:
    x, mus, sigmas, lw, _, _ = _case_typical(rng)
    return np.concatenate([x, [-1e3, 1e3]]), mus, sigmas, lw, -np.inf, np.inf


def _case_tiny_sigma(rng: np.random.Generator) -> Args:
    # sigma = 1e-12 of the range; components inside, on a bound and outside.
    mus = np.array([0.5, 0.0, 1.0, 1.5, -0.25, 0.5])
    sigmas = np.full(6, 1e-12)
    x = np.concatenate([mus[:3], [0.5 + 1e-12, 0.5 - 3e-12, 1.0 - 1e-12, 1e-13, 0.25]])
    return x, mus, sigmas, _weights(rng, 6), 0.0, 1.0


def _case_far_outside(rng: np.random.Generator) -> Args:
    # Z_j underflows in linear space (1e4 to 1e7 sigmas away), mixed with normal ones.
    mus = np.array([1.0 + 1e4 * 0.1, -1e5, 2.0 + 30.0, 0.5, -40.0])
    sigmas = np.array([0.1, 1e-2, 1.0, 0.2, 1.0])
    x = np.array([0.0, 1e-9, 0.5, 1.0 - 1e-6, 1.0])
    return x, mus, sigmas, _weights(rng, 5), 0.0, 1.0


def _case_wide_sigma(rng: np.random.Generator) -> Args:
    return rng.uniform(0, 1, 10), np.array([0.5, -3.0]), np.array([1e6, 1e9]), _weights(rng, 2), 0.0, 1.0


def _case_points_outside(rng: np.random.Generator) -> Args:
    x, mus, sigmas, lw, low, high = _case_typical(rng)
    return np.array([low - 1e-9, high + 1e-9, -np.inf, np.inf, -1e300, 0.0]), mus, sigmas, lw, low, high


CASES: dict[str, Callable[[np.random.Generator], Args]] = {
    name.removeprefix("_case_"): fn for name, fn in list(globals().items()) if name.startswith("_case_")
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_pdf_truncnorm_mixture_matches_reference(
    backend: ModuleType, reference: ModuleType, assert_same: Any, case: str, seed: int
) -> None:
    args = CASES[case](np.random.default_rng(seed))
    assert_same(backend.log_pdf_truncnorm_mixture(*args), reference.log_pdf_truncnorm_mixture(*args))


def test_log_pdf_truncnorm_mixture_outside_bounds_is_neg_inf(backend: ModuleType) -> None:
    x = np.array([-0.5, 1.5, -1e-12, 1.0 + 1e-12])
    out = backend.log_pdf_truncnorm_mixture(x, np.array([0.5]), np.array([1.0]), np.zeros(1), 0.0, 1.0)
    assert np.all(out == -np.inf)


def test_log_pdf_truncnorm_mixture_zero_components_is_neg_inf(backend: ModuleType) -> None:
    out = backend.log_pdf_truncnorm_mixture(np.array([0.1, 0.2]), np.empty(0), np.empty(0), np.empty(0), 0.0, 1.0)
    assert out.shape == (2,) and np.all(out == -np.inf)


def test_log_pdf_truncnorm_mixture_accepts_lists_and_float32(
    backend: ModuleType, reference: ModuleType, assert_same: Any
) -> None:
    args = ([0.1, 0.5], np.array([0.2, 0.7], dtype=np.float32), [0.3, 0.4], np.log([0.5, 0.5]), 0, 1)
    assert_same(backend.log_pdf_truncnorm_mixture(*args), reference.log_pdf_truncnorm_mixture(*args))


# --- the reference against SciPy and mpmath ------------------------------------------


@pytest.mark.parametrize("low, high", [(-2.0, 3.0), (-np.inf, 1.0), (0.0, np.inf), (-np.inf, np.inf)])
def test_log_pdf_truncnorm_mixture_reference_matches_scipy(reference: ModuleType, low: float, high: float) -> None:
    rng = np.random.default_rng(0)
    k = 6
    mus, sigmas, w = rng.normal(0.0, 3.0, k), rng.uniform(0.1, 3.0, k), rng.dirichlet(np.ones(k))
    x = np.linspace(max(low, -8.0), min(high, 8.0), 41)
    pdf = [w[j] * stats.truncnorm.pdf(x, (low - mus[j]) / sigmas[j], (high - mus[j]) / sigmas[j], mus[j], sigmas[j])
           for j in range(k)]
    got = reference.log_pdf_truncnorm_mixture(x, mus, sigmas, np.log(w), low, high)
    np.testing.assert_allclose(got, np.log(np.sum(pdf, axis=0)), rtol=1e-10)
    # Single components: scipy's truncnorm.logpdf directly.
    for j in range(k):
        a, b = (low - mus[j]) / sigmas[j], (high - mus[j]) / sigmas[j]
        expected = stats.truncnorm.logpdf(x, a, b, mus[j], sigmas[j])
        got = reference.log_pdf_truncnorm_mixture(x, mus[j:j + 1], sigmas[j:j + 1], np.zeros(1), low, high)
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_log_pdf_truncnorm_mixture_reference_integrates_to_one(reference: ModuleType) -> None:
    rng = np.random.default_rng(1)
    mus, sigmas, lw = rng.normal(0.0, 2.0, 5), rng.uniform(0.2, 2.0, 5), np.log(rng.dirichlet(np.ones(5)))

    def pdf(v: float) -> float:
        return float(np.exp(reference.log_pdf_truncnorm_mixture(np.array([v]), mus, sigmas, lw, -1.0, 2.5)[0]))

    total, _ = integrate.quad(pdf, -1.0, 2.5, points=list(mus[(mus > -1) & (mus < 2.5)]), limit=200)
    assert total == pytest.approx(1.0, abs=1e-9)


def _mp_log_mass(mp: Any, a: Any, b: Any) -> Any:
    """log(Phi(b) - Phi(a)) in mpmath, mirrored into the left tail so it cannot round to 0."""
    if a > 0:
        a, b = -b, -a

    def cdf(v: Any) -> Any:
        return mp.erfc(-v / mp.sqrt(2)) / 2

    return mp.log(cdf(b) - cdf(a))


@pytest.mark.parametrize(
    "x, mu, sigma, low, high",
    [
        (0.0, -1e5, 1e-2, 0.0, 1.0),  # 1e7 sigmas below the range
        (1e-9, -1e5, 1e-2, 0.0, 1.0),
        (1.0, 5.0, 1e-12, 0.0, 1.0),  # tiny sigma, 4e12 sigmas above
        (0.3, 0.5, 1e-12, 0.0, 1.0),
        (0.5, 0.5, 1e-12, 0.0, 1.0),
        (2.0, 30.0, 1.0, -1.0, 2.0),
        (-1.0, 30.0, 1.0, -1.0, 2.0),
        (0.0, 0.0, 1e6, -1.0, 2.0),
        (0.7, -3.0, 0.5, 0.0, 1.0),
    ],
)
def test_log_pdf_truncnorm_mixture_reference_matches_mpmath(
    reference: ModuleType, x: float, mu: float, sigma: float, low: float, high: float
) -> None:
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        def std(v: float) -> Any:  # exact standardisation of the float inputs
            return (mp.mpf(v) - mu) / sigma

        log_z = _mp_log_mass(mp, std(low), std(high))
        expected = float(-std(x) ** 2 / 2 - mp.log(sigma) - mp.log(mp.sqrt(2 * mp.pi)) - log_z)
    got = reference.log_pdf_truncnorm_mixture(np.array([x]), np.array([mu]), np.array([sigma]), np.zeros(1), low, high)
    np.testing.assert_allclose(got[0], expected, rtol=1e-13)
