"""XGBoost: prune a trial from an evaluation metric at each boosting round."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpo_core._imports import import_optional
from hpo_core.exceptions import TrialPruned

if TYPE_CHECKING:
    from hpo_core.trial import Trial

xgb = import_optional("xgboost", extra="integration", feature="hpo_core.integration.XGBoostPruningCallback")

__all__ = ["XGBoostPruningCallback"]


class XGBoostPruningCallback(xgb.callback.TrainingCallback):  # type: ignore[misc,name-defined]
    """Callback for XGBoost to prune unpromising trials (optuna-integration's).

    After each boosting round the metric ``observation_key`` is reported at step
    ``epoch`` (the round) and :class:`hpo_core.TrialPruned` is raised if the study's
    pruner says so. Works with ``xgboost.train``, ``xgboost.cv`` (the mean over folds) and
    the scikit-learn API (``callbacks=[...]`` in the estimator's constructor).

    Args:
        trial: The trial of the current objective call.
        observation_key: ``"<dataset>-<metric>"``, e.g. ``"validation-logloss"`` for
            ``evals=[(dvalid, "validation")]``; with ``xgboost.cv``, ``"test-<metric>"``;
            with the scikit-learn API, ``"validation_0-<metric>"`` for the first
            ``eval_set``.
    """

    def __init__(self, trial: Trial, observation_key: str) -> None:
        super().__init__()
        self._trial = trial
        self._observation_key = observation_key
        self._is_cv = False

    def before_training(self, model: Any) -> Any:
        # xgboost.cv passes its packed fold boosters, not a Booster.
        self._is_cv = not isinstance(model, xgb.Booster)
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        # Flattened as "<dataset>-<metric>"; a metric may itself hold "-" ("ndcg@5-").
        latest = {f"{d}-{m}": scores[-1] for d, ms in evals_log.items() for m, scores in ms.items()}
        if self._observation_key not in latest:
            raise ValueError(
                f"XGBoostPruningCallback: `observation_key` must be one of {sorted(latest)}, but got "
                f"{self._observation_key!r}."
            )
        score = latest[self._observation_key]
        if self._is_cv:
            score = score[0]  # (mean, std) over folds
        self._trial.report(float(score), step=epoch)
        if self._trial.should_prune():
            raise TrialPruned(f"Trial was pruned at iteration {epoch}.")
        return False  # training goes on
