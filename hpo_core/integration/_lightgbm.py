"""LightGBM: prune a trial from a validation metric at each boosting round."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpo_core._imports import import_optional
from hpo_core._validation import check_int
from hpo_core.exceptions import TrialPruned
from hpo_core.trial import StudyDirection

if TYPE_CHECKING:
    from hpo_core.trial import Trial

import_optional("lightgbm", extra="integration", feature="hpo_core.integration.LightGBMPruningCallback")

__all__ = ["LightGBMPruningCallback"]


class LightGBMPruningCallback:
    """Callback for LightGBM to prune unpromising trials (optuna-integration's).

    Every ``report_interval`` rounds the value of ``metric`` on ``valid_name`` is
    reported at step ``iteration`` and :class:`hpo_core.TrialPruned` is raised if the
    study's pruner says so. Pass it in ``callbacks=[...]`` to ``lightgbm.train``,
    ``lightgbm.cv`` (the mean over folds; ``valid_name`` is then ignored) or an
    estimator's ``fit``.

    Args:
        trial: The trial of the current objective call.
        metric: The metric, e.g. ``"binary_logloss"``, ``"binary_error"``, ``"auc"``.
        valid_name: The validation set's name (``valid_names`` of ``lightgbm.train``);
            ``"valid_0"`` is the first one's default name.
        report_interval: Report every n-th round.

    Raises:
        ValueError: (during training) the metric is not in the evaluation results, or it
            is to be maximized in a minimized study (or the reverse).
    """

    def __init__(self, trial: Trial, metric: str, valid_name: str = "valid_0", report_interval: int = 1) -> None:
        self._trial = trial
        self._metric = metric
        self._valid_name = valid_name
        self._report_interval = check_int(
            "report_interval", report_interval, low=1, owner="LightGBMPruningCallback"
        )

    def _find(self, target: str, results: Any) -> tuple[float, bool] | None:
        for result in results or ():
            # (dataset, metric, value, is_higher_better[, stdv]); lightgbm.cv names the
            # metric "valid <metric>" since LightGBM 4.0.
            name, metric, value, higher_is_better = result[:4]
            if name == target and metric in (self._metric, "valid " + self._metric):
                return float(value), bool(higher_is_better)
        return None

    def __call__(self, env: Any) -> None:
        if (env.iteration + 1) % self._report_interval != 0:
            return
        results = env.evaluation_result_list
        is_cv = bool(results) and len(results[0]) == 5  # lightgbm.cv adds the stdv
        target = "valid" if is_cv else self._valid_name
        found = self._find(target, results)
        if found is None:
            raise ValueError(
                f'The entry associated with the validation name "{target}" and the metric name '
                f'"{self._metric}" is not found in the evaluation result list {results}.'
            )
        value, higher_is_better = found
        wanted = StudyDirection.MAXIMIZE if higher_is_better else StudyDirection.MINIMIZE
        if self._trial.study.direction != wanted:
            raise ValueError(
                "The intermediate values are inconsistent with the objective values in terms of "
                f"study directions: `{self._metric}` is to be {wanted.name.lower()}d but the study "
                f"is to {self._trial.study.direction.name.lower()}. Please specify another metric "
                "for LightGBMPruningCallback."
            )
        self._trial.report(value, step=env.iteration)
        if self._trial.should_prune():
            raise TrialPruned(f"Trial was pruned at iteration {env.iteration}.")
