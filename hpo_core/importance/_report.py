"""One call for a sensitivity report: every evaluator's importances side by side."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hpo_core._validation import check_int, format_error
from hpo_core.exceptions import HpoWarning
from hpo_core.importance._base import BaseImportanceEvaluator, Target, _is_multi_objective
from hpo_core.trial import FrozenTrial

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["SensitivityReport", "sensitivity_report"]


class _Objective:
    """``target`` for objective ``i`` (a class, not a lambda, so that it pickles)."""

    def __init__(self, i: int) -> None:
        self.i = i

    def __call__(self, trial: FrozenTrial) -> float:
        return float(trial.values[self.i])  # type: ignore[index]


@dataclass
class SensitivityReport:
    """Normalized importances of several evaluators on the same study.

    Attributes:
        params: Parameter names, the most important (by mean importance over the
            evaluators that assessed it) first.
        importances: Column name (an evaluator, ``"fanova[1]"`` for objective 1 of a
            multi-objective study) -> parameter -> importance; NaN where the column's
            evaluator does not assess the parameter (forest evaluators skip conditional
            parameters).
        rank_correlation: (column a, column b) -> Spearman rank correlation of the two
            columns over the parameters both assess (NaN with fewer than two).
        n_trials: COMPLETE trials in the study when the report was made.
    """

    params: list[str]
    importances: dict[str, dict[str, float]]
    rank_correlation: dict[tuple[str, str], float] = field(default_factory=dict)
    n_trials: int = 0

    def to_text(self) -> str:
        """The report as a fixed-width table (one row per parameter)."""
        cols = list(self.importances)
        width = max([len(p) for p in self.params] + [9])
        lines = [f"{'parameter':<{width}}  " + "  ".join(f"{c:>12}" for c in cols)]
        for p in self.params:
            cells = [self.importances[c].get(p, math.nan) for c in cols]
            lines.append(f"{p:<{width}}  " + "  ".join(
                f"{'-':>12}" if math.isnan(v) else f"{v:>12.4f}" for v in cells))
        for (a, b), r in self.rank_correlation.items():
            lines.append(f"Spearman({a}, {b}) = {r:.3f}")
        lines.append(f"COMPLETE trials: {self.n_trials}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _default_evaluators(seed: int | None) -> dict[str, BaseImportanceEvaluator]:
    """PED-ANOVA, and fANOVA and MDI where scikit-learn is installed (else a warning)."""
    from hpo_core.importance._forest import FanovaImportanceEvaluator, MeanDecreaseImpurityImportanceEvaluator
    from hpo_core.importance._ped_anova import PedAnovaImportanceEvaluator

    evaluators: dict[str, BaseImportanceEvaluator] = {"ped_anova": PedAnovaImportanceEvaluator()}
    try:
        evaluators["fanova"] = FanovaImportanceEvaluator(seed=seed)
        evaluators["mdi"] = MeanDecreaseImpurityImportanceEvaluator(seed=seed)
    except ImportError as e:
        warnings.warn(f"sensitivity_report: PED-ANOVA only ({e})", HpoWarning, stacklevel=3)
    return evaluators


def sensitivity_report(
    study: Study,
    *,
    evaluators: dict[str, BaseImportanceEvaluator] | None = None,
    params: list[str] | None = None,
    target: Target | None = None,
    seed: int | None = 0,
) -> SensitivityReport:
    """Importances of every evaluator side by side, with their rank agreement.

    Args:
        study: An optimized study.
        evaluators: Column name -> evaluator; None for PED-ANOVA, fANOVA and MDI
            (``"ped_anova"``, ``"fanova"``, ``"mdi"``; the last two need scikit-learn).
        params: Parameters to assess, as in :func:`get_param_importances`.
        target: As in :func:`get_param_importances`. In a multi-objective study without
            one, PED-ANOVA gives one column (reaching the Pareto front) and every other
            evaluator one column per objective (``"fanova[0]"``, ``"fanova[1]"`` ...).
        seed: Seed of the default forest evaluators (None: unseeded).

    Returns:
        A :class:`SensitivityReport`; ``str(report)`` is a table.

    Example:
        >>> import hpo_core
        >>> from hpo_core.importance import sensitivity_report
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + 0.1 * t.suggest_float("y", -1, 1),
        ...                n_trials=60)
        >>> report = sensitivity_report(study)
        >>> report.params
        ['x', 'y']
    """
    from hpo_core.importance import PedAnovaImportanceEvaluator

    seed = check_int("seed", seed, low=0, high=2**32 - 1, allow_none=True)
    if evaluators is None:
        evaluators = _default_evaluators(seed)
    if not isinstance(evaluators, dict) or not evaluators or not all(
            isinstance(k, str) and isinstance(v, BaseImportanceEvaluator) for k, v in evaluators.items()):
        raise TypeError(format_error("evaluators", "a non-empty dict of name -> BaseImportanceEvaluator, or None",
                                     evaluators))
    columns: dict[str, dict[str, float]] = {}
    per_objective = target is None and _is_multi_objective(study)
    for name, evaluator in evaluators.items():
        if per_objective and not isinstance(evaluator, PedAnovaImportanceEvaluator):
            for i in range(len(study.directions)):
                columns[f"{name}[{i}]"] = _column(study, evaluator, params, _Objective(i), f"{name}[{i}]")
        else:
            columns[name] = _column(study, evaluator, params, target, name)
    names = list(dict.fromkeys(p for col in columns.values() for p in col))
    mean = {p: float(np.mean([c[p] for c in columns.values() if p in c])) for p in names}
    ordered = sorted(names, key=lambda p: -mean[p])
    table = {c: {p: col.get(p, math.nan) for p in ordered} for c, col in columns.items()}
    return SensitivityReport(ordered, table, _rank_correlations(table), _n_complete(study))


def _column(study: Study, evaluator: BaseImportanceEvaluator, params: list[str] | None,
            target: Target | None, name: str) -> dict[str, float]:
    """One evaluator's normalized importances; {} (a column of NaN) with a warning when the
    evaluator cannot assess the study (fANOVA's zero variance in every tree)."""
    from hpo_core.importance import get_param_importances

    try:
        return get_param_importances(study, evaluator=evaluator, params=params, target=target)
    except RuntimeError as e:
        warnings.warn(f"sensitivity_report: no `{name}` column ({e})", HpoWarning, stacklevel=3)
        return {}


def _rank_correlations(table: dict[str, dict[str, float]]) -> dict[tuple[str, str], float]:
    from scipy.stats import spearmanr

    cols = list(table)
    out: dict[tuple[str, str], float] = {}
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            both = [p for p in table[a] if not (math.isnan(table[a][p]) or math.isnan(table[b][p]))]
            if len(both) < 2:
                out[(a, b)] = math.nan
                continue
            x = [table[a][p] for p in both]
            y = [table[b][p] for p in both]
            out[(a, b)] = math.nan if len(set(x)) < 2 or len(set(y)) < 2 else float(spearmanr(x, y)[0])
    return out


def _n_complete(study: Study) -> int:
    from hpo_core.trial import TrialState

    return int(study.view.sync().count(int(TrialState.COMPLETE)))
