from __future__ import annotations

import numpy as np
import pytest

from hpo_core.kernels import _reference
from hpo_core.samplers.tpe._split import split_below_above


def _stable_first(keys: np.ndarray, k: int) -> np.ndarray:
    mask = np.zeros(len(keys), dtype=bool)
    mask[np.argsort(keys, kind="stable")[:k]] = True
    return mask


@pytest.mark.parametrize("n_below", [0, 1, 7, 49, 50, 51, 1000])
def test_split_below_above_selects_exactly_min_n_below_n(n_below: int, seed: int) -> None:
    values = np.random.default_rng(seed).normal(size=(50, 1))
    mask = split_below_above(values, n_below)
    assert mask.dtype == np.bool_ and mask.shape == (50,)
    assert mask.sum() == min(n_below, 50)


@pytest.mark.parametrize("n_below", [1, 5, 20, 39])
def test_split_below_above_single_objective_matches_stable_sort(n_below: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 5, (40, 1)).astype(float)  # many ties
    values[rng.random(40) < 0.2] = np.inf
    np.testing.assert_array_equal(split_below_above(values, n_below), _stable_first(values[:, 0], n_below))


def test_split_below_above_ties_broken_by_index() -> None:
    values = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]])
    np.testing.assert_array_equal(split_below_above(values, 3), [True, True, False, False, True])


def test_split_below_above_inf_and_nan_values_last() -> None:
    values = np.array([[np.nan], [np.inf], [3.0], [np.inf], [-np.inf]])
    np.testing.assert_array_equal(split_below_above(values, 2), [False, False, True, False, True])
    np.testing.assert_array_equal(split_below_above(values, 3), [False, True, True, False, True])
    np.testing.assert_array_equal(split_below_above(values, 4), [False, True, True, True, True])


def test_split_below_above_prefers_feasible_then_smaller_violation() -> None:
    values = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    violations = np.array([2.0, 0.0, np.nan, 0.0, 0.5, 2.0])
    assert split_below_above(values, 1, violations=violations).tolist() == [False, True, False, False, False, False]
    assert split_below_above(values, 2, violations=violations).tolist() == [False, True, False, True, False, False]
    assert split_below_above(values, 3, violations=violations).tolist() == [False, True, False, True, True, False]
    # equal violations: by index
    assert split_below_above(values, 4, violations=violations).tolist() == [True, True, False, True, True, False]
    # NaN violation (no constraint values) comes after every number
    assert split_below_above(values, 5, violations=violations).tolist() == [True, True, False, True, True, True]


def test_split_below_above_zero_and_negative_violation_is_feasible() -> None:
    values = np.array([[3.0], [2.0], [1.0]])
    mask = split_below_above(values, 2, violations=np.array([-1.0, 0.0, 1e-9]))
    assert mask.tolist() == [True, True, False]


def test_split_below_above_all_infeasible_with_nan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    violations = rng.uniform(0.1, 1.0, 30)
    violations[rng.random(30) < 0.3] = np.nan
    mask = split_below_above(rng.normal(size=(30, 2)), 10, violations=violations)
    np.testing.assert_array_equal(mask, _stable_first(violations, 10))


def test_split_below_above_empty() -> None:
    assert split_below_above(np.empty((0, 1)), 3).shape == (0,)
    assert split_below_above(np.empty((0, 2)), 0, violations=np.empty(0)).shape == (0,)


def test_split_below_above_rejects_bad_n_below() -> None:
    values = np.zeros((3, 1))
    with pytest.raises(ValueError, match="n_below"):
        split_below_above(values, -1)
    with pytest.raises(TypeError, match="n_below"):
        split_below_above(values, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="n_below"):
        split_below_above(values, True)


def test_split_below_above_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="values"):
        split_below_above(np.zeros(3), 1)
    with pytest.raises(ValueError, match="violations"):
        split_below_above(np.zeros((3, 1)), 1, violations=np.zeros(4))


def test_split_below_above_large_single_objective_is_stable(seed: int) -> None:
    values = np.random.default_rng(seed).integers(0, 100, (100_000, 1)).astype(float)
    np.testing.assert_array_equal(split_below_above(values, 1234), _stable_first(values[:, 0], 1234))


# --- multi-objective -------------------------------------------------------------------


def _front(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """n mutually non-dominated points on the positive unit sphere (a concave front)."""
    x = np.abs(rng.normal(size=(n, m)))
    return 1.0 - x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute_greedy_hssp(points: np.ndarray, k: int, ref: np.ndarray) -> set[int]:
    """Plain greedy: add the point with the largest HV gain, ties to the lexicographically first."""
    order = np.lexsort(points.T[::-1])
    chosen: list[int] = []
    for _ in range(k):
        base = _reference.hypervolume(points[chosen], ref)
        gains = [
            -1.0 if j in chosen else _reference.hypervolume(points[chosen + [j]], ref) - base for j in order.tolist()
        ]
        chosen.append(int(order[int(np.argmax(gains))]))
    return set(chosen)


def _optuna_ref(points: np.ndarray) -> np.ndarray:
    worst = points.max(axis=0)
    ref = np.maximum(1.1 * worst, 0.9 * worst)
    ref[ref == 0] = 1e-12
    return ref


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("n_below", [1, 10, 37, 60, 99])
def test_split_below_above_multi_objective_takes_whole_better_ranks(m: int, n_below: int, seed: int) -> None:
    values = np.round(np.random.default_rng(seed).normal(size=(100, m)), 1)
    mask = split_below_above(values, n_below)
    assert mask.sum() == n_below
    rank = _reference.nondominated_rank(values)
    boundary = rank[mask].max()
    assert np.all(mask[rank < boundary])
    assert not np.any(mask[rank > boundary])


@pytest.mark.parametrize("m", [2, 3, 4])
def test_split_below_above_boundary_rank_is_greedy_hssp(m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = _front(rng, 25 if m < 4 else 12, m)
    for k in (1, 3, 8, len(points) - 1):
        chosen = set(np.flatnonzero(split_below_above(points, k)).tolist())
        assert chosen == _brute_greedy_hssp(points, k, _optuna_ref(points))


def test_split_below_above_hssp_keeps_knee_then_extremes_on_a_line() -> None:
    # Front x + y = 1 with ref (1.1, 1.1): the first gain is largest at the middle, and
    # then the points next to the ends, as far as possible from what is chosen.
    t = np.linspace(0.0, 1.0, 11)
    points = np.column_stack([t, 1.0 - t])
    assert np.flatnonzero(split_below_above(points, 1)).tolist() == [5]
    chosen = np.flatnonzero(split_below_above(points, 3)).tolist()
    assert chosen == sorted(_brute_greedy_hssp(points, 3, np.array([1.1, 1.1])))
    assert 5 in chosen and min(chosen) <= 2 and max(chosen) >= 8
    # The greedy subset has at least the HV of evenly spaced alternatives.
    assert _reference.hypervolume(points[chosen], np.array([1.1, 1.1])) >= _reference.hypervolume(
        points[[0, 5, 10]], np.array([1.1, 1.1])
    )


@pytest.mark.parametrize("m", [2, 3])
def test_split_below_above_hssp_matches_optuna(m: int, seed: int) -> None:
    hssp = pytest.importorskip("optuna._hypervolume.hssp", reason="optuna is an optional cross-check")
    points = _front(np.random.default_rng(seed), 40, m)
    for k in (2, 5, 17):
        expected = hssp._solve_hssp(points, np.arange(40), k, _optuna_ref(points))
        np.testing.assert_array_equal(np.flatnonzero(split_below_above(points, k)), np.sort(expected))


def test_split_below_above_multi_objective_duplicates_last_and_by_index() -> None:
    points = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    assert split_below_above(points, 3).tolist() == [True, True, False, True, False]
    assert split_below_above(points, 4).tolist() == [True, True, True, True, False]
    np.testing.assert_array_equal(split_below_above(points, 4), split_below_above(points.copy(), 4))


def test_split_below_above_multi_objective_feasible_first_and_inf_placeholders(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(30, 2))
    values[:5] = np.inf  # e.g. running trials
    violations = np.where(rng.random(30) < 0.3, rng.random(30) + 0.1, 0.0)
    violations[:5] = 0.0
    feasible = violations <= 0
    n_finite_feasible = int(np.sum(feasible[5:]))
    n_below = n_finite_feasible + 3
    mask = split_below_above(values, n_below, violations=violations)
    assert mask.sum() == n_below
    assert np.all(mask[5:][feasible[5:]])  # every finite feasible one first
    assert mask[:5].tolist() == [True, True, True, False, False]  # then +inf rows by index
    assert not np.any(mask[~feasible])


def test_split_below_above_multi_objective_nan_values_as_inf() -> None:
    values = np.array([[np.nan, 0.0], [1.0, 1.0], [0.0, 2.0], [np.inf, 0.0]])
    np.testing.assert_array_equal(split_below_above(values, 2), split_below_above(np.nan_to_num(values, nan=np.inf), 2))
    assert split_below_above(values, 2).tolist() == [False, True, True, False]


def test_split_below_above_multi_objective_large(seed: int) -> None:
    values = np.random.default_rng(seed).normal(size=(100_000, 2))
    mask = split_below_above(values, 2_500)
    assert mask.sum() == 2_500


def test_split_below_above_fewer_distinct_points_than_needed_takes_copies_by_index() -> None:
    # One front of two distinct points in four rows: both distinct points (first copies),
    # then the remaining copies in row order, as Optuna 5's _solve_hssp.
    values = np.array([[2.0, 1.0], [1.0, 2.0], [2.0, 1.0], [1.0, 2.0]])
    assert split_below_above(values, 3).tolist() == [True, True, True, False]
    values3 = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [1.0, 2.0, 0.0]])
    assert split_below_above(values3, 3).tolist() == [True, True, True, False]


def test_split_below_above_copies_of_a_point_stand_for_its_first_copy() -> None:
    # Three distinct points on one front, the middle one twice: choosing 2 of 4 rows picks
    # distinct points (greedy HV), never a later copy of one already chosen.
    values = np.array([[0.0, 3.0], [1.0, 1.0], [1.0, 1.0], [3.0, 0.0]])
    mask = split_below_above(values, 2)
    assert mask[1] and not mask[2]
