"""fanova_marginal_variances: every backend against the reference, the reference against
Optuna 5.0's ``_FanovaTree`` and against closed forms."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _reference


@pytest.fixture
def fanova_backend(backend: ModuleType) -> ModuleType:
    if not hasattr(backend, "fanova_marginal_variances"):
        pytest.skip(f"{backend.BACKEND_NAME} has no fANOVA kernel; the dispatcher falls back")
    return backend


def _forest(rng: np.random.Generator, n: int, n_trees: int, cat: bool, n_choices: int = 3
            ) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray, np.ndarray]:
    ensemble = pytest.importorskip("sklearn.ensemble", reason="the forests come from scikit-learn")
    Xn = rng.uniform(-1.0, 2.0, (n, 3))
    y = Xn[:, 0] ** 2 + 0.3 * Xn[:, 1] + rng.normal(0, 0.05, n)
    bounds = np.array([[-1.0, 2.0]] * 3)
    groups = [[0], [1], [2]]
    X = Xn
    if cat:
        c = rng.integers(0, n_choices, n)
        X = np.hstack([Xn, np.eye(n_choices)[c]])
        y = y + 0.5 * (c % 3)
        bounds = np.vstack([bounds, [[0.0, 1.0]] * n_choices])
        groups.append(list(range(3, 3 + n_choices)))
    forest = ensemble.RandomForestRegressor(n_estimators=n_trees, random_state=0).fit(X, y)
    trees = [e.tree_ for e in forest.estimators_]
    arrays = tuple(np.concatenate([getattr(t, a) for t in trees]).astype(np.int64)
                   for a in ("children_left", "children_right", "feature"))
    arrays += (np.concatenate([t.threshold for t in trees]), np.concatenate([t.value.reshape(-1) for t in trees]))
    offsets = np.r_[0, np.cumsum([t.node_count for t in trees])].astype(np.int64)
    g_off = np.r_[0, np.cumsum([len(g) for g in groups])].astype(np.int64)
    g_col = np.concatenate(groups).astype(np.int64)
    return arrays + (offsets,), bounds, g_off, g_col


@pytest.mark.parametrize("cat", [False, True])
def test_fanova_marginal_variances_matches_reference(fanova_backend: ModuleType, cat: bool, assert_same: object) -> None:
    args, bounds, g_off, g_col = _forest(np.random.default_rng(1), 120, 4, cat)
    expected = _reference.fanova_marginal_variances(*args, bounds, g_off, g_col)
    actual = fanova_backend.fanova_marginal_variances(*args, bounds, g_off, g_col)
    for a, e in zip(actual, expected):
        assert_same(a, e)  # type: ignore[operator]


def test_fanova_marginal_variances_many_choices_matches_reference(fanova_backend: ModuleType,
                                                                  assert_same: object) -> None:
    # Ten one-hot columns: Numba sums over pairs of leaves instead of a 3^10-cell grid.
    args, bounds, g_off, g_col = _forest(np.random.default_rng(3), 150, 3, True, n_choices=10)
    expected = _reference.fanova_marginal_variances(*args, bounds, g_off, g_col)
    actual = fanova_backend.fanova_marginal_variances(*args, bounds, g_off, g_col)
    for a, e in zip(actual, expected):
        # The pairwise path forms E[M^2] - E[M]^2 (centred): 1e-9 relative.
        assert_same(a, e, rtol=1e-9, atol=1e-14)  # type: ignore[operator]


def test_fanova_marginal_variances_reference_matches_optuna() -> None:
    fanova = pytest.importorskip("optuna.importance._fanova._fanova", reason="Optuna is not installed")
    args, bounds, g_off, g_col = _forest(np.random.default_rng(2), 150, 3, True)
    tree_var, marg_var = _reference.fanova_marginal_variances(*args, bounds, g_off, g_col)
    # Optuna's own forest on the same data with the same seed is the same forest; rebuild
    # its per-tree statistics through its tree class on the scikit-learn trees.
    ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(2)
    Xn = rng.uniform(-1.0, 2.0, (150, 3))
    y = Xn[:, 0] ** 2 + 0.3 * Xn[:, 1] + rng.normal(0, 0.05, 150)
    c = rng.integers(0, 3, 150)
    X, y = np.hstack([Xn, np.eye(3)[c]]), y + 0.5 * c
    forest = ensemble.RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    groups = [np.array([0]), np.array([1]), np.array([2]), np.array([3, 4, 5])]
    for t, est in enumerate(forest.estimators_):
        tree = fanova._FanovaTree(est.tree_, bounds)
        np.testing.assert_allclose(tree_var[t], tree.variance, rtol=1e-10)
        for p, cols in enumerate(groups):
            np.testing.assert_allclose(marg_var[p, t], tree.get_marginal_variance(cols), rtol=1e-9, atol=1e-15)


def _stump(threshold: float, left: float, right: float) -> tuple[np.ndarray, ...]:
    """One tree on column 0: x_0 <= threshold -> left value, else right value."""
    return (np.array([1, -1, -1]), np.array([2, -1, -1]), np.array([0, -2, -2]),
            np.array([threshold, -2.0, -2.0]), np.array([0.0, left, right]), np.array([0, 3]))


def test_fanova_marginal_variances_stump_closed_form(fanova_backend: ModuleType) -> None:
    # A step of height 1 at x_0 = 0.25 on [0, 1]^2: variance p (1 - p) with p = 0.25, all of
    # it in column 0's marginal, none in column 1's.
    args = _stump(0.25, 0.0, 1.0)
    tree_var, marg_var = fanova_backend.fanova_marginal_variances(
        *args, np.array([[0.0, 1.0], [0.0, 1.0]]), np.array([0, 1, 2]), np.array([0, 1]))
    np.testing.assert_allclose(tree_var, [0.1875], rtol=1e-12)
    np.testing.assert_allclose(marg_var[:, 0], [0.1875, 0.0], rtol=1e-12, atol=1e-15)


def test_fanova_marginal_variances_single_leaf_has_zero_variance(fanova_backend: ModuleType) -> None:
    args = (np.array([-1]), np.array([-1]), np.array([-2]), np.array([-2.0]), np.array([3.0]), np.array([0, 1]))
    tree_var, marg_var = fanova_backend.fanova_marginal_variances(*args, np.array([[0.0, 1.0]]), np.array([0, 1]),
                                                           np.array([0]))
    assert tree_var.tolist() == [0.0] and marg_var.tolist() == [[0.0]]


@pytest.mark.parametrize("bad", ["bounds", "group_columns", "children_left", "tree_offsets"])
def test_fanova_marginal_variances_rejects_bad_shapes(bad: str) -> None:
    cl, cr, f, t, v, off = _stump(0.5, 0.0, 1.0)
    kw = dict(children_left=cl, children_right=cr, feature=f, threshold=t, value=v, tree_offsets=off,
              bounds=np.array([[0.0, 1.0]]), group_offsets=np.array([0, 1]), group_columns=np.array([0]))
    kw[bad] = {"bounds": np.array([[1.0, 0.0]]), "group_columns": np.array([3]),
               "children_left": np.array([5, -1, -1]), "tree_offsets": np.array([0, 2])}[bad]
    with pytest.raises(ValueError, match=bad):
        kernels.fanova_marginal_variances(**kw)
