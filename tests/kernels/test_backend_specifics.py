"""Backend-specific behaviour: the numba special functions, the extension's boundary."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from scipy import special

from hpo_core import kernels


@pytest.fixture
def numba_special():  # type: ignore[no-untyped-def]
    """The module holding the Numba backend's scalar special functions."""
    if "numba" not in kernels.available_backends():
        pytest.skip("numba is not importable")
    from hpo_core.kernels import _numba_truncnorm

    return _numba_truncnorm


@pytest.fixture
def ext():  # type: ignore[no-untyped-def]
    if "cext" not in kernels.available_backends():
        pytest.skip("C++ extension not built (pip install . with HPO_CORE_BUILD_EXT=ON)")
    import _hpo_core_ext

    return _hpo_core_ext


def test_numba_log_ndtr_matches_scipy(numba_special) -> None:  # type: ignore[no-untyped-def]
    x = np.concatenate([np.linspace(-60, 40, 2001), -np.logspace(0, 150, 200), [0.0, -np.inf, np.inf]])
    got = np.array([numba_special._log_ndtr(v) for v in x])
    # atol: scipy returns exactly 0 above x ~ 37.5 where ours is a subnormal like -1e-311.
    np.testing.assert_allclose(got, special.log_ndtr(x), rtol=1e-13, atol=1e-300)


def test_numba_log_ndtr_scaled_matches_scipy_erfcx(numba_special) -> None:  # type: ignore[no-untyped-def]
    x = np.concatenate([-np.logspace(-3, 150, 400), np.linspace(-40, 0, 401)])
    got = np.array([numba_special._log_ndtr_scaled(v) for v in x])
    expected = np.where(x >= -1, special.log_ndtr(x) + 0.5 * x * x, np.log(0.5 * special.erfcx(-x / np.sqrt(2))))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_numba_ndtri_exp_matches_scipy(numba_special) -> None:  # type: ignore[no-untyped-def]
    y = np.concatenate([-np.logspace(-20, 300, 1000), np.linspace(-5, 0, 501), [-np.inf]])
    got = np.array([numba_special._ndtri_exp(v) for v in y])
    np.testing.assert_allclose(got, special.ndtri_exp(y), rtol=1e-13)


def _product_args(n: int, k: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Arguments of the extension's log_pdf_product_mixture: one continuous dimension."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (n, 1))
    return dict(X_low=x, X_high=x, discrete=np.zeros(1, bool), C=np.empty((n, 0)),
                mus=rng.uniform(0.0, 1.0, (k, 1)), sigmas=rng.uniform(0.01, 1.0, (k, 1)),
                log_weights=np.full(k, -np.log(k)), low=np.zeros(1), high=np.ones(1),
                cat_log_probs=np.empty((k, 0)), cat_offsets=np.empty(0, np.int64))


@pytest.mark.cext
@pytest.mark.parametrize(
    "name, bad",
    [
        ("X_low", lambda a: a.astype(np.float32)),  # dtype
        ("X_low", lambda a: np.repeat(a, 2, axis=0)[::2]),  # every other row: not C-contiguous
        ("X_low", lambda a: a[:, 0]),  # ndim 1
        ("log_weights", lambda a: np.repeat(a, 2)[::2]),  # a strided view
        ("log_weights", lambda a: a.astype(np.float32)),
        ("cat_offsets", lambda a: a.astype(np.int32)),  # intp as int32
        ("discrete", lambda a: a.astype(np.uint8)),
    ],
)
def test_extension_rejects_wrong_arrays_at_the_boundary(ext, name: str, bad) -> None:  # type: ignore[no-untyped-def]
    # nb::ndarray fixes dtype, ndim and contiguity, and .noconvert() turns a mismatch
    # into a TypeError instead of a silent copy (the _cext wrappers convert on purpose).
    args = _product_args(4, 2)
    ext.log_pdf_product_mixture(**args)  # the unchanged arguments are accepted
    args[name] = bad(args[name])
    with pytest.raises(TypeError):
        ext.log_pdf_product_mixture(**args)


@pytest.mark.cext
def test_extension_checks_lengths_at_the_boundary(ext) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        ext.nondominated_rank(np.zeros(3))  # ndim 1
    args = _product_args(4, 2)
    args["sigmas"] = np.ones((3, 1))
    with pytest.raises(ValueError, match="sigmas"):
        ext.log_pdf_product_mixture(**args)


@pytest.mark.cext
def test_extension_abi_version_matches(ext) -> None:  # type: ignore[no-untyped-def]
    from hpo_core.kernels import _cext

    assert ext.ABI_VERSION == _cext._EXPECTED_ABI


@pytest.mark.cext
def test_extension_from_threads_gives_same_results(ext) -> None:  # type: ignore[no-untyped-def]
    # The kernel runs with the GIL released, on arrays the calling threads share.
    args = _product_args(200, 500)
    expected = ext.log_pdf_product_mixture(**args)
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(ext.log_pdf_product_mixture(**args))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, expected)


@pytest.mark.cext
def test_extension_product_kernels_check_indices_at_the_boundary(ext) -> None:  # type: ignore[no-untyped-def]
    # A category index outside its dimension would read past the table: ValueError instead.
    X = np.zeros((3, 1))
    mus, sig, lw = np.zeros((2, 1)), np.ones((2, 1)), np.log([0.5, 0.5])
    lo, hi, off = np.array([-1.0]), np.array([1.0]), np.array([0], dtype=np.int64)
    probs = np.log(np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="C"):
        ext.log_pdf_product_mixture(X, X, np.zeros(1, bool), np.array([[0.0], [2.0], [1.0]]), mus, sig, lw,
                                    lo, hi, probs, off)
    with pytest.raises(TypeError):  # intp offsets as int32
        ext.log_pdf_product_mixture(X, X, np.zeros(1, bool), np.zeros((3, 1)), mus, sig, lw, lo, hi, probs,
                                    off.astype(np.int32))
    with pytest.raises(ValueError, match="cat_sizes"):
        ext.sample_product_mixture(np.zeros(3), X, np.zeros((3, 1)), mus, sig, np.ones(2), lo, hi,
                                   np.exp(probs), off, np.array([3], dtype=np.int64))
    with pytest.raises(ValueError, match="C"):
        ext.categorical_kernel_table(np.array([[2.0]]), np.array([2], dtype=np.int64), off, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        ext.parzen_bandwidths(np.array([[0.5], [np.nan]]), np.zeros(1), np.ones(1), True, True)


_TPE_WITHOUT_NUMBA = """
import sys
import hpo_core
from hpo_core import kernels
study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=0, n_startup_trials=3))
for _ in range(5):
    t = study.ask()
    study.tell(t, t.suggest_float("x", 0.0, 1.0) + t.suggest_int("n", 1, 9)
               + len(t.suggest_categorical("c", ["a", "bb"])))
served = {k: kernels.kernel_backend_name(k) for k in
          ("tpe_propose", "tpe_best_candidate", "parzen_bandwidths", "categorical_kernel_table")}
assert set(served.values()) == {"cext"}, served
assert "numba" not in sys.modules, "the TPE path imported numba"
"""


@pytest.mark.cext
def test_tpe_on_the_extension_needs_no_numba(ext) -> None:  # type: ignore[no-untyped-def]
    # The point of the C++ TPE kernels: a fresh process's first proposals skip Numba's
    # import and cache load (about a second).
    env = {k: v for k, v in os.environ.items() if k != "HPO_CORE_BACKEND"}
    subprocess.run([sys.executable, "-c", _TPE_WITHOUT_NUMBA], check=True, env=env, timeout=120)
