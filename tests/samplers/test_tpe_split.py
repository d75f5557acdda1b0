from __future__ import annotations

import numpy as np
import pytest

from hpo_core.samplers.tpe._split import split_below_above, weights_below_multi_objective


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


def test_weights_below_multi_objective_ones_for_trivial_cases() -> None:
    np.testing.assert_array_equal(weights_below_multi_objective(np.empty((0, 2))), np.ones(0))
    np.testing.assert_array_equal(weights_below_multi_objective(np.array([[1.0, 2.0]])), [1.0])
    np.testing.assert_array_equal(weights_below_multi_objective(np.array([[1.0], [2.0]])), [1.0, 1.0])
