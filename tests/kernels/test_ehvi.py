"""The box decomposition of the non-dominated region and LogEHVI (``_reference_ehvi``)."""

from __future__ import annotations

import inspect
from types import ModuleType

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _reference

NAMES = ["nondominated_boxes", "log_ehvi"]


@pytest.fixture
def ehvibackend(backend: ModuleType) -> ModuleType:
    if not hasattr(backend, "log_ehvi"):
        pytest.skip(f"{backend.BACKEND_NAME} has no EHVI kernels; the dispatcher falls back")
    return backend


def _points(rng: np.random.Generator, n: int, m: int, case: int) -> np.ndarray:
    P = rng.normal(size=(n, m))
    if case % 3 == 0:
        P = np.round(P, 1)  # ties between coordinates, duplicates
    if case % 5 == 0 and n:
        P = np.vstack([P, P[:3]])
    return P


@pytest.mark.parametrize("name", NAMES)
def test_ehvi_backends_share_signature_and_summary(ehvibackend: ModuleType, name: str) -> None:
    ref, fn = getattr(_reference, name), getattr(ehvibackend, name)
    assert list(inspect.signature(fn).parameters) == list(inspect.signature(ref).parameters)
    summary = ref.__doc__.strip().splitlines()[0]
    assert fn.__doc__.strip().splitlines()[0] == summary
    assert getattr(kernels, name).__doc__.strip().splitlines()[0] == summary
    assert name in kernels.__all__


@pytest.mark.parametrize("m", [1, 2, 3])
def test_nondominated_boxes_measure_the_exact_hypervolume_improvement(
    ehvibackend: ModuleType, m: int, seed: int
) -> None:
    # sum over boxes of vol([y, ref] & box) = HV(P + y) - HV(P) for any y: the boxes tile
    # the non-dominated region without overlap (an overlap or a gap shows for some y).
    rng = np.random.default_rng(seed)
    for case in range(60):
        n = int(rng.integers(0, 25))
        P = _points(rng, n, m, case)
        ref = np.full(m, 1.5) if case % 2 else P.max(axis=0, initial=0.0) + 0.3
        lo, hi = ehvibackend.nondominated_boxes(P, ref)
        assert np.all(lo < hi) and np.isfinite(hi).all()
        assert len(lo) <= (len(P) + 1 if m == 2 else 2 * len(P) + 1)
        base = kernels.hypervolume(P, ref)
        for y in rng.normal(size=(5, m)) * 1.2:
            gained = np.prod(np.maximum(0.0, hi - np.maximum(lo, y)), axis=1).sum()
            exact = kernels.hypervolume(np.vstack([P, y]), ref) - base
            assert gained == pytest.approx(exact, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_nondominated_boxes_match_reference(ehvibackend: ModuleType, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for case in range(30):
        P, ref = _points(rng, int(rng.integers(0, 40)), m, case), np.full(m, 1.0)
        for got, want in zip(ehvibackend.nondominated_boxes(P, ref), _reference.nondominated_boxes(P, ref)):
            np.testing.assert_array_equal(got, want)


def test_nondominated_boxes_of_a_large_three_objective_front_are_linear_in_its_size(
    ehvibackend: ModuleType,
) -> None:
    rng = np.random.default_rng(0)
    P = np.abs(rng.normal(size=(300, 3)))
    P /= np.linalg.norm(P, axis=1)[:, None]  # every point on the front (a sphere octant)
    lo, _ = ehvibackend.nondominated_boxes(-P, np.zeros(3))
    assert len(lo) <= 2 * 300 + 1


@pytest.mark.parametrize("m", [1, 2, 3])
def test_log_ehvi_matches_reference(ehvibackend: ModuleType, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for case in range(20):
        lo, hi = _reference.nondominated_boxes(
            _points(rng, int(rng.integers(0, 30)), m, case), np.full(m, 1.5)
        )
        mean, sd = rng.normal(size=(6, m)), rng.uniform(0.01, 1.0, (6, m))
        mean[0] += 30.0  # deep in the tail: EHVI itself underflows
        for grad in (True, False):
            got, want = (
                ehvibackend.log_ehvi(mean, sd, lo, hi, grad=grad),
                _reference.log_ehvi(mean, sd, lo, hi, grad=grad),
            )
            np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-13)
            # The derivatives are exp(log Phi(z) - log gain) ratios: in the tail row the
            # log terms are ~z^2 / 2 ~ 1e3, so their 1e-13 relative rounding becomes 1e-10.
            for a, b in zip(got[1:], want[1:]):
                np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-13)


def test_log_ehvi_with_tiny_sd_matches_reference_to_its_conditioning(ehvibackend: ModuleType) -> None:
    # sd = 1e-6: the derivatives are differences of terms of size 1 / sd and log(h(a) - h(b))
    # cancels where a and b are close, so they agree to about 1e-16 / sd and 1e-7 relative.
    rng = np.random.default_rng(3)
    lo, hi = _reference.nondominated_boxes(rng.normal(size=(15, 3)), np.full(3, 1.5))
    mean, sd = rng.normal(size=(8, 3)), np.full((8, 3), 1e-6)
    got, want = ehvibackend.log_ehvi(mean, sd, lo, hi), _reference.log_ehvi(mean, sd, lo, hi)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-10)
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("m", [2, 3])
def test_log_ehvi_matches_monte_carlo_and_finite_differences(ehvibackend: ModuleType, m: int) -> None:
    rng = np.random.default_rng(m)
    lo, hi = ehvibackend.nondominated_boxes(rng.normal(size=(12, m)), np.full(m, 1.5))
    mean, sd = rng.normal(size=(3, m)) * 0.7, rng.uniform(0.2, 0.7, (3, m))
    value, d_mean, d_sd = ehvibackend.log_ehvi(mean, sd, lo, hi)
    for i in range(3):
        Y = mean[i] + sd[i] * rng.normal(size=(200_000, m))
        gain = sum(np.prod(np.maximum(0.0, h - np.maximum(low, Y)), axis=1) for low, h in zip(lo, hi))
        assert abs(np.exp(value[i]) - gain.mean()) < 5 * gain.std() / np.sqrt(len(Y)) + 1e-12
    eps = 1e-6
    for j in range(m):
        e = np.zeros(m)
        e[j] = eps
        fd_mean = (
            ehvibackend.log_ehvi(mean + e, sd, lo, hi)[0] - ehvibackend.log_ehvi(mean - e, sd, lo, hi)[0]
        ) / (2 * eps)
        fd_sd = (
            ehvibackend.log_ehvi(mean, sd + e, lo, hi)[0] - ehvibackend.log_ehvi(mean, sd - e, lo, hi)[0]
        ) / (2 * eps)
        np.testing.assert_allclose(d_mean[:, j], fd_mean, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(d_sd[:, j], fd_sd, rtol=1e-5, atol=1e-8)


def test_log_ehvi_without_boxes_is_minus_inf(ehvibackend: ModuleType) -> None:
    value, d_mean, d_sd = ehvibackend.log_ehvi(
        np.zeros((2, 3)), np.ones((2, 3)), np.empty((0, 3)), np.empty((0, 3))
    )
    assert np.all(value == -np.inf) and not d_mean.any() and not d_sd.any()


def test_log_ehvi_far_in_the_tail_stays_finite_with_a_gradient(ehvibackend: ModuleType) -> None:
    lo, hi = ehvibackend.nondominated_boxes(np.array([[0.0, 0.0, 0.0]]), np.ones(3))
    value, d_mean, _ = ehvibackend.log_ehvi(np.full((1, 3), 30.0), np.full((1, 3), 0.01), lo, hi)
    assert np.isfinite(value[0]) and np.isfinite(d_mean).all() and (d_mean < 0).all()


def test_ehvi_kernels_reject_bad_shapes() -> None:
    with pytest.raises(ValueError, match="ref"):
        kernels.nondominated_boxes(np.zeros((2, 4)), np.ones(4))
    with pytest.raises(ValueError, match="points, ref"):
        kernels.nondominated_boxes(np.zeros((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="mean, sd, lo, hi"):
        kernels.log_ehvi(np.zeros((2, 3)), np.ones((2, 2)), np.zeros((1, 3)), np.ones((1, 3)))
