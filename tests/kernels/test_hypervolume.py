from __future__ import annotations

import inspect
import itertools
import sys
from types import ModuleType

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _backends, _reference

HV_KERNELS = ["hypervolume"]


def _grid_hv(points: np.ndarray, ref: np.ndarray) -> float:
    """Count the unit cells covered by some box [p, ref] (integer points and ref)."""
    points = points[np.all(points < ref, axis=1)]
    if len(points) == 0:
        return 0.0
    lo = points.min(axis=0).astype(int)
    cells = np.array(list(itertools.product(*[range(lo[j], int(ref[j])) for j in range(len(ref))])), dtype=float)
    covered = np.zeros(len(cells), dtype=bool)
    for p in points:
        covered |= np.all(cells >= p, axis=1)
    return float(covered.sum())


def _inclusion_exclusion_hv(points: np.ndarray, ref: np.ndarray) -> float:
    """HV = sum over non-empty subsets of (-1)^(|S|+1) vol(box of the componentwise max)."""
    points = points[np.all(points < ref, axis=1)]
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(range(len(points)), size):
            total += (-1) ** (size + 1) * float(np.prod(ref - points[list(subset)].max(axis=0)))
    return total


def _integer_points(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    # Coordinates 0..5 with ref 5: duplicates, ties and points on the box boundary.
    return rng.integers(0, 6, (n, m)).astype(float), np.full(m, 5.0)


@pytest.fixture
def hvbackend(backend: ModuleType) -> ModuleType:
    """Backends implementing the hypervolume kernels (JAX does not; the dispatcher falls back)."""
    if not hasattr(backend, "hypervolume"):
        pytest.skip(f"{backend.BACKEND_NAME} has no hypervolume kernels; the dispatcher falls back")
    return backend


@pytest.mark.parametrize("name", HV_KERNELS)
def test_hypervolume_backends_share_signature_and_summary(hvbackend: ModuleType, name: str) -> None:
    ref, fn = getattr(_reference, name), getattr(hvbackend, name)
    assert list(inspect.signature(fn).parameters) == list(inspect.signature(ref).parameters)
    summary = ref.__doc__.strip().splitlines()[0]
    assert fn.__doc__.strip().splitlines()[0] == summary
    assert getattr(kernels, name).__doc__.strip().splitlines()[0] == summary
    assert name in kernels.__all__


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_hypervolume_matches_grid_count(hvbackend: ModuleType, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(10):
        points, ref = _integer_points(rng, int(rng.integers(0, 10)), m)
        assert hvbackend.hypervolume(points, ref) == pytest.approx(_grid_hv(points, ref), abs=1e-9)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(hvbackend: ModuleType, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.2, (9, m))  # some outside the box of ref
    ref = np.ones(m)
    np.testing.assert_allclose(hvbackend.hypervolume(points, ref), _inclusion_exclusion_hv(points, ref), rtol=1e-12)


@pytest.mark.parametrize(("m", "n"), [(2, 3000), (3, 600), (4, 40)])
def test_hypervolume_matches_reference(hvbackend: ModuleType, m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, m))
    ref = np.full(m, 2.0)
    np.testing.assert_allclose(hvbackend.hypervolume(points, ref), _reference.hypervolume(points, ref), rtol=1e-10)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_hypervolume_empty_single_and_outside(hvbackend: ModuleType, m: int) -> None:
    ref = np.ones(m)
    assert hvbackend.hypervolume(np.empty((0, m)), ref) == 0.0
    point = np.full((1, m), 0.5)
    assert hvbackend.hypervolume(point, ref) == pytest.approx(0.5**m, rel=1e-15)
    outside = np.array([np.full(m, 2.0), np.ones(m), np.r_[1.0, np.zeros(m - 1)]])  # equal to ref counts as outside
    assert hvbackend.hypervolume(outside, ref) == 0.0


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_duplicates_add_nothing(hvbackend: ModuleType, m: int) -> None:
    rng = np.random.default_rng(7)
    points = rng.random((6, m))
    ref = np.full(m, 1.5)
    doubled = np.vstack([points, points[:2]])
    assert hvbackend.hypervolume(doubled, ref) == pytest.approx(hvbackend.hypervolume(points, ref), rel=1e-12)


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_unbounded_box_is_inf(hvbackend: ModuleType, m: int) -> None:
    points = np.array([np.zeros(m), np.r_[-np.inf, np.ones(m - 1)]])
    assert hvbackend.hypervolume(points, np.full(m, 2.0)) == np.inf
    assert hvbackend.hypervolume(np.zeros((1, m)), np.r_[np.inf, np.ones(m - 1)]) == np.inf
    # +inf coordinates are outside any finite box and change nothing.
    with_inf = np.array([np.zeros(m), np.full(m, np.inf)])
    assert hvbackend.hypervolume(with_inf, np.ones(m)) == 1.0


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_matches_optuna(m: int, seed: int) -> None:
    hv_module = pytest.importorskip("optuna._hypervolume", reason="optuna is an optional cross-check")
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(50, m))
    ref = np.full(m, 1.5)
    inside = points[np.all(points < ref, axis=1)]  # optuna rejects points outside the box
    expected = hv_module.compute_hypervolume(inside, ref)
    np.testing.assert_allclose(_reference.hypervolume(points, ref), expected, rtol=1e-12)
    np.testing.assert_allclose(kernels.hypervolume(points, ref), expected, rtol=1e-12)


@pytest.mark.jax
@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_with_jax_default_is_served_by_the_fastest_backend(
    m: int, seed: int, reset_default_backend: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # JAX has no hypervolume kernels: with JAX as the default backend the dispatcher takes
    # them from the first available backend in BACKENDS order (C++ or Numba here, not the
    # 100-1000x slower reference), with the reference's values.
    if "jax" not in kernels.available_backends():
        pytest.skip("jax is not installed (pip install 'hpo_core[jax]')")
    monkeypatch.setenv("HPO_CORE_BACKEND", "jax")
    _backends._reset_default()
    assert kernels.backend_name() == "jax"
    served = kernels.kernel_backend_name("hypervolume")
    assert served == next(b for b in kernels.BACKENDS if b in kernels.available_backends() and b != "jax")
    points = np.round(np.random.default_rng(seed).normal(size=(40, m)), 1)
    ref = np.full(m, 1.5)
    np.testing.assert_allclose(kernels.hypervolume(points, ref), _reference.hypervolume(points, ref), rtol=1e-12)


@pytest.mark.jax
def test_hypervolume_with_jax_default_works_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    if "jax" not in kernels.available_backends():
        pytest.skip("jax is not installed (pip install 'hpo_core[jax]')")
    # Make the Numba backend unimportable: a fresh loader, `import numba` raising, and no
    # cached submodule for `from hpo_core.kernels import _numba` to find.
    monkeypatch.setattr(_backends, "_loaded", {})
    monkeypatch.setattr(_backends, "_load_errors", {})
    monkeypatch.setattr(_backends, "_kernel_cache", {})
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setitem(sys.modules, "hpo_core.kernels._numba", None)
    monkeypatch.delattr(kernels, "_numba", raising=False)
    monkeypatch.setenv("HPO_CORE_BACKEND", "jax")
    _backends._reset_default()
    try:
        assert "numba" not in kernels.available_backends()
        assert kernels.kernel_backend_name("hypervolume") != "numba"
        points, ref = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 2.0], [2.0, 2.0, 0.0]]), np.full(3, 3.0)
        assert kernels.hypervolume(points, ref) == _reference.hypervolume(points, ref) == 10.0
    finally:
        _backends._reset_default()


# --- five objectives and more, and the Monte-Carlo estimate ---------------------------


@pytest.mark.parametrize(("m", "n"), [(5, 12), (6, 8)])
def test_hypervolume_above_four_objectives_matches_inclusion_exclusion(
    hvbackend: ModuleType, m: int, n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.2, (n, m))
    ref = np.ones(m)
    np.testing.assert_allclose(
        hvbackend.hypervolume(points, ref), _inclusion_exclusion_hv(points, ref), rtol=1e-12
    )


@pytest.mark.parametrize(("m", "n"), [(5, 40), (6, 15)])
def test_hypervolume_above_four_objectives_on_a_front_matches_the_reference(
    hvbackend: ModuleType, m: int, n: int, seed: int
) -> None:
    # Every point on the front (a sphere's octant): the worst case of the slab recursion.
    rng = np.random.default_rng(seed)
    points = np.abs(rng.normal(size=(n, m)))
    points /= np.linalg.norm(points, axis=1)[:, None]
    ref = np.full(m, 1.1)
    np.testing.assert_allclose(
        hvbackend.hypervolume(points, ref), _reference.hypervolume(points, ref), rtol=1e-10
    )


def test_hypervolume_five_objectives_matches_optuna(seed: int) -> None:
    hv_module = pytest.importorskip("optuna._hypervolume", reason="optuna is an optional cross-check")
    rng = np.random.default_rng(seed)
    points = np.abs(rng.normal(size=(30, 5)))
    points /= np.linalg.norm(points, axis=1)[:, None]
    ref = np.full(5, 1.1)
    np.testing.assert_allclose(
        kernels.hypervolume(points, ref), hv_module.compute_hypervolume(points, ref), rtol=1e-12
    )


def _mc_backends() -> list[str]:
    return [
        name for name in kernels.available_backends() if hasattr(kernels.get_backend(name), "hypervolume_mc")
    ]


def test_hypervolume_mc_backends_share_signature_and_summary() -> None:
    summary = str(_reference.hypervolume_mc.__doc__).strip().splitlines()[0]
    for name in _mc_backends():
        fn = kernels.get_backend(name).hypervolume_mc
        assert list(inspect.signature(fn).parameters) == ["points", "ref", "u"]
        assert fn.__doc__.strip().splitlines()[0] == summary
    assert str(kernels.hypervolume_mc.__doc__).strip().splitlines()[0] == summary
    assert "hypervolume_mc" in kernels.__all__


@pytest.mark.parametrize("m", [2, 3, 4, 5, 6])
def test_hypervolume_mc_is_within_its_error_of_the_exact_value(m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = np.abs(rng.normal(size=(40, m)))
    points /= np.linalg.norm(points, axis=1)[:, None]
    ref = np.full(m, 1.1)
    exact = kernels.hypervolume(points, ref)
    u = rng.random((20_000, m))  # plain uniform draws: the binomial error is the right scale
    results = [kernels.get_backend(name).hypervolume_mc(points, ref, u) for name in _mc_backends()]
    for value, error in results:
        assert abs(value - exact) < 5 * error
        np.testing.assert_allclose((value, error), results[0], rtol=1e-12)  # same samples, same count


def test_hypervolume_mc_with_sobol_samples_and_edge_cases() -> None:
    qmc = pytest.importorskip("scipy.stats.qmc")
    points = np.array([[0.0, 0.5, 0.5, 0.5, 0.5], [0.5, 0.0, 0.5, 0.5, 0.5]])
    ref = np.ones(5)
    value, error = kernels.hypervolume_mc(points, ref, qmc.Sobol(5, seed=0).random(2**12))
    assert abs(value - kernels.hypervolume(points, ref)) < 5 * error
    assert kernels.hypervolume_mc(np.full((1, 5), 2.0), ref, np.full((3, 5), 0.5)) == (0.0, 0.0)
    with pytest.raises(ValueError, match="u"):
        kernels.hypervolume_mc(points, ref, np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="u"):
        kernels.hypervolume_mc(points, ref, np.full((3, 5), 1.0))
