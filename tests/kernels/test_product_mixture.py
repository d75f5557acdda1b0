"""log_pdf_product_mixture, sample_product_mixture and tpe_best_candidate (the
product-of-truncated-normals mixtures TPE samples from and scores): backends vs reference
vs SciPy. TPE's estimators and tpe_propose: test_tpe_propose_kernels.py; the pbackend and
bbackend fixtures: conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hpo_core import kernels
from hpo_core.kernels import _backends

Case = dict[str, Any]


def _make(rng: np.random.Generator, *, n: int = 7, k: int = 5, disc: tuple[bool, ...] = (False, True, False),
          sizes: tuple[int, ...] = (3, 2), sigma: tuple[float, float] = (0.05, 2.0)) -> Case:
    dn = len(disc)
    low = np.array([-1.0, -0.5, 0.0][:dn])
    high = np.array([2.0, 10.5, 3.0][:dn])
    mus = low + rng.random((k, dn)) * (high - low)
    sigmas = rng.uniform(*sigma, size=(k, dn)) * (high - low)
    w = rng.random(k) + 0.1
    discrete = np.array(disc, dtype=bool)
    X = low + rng.random((n, dn)) * (high - low)
    XL, XH = X.copy(), X.copy()
    # Discrete dims: bins of width 1 around integer centres inside [low + 1/2, high - 1/2].
    centres = np.clip(np.round(X[:, discrete]), low[discrete] + 0.5, high[discrete] - 0.5)
    XL[:, discrete], XH[:, discrete] = centres - 0.5, centres + 0.5
    sizes_a = np.array(sizes, dtype=np.intp)
    offsets = np.concatenate(([0], np.cumsum(sizes_a)[:-1])).astype(np.intp) if len(sizes) else np.empty(0, np.intp)
    probs = np.hstack([rng.dirichlet(np.ones(c), size=k) for c in sizes]) if sizes else np.empty((k, 0))
    C = np.stack([rng.integers(0, c, n) for c in sizes], axis=1).astype(float) if sizes else np.empty((n, 0))
    return dict(XL=XL, XH=XH, discrete=discrete, C=C, mus=mus, sigmas=sigmas, w=w / w.sum(), low=low,
                high=high, probs=probs, offsets=offsets, sizes=sizes_a)


def _clustered(rng: np.random.Generator) -> Case:
    """Many points and components (the C++ kernel's blocked path: >= 64 points, >= 512
    components), means and points crowded in the middle fifth of the box, narrow sigmas
    but for a few components as wide as the range (the prior's shape)."""
    c = _make(rng, k=600, n=80, sigma=(0.005, 0.05))
    low, high = c["low"], c["high"]
    c["mus"] = low + (0.4 + 0.2 * rng.random(c["mus"].shape)) * (high - low)
    c["sigmas"][:3] = high - low
    centre = low + (0.4 + 0.2 * rng.random(c["XL"].shape)) * (high - low)
    d = c["discrete"]
    c["XL"][:, ~d] = c["XH"][:, ~d] = centre[:, ~d]
    bins = np.clip(np.round(centre[:, d]), low[d] + 0.5, high[d] - 0.5)
    c["XL"][:, d], c["XH"][:, d] = bins - 0.5, bins + 0.5
    return c


CASES: dict[str, Callable[[np.random.Generator], Case]] = {
    "typical": lambda rng: _make(rng),
    "one_component": lambda rng: _make(rng, k=1),
    "many_components": lambda rng: _make(rng, k=300, n=11),
    "many_points_and_components": lambda rng: _make(rng, k=600, n=80, sigma=(0.002, 0.05)),
    "clustered_many_points_and_components": _clustered,
    "tiny_sigma": lambda rng: _make(rng, sigma=(1e-9, 1e-6)),
    "wide_sigma": lambda rng: _make(rng, sigma=(5.0, 50.0)),
    "no_categorical": lambda rng: _make(rng, sizes=()),
    "only_categorical": lambda rng: _make(rng, disc=()),
    "only_discrete": lambda rng: _make(rng, disc=(True,)),
}


def _log_pdf(module: ModuleType, c: Case) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return module.log_pdf_product_mixture(  # type: ignore[no-any-return]
            c["XL"], c["XH"], c["discrete"], c["C"], c["mus"], c["sigmas"], np.log(c["w"]),
            c["low"], c["high"], np.log(c["probs"]), c["offsets"],
        )


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_pdf_product_mixture_matches_reference(
    pbackend: ModuleType, reference: ModuleType, assert_same: Any, case: str, seed: int
) -> None:
    c = CASES[case](np.random.default_rng(seed))
    assert_same(_log_pdf(pbackend, c), _log_pdf(reference, c))


def test_log_pdf_product_mixture_identical_points(pbackend: ModuleType, reference: ModuleType, assert_same: Any) -> None:
    c = _make(np.random.default_rng(0), k=6)
    c["mus"][:] = c["mus"][0]  # every component at one point
    c["XL"][:] = c["XH"][:] = c["mus"][0]
    c["XL"][:, 1], c["XH"][:, 1] = 2.5, 3.5
    assert_same(_log_pdf(pbackend, c), _log_pdf(reference, c))


def test_log_pdf_product_mixture_reference_matches_scipy(reference: ModuleType) -> None:
    c = _make(np.random.default_rng(4))
    total = np.zeros(len(c["XL"]))
    for j in range(len(c["w"])):
        term = np.full(len(c["XL"]), c["w"][j])
        for d in range(len(c["low"])):
            mu, s = c["mus"][j, d], c["sigmas"][j, d]
            a, b = (c["low"][d] - mu) / s, (c["high"][d] - mu) / s
            dist = stats.truncnorm(a, b, loc=mu, scale=s)
            if c["discrete"][d]:
                term *= dist.cdf(c["XH"][:, d]) - dist.cdf(c["XL"][:, d])
            else:
                term *= dist.pdf(c["XL"][:, d])
        for t, off in enumerate(c["offsets"]):
            term *= c["probs"][j, off + c["C"][:, t].astype(int)]
        total += term
    np.testing.assert_allclose(_log_pdf(reference, c), np.log(total), rtol=1e-10)


def test_log_pdf_product_mixture_zero_weight_component(pbackend: ModuleType, reference: ModuleType,
                                                       assert_same: Any) -> None:
    c = _make(np.random.default_rng(1))
    c["w"][0] = 0.0
    c["w"] /= c["w"].sum()
    assert_same(_log_pdf(pbackend, c), _log_pdf(reference, c))


def _sample(module: ModuleType, c: Case, u: np.ndarray, U: np.ndarray, UC: np.ndarray) -> np.ndarray:
    return module.sample_product_mixture(  # type: ignore[no-any-return]
        u, U, UC, c["mus"], c["sigmas"], c["w"], c["low"], c["high"], c["probs"], c["offsets"], c["sizes"]
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_sample_product_mixture_matches_reference(
    pbackend: ModuleType, reference: ModuleType, assert_same: Any, case: str, seed: int
) -> None:
    c = CASES[case](np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 10)
    n = 50
    u, U, UC = rng.random(n), rng.random((n, len(c["low"]))), rng.random((n, len(c["sizes"])))
    got = _sample(pbackend, c, u, U, UC)
    assert_same(got, _sample(reference, c, u, U, UC))
    dn = len(c["low"])
    assert np.all((got[:, :dn] >= c["low"]) & (got[:, :dn] <= c["high"]))
    assert np.all((got[:, dn:] >= 0) & (got[:, dn:] < c["sizes"]))


def test_sample_product_mixture_reference_matches_scipy_marginal(reference: ModuleType) -> None:
    c = _make(np.random.default_rng(2), k=1)
    rng = np.random.default_rng(0)
    n = 4000
    out = _sample(reference, c, rng.random(n), rng.random((n, 3)), rng.random((n, 2)))
    mu, s = c["mus"][0, 0], c["sigmas"][0, 0]
    dist = stats.truncnorm((c["low"][0] - mu) / s, (c["high"][0] - mu) / s, loc=mu, scale=s)
    assert stats.kstest(out[:, 0], dist.cdf).pvalue > 1e-3
    freq = np.bincount(out[:, 3].astype(int), minlength=3) / n
    np.testing.assert_allclose(freq, c["probs"][0, :3], atol=0.05)


def test_product_kernels_fall_back_for_backends_without_them(reset_default_backend: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # JAX does not implement the product kernels: the dispatcher takes them from the
    # first available backend in BACKENDS order that does (the fastest one).
    for name in kernels.available_backends():
        monkeypatch.setenv("HPO_CORE_BACKEND", name)
        _backends._reset_default()
        served = kernels.kernel_backend_name("log_pdf_product_mixture")
        assert hasattr(kernels.get_backend(served), "log_pdf_product_mixture")
        if hasattr(kernels.get_backend(name), "log_pdf_product_mixture"):
            assert served == name
        c = _make(np.random.default_rng(0))
        with np.errstate(divide="ignore"):
            out = kernels.log_pdf_product_mixture(
                c["XL"], c["XH"], c["discrete"], c["C"], c["mus"], c["sigmas"], np.log(c["w"]),
                c["low"], c["high"], np.log(c["probs"]), c["offsets"],
            )
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("case", ["typical", "many_components", "no_categorical", "only_categorical"])
def test_tpe_best_candidate_matches_reference(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                             case: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    g, b = CASES[case](rng), CASES[case](rng)
    dn = len(g["low"])
    # Parameter space behind the transformed bounds: dim 0 continuous, dim 1 an int grid
    # (bins of 1 inside [low, high]), dim 2 log-scale over [e^0, e^3].
    is_log = np.array([False, False, True][:dn])
    step = np.array([0.0, 1.0, 0.0][:dn])
    grid_low = np.where(is_log, np.exp(g["low"]), g["low"] + 0.5 * step)
    grid_high = np.where(is_log, np.exp(g["high"]), g["high"] - 0.5 * step)
    n = 24
    u, U, UC = rng.random(n), rng.random((n, dn)), rng.random((n, len(g["sizes"])))
    args = (u, U, UC, (g["mus"], g["sigmas"], g["w"], g["probs"]), (b["mus"], b["sigmas"], b["w"], b["probs"]),
            g["low"], g["high"], is_log, step, grid_low, grid_high, g["offsets"], g["sizes"])
    got = bbackend.tpe_best_candidate(*args)
    assert_same(got, reference.tpe_best_candidate(*args))
    assert np.all((got[:dn] >= grid_low) & (got[:dn] <= grid_high))


@pytest.mark.parametrize("case", ["ties", "coarse_bins", "zero_probabilities"])
def test_tpe_best_candidate_bounded_search_matches_reference(bbackend: ModuleType, reference: ModuleType,
                                                             assert_same: Any, case: str, seed: int) -> None:
    # The C++ kernel sums log l and log g exactly only for the candidates whose bound
    # (an erfc-free upper bound of log l minus one term of log g) can still beat the best
    # value found: the choice must stay numpy.argmax's. Cases where the bound is loose or
    # meets equal values: repeated candidates (the first of equal maxima), bins three
    # times wider than the narrowest sigma (the bound is loose by about h^2 / 6 per
    # dimension), and components and categories of probability 0 (-inf terms).
    rng = np.random.default_rng(seed)
    g, b = _make(rng, k=9, sigma=(0.02, 0.5)), _make(rng, k=40, sigma=(0.02, 0.5))
    is_log, step = np.array([False, False, True]), np.array([0.0, 1.0, 0.0])
    n = 24
    u, U, UC = rng.random(n), rng.random((n, 3)), rng.random((n, 2))
    if case == "ties":  # six distinct candidates, each drawn four times
        u, U, UC = np.repeat(u[:6], 4), np.repeat(U[:6], 4, axis=0), np.repeat(UC[:6], 4, axis=0)
    elif case == "coarse_bins":
        step = np.array([0.0, 3.0, 0.0])
    else:
        g["w"][[1, 4]] = 0.0
        g["w"] /= g["w"].sum()
        b["w"][::5] = 0.0
        b["w"] /= b["w"].sum()
        for c in (g, b):  # category 0 of the first parameter impossible in half the components
            c["probs"][::2, 0] = 0.0
            c["probs"][::2, :3] /= c["probs"][::2, :3].sum(axis=1, keepdims=True)
    grid_low = np.where(is_log, np.exp(g["low"]), g["low"] + 0.5 * step)
    grid_high = np.where(is_log, np.exp(g["high"]), g["high"] - 0.5 * step)
    args = (u, U, UC, (g["mus"], g["sigmas"], g["w"], g["probs"]), (b["mus"], b["sigmas"], b["w"], b["probs"]),
            g["low"], g["high"], is_log, step, grid_low, grid_high, g["offsets"], g["sizes"])
    with np.errstate(divide="ignore"):
        got, want = bbackend.tpe_best_candidate(*args), reference.tpe_best_candidate(*args)
    assert_same(got, want)


def test_tpe_best_candidate_single_candidate_and_zero_weight(pbackend: ModuleType, reference: ModuleType,
                                                             assert_same: Any) -> None:
    # n = 1 candidate; a bad component of weight 0 (log -inf) contributes nothing.
    rng = np.random.default_rng(3)
    g, b = _make(rng, k=4), _make(rng, k=6)
    b["w"][2] = 0.0
    b["w"] /= b["w"].sum()
    is_log, step = np.array([False, False, True]), np.array([0.0, 1.0, 0.0])
    grid_low = np.where(is_log, np.exp(g["low"]), g["low"] + 0.5 * step)
    grid_high = np.where(is_log, np.exp(g["high"]), g["high"] - 0.5 * step)
    for n in (1, 5):
        u, U, UC = rng.random(n), rng.random((n, 3)), rng.random((n, 2))
        args = (u, U, UC, (g["mus"], g["sigmas"], g["w"], g["probs"]), (b["mus"], b["sigmas"], b["w"], b["probs"]),
                g["low"], g["high"], is_log, step, grid_low, grid_high, g["offsets"], g["sizes"])
        with np.errstate(divide="ignore"):
            assert_same(pbackend.tpe_best_candidate(*args), reference.tpe_best_candidate(*args))


def test_log_pdf_product_mixture_candidates_sharing_bins(pbackend: ModuleType, reference: ModuleType,
                                                         assert_same: Any) -> None:
    # Snapped candidates repeat bins of the discrete dimensions (the C++ kernel computes
    # each (component, bin) mass once): every copy must get the same value.
    c = _make(np.random.default_rng(5), n=6, k=40, disc=(True, True, False))
    for key in ("XL", "XH", "C"):
        c[key] = np.concatenate((c[key], c[key][::-1], c[key][:2]))
    c["XL"][:, 2] = c["XL"][::-1, 2].copy()  # continuous dim differs between copies
    c["XH"][:, 2] = c["XL"][:, 2]
    got = _log_pdf(pbackend, c)
    assert_same(got, _log_pdf(reference, c))


def test_module_functions_reject_out_of_range_indices() -> None:
    # The compiled kernels do not check bounds; the module-level functions do.
    from hpo_core import kernels

    with pytest.raises(ValueError, match="C"):
        kernels.categorical_kernel_table(np.array([[0.0], [3.0]]), np.array([3]), np.array([0]), 1.0)
    with pytest.raises(ValueError, match="C"):
        kernels.categorical_kernel_table(np.array([[-1.0]]), np.array([3]), np.array([0]), 1.0)
    with pytest.raises(ValueError, match="C"):
        kernels.log_pdf_product_mixture(
            np.empty((2, 0)), np.empty((2, 0)), np.empty(0, dtype=bool), np.array([[5.0], [1e7]]),
            np.empty((1, 0)), np.empty((1, 0)), np.zeros(1), np.empty(0), np.empty(0),
            np.zeros((1, 2)), np.array([0]),
        )
    with pytest.raises(ValueError, match="weights"):
        kernels.sample_product_mixture(
            np.zeros(1), np.zeros((1, 1)), np.zeros((1, 0)), np.zeros((0, 1)), np.ones((0, 1)),
            np.ones(0), np.zeros(1), np.ones(1), np.zeros((0, 0)), np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )
    with pytest.raises(ValueError, match="ref"):
        kernels.hypervolume(np.ones((3, 2)), np.ones(1))
    with pytest.raises(ValueError, match="ref"):
        kernels.hypervolume(np.ones(3), np.ones(3))
