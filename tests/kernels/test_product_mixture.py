"""log_pdf_product_mixture and sample_product_mixture: backends vs reference vs SciPy."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hpo_core import kernels
from hpo_core.kernels import _backends, _reference_tpe_propose

Case = dict[str, Any]


@pytest.fixture
def pbackend(backend: ModuleType) -> ModuleType:
    """Backends implementing the product kernels (jax falls back, tested below)."""
    if not hasattr(backend, "log_pdf_product_mixture"):
        pytest.skip(f"{backend.BACKEND_NAME} has no product kernels; the dispatcher falls back")
    return backend


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


@pytest.fixture
def bbackend(backend: ModuleType) -> ModuleType:
    if not hasattr(backend, "parzen_bandwidths"):
        pytest.skip(f"{backend.BACKEND_NAME} has no TPE estimator kernels; the dispatcher falls back")
    return backend


@pytest.mark.parametrize("n", [0, 1, 2, 3, 50])
@pytest.mark.parametrize("endpoints", [True, False])
@pytest.mark.parametrize("clip", [True, False])
def test_parzen_bandwidths_matches_reference(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                             n: int, endpoints: bool, clip: bool) -> None:
    rng = np.random.default_rng(n)
    low, high = np.array([0.0, -3.0, 1.0]), np.array([1.0, 5.0, 2.0])
    T = low + rng.random((n, 3)) * (high - low)
    if n >= 3:
        T[1] = T[0]  # identical points: a zero gap, clipped up
    assert_same(bbackend.parzen_bandwidths(T, low, high, endpoints, clip),
                reference.parzen_bandwidths(T, low, high, endpoints, clip))


@pytest.mark.parametrize("n", [255, 256, 1500])
def test_parzen_bandwidths_large_n_ties_and_signed_zeros(bbackend: ModuleType, reference: ModuleType,
                                                        n: int) -> None:
    # Large n takes the C++ radix-sort path: the order of tied values (rounded columns,
    # -0.0 next to 0.0) must be the stable one of the reference, bit for bit.
    rng = np.random.default_rng(n)
    low, high = np.array([0.0, 0.0, -0.5]), np.array([1.0, 1.0, 0.5])
    T = rng.random((n, 3))
    T[:, 1] = np.round(T[:, 1] * 10) / 10
    T[:, 2] -= 0.5
    T[:6, 2] = [-0.0, 0.0, -0.0, 0.0, 0.0, -0.0]
    for endpoints in (True, False):
        got = bbackend.parzen_bandwidths(T, low, high, endpoints, True)
        assert np.array_equal(got, reference.parzen_bandwidths(T, low, high, endpoints, True))


def test_parzen_bandwidths_reference_by_hand(reference: ModuleType) -> None:
    T = np.array([[0.5], [0.1], [0.2]])
    got = reference.parzen_bandwidths(T, np.zeros(1), np.ones(1), True, False)
    # sorted 0.1, 0.2, 0.5 with bounds 0 and 1: max(0.1, 0.1), max(0.1, 0.3), max(0.3, 0.5)
    np.testing.assert_allclose(got[:, 0], [0.5, 0.1, 0.3])
    got = reference.parzen_bandwidths(T, np.zeros(1), np.ones(1), False, True)
    # without endpoints the extremes use the inner gap; floor 1 / min(100, 5) = 0.2
    np.testing.assert_allclose(got[:, 0], [0.3, 0.2, 0.3])


@pytest.mark.parametrize("prior_weight", [1.5, 0.0])
@pytest.mark.parametrize("n", [0, 1, 6])
def test_categorical_kernel_table_matches_reference(bbackend: ModuleType, reference: ModuleType,
                                                    assert_same: Any, n: int, prior_weight: float) -> None:
    rng = np.random.default_rng(n)
    sizes = np.array([3, 1, 4], dtype=np.intp)
    offsets = np.array([0, 3, 4], dtype=np.intp)
    C = np.stack([rng.integers(0, c, n) for c in sizes], axis=1).astype(float)
    got = bbackend.categorical_kernel_table(C, sizes, offsets, prior_weight)
    assert_same(got, reference.categorical_kernel_table(C, sizes, offsets, prior_weight))
    for t, off in enumerate(offsets):
        np.testing.assert_allclose(got[:, off : off + sizes[t]].sum(axis=1), 1.0)
    np.testing.assert_allclose(got[n], np.repeat(1.0 / sizes, sizes))  # the prior row: uniform


def test_categorical_kernel_table_without_prior_is_one_hot(reference: ModuleType) -> None:
    P = reference.categorical_kernel_table(np.array([[1.0], [0.0]]), np.array([3]), np.array([0]), 0.0)
    np.testing.assert_array_equal(P, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_categorical_kernel_table_reference_by_hand(reference: ModuleType) -> None:
    P = reference.categorical_kernel_table(np.array([[1.0]]), np.array([2]), np.array([0]), 1.0)
    # k = 2 kernels: the observation gets 1 + 1/2 on category 1 and 1/2 elsewhere.
    np.testing.assert_allclose(P, [[0.25, 0.75], [0.5, 0.5]])


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


TPE_KERNELS = ["log_pdf_product_mixture", "sample_product_mixture", "parzen_bandwidths",
               "categorical_kernel_table", "tpe_best_candidate", "tpe_propose"]



def _history(rng: np.random.Generator, n: int, order: str = "F") -> dict[str, Any]:
    """A history matrix and the arguments of tpe_propose for its 5 columns: float in
    [-1, 2], log float in [1e-3, 1] (column 3), int 0..10 (column 0), categoricals of
    sizes 3 and 4; a spare column (2) the space does not use."""
    X = np.empty((n + 3, 6), order=order)  # more rows than used, like the history's capacity
    X[:, 0] = rng.integers(0, 11, n + 3)
    X[:, 1] = rng.uniform(-1.0, 2.0, n + 3)
    X[:, 2] = np.nan
    X[:, 3] = np.exp(rng.uniform(np.log(1e-3), 0.0, n + 3))
    X[:, 4] = rng.integers(0, 3, n + 3)
    X[:, 5] = rng.integers(0, 4, n + 3)
    return dict(
        X=X, cols=np.array([1, 3, 0, 4, 5]), low=np.array([-1.0, np.log(1e-3), -0.5]),
        high=np.array([2.0, 0.0, 10.5]), is_log=np.array([False, True, False]), step=np.array([0.0, 0.0, 1.0]),
        grid_low=np.array([-1.0, 1e-3, 0.0]), grid_high=np.array([2.0, 1.0, 10.0]),
        offsets=np.array([0, 3], dtype=np.intp), sizes=np.array([3, 4], dtype=np.intp),
    )


def _propose(module: ModuleType, h: dict[str, Any], rows: np.ndarray, n_below: int, weights: np.ndarray,
             u: np.ndarray, **options: Any) -> np.ndarray:
    opts = dict(prior_weight=1.0, consider_endpoints=False, magic_clip=True) | options
    return module.tpe_propose(h["X"], rows, n_below, h["cols"], weights, u, h["low"], h["high"], h["is_log"],
                              h["step"], h["grid_low"], h["grid_high"], h["offsets"], h["sizes"],
                              opts["prior_weight"], opts["consider_endpoints"], opts["magic_clip"])


@pytest.mark.parametrize(("n_rows", "n_below", "order", "options"), [
    (30, 5, "F", {}),
    (30, 5, "C", {}),
    (12, 0, "F", {}),  # no good observation: l is the prior alone
    (6, 6, "F", {}),  # no bad observation: g is the prior alone
    (1, 1, "F", {}),
    (25, 3, "F", {"prior_weight": 0.3, "consider_endpoints": True, "magic_clip": False}),
    (25, 3, "F", {"prior_weight": 0.0}),  # no prior: zero weights and category probabilities
    (6, 6, "F", {"prior_weight": 0.0}),  # ... but g is the prior alone
])
def test_tpe_propose_matches_reference(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                       n_rows: int, n_below: int, order: str, options: dict[str, Any],
                                       seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = _history(rng, n_rows, order)
    rows = rng.permutation(n_rows + 3)[:n_rows]
    weights = rng.uniform(0.1, 1.0, n_rows)
    u = rng.random((24, 6))
    got = _propose(bbackend, h, rows, n_below, weights, u, **options)
    assert_same(got, _propose(reference, h, rows, n_below, weights, u, **options))
    assert np.all((got[:3] >= h["grid_low"]) & (got[:3] <= h["grid_high"]))
    assert got[2] == round(got[2]) and got[3] in (0, 1, 2) and got[4] in (0, 1, 2, 3)


def _mixed_history(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """A history of the 10-parameter mixed space of benchmarks/overhead_tpe.py: float in
    [-5, 5], log float [1e-5, 1], float step 0.05 in [0, 1], int 0..100, log int 1..1024,
    int 0..100 step 5, categoricals of 3 and 10, two floats in [0, 1]."""
    X = np.column_stack([
        rng.uniform(-5, 5, n), np.exp(rng.uniform(np.log(1e-5), 0, n)), np.round(rng.uniform(0, 20, n)) * 0.05,
        rng.integers(0, 101, n), np.round(np.exp(rng.uniform(np.log(0.5), np.log(1024.5), n))).clip(1, 1024),
        rng.integers(0, 21, n) * 5, rng.random(n), rng.random(n), rng.integers(0, 3, n), rng.integers(0, 10, n),
    ])
    is_log = np.array([False, True, False, False, True, False, False, False])
    step = np.array([0.0, 0.0, 0.05, 1.0, 1.0, 5.0, 0.0, 0.0])
    grid_low = np.array([-5, 1e-5, 0, 0, 1, 0, 0, 0.0])
    grid_high = np.array([5, 1, 1, 100, 1024, 100, 1, 1.0])
    low, high = grid_low - 0.5 * step, grid_high + 0.5 * step
    low[is_log], high[is_log] = np.log(low[is_log]), np.log(high[is_log])
    return dict(X=X, cols=np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), low=low, high=high, is_log=is_log, step=step,
                grid_low=grid_low, grid_high=grid_high, offsets=np.array([0, 3], dtype=np.intp),
                sizes=np.array([3, 10], dtype=np.intp))


@pytest.mark.parametrize(("n_rows", "n_below", "n_candidates", "ranked"), [
    (40, 4, 256, True),
    (300, 25, 256, True),
    (300, 25, 256, False),  # rows in random order: l and g alike, the bounds decide little
    (1500, 25, 512, True),
    (1500, 25, 64, False),
    (200, 0, 256, True),  # l is the prior alone
    (9, 9, 256, True),  # g is the prior alone
])
def test_tpe_propose_many_candidates_matches_reference(bbackend: ModuleType, reference: ModuleType,
                                                       assert_same: Any, n_rows: int, n_below: int,
                                                       n_candidates: int, ranked: bool, seed: int) -> None:
    # The compiled backends compute g fully only at the candidates whose bound can win;
    # the reference evaluates every candidate. On TPE's own estimators and with hundreds
    # of candidates, the proposal has the largest value, and is the reference's unless
    # several candidates tie within rounding (where g is its prior alone, log l - log g
    # is flat: (200, 0) below).
    rng = np.random.default_rng(100 + seed)
    h = _mixed_history(rng, n_rows)
    X = h["X"]
    loss = (X[:, 0] - 1.0) ** 2 + np.log10(X[:, 1]) ** 2 + 0.01 * np.abs(X[:, 3] - 30) + (X[:, 8] != 2)
    rows = np.argsort(loss, kind="stable") if ranked else rng.permutation(n_rows)
    weights = np.concatenate((np.ones(n_below), rng.uniform(0.2, 1.0, n_rows - n_below)))
    u = rng.random((n_candidates, 11))
    got = _propose(bbackend, h, rows, n_below, weights, u)
    expected = _propose(reference, h, rows, n_below, weights, u)
    # Every candidate's value log l - log g, by the reference.
    T, C = _reference_tpe_propose._tpe_gather(X, rows, h["cols"], h["is_log"], h["low"], h["high"], h["sizes"])
    good, bad = (_reference_tpe_propose._tpe_estimator(T[part], C[part], weights[part], h["low"], h["high"], h["sizes"],
                                          h["offsets"], 1.0, False, True)
                 for part in (slice(0, n_below), slice(n_below, n_rows)))
    S = _reference_tpe_propose._tpe_candidates(u[:, 0], u[:, 1:9], u[:, 9:], good, h["low"], h["high"], h["is_log"], h["step"],
                                  h["grid_low"], h["grid_high"], h["offsets"], h["sizes"])
    XL, XH = S[:, :8] - 0.5 * h["step"], S[:, :8] + 0.5 * h["step"]
    XL[:, h["is_log"]], XH[:, h["is_log"]] = np.log(XL[:, h["is_log"]]), np.log(XH[:, h["is_log"]])
    acq = np.subtract(*(reference.log_pdf_product_mixture(XL, XH, h["step"] > 0, S[:, 8:], m[0], m[1], np.log(m[2]),
                                                          h["low"], h["high"], np.log(m[3]), h["offsets"])
                        for m in (good, bad)))
    chosen = np.flatnonzero(np.isclose(S, got, rtol=1e-9, atol=1e-12).all(axis=1))  # sampled to rounding
    assert len(chosen) and np.isclose(acq[chosen].max(), acq.max(), rtol=1e-9, atol=0)
    top2 = np.sort(acq)[-2:]
    if top2[1] - top2[0] > 1e-9 * max(1.0, abs(top2[1])):  # no tie within rounding: the same point
        assert_same(got, expected)


def test_tpe_propose_is_tpe_best_candidate_of_the_estimators(reference: ModuleType, assert_same: Any) -> None:
    # The reference by hand: both estimators written out (prior row last, weights
    # normalised with the prior weight, log for the log column) give the same proposal.
    rng = np.random.default_rng(7)
    h = _history(rng, 20)
    rows = np.arange(20)
    weights = rng.uniform(0.5, 1.0, 20)
    u = rng.random((8, 6))
    G = h["X"][rows[:, None], h["cols"]]
    T = G[:, :3].copy()
    T[:, 1] = np.log(T[:, 1])
    C = G[:, 3:]
    mixtures = []
    for part in (slice(0, 4), slice(4, 20)):
        n = len(T[part])
        mus = np.vstack((T[part], 0.5 * (h["low"] + h["high"])))
        sig = np.vstack((reference.parzen_bandwidths(T[part], h["low"], h["high"], False, True), h["high"] - h["low"]))
        w = np.append(weights[part], 1.0)
        mixtures.append((mus, sig, w / w.sum(), reference.categorical_kernel_table(C[part], h["sizes"], h["offsets"], 1.0)))
        assert len(mus) == n + 1
    expected = reference.tpe_best_candidate(u[:, 0], u[:, 1:4], u[:, 4:], mixtures[0], mixtures[1], h["low"],
                                            h["high"], h["is_log"], h["step"], h["grid_low"], h["grid_high"],
                                            h["offsets"], h["sizes"])
    assert_same(_propose(reference, h, rows, 4, weights, u), expected)


def test_tpe_propose_clips_values_from_a_wider_range(bbackend: ModuleType, reference: ModuleType,
                                                      assert_same: Any) -> None:
    # A value drawn under an older, wider range is clipped into the bounds before the
    # estimators are built (the same proposal as with the clipped value).
    rng = np.random.default_rng(11)
    h = _history(rng, 10)
    rows, weights, u = np.arange(10), np.ones(10), rng.random((24, 6))
    clipped = _propose(bbackend, h, rows, 2, weights, u)
    h["X"][0, 1], h["X"][1, 1] = 2.0, -1.0
    expected = _propose(bbackend, h, rows, 2, weights, u)
    h["X"][0, 1], h["X"][1, 1] = 7.0, -9.0
    assert_same(_propose(bbackend, h, rows, 2, weights, u), expected)
    assert_same(expected, _propose(reference, h, rows, 2, weights, u))
    assert clipped.shape == (5,)


@pytest.mark.parametrize(("where", "value", "match"), [
    ("category", 3.0, "category indices"),
    ("category", 1.5, "category indices"),
    ("category", np.nan, "category indices"),
    ("row", 99, "rows"),
    ("row", -1, "rows"),
    ("col", 6, "cols"),
])
def test_tpe_propose_rejects_bad_input(backend: ModuleType, where: str, value: float, match: str) -> None:
    # Every backend (the dispatcher's fallback included) checks what its compiled code
    # would otherwise read out of bounds.
    rng = np.random.default_rng(2)
    h = _history(rng, 8)
    rows = np.arange(8)
    if where == "category":
        h["X"][3, 4] = value
    elif where == "row":
        rows[2] = int(value)
    else:
        h["cols"] = h["cols"].copy()
        h["cols"][0] = int(value)
    module = backend if hasattr(backend, "tpe_propose") else kernels
    with pytest.raises((ValueError, IndexError), match=match):
        _propose(module, h, rows, 2, np.ones(8), rng.random((4, 6)))

@pytest.mark.parametrize("name", TPE_KERNELS)
def test_tpe_kernels_share_signature_and_summary(pbackend: ModuleType, reference: ModuleType, name: str) -> None:
    import inspect

    ref, fn = getattr(reference, name), getattr(pbackend, name)
    assert list(inspect.signature(fn).parameters) == list(inspect.signature(ref).parameters)
    summary = ref.__doc__.strip().splitlines()[0]
    assert fn.__doc__.strip().splitlines()[0] == summary
    assert getattr(kernels, name).__doc__.strip().splitlines()[0] == summary
    assert name in kernels.__all__ and name in pbackend.__all__


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


@pytest.mark.parametrize(("change", "match"), [
    (lambda a: a.update(u=a["u"][:, :3]), "u"),
    (lambda a: a.update(u=a["u"][:0]), "u"),
    (lambda a: a.update(n_below=-1), "n_below"),
    (lambda a: a.update(n_below=99), "n_below"),
    (lambda a: a.update(weights=a["weights"][:-1]), "weights"),
    (lambda a: a.update(cols=a["cols"][:-1]), "cols"),
    (lambda a: a.update(step=a["step"][:-1]), "step"),
])
def test_tpe_propose_dispatcher_checks_shapes(change: Any, match: str) -> None:
    # The module-level function checks every shape before any backend reads the arrays
    # (the Numba backend would read past a too-narrow `u`).
    rng = np.random.default_rng(3)
    h = _history(rng, 8)
    args = dict(rows=np.arange(8), n_below=2, weights=np.ones(8), u=rng.random((4, 6)), cols=h["cols"],
                step=h["step"])
    change(args)
    with pytest.raises(ValueError, match=match):
        kernels.tpe_propose(h["X"], args["rows"], args["n_below"], args["cols"], args["weights"], args["u"],
                            h["low"], h["high"], h["is_log"], args["step"], h["grid_low"], h["grid_high"],
                            h["offsets"], h["sizes"], 1.0, False, True)
