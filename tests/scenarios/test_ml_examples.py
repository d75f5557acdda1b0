"""Scenario: Optuna's scikit-learn, XGBoost and LightGBM examples, on a small bundled
data set. Each skips, naming what is missing, where the library or the integration is
not installed."""

from __future__ import annotations

import numpy as np
import pytest

import hpo_core as optuna
from hpo_core.distributions import FloatDistribution, IntDistribution
from hpo_core.trial import TrialState


def _integration(name: str):
    try:
        import hpo_core.integration as integration

        return getattr(integration, name)
    except (ImportError, AttributeError) as e:
        pytest.skip(f"hpo_core.integration.{name} is not available ({type(e).__name__}: {e})")


def _breast_cancer(n: int = 300):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(y))[:n]
    return train_test_split(X[keep], y[keep], test_size=0.3, random_state=0)


def _boosting_study(objective) -> optuna.Study:
    """12 trials of a boosting example's objective (accuracy, maximized), median pruning."""
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
    )
    study.optimize(objective, n_trials=12)
    return study


def test_sklearn_example_picks_a_model_and_its_hyperparameters_by_cross_validation() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True)

    def objective(trial):
        classifier_name = trial.suggest_categorical("classifier", ["SVC", "RandomForest"])
        if classifier_name == "SVC":
            svc_c = trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
            model = SVC(C=svc_c, gamma="auto")
        else:
            rf_max_depth = trial.suggest_int("rf_max_depth", 2, 32, log=True)
            model = RandomForestClassifier(max_depth=rf_max_depth, n_estimators=10, random_state=0)
        return cross_val_score(model, X, y, n_jobs=1, cv=3).mean()

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=12)
    assert study.best_value > 0.9
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_sklearn_search_cv_example_fits_and_predicts() -> None:
    OptunaSearchCV = _integration("OptunaSearchCV")
    from sklearn.svm import SVC

    X_train, X_test, y_train, y_test = _breast_cancer()
    search = OptunaSearchCV(
        SVC(gamma="auto"),
        {"C": FloatDistribution(1e-3, 1e3, log=True)},
        cv=3,
        n_trials=6,
        random_state=0,
    )
    search.fit(X_train, y_train)
    assert set(search.best_params_) == {"C"}
    assert 1e-3 <= search.best_params_["C"] <= 1e3
    assert len(search.study_.trials) == 6
    assert search.predict(X_test).shape == y_test.shape
    assert 0.0 <= search.score(X_test, y_test) <= 1.0


def test_xgboost_example_prunes_with_the_validation_auc() -> None:
    xgb = pytest.importorskip("xgboost")
    XGBoostPruningCallback = _integration("XGBoostPruningCallback")
    X_train, X_valid, y_train, y_valid = _breast_cancer()
    dtrain = xgb.DMatrix(X_train, label=y_train)
    dvalid = xgb.DMatrix(X_valid, label=y_valid)

    def objective(trial):
        param = {
            "verbosity": 0,
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "nthread": 1,
            "booster": trial.suggest_categorical("booster", ["gbtree", "gblinear"]),
            "lambda": trial.suggest_float("lambda", 1e-8, 1.0, log=True),
            "alpha": trial.suggest_float("alpha", 1e-8, 1.0, log=True),
        }
        if param["booster"] == "gbtree":
            param["max_depth"] = trial.suggest_int("max_depth", 1, 6)
            param["eta"] = trial.suggest_float("eta", 1e-8, 1.0, log=True)
        pruning_callback = XGBoostPruningCallback(trial, "validation-auc")
        bst = xgb.train(param, dtrain, num_boost_round=12, evals=[(dvalid, "validation")],
                        callbacks=[pruning_callback], verbose_eval=False)
        preds = bst.predict(dvalid)
        return float(np.mean((preds > 0.5) == y_valid))

    study = _boosting_study(objective)

    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert complete and study.best_value > 0.85
    # The callback reports the validation AUC each boosting round.
    for t in study.trials:
        assert t.intermediate_values
        assert all(0.0 <= v <= 1.0 for v in t.intermediate_values.values())


def test_lightgbm_example_prunes_with_the_validation_auc() -> None:
    lgb = pytest.importorskip("lightgbm")
    LightGBMPruningCallback = _integration("LightGBMPruningCallback")
    X_train, X_valid, y_train, y_valid = _breast_cancer()

    def objective(trial):
        # Datasets are built per trial: LightGBM bins them for the first trial's params.
        dtrain = lgb.Dataset(X_train, label=y_train)
        dvalid = lgb.Dataset(X_valid, label=y_valid)
        param = {
            "objective": "binary",
            "metric": "auc",
            "verbosity": -1,
            "num_threads": 1,
            "boosting_type": "gbdt",
            "lambda_l1": trial.suggest_float("lambda_l1", 1e-8, 10.0, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 2, 64),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 50),
        }
        pruning_callback = LightGBMPruningCallback(trial, "auc")
        gbm = lgb.train(param, dtrain, num_boost_round=12, valid_sets=[dvalid], callbacks=[pruning_callback])
        preds = gbm.predict(X_valid)
        return float(np.mean((preds > 0.5) == y_valid))

    study = _boosting_study(objective)

    assert study.best_value > 0.85
    assert {"lambda_l1", "num_leaves", "feature_fraction", "min_child_samples"} == set(study.best_params)
    assert isinstance(study.best_params["num_leaves"], int)
    for t in study.trials:
        assert t.intermediate_values
        assert t.distributions["num_leaves"] == IntDistribution(2, 64)
