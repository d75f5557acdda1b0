"""OptunaSearchCV: fits real scikit-learn estimators and follows scikit-learn's API."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hpo_core
from hpo_core.trial import TrialState

pytest.importorskip("sklearn", reason="OptunaSearchCV needs scikit-learn (pip install 'hpo_core[integration]')")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from hpo_core.integration import HpoSearchCV, OptunaSearchCV  # noqa: E402

X, Y = load_breast_cancer(return_X_y=True)
C = {"logisticregression__C": hpo_core.FloatDistribution(1e-3, 1e2, log=True)}


def _search(**kwargs) -> OptunaSearchCV:  # type: ignore[no-untyped-def]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    return OptunaSearchCV(pipe, C, **{"n_trials": 6, "cv": 3, "random_state": 0, **kwargs})


def test_search_cv_fits_and_behaves_as_the_best_estimator() -> None:
    search = _search().fit(X, Y)
    assert set(search.best_params_) == {"logisticregression__C"}
    assert search.best_estimator_.get_params()["logisticregression__C"] == search.best_params_["logisticregression__C"]
    assert 0.9 < search.best_score_ <= 1.0
    assert search.best_score_ == max(t.value for t in search.trials_ if t.value is not None)
    assert search.n_trials_ == 6 and search.n_splits_ == 3
    np.testing.assert_array_equal(search.predict(X[:20]), search.best_estimator_.predict(X[:20]))
    np.testing.assert_allclose(search.predict_proba(X[:5]), search.best_estimator_.predict_proba(X[:5]))
    np.testing.assert_array_equal(search.classes_, [0, 1])
    assert search.score(X, Y) == pytest.approx(search.best_estimator_.score(X, Y))
    assert search.refit_time_ >= 0 and len(search.sample_indices_) == len(X)


def test_search_cv_results_follow_scikit_learns_layout() -> None:
    search = _search().fit(X, Y)
    res = search.cv_results_
    for key in ("params", "param_logisticregression__C", "mean_test_score", "std_test_score",
                "split0_test_score", "split2_test_score", "mean_fit_time", "rank_test_score"):
        assert len(res[key]) == 6, key
    assert res["rank_test_score"][search.best_index_] == 1
    assert res["params"][search.best_index_] == search.best_params_
    np.testing.assert_allclose(res["mean_test_score"], [t.value for t in search.trials_])


def test_search_cv_is_reproducible_with_random_state() -> None:
    a = _search(random_state=1).fit(X, Y).best_params_
    b = _search(random_state=1).fit(X, Y).best_params_
    assert a == b


def test_search_cv_prunes_partial_fit_rounds() -> None:
    Xd, yd = load_digits(return_X_y=True)
    study = hpo_core.create_study(
        direction="maximize",
        sampler=hpo_core.samplers.RandomSampler(seed=0),
        pruner=hpo_core.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )
    search = OptunaSearchCV(
        SGDClassifier(random_state=0),
        {"alpha": hpo_core.FloatDistribution(1e-6, 10.0, log=True)},
        cv=3,
        n_trials=8,
        enable_pruning=True,
        max_iter=4,
        study=study,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SGD's ConvergenceWarning is expected with few rounds
        search.fit(Xd[:600], yd[:600])
    states = [t.state for t in search.trials_]
    assert TrialState.PRUNED in states and TrialState.COMPLETE in states
    pruned = next(t for t in search.trials_ if t.state == TrialState.PRUNED)
    assert len(pruned.intermediate_values) < 4 and "mean_test_score" in pruned.user_attrs
    assert search.best_trial_.state == TrialState.COMPLETE and search.predict(Xd[:3]).shape == (3,)


def test_search_cv_is_a_scikit_learn_estimator() -> None:
    search = _search(n_jobs=2, subsample=0.5)
    clone(search)  # the constructor keeps its arguments as given
    assert search.get_params()["n_trials"] == 6
    check_get_params_invariance("OptunaSearchCV", search)
    check_set_params("OptunaSearchCV", search)
    check_no_attributes_set_in_init("OptunaSearchCV", search)
    check_parameters_default_constructible("OptunaSearchCV", search)
    assert HpoSearchCV is OptunaSearchCV
    fitted = search.fit(X, Y)
    assert len(fitted.sample_indices_) == len(X) // 2 and fitted.n_trials_ == 6


def test_search_cv_passes_scikit_learns_estimator_checks_that_apply() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    est = OptunaSearchCV(LogisticRegression(), {"C": hpo_core.FloatDistribution(0.1, 10.0, log=True)},
                         n_trials=2, cv=2, random_state=0)
    # Not applicable: pickling a fitted search (it holds its study, whose storage is not
    # picklable); n_iter_ (max_iter counts partial_fit rounds of the search, not solver
    # iterations); an X holding a dict (every fold fails, so the search raises ValueError
    # where the check expects the estimator's own TypeError).
    skip = {"check_estimators_pickle", "check_non_transformer_estimators_n_iter", "check_dtype_object"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "failed"}
    assert set(failed) <= skip, failed
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_search_cv_without_refit_has_no_best_estimator() -> None:
    search = _search(refit=False).fit(X, Y)
    assert search.best_params_
    with pytest.raises(AttributeError, match="refit=False"):
        search.predict(X)


def test_search_cv_before_fit_and_bad_arguments() -> None:
    with pytest.raises(NotFittedError):
        _search().best_params_
    with pytest.raises(TypeError, match="param_distributions"):
        OptunaSearchCV(LogisticRegression(), [("C", 1.0)]).fit(X, Y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _search().fit(X, Y[:-1])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan  # every fold fails: no trial completes
    with pytest.raises(ValueError, match="no trial completed"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        OptunaSearchCV(LogisticRegression(), {}, n_trials=2, cv=2).fit(X_nan, Y)
    with pytest.raises(ValueError, match="distribution"):
        OptunaSearchCV(LogisticRegression(), {"C": [1.0, 2.0]}).fit(X, Y)  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="partial_fit"):
        OptunaSearchCV(LogisticRegression(), {}, enable_pruning=True).fit(X, Y)
    with pytest.raises(ValueError, match="maximize"):
        OptunaSearchCV(LogisticRegression(), {}, study=hpo_core.create_study()).fit(X, Y)
