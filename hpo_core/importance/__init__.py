"""Hyperparameter importance: Optuna 5.0's ``optuna.importance`` over the columnar history.

The evaluators read the study's history columns (parameter values, distribution codes,
objective values), not lists of trials:

* :class:`PedAnovaImportanceEvaluator` (the default): PED-ANOVA, conditional parameters
  and multi-objective studies included; deterministic, Optuna's values.
* :class:`FanovaImportanceEvaluator`: fANOVA on a scikit-learn random forest, the
  marginals in a compiled kernel; with the same ``seed``, Optuna's values.
* :class:`MeanDecreaseImpurityImportanceEvaluator`: the forest's impurity decrease.

:func:`sensitivity_report` runs all three at once and puts them side by side.

Example:
    >>> import hpo_core
    >>> from hpo_core.importance import get_param_importances
    >>> def objective(trial):
    ...     x = trial.suggest_int("x", 0, 2)
    ...     y = trial.suggest_float("y", -1.0, 1.0)
    ...     z = trial.suggest_float("z", 0.0, 1.5)
    ...     return x**2 + y**3 - z**4
    >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=42))
    >>> study.optimize(objective, n_trials=100)
    >>> importances = get_param_importances(study)
    >>> round(sum(importances.values()), 6)
    1.0
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from hpo_core._validation import check_bool, format_error
from hpo_core.exceptions import ExperimentalWarning
from hpo_core.importance._base import BaseImportanceEvaluator, Target
from hpo_core.importance._forest import FanovaImportanceEvaluator, MeanDecreaseImpurityImportanceEvaluator
from hpo_core.importance._ped_anova import PedAnovaImportanceEvaluator
from hpo_core.importance._report import SensitivityReport, sensitivity_report

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = [
    "BaseImportanceEvaluator",
    "FanovaImportanceEvaluator",
    "MeanDecreaseImpurityImportanceEvaluator",
    "PedAnovaImportanceEvaluator",
    "SensitivityReport",
    "get_param_importances",
    "sensitivity_report",
]


def get_param_importances(
    study: Study,
    *,
    evaluator: BaseImportanceEvaluator | None = None,
    params: list[str] | None = None,
    target: Target | None = None,
    normalize: bool = True,
) -> dict[str, float]:
    """Evaluate parameter importances from the COMPLETE trials of ``study``.

    Args:
        study: An optimized study.
        evaluator: The importance algorithm; None for
            :class:`PedAnovaImportanceEvaluator`.
        params: Names of the parameters to assess. None: PED-ANOVA assesses every
            parameter of some COMPLETE trial (conditional ones included), the forest
            evaluators those present in every COMPLETE trial. Named parameters must
            each appear in a COMPLETE trial (PED-ANOVA) or appear together in one (the
            others). An empty list gives an empty dict.
        target: A function of a :class:`~hpo_core.FrozenTrial` returning the value to
            explain; None for the objective value. In a multi-objective study only
            PED-ANOVA accepts None (the importance of reaching the Pareto front); the
            others need e.g. ``target=lambda t: t.values[0]``.
        normalize: Scale the importances to sum to 1 (all equal when they are all 0).
            False is experimental in Optuna and warns an ``ExperimentalWarning`` here too.

    Returns:
        Parameter name -> non-negative importance, the most important first.

    Raises:
        TypeError: ``evaluator``, ``params``, ``target`` or ``normalize`` has a wrong type.
        ValueError: ``params`` names a parameter of no COMPLETE trial; ``target`` is
            None in a multi-objective study with a forest evaluator.
    """
    if evaluator is None:
        evaluator = PedAnovaImportanceEvaluator()
    if not isinstance(evaluator, BaseImportanceEvaluator):
        raise TypeError(format_error("evaluator", "a BaseImportanceEvaluator or None", evaluator))
    check_bool("normalize", normalize)
    result = evaluator.evaluate(study, params=params, target=target)
    if not normalize:
        warnings.warn("get_param_importances: `normalize=False` is an experimental argument; its interface "
                      "may change.", ExperimentalWarning, stacklevel=2)
        return result
    return _normalized(result)


def _normalized(result: dict[str, Any]) -> dict[str, float]:
    total = sum(result.values())
    if total == 0.0:
        return {name: 1.0 / len(result) for name in result}
    return {name: value / total for name, value in result.items()}
