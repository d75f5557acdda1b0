"""Backend-specific behaviour: the numba special functions, the extension's boundary."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import special

from hpo_core import kernels


@pytest.fixture
def numba_backend():  # type: ignore[no-untyped-def]
    if "numba" not in kernels.available_backends():
        pytest.skip("numba is not importable")
    return kernels.get_backend("numba")


@pytest.fixture
def ext():  # type: ignore[no-untyped-def]
    if "cext" not in kernels.available_backends():
        pytest.skip("C++ extension not built (pip install . with HPO_CORE_BUILD_EXT=ON)")
    import _hpo_core_ext

    return _hpo_core_ext


def test_numba_log_ndtr_matches_scipy(numba_backend) -> None:  # type: ignore[no-untyped-def]
    x = np.concatenate([np.linspace(-60, 40, 2001), -np.logspace(0, 150, 200), [0.0, -np.inf, np.inf]])
    got = np.array([numba_backend._log_ndtr(v) for v in x])
    # atol: scipy returns exactly 0 above x ~ 37.5 where ours is a subnormal like -1e-311.
    np.testing.assert_allclose(got, special.log_ndtr(x), rtol=1e-13, atol=1e-300)


def test_numba_log_ndtr_scaled_matches_scipy_erfcx(numba_backend) -> None:  # type: ignore[no-untyped-def]
    x = np.concatenate([-np.logspace(-3, 150, 400), np.linspace(-40, 0, 401)])
    got = np.array([numba_backend._log_ndtr_scaled(v) for v in x])
    expected = np.where(x >= -1, special.log_ndtr(x) + 0.5 * x * x, np.log(0.5 * special.erfcx(-x / np.sqrt(2))))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_numba_ndtri_exp_matches_scipy(numba_backend) -> None:  # type: ignore[no-untyped-def]
    y = np.concatenate([-np.logspace(-20, 300, 1000), np.linspace(-5, 0, 501), [-np.inf]])
    got = np.array([numba_backend._ndtri_exp(v) for v in y])
    np.testing.assert_allclose(got, special.ndtri_exp(y), rtol=1e-13)


@pytest.mark.cext
def test_extension_rejects_wrong_arrays_at_the_boundary(ext) -> None:  # type: ignore[no-untyped-def]
    x = np.linspace(0.0, 1.0, 4)
    ok = (np.ones(2), np.ones(2), np.log([0.5, 0.5]))
    with pytest.raises(TypeError):
        ext.log_pdf_truncnorm_mixture(x.astype(np.float32), *ok, 0.0, 1.0)
    with pytest.raises(TypeError):
        ext.log_pdf_truncnorm_mixture(np.linspace(0, 1, 8)[::2], *ok, 0.0, 1.0)  # not contiguous
    with pytest.raises(TypeError):
        ext.nondominated_rank(np.zeros(3))  # ndim 1
    with pytest.raises(ValueError, match="sigmas"):
        ext.log_pdf_truncnorm_mixture(x, np.ones(2), np.ones(3), np.log([0.5, 0.5]), 0.0, 1.0)


@pytest.mark.cext
def test_extension_abi_version_matches(ext) -> None:  # type: ignore[no-untyped-def]
    from hpo_core.kernels import _cext

    assert ext.ABI_VERSION == _cext._EXPECTED_ABI


@pytest.mark.cext
def test_extension_from_threads_gives_same_results(ext) -> None:  # type: ignore[no-untyped-def]
    cext = kernels.get_backend("cext")
    rng = np.random.default_rng(0)
    x, mus, sigmas = rng.uniform(0, 1, 200), rng.uniform(0, 1, 500), rng.uniform(0.01, 1, 500)
    lw = np.log(np.full(500, 1 / 500))
    expected = cext.log_pdf_truncnorm_mixture(x, mus, sigmas, lw, 0.0, 1.0)
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(cext.log_pdf_truncnorm_mixture(x, mus, sigmas, lw, 0.0, 1.0))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, expected)
