from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _backends, _reference

_MISSING_REASON = {
    "cext": "C++ extension not built (pip install . with HPO_CORE_BUILD_EXT=ON)",
    "numba": "numba is not importable",
    "jax": "jax is not installed (pip install 'hpo_core[jax]')",
    "numpy": "",
}
_MARKS = {"cext": [pytest.mark.cext], "jax": [pytest.mark.jax]}

# Default tolerance of every cross-check. The atol is there for log-values near 0:
# they are logs of sums of O(1) terms, so their rounding error is absolute (~1e-16),
# and a relative comparison of e.g. -1e-17 with 0.0 would be meaningless.
RTOL = 1e-10
ATOL = 1e-13


@pytest.fixture(params=[pytest.param(name, marks=_MARKS.get(name, [])) for name in kernels.BACKENDS])
def backend(request: pytest.FixtureRequest) -> ModuleType:
    """Each kernel backend in turn; the ones not installed here are skipped."""
    name = request.param
    if name not in kernels.available_backends():
        pytest.skip(_MISSING_REASON[name])
    return kernels.get_backend(name)


@pytest.fixture
def pbackend(backend: ModuleType) -> ModuleType:
    """Backends implementing the product kernels (jax has none: the dispatcher falls back,
    tested in test_product_mixture.py)."""
    if not hasattr(backend, "log_pdf_product_mixture"):
        pytest.skip(f"{backend.BACKEND_NAME} has no product kernels; the dispatcher falls back")
    return backend


@pytest.fixture
def bbackend(backend: ModuleType) -> ModuleType:
    """Backends implementing TPE's estimator kernels (jax has none: the dispatcher falls back)."""
    if not hasattr(backend, "parzen_bandwidths"):
        pytest.skip(f"{backend.BACKEND_NAME} has no TPE estimator kernels; the dispatcher falls back")
    return backend


@pytest.fixture
def reference() -> ModuleType:
    return _reference


@pytest.fixture
def reset_default_backend() -> Iterator[None]:
    """Forget the cached default backend before and after the test."""
    _backends._reset_default()
    yield
    _backends._reset_default()


def assert_same(actual: np.ndarray, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Values agree within tolerance, with the same infinities and NaNs in the same places."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


@pytest.fixture(name="assert_same")
def assert_same_fixture() -> object:
    return assert_same
