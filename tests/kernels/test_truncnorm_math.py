"""The truncated-normal helpers of the product mixtures, in the regimes TPE rarely reaches.

The product-mixture tests (test_product_mixture.py) pin every backend's kernels to the
reference; here the reference helpers are pinned to SciPy and mpmath far in the tails,
for narrow and unbounded intervals, and the Numba scalar twins to the reference. (The
C++ twins in csrc/hpo_core/special.hpp are reached only through the product kernels.)
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hpo_core import kernels
from hpo_core.kernels import _reference_truncnorm as ref

# (a, b): far in either tail (the mass underflows in linear space), narrow intervals
# (midpoint expansion), straddling 0 with a mass near 1 or small, unbounded.
INTERVALS = [
    (1e7, 1e7 + 1e2), (-1e7 - 1e2, -1e7), (38.0, 40.0), (-40.0, -38.0), (5.0, 5.0 + 1e-9),
    (-0.5, -0.5 + 1e-6), (-1e-12, 1e-12), (-3e2, 4e2), (-1e-3, 2e-3), (-2.0, 3.0),
    (0.3, 0.31), (-np.inf, -30.0), (30.0, np.inf), (-np.inf, 1.0), (-np.inf, np.inf),
]


def _mp_log_mass(mp: Any, a: float, b: float) -> Any:
    """log(Phi(b) - Phi(a)) in mpmath, mirrored into the left tail so it cannot round to 0."""
    a_, b_ = (mp.mpf(-b), mp.mpf(-a)) if a > 0 else (mp.mpf(a), mp.mpf(b))

    def cdf(v: Any) -> Any:
        return mp.erfc(-v / mp.sqrt(2)) / 2

    return mp.log(cdf(b_) - cdf(a_))


@pytest.mark.parametrize("a, b", INTERVALS)
def test_reference_log_gauss_mass_matches_mpmath(a: float, b: float) -> None:
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        expected = float(_mp_log_mass(mp, a, b))
    got = float(ref._log_gauss_mass(np.array([a]), np.array([b]))[0])
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("low, high", [(-2.0, 3.0), (-np.inf, 1.0), (0.0, np.inf), (4.0, 5.0), (-9.0, -8.5)])
def test_reference_ppf_matches_scipy(low: float, high: float) -> None:
    q = np.array([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0 - 1e-9])
    got = ref._ppf_std_truncnorm(q, np.full_like(q, low), np.full_like(q, high))
    np.testing.assert_allclose(got, stats.truncnorm.ppf(q, low, high), rtol=1e-10)


def test_reference_ppf_far_outside_hugs_the_bound() -> None:
    # 1e4 sigmas below the interval's top is an exponential tail inside it:
    # F(x) ~ exp(-|b| (b - x)), so F^-1(q) ~ b + log(q) / |b|.
    a, b = -1e4 - 1.0, -1e4
    q = np.array([0.1, 0.5, 0.9])
    got = ref._ppf_std_truncnorm(q, np.full(3, a), np.full(3, b))
    np.testing.assert_allclose(got, b + np.log(q) / abs(b), rtol=0, atol=1e-7)


@pytest.fixture
def numba_truncnorm() -> ModuleType:
    if "numba" not in kernels.available_backends():
        pytest.skip("numba is not importable")
    from hpo_core.kernels import _numba_truncnorm

    return _numba_truncnorm


def test_numba_log_gauss_mass_and_ppf_match_the_reference(numba_truncnorm: ModuleType, assert_same: Any) -> None:
    a = np.array([a for a, _ in INTERVALS])
    b = np.array([b for _, b in INTERVALS])
    got = np.array([numba_truncnorm._log_gauss_mass(x, y) for x, y in zip(a, b)])
    assert_same(got, ref._log_gauss_mass(a, b))
    finite = np.isfinite(a) & np.isfinite(b)  # the product kernels pass finite bounds
    for q in (1e-12, 0.3, 0.5, 1.0 - 1e-9):
        got = np.array([numba_truncnorm._ppf_std_truncnorm(q, x, y) for x, y in zip(a[finite], b[finite])])
        expected = ref._ppf_std_truncnorm(np.full(finite.sum(), q), a[finite], b[finite])
        assert_same(got, expected)
