"""Micro-benchmarks of every kernel on every available backend (pytest-benchmark).

Run with ``python -m pytest benchmarks/test_bench_kernels.py`` (``testpaths`` excludes
benchmarks from the default run); compare backends with ``--benchmark-group-by=param:size``
or ``--benchmark-columns=median``. Each case is warmed up once (Numba compile or cache
load, JAX tracing) before timing. Sizes: TPE-like n=24 candidates against k=1000
components, a heavy n=1000 x k=100000 case, and Pareto ranking of n=10000 points.
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

MIXTURE_SIZES = {"24x1000": (24, 1_000), "1000x100000": (1_000, 100_000)}
# The discrete kernel evaluates two Gaussian masses per (point, component): ~10x the
# continuous one, so its heavy case is 1000 x 10000.
PMF_SIZES = {"24x1000": (24, 1_000), "1000x10000": (1_000, 10_000)}


def _module(name: str) -> Any:
    if name not in kernels.available_backends():
        pytest.skip(f"backend {name!r} is not available here")
    return kernels.get_backend(name)


def _run(benchmark: Any, fn: Callable[[], object], heavy: bool) -> None:
    benchmark.pedantic(fn, rounds=3 if heavy else 30, iterations=1, warmup_rounds=1)


def _mixture(n: int, k: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, n)
    mus, sigmas = rng.uniform(0.0, 1.0, k), rng.uniform(0.01, 0.5, k)
    return x, mus, sigmas, np.full(k, -np.log(k))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(MIXTURE_SIZES))
def test_bench_log_pdf_truncnorm_mixture(benchmark: Any, backend: str, size: str) -> None:
    mod = _module(backend)
    x, mus, sigmas, lw = _mixture(*MIXTURE_SIZES[size])
    _run(benchmark, lambda: mod.log_pdf_truncnorm_mixture(x, mus, sigmas, lw, 0.0, 1.0), size != "24x1000")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(PMF_SIZES))
def test_bench_log_pmf_discrete_truncnorm_mixture(benchmark: Any, backend: str, size: str) -> None:
    mod = _module(backend)
    x, mus, sigmas, lw = _mixture(*PMF_SIZES[size])
    x, mus, sigmas = np.round(100 * x), 100 * mus, 100 * sigmas  # integers in [0, 100]
    _run(
        benchmark,
        lambda: mod.log_pmf_discrete_truncnorm_mixture(x, mus, sigmas, lw, 0.0, 100.0, 1.0),
        size != "24x1000",
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(MIXTURE_SIZES))
def test_bench_sample_truncnorm_mixture(benchmark: Any, backend: str, size: str) -> None:
    mod = _module(backend)
    n, k = MIXTURE_SIZES[size]
    _, mus, sigmas, lw = _mixture(n, k)
    rng = np.random.default_rng(1)
    u_component, u_value, weights = rng.random(n), rng.random(n), np.exp(lw)
    _run(
        benchmark,
        lambda: mod.sample_truncnorm_mixture(u_component, u_value, mus, sigmas, weights, 0.0, 1.0),
        size != "24x1000",
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(MIXTURE_SIZES))
def test_bench_log_pdf_categorical_mixture(benchmark: Any, backend: str, size: str) -> None:
    mod = _module(backend)
    n, k = MIXTURE_SIZES[size]
    rng = np.random.default_rng(2)
    c = 10
    x = rng.integers(0, c, n).astype(np.float64)
    log_probs = np.log(rng.dirichlet(np.ones(c), size=k))
    lw = np.full(k, -np.log(k))
    _run(benchmark, lambda: mod.log_pdf_categorical_mixture(x, lw, log_probs), size != "24x1000")


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
# worst case of the 3-D sweep and of one-limited-HV-per-point contributions).
HV_SIZES = {"m2-normal-10000": (2, 10_000, "normal"), "m3-normal-1000": (3, 1_000, "normal"),
            "m3-front-1000": (3, 1_000, "front")}
HVC_SIZES = {"m2-normal-10000": (2, 10_000, "normal"), "m2-front-10000": (2, 10_000, "front"),
             "m3-front-200": (3, 200, "front")}


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


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", list(HVC_SIZES))
def test_bench_hypervolume_contributions(benchmark: Any, backend: str, size: str) -> None:
    mod = _module(backend)
    points, ref = _hv_points(*HVC_SIZES[size])
    _run(benchmark, lambda: mod.hypervolume_contributions(points, ref), True)
