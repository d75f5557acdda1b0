"""XGBoost and LightGBM pruning callbacks, trained on scikit-learn's breast cancer data."""

from __future__ import annotations

import numpy as np
import pytest

import hpo_core
from hpo_core.trial import TrialState

pytest.importorskip("sklearn", reason="the data set comes from scikit-learn")
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

_X, _Y = load_breast_cancer(return_X_y=True)
X_TRAIN, X_VALID, Y_TRAIN, Y_VALID = train_test_split(_X, _Y, test_size=0.25, random_state=0)


def _prune_everything() -> hpo_core.pruners.ThresholdPruner:
    # A log loss is never below 1e-9 at round 3: every trial is pruned there.
    return hpo_core.pruners.ThresholdPruner(upper=1e-9, n_warmup_steps=3)


# ---------------------------------------------------------------- XGBoost


def _xgb():  # type: ignore[no-untyped-def]
    return pytest.importorskip("xgboost", reason="the XGBoost callback needs xgboost (pip install 'hpo_core[integration]')")


def _xgb_objective(trial):  # type: ignore[no-untyped-def]
    xgb = _xgb()
    from hpo_core.integration import XGBoostPruningCallback

    dtrain, dvalid = xgb.DMatrix(X_TRAIN, label=Y_TRAIN), xgb.DMatrix(X_VALID, label=Y_VALID)
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": trial.suggest_int("max_depth", 1, 4)}
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=10,
        evals=[(dvalid, "validation")],
        verbose_eval=False,
        callbacks=[XGBoostPruningCallback(trial, "validation-logloss")],
    )
    return float(np.mean((booster.predict(dvalid) > 0.5) != Y_VALID))


def test_xgboost_callback_prunes() -> None:
    study = hpo_core.create_study(pruner=_prune_everything())
    study.optimize(_xgb_objective, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert sorted(study.trials[0].intermediate_values) == [0, 1, 2, 3]


def test_xgboost_callback_reports_every_round_of_a_complete_trial() -> None:
    study = hpo_core.create_study(pruner=hpo_core.pruners.NopPruner())
    study.optimize(_xgb_objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE and trial.value is not None and trial.value < 0.15
    ivs = [trial.intermediate_values[s] for s in range(10)]
    assert ivs[-1] < ivs[0]  # the validation log loss falls


def test_xgboost_callback_in_cv_and_sklearn_api() -> None:
    xgb = _xgb()
    from hpo_core.integration import XGBoostPruningCallback

    study = hpo_core.create_study(pruner=_prune_everything())
    trial = study.ask()
    with pytest.raises(hpo_core.TrialPruned):
        xgb.cv(
            {"objective": "binary:logistic", "eval_metric": "logloss"},
            xgb.DMatrix(X_TRAIN, label=Y_TRAIN),
            num_boost_round=10,
            nfold=3,
            callbacks=[XGBoostPruningCallback(trial, "test-logloss")],
        )
    assert sorted(trial.intermediate_values) == [0, 1, 2, 3]
    trial = study.ask()
    model = xgb.XGBClassifier(n_estimators=10, eval_metric="logloss", callbacks=[XGBoostPruningCallback(trial, "validation_0-logloss")])
    with pytest.raises(hpo_core.TrialPruned):
        model.fit(X_TRAIN, Y_TRAIN, eval_set=[(X_VALID, Y_VALID)], verbose=False)
    with pytest.raises(ValueError, match="observation_key"):
        xgb.train({}, xgb.DMatrix(X_TRAIN, label=Y_TRAIN), 2, evals=[(xgb.DMatrix(X_VALID, label=Y_VALID), "valid")],
                  verbose_eval=False, callbacks=[XGBoostPruningCallback(study.ask(), "validation-logloss")])


# ---------------------------------------------------------------- LightGBM


def _lgb():  # type: ignore[no-untyped-def]
    return pytest.importorskip("lightgbm", reason="the LightGBM callback needs lightgbm (pip install 'hpo_core[integration]')")


def _lgb_objective(trial, metric: str = "binary_logloss"):  # type: ignore[no-untyped-def]
    lgb = _lgb()
    from hpo_core.integration import LightGBMPruningCallback

    params = {"objective": "binary", "metric": metric, "verbosity": -1, "num_leaves": trial.suggest_int("num_leaves", 2, 16)}
    booster = lgb.train(
        params,
        lgb.Dataset(X_TRAIN, label=Y_TRAIN),
        num_boost_round=10,
        valid_sets=[lgb.Dataset(X_VALID, label=Y_VALID)],
        callbacks=[LightGBMPruningCallback(trial, metric)],
    )
    return float(np.mean((booster.predict(X_VALID) > 0.5) != Y_VALID))


def test_lightgbm_callback_prunes() -> None:
    study = hpo_core.create_study(pruner=_prune_everything())
    study.optimize(_lgb_objective, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert sorted(study.trials[0].intermediate_values) == [0, 1, 2, 3]


def test_lightgbm_callback_reports_every_round_of_a_complete_trial() -> None:
    study = hpo_core.create_study(pruner=hpo_core.pruners.NopPruner())
    study.optimize(_lgb_objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE and trial.value is not None and trial.value < 0.15
    assert trial.intermediate_values[9] < trial.intermediate_values[0]


def test_lightgbm_callback_in_cv() -> None:
    lgb = _lgb()
    from hpo_core.integration import LightGBMPruningCallback

    study = hpo_core.create_study(pruner=_prune_everything())
    trial = study.ask()
    with pytest.raises(hpo_core.TrialPruned):
        lgb.cv(
            {"objective": "binary", "metric": "binary_logloss", "verbosity": -1},
            lgb.Dataset(X_TRAIN, label=Y_TRAIN),
            num_boost_round=10,
            nfold=3,
            callbacks=[LightGBMPruningCallback(trial, "binary_logloss")],
        )
    assert sorted(trial.intermediate_values) == [0, 1, 2, 3]


def test_lightgbm_callback_rejects_a_metric_against_the_study_direction() -> None:
    study = hpo_core.create_study(direction="minimize")
    with pytest.raises(ValueError, match="study directions"):
        _lgb_objective(study.ask(), metric="auc")  # AUC is to be maximized


def test_lightgbm_callback_names_a_missing_metric() -> None:
    lgb = _lgb()
    from hpo_core.integration import LightGBMPruningCallback

    study = hpo_core.create_study()
    with pytest.raises(ValueError, match="binary_error"):
        lgb.train(
            {"objective": "binary", "metric": "binary_logloss", "verbosity": -1},
            lgb.Dataset(X_TRAIN, label=Y_TRAIN),
            num_boost_round=2,
            valid_sets=[lgb.Dataset(X_VALID, label=Y_VALID)],
            callbacks=[LightGBMPruningCallback(study.ask(), "binary_error")],
        )
    with pytest.raises(ValueError, match="report_interval"):
        LightGBMPruningCallback(study.ask(), "binary_error", report_interval=0)
