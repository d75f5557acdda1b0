"""Micro-benchmarks of every kernel on every available backend (pytest-benchmark).

Run with ``python -m pytest benchmarks/test_bench_kernels.py`` (``testpaths`` excludes
benchmarks from the default run); compare backends with ``--benchmark-group-by=param:size``
or ``--benchmark-columns=median``. Each case is warmed up once (Numba compile or cache
load, JAX tracing) before timing. Sizes: Pareto ranking of n=10000 points, hypervolumes
of up to 10000 points, and TPE's product-mixture kernels on a 10-parameter space
(n=24 candidates against the components of 100 and 1000 trials).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hpo_core import kernels

BACKENDS = [
    pytest.param(name, marks=[getattr(pytest.mark, name)] if name in ("cext", "jax") else [])
    for name in kernels.BACKENDS
]


def _module(name: str) -> Any:
    if name not in kernels.available_backends():
        pytest.skip(f"backend {name!r} is not available here")
    return kernels.get_backend(name)


def _run(benchmark: Any, fn: Callable[[], object], heavy: bool) -> None:
    benchmark.pedantic(fn, rounds=3 if heavy else 30, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("m", [2, 3])
def test_bench_nondominated_rank(benchmark: Any, backend: str, m: int) -> None:
    mod = _module(backend)
    values = np.random.default_rng(3).normal(size=(10_000, m))
    _run(benchmark, lambda: mod.nondominated_rank(values), True)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("m", [2, 3])
def test_bench_is_pareto_front(benchmark: Any, backend: str, m: int) -> None:
    mod = _module(backend)
    values = np.random.default_rng(4).normal(size=(10_000, m))
    _run(benchmark, lambda: mod.is_pareto_front(values), True)


# Hypervolume: "normal" is n standard-normal points (a small front, most points
# dominated); "front" is n points on the positive unit sphere, all non-dominated (the
# worst case of the 3-D sweep).
HV_SIZES = {"m2-normal-10000": (2, 10_000, "normal"), "m3-normal-1000": (3, 1_000, "normal"),
            "m3-front-1000": (3, 1_000, "front")}


def _hv_points(m: int, n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    if kind == "normal":
        return rng.normal(size=(n, m)), np.full(m, 2.0)
    x = np.abs(rng.normal(size=(n, m)))
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.full(m, 1.1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(HV_SIZES))
def test_bench_hypervolume(benchmark: Any, backend: str, size: str) -> None:
    mod = _module(backend)
    points, ref = _hv_points(*HV_SIZES[size])
    _run(benchmark, lambda: mod.hypervolume(points, ref), True)


# TPE's product-mixture kernels (numpy, numba, cext; jax lacks them). A 10-parameter
# mixed space as in benchmarks/overhead_tpe.py: 6 continuous (2 log), 2 discrete, 2
# categorical (3 and 10); n=24 candidates; "small" is l/g with 11/91 components (100
# trials), "large" 101/1001 (1000 trials). is_log/step/grid give the parameter space.
TPE_SIZES = {"small": (11, 91), "large": (101, 1_001)}


def _tpe_module(name: str) -> Any:
    mod = _module(name)
    if not hasattr(mod, "tpe_best_candidate"):
        pytest.skip(f"backend {name!r} has no TPE kernels (the dispatcher falls back)")
    return mod


def _tpe_space() -> dict[str, np.ndarray]:
    is_log = np.array([False, True, False, True, False, False, False, False])
    step = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 5.0])
    grid_low = np.array([0.0, 1e-3, -5.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    grid_high = np.array([1.0, 1.0, 5.0, 100.0, 1.0, 1.0, 20.0, 100.0])
    low = np.where(is_log, np.log(np.where(is_log, grid_low, 1.0)), grid_low - 0.5 * step)
    high = np.where(is_log, np.log(np.where(is_log, grid_high, 1.0)), grid_high + 0.5 * step)
    sizes = np.array([3, 10], dtype=np.intp)
    offsets = np.array([0, 3], dtype=np.intp)
    return dict(is_log=is_log, step=step, grid_low=grid_low, grid_high=grid_high, low=low, high=high,
                sizes=sizes, offsets=offsets)


def _tpe_mixture(rng: np.random.Generator, sp: dict[str, np.ndarray], k: int) -> tuple[np.ndarray, ...]:
    width = sp["high"] - sp["low"]
    mus = sp["low"] + rng.random((k, len(width))) * width
    sigmas = rng.uniform(0.02, 0.5, (k, len(width))) * width
    w = rng.random(k) + 0.1
    probs = np.hstack([rng.dirichlet(np.ones(c), size=k) for c in sp["sizes"]])
    return mus, sigmas, w / w.sum(), probs


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(TPE_SIZES))
def test_bench_tpe_best_candidate(benchmark: Any, backend: str, size: str) -> None:
    mod = _tpe_module(backend)
    rng = np.random.default_rng(6)
    sp = _tpe_space()
    good, bad = (_tpe_mixture(rng, sp, k) for k in TPE_SIZES[size])
    u = rng.random((24, 1 + 8 + 2))
    _run(
        benchmark,
        lambda: mod.tpe_best_candidate(u[:, 0], u[:, 1:9], u[:, 9:], good, bad, sp["low"], sp["high"],
                                       sp["is_log"], sp["step"], sp["grid_low"], sp["grid_high"],
                                       sp["offsets"], sp["sizes"]),
        size != "small",
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(TPE_SIZES))
def test_bench_log_pdf_product_mixture(benchmark: Any, backend: str, size: str) -> None:
    mod = _tpe_module(backend)
    rng = np.random.default_rng(7)
    sp = _tpe_space()
    mus, sigmas, w, probs = _tpe_mixture(rng, sp, TPE_SIZES[size][1])
    X = sp["low"] + rng.random((24, 8)) * (sp["high"] - sp["low"])
    discrete = sp["step"] > 0
    XL, XH = X.copy(), X.copy()
    XL[:, discrete] -= 0.5 * sp["step"][discrete]
    XH[:, discrete] += 0.5 * sp["step"][discrete]
    C = np.stack([rng.integers(0, c, 24) for c in sp["sizes"]], axis=1).astype(np.float64)
    lw, lp = np.log(w), np.log(probs)
    _run(
        benchmark,
        lambda: mod.log_pdf_product_mixture(XL, XH, discrete, C, mus, sigmas, lw, sp["low"], sp["high"], lp,
                                            sp["offsets"]),
        size != "small",
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_bench_sample_product_mixture(benchmark: Any, backend: str) -> None:
    mod = _tpe_module(backend)
    rng = np.random.default_rng(8)
    sp = _tpe_space()
    mus, sigmas, w, probs = _tpe_mixture(rng, sp, 101)
    u, U, UC = rng.random(1_000), rng.random((1_000, 8)), rng.random((1_000, 2))
    _run(benchmark, lambda: mod.sample_product_mixture(u, U, UC, mus, sigmas, w, sp["low"], sp["high"], probs,
                                                        sp["offsets"], sp["sizes"]), False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [100, 10_000])
def test_bench_parzen_bandwidths(benchmark: Any, backend: str, n: int) -> None:
    mod = _tpe_module(backend)
    sp = _tpe_space()
    T = sp["low"] + np.random.default_rng(9).random((n, 8)) * (sp["high"] - sp["low"])
    _run(benchmark, lambda: mod.parzen_bandwidths(T, sp["low"], sp["high"], False, True), n > 100)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [100, 10_000])
def test_bench_categorical_kernel_table(benchmark: Any, backend: str, n: int) -> None:
    mod = _tpe_module(backend)
    sp = _tpe_space()
    rng = np.random.default_rng(10)
    C = np.stack([rng.integers(0, c, n) for c in sp["sizes"]], axis=1).astype(np.float64)
    _run(benchmark, lambda: mod.categorical_kernel_table(C, sp["sizes"], sp["offsets"], 1.0), n > 100)
