"""fANOVA and mean-decrease-impurity importances on scikit-learn random forests.

Both fit ``RandomForestRegressor(n_estimators=n_trees, max_depth=max_depth,
min_samples_split=2, min_samples_leaf=1, random_state=seed)`` to the COMPLETE trials
holding every assessed parameter (numbers as they are, categorical parameters one-hot),
with the columns in name order, as Optuna 5.0 does: with the same ``seed`` the forest,
and so the importances, are Optuna's. fANOVA's marginals come from the compiled kernel
:func:`hpo_core.kernels.fanova_marginal_variances`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core import kernels
from hpo_core._imports import import_optional
from hpo_core._validation import check_int
from hpo_core.importance._base import (
    BaseImportanceEvaluator,
    Target,
    _check_params,
    _check_target,
    _complete_rows,
    _encode,
    _fixed_space,
    _forest_rows,
    _history,
    _require_target,
    _sort_by_importance,
)

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["FanovaImportanceEvaluator", "MeanDecreaseImpurityImportanceEvaluator"]


def _forest(owner: str, n_trees: int, max_depth: int, seed: int | None) -> Any:
    ensemble = import_optional("sklearn.ensemble", extra="importance", feature=owner)
    return ensemble.RandomForestRegressor(
        n_estimators=n_trees, max_depth=max_depth, min_samples_split=2, min_samples_leaf=1, random_state=seed
    )


class _ForestEvaluator(BaseImportanceEvaluator):
    _owner = ""

    def __init__(self, *, n_trees: int = 64, max_depth: int = 64, seed: int | None = None) -> None:
        self._n_trees = check_int("n_trees", n_trees, low=1, owner=self._owner)
        self._max_depth = check_int("max_depth", max_depth, low=1, owner=self._owner)
        self._seed = check_int("seed", seed, low=0, high=2**32 - 1, allow_none=True, owner=self._owner)
        _forest(self._owner, 1, 1, None)  # scikit-learn missing: fail at construction, as Optuna

    def _fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        return _forest(self._owner, self._n_trees, self._max_depth, self._seed).fit(X, y)  # type: ignore[arg-type]

    def _inputs(self, study: Study, params: list[str] | None, target: Target | None
                ) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]] | None:
        """(assessed names, names of single-valued ones, X, y, bounds, column groups); None
        when there is nothing to fit (no parameter)."""
        params = _check_params(params)
        target = _check_target(target)
        _require_target(study, target, self._owner)
        history = _history(study)
        space = _fixed_space(history, _complete_rows(history), params)
        if not space:
            return None
        single = [name for name, (j, code) in space.items() if history.param_dists[j][code].single()]
        rows, y = _forest_rows(history, space, target)
        X, bounds, groups = _encode(history, rows, space)
        return list(space), single, X, y, bounds, groups


class FanovaImportanceEvaluator(_ForestEvaluator):
    """fANOVA importance evaluator (Hutter et al., ICML 2014).

    Fits a random forest (scikit-learn) to the objective values of the COMPLETE trials
    and splits each tree's variance into the variances of its one-parameter marginals;
    a parameter's importance is its share, averaged over the trees. The marginals are
    computed by a compiled kernel (O(leaves + cells) per tree and parameter), so the
    cost is the forest's fit. Assesses the parameters present, with one distribution, in
    every COMPLETE trial (conditional parameters are left out), as Optuna does.

    Requires scikit-learn (``pip install 'hpo_core[importance]'``).

    Args:
        n_trees: Number of trees in the forest.
        max_depth: Maximum depth of each tree.
        seed: Seed of the forest; None draws from NumPy's global generator (as
            scikit-learn does). The same seed as Optuna's evaluator gives Optuna's values.

    Example:
        >>> import hpo_core
        >>> from hpo_core.importance import FanovaImportanceEvaluator, get_param_importances
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + 0.01 * t.suggest_float("y", -1, 1),
        ...                n_trials=50)
        >>> imp = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
        >>> list(imp)
        ['x', 'y']
    """

    _owner = "FanovaImportanceEvaluator"

    def evaluate(self, study: Study, params: list[str] | None = None, *,
                 target: Target | None = None) -> dict[str, float]:
        """Evaluate parameter importances (see :meth:`BaseImportanceEvaluator.evaluate`)."""
        inputs = self._inputs(study, params, target)
        if inputs is None:
            return {}
        names, single, X, y, bounds, groups = inputs
        varying = [i for i, name in enumerate(names) if name not in single]
        if not varying:
            return {name: 0.0 for name in names}
        if len(y) <= 1:
            return {name: 0.0 for name in names}
        # Single-valued parameters are left out of the forest (their importance is 0).
        cols = np.concatenate([groups[i] for i in varying])
        sizes = [len(groups[i]) for i in varying]
        X, bounds = X[:, cols], bounds[cols]
        forest = self._fit(X, y)
        importance = fanova_importances(forest, bounds, sizes)
        result = {names[i]: float(v) for i, v in zip(varying, importance)}
        result.update({name: 0.0 for name in single})
        return _sort_by_importance(result)


def fanova_importances(forest: Any, bounds: np.ndarray, group_sizes: list[int]) -> np.ndarray:
    """(P,) mean share of each tree's variance in each parameter's marginal.

    ``forest``: a fitted scikit-learn forest on columns with ``bounds`` (D, 2), the
    columns of parameter p the next ``group_sizes[p]`` ones. Trees of zero variance are
    left out; RuntimeError when every tree has zero variance (Optuna's error).
    """
    trees = [est.tree_ for est in forest.estimators_]
    left = np.concatenate([t.children_left for t in trees]).astype(np.int64)
    right = np.concatenate([t.children_right for t in trees]).astype(np.int64)
    feature = np.concatenate([t.feature for t in trees]).astype(np.int64)
    threshold = np.concatenate([t.threshold for t in trees]).astype(np.float64)
    value = np.concatenate([t.value.reshape(-1) for t in trees]).astype(np.float64)
    offsets = np.concatenate(([0], np.cumsum([t.node_count for t in trees]))).astype(np.int64)
    g_off = np.concatenate(([0], np.cumsum(group_sizes))).astype(np.int64)
    g_col = np.arange(int(g_off[-1]), dtype=np.int64)
    tree_var, marg_var = kernels.fanova_marginal_variances(
        left, right, feature, threshold, value, offsets, np.ascontiguousarray(bounds, dtype=np.float64), g_off, g_col)
    used = tree_var > 0.0
    if not used.any():
        raise RuntimeError("Encountered zero total variance in all trees.")
    return (marg_var[:, used] / tree_var[used]).mean(axis=1)  # type: ignore[no-any-return]


class MeanDecreaseImpurityImportanceEvaluator(_ForestEvaluator):
    """Mean decrease impurity (MDI) importance evaluator.

    Fits a random forest (scikit-learn) to the objective values of the COMPLETE trials
    and sums its ``feature_importances_`` over each parameter's columns. Assesses the
    parameters present, with one distribution, in every COMPLETE trial, as Optuna does.

    Requires scikit-learn (``pip install 'hpo_core[importance]'``).

    Args:
        n_trees: Number of trees in the forest.
        max_depth: Maximum depth of each tree.
        seed: Seed of the forest (None: NumPy's global generator).

    Example:
        >>> import hpo_core
        >>> from hpo_core.importance import MeanDecreaseImpurityImportanceEvaluator, get_param_importances
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + 0.01 * t.suggest_int("n", 0, 3),
        ...                n_trials=50)
        >>> imp = get_param_importances(study, evaluator=MeanDecreaseImpurityImportanceEvaluator(seed=0))
        >>> next(iter(imp))
        'x'
    """

    _owner = "MeanDecreaseImpurityImportanceEvaluator"

    def evaluate(self, study: Study, params: list[str] | None = None, *,
                 target: Target | None = None) -> dict[str, float]:
        """Evaluate parameter importances (see :meth:`BaseImportanceEvaluator.evaluate`)."""
        inputs = self._inputs(study, params, target)
        if inputs is None:
            return {}
        names, _, X, y, _, groups = inputs
        if len(y) <= 1:
            return {name: 0.0 for name in names}
        forest = self._fit(X, y)
        per_column = forest.feature_importances_
        result = {name: float(per_column[g].sum()) for name, g in zip(names, groups)}
        return _sort_by_importance(result)
