"""A real use: MedianPruner stops SGDClassifier runs on the digits whose validation
accuracy lags, through ``study.optimize``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed: the example trains an SGDClassifier")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core.pruners import MedianPruner  # noqa: E402


def test_median_pruner_prunes_sgd_on_digits() -> None:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=0)
    classes = np.unique(y)

    def objective(trial: hpo_core.Trial) -> float:
        # Large alpha or a tiny learning rate make curves that lag the median.
        alpha = trial.suggest_float("alpha", 1e-5, 1.0, log=True)
        eta0 = trial.suggest_float("eta0", 1e-5, 1e-1, log=True)
        clf = SGDClassifier(alpha=alpha, learning_rate="constant", eta0=eta0, random_state=0)
        accuracy = 0.0
        for epoch in range(6):
            clf.partial_fit(X_train, y_train, classes=classes)
            accuracy = clf.score(X_valid, y_valid)
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise hpo_core.TrialPruned()
        return accuracy

    study = hpo_core.create_study(
        direction="maximize",
        sampler=hpo_core.samplers.RandomSampler(seed=0),
        pruner=MedianPruner(n_startup_trials=4, n_warmup_steps=1),
    )
    study.optimize(objective, n_trials=24)

    states = [t.state for t in study.trials]
    assert len(states) == 24
    assert states.count(hpo_core.TrialState.PRUNED) >= 3
    assert states.count(hpo_core.TrialState.COMPLETE) >= 4
    assert study.best_value > 0.8
    pruned = [t for t in study.trials if t.state == hpo_core.TrialState.PRUNED]
    assert all(max(t.intermediate_values) < 5 for t in pruned)  # stopped before the last epoch
