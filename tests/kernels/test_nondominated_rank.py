from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest


def _brute_force_rank(values: np.ndarray) -> np.ndarray:
    """Peel fronts with the O(n^2) definition of dominance, in plain Python."""
    n = len(values)
    rows = [tuple(v) for v in values.tolist()]

    def dominates(q: tuple[float, ...], p: tuple[float, ...]) -> bool:
        return all(a <= b for a, b in zip(q, p)) and any(a < b for a, b in zip(q, p))

    rank = np.full(n, -1, dtype=np.int64)
    remaining = set(range(n))
    r = 0
    while remaining:
        front = {i for i in remaining if not any(dominates(rows[j], rows[i]) for j in remaining)}
        for i in front:
            rank[i] = r
        remaining -= front
        r += 1
    return rank


def _values(rng: np.random.Generator, n: int, m: int, *, ties: bool) -> np.ndarray:
    if ties:
        return rng.integers(0, 4, (n, m)).astype(np.float64)
    return rng.normal(size=(n, m))


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("ties", [True, False], ids=["ties", "continuous"])
def test_nondominated_rank_matches_brute_force(backend: ModuleType, m: int, ties: bool, seed: int) -> None:
    values = _values(np.random.default_rng(seed), 80, m, ties=ties)
    expected = _brute_force_rank(values)
    rank = backend.nondominated_rank(values)
    assert rank.dtype == np.int64
    np.testing.assert_array_equal(rank, expected)
    np.testing.assert_array_equal(backend.is_pareto_front(values), expected == 0)


@pytest.mark.parametrize("m", [2, 3])
def test_nondominated_rank_matches_reference_large(backend: ModuleType, reference: ModuleType, m: int) -> None:
    rng = np.random.default_rng(11)
    values = np.round(rng.normal(size=(1500, m)), 1)  # many ties and duplicates
    np.testing.assert_array_equal(backend.nondominated_rank(values), reference.nondominated_rank(values))
    np.testing.assert_array_equal(backend.is_pareto_front(values), reference.is_pareto_front(values))


@pytest.mark.parametrize("n", [0, 1])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_nondominated_rank_zero_or_one_point(backend: ModuleType, n: int, m: int) -> None:
    values = np.zeros((n, m))
    np.testing.assert_array_equal(backend.nondominated_rank(values), np.zeros(n, dtype=np.int64))
    np.testing.assert_array_equal(backend.is_pareto_front(values), np.ones(n, dtype=bool))


@pytest.mark.parametrize("m", [1, 2, 3])
def test_nondominated_rank_identical_points_share_rank_zero(backend: ModuleType, m: int) -> None:
    values = np.full((6, m), 2.5)
    np.testing.assert_array_equal(backend.nondominated_rank(values), np.zeros(6, dtype=np.int64))
    assert backend.is_pareto_front(values).all()


def test_nondominated_rank_known_example(backend: ModuleType) -> None:
    values = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [2.0, 4.0], [3.0, 3.0], [2.0, 2.0], [5.0, 5.0]])
    np.testing.assert_array_equal(backend.nondominated_rank(values), [0, 0, 0, 1, 1, 0, 2])
    np.testing.assert_array_equal(backend.is_pareto_front(values), [1, 1, 1, 0, 0, 1, 0])


def test_nondominated_rank_infinite_values(backend: ModuleType) -> None:
    values = np.array([[np.inf, 0.0], [0.0, np.inf], [-np.inf, 5.0], [1.0, 1.0], [np.inf, np.inf]])
    expected = _brute_force_rank(values)
    np.testing.assert_array_equal(backend.nondominated_rank(values), expected)
    np.testing.assert_array_equal(backend.is_pareto_front(values), expected == 0)
