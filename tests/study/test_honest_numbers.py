"""reevaluate_top_k and HeldOut on real scikit-learn models and data scikit-learn ships."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import HeldOut, reevaluate_top_k
from hpo_core.study import HeldOutAccessError

sklearn = pytest.importorskip("sklearn", reason="the helpers are tested on scikit-learn models")
pytest.importorskip("pandas", reason="reevaluate_top_k returns a pandas DataFrame")

from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import KFold, cross_val_score, train_test_split  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

X_IRIS, Y_IRIS = load_iris(return_X_y=True)


def _tree(trial: Any, seed: int) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(
        max_depth=trial.suggest_int("max_depth", 1, 6),
        criterion=trial.suggest_categorical("criterion", ["gini", "entropy"]),
        random_state=seed,
    )


def _cv(trial: Any, seed: int) -> float:
    """Accuracy of a tree over a 5-fold split drawn with ``seed``."""
    cv = KFold(n_splits=5, shuffle=True, random_state=seed)
    return float(cross_val_score(_tree(trial, seed), X_IRIS, Y_IRIS, cv=cv).mean())


@pytest.fixture(scope="module")
def study() -> hpo_core.Study:
    study = hpo_core.create_study(direction="maximize", sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: _cv(t, 0), n_trials=25)
    return study


def test_reevaluate_top_k_table(study: hpo_core.Study) -> None:
    table = reevaluate_top_k(study, _cv, k=4, seeds=(1, 2, 3))
    assert list(table.columns) == [
        "number",
        "value",
        "mean",
        "std",
        "min",
        "max",
        "seed_1",
        "seed_2",
        "seed_3",
        "params_criterion",
        "params_max_depth",
    ]
    assert len(table) == 4
    configs = {(r.params_criterion, r.params_max_depth) for r in table.itertuples()}
    assert len(configs) == 4  # distinct configurations
    seeds = table[["seed_1", "seed_2", "seed_3"]].to_numpy()
    np.testing.assert_allclose(table["mean"], seeds.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(table["std"], seeds.std(axis=1, ddof=1), rtol=1e-12)
    assert (np.diff(table["mean"]) <= 0).all()  # best (highest accuracy) first
    # Each row is a real re-run of its trial's configuration with that seed.
    row = table.iloc[0]
    trial = hpo_core.trial.FixedTrial(
        {"max_depth": int(row.params_max_depth), "criterion": row.params_criterion}
    )
    assert row.seed_2 == _cv(trial, 2)
    # The rows are the study's best distinct configurations.
    best_of: dict[tuple[str, int], float] = {}
    for t in study.trials:
        key = (t.params["criterion"], t.params["max_depth"])
        best_of[key] = max(best_of.get(key, -np.inf), float(t.value))
    search_values = sorted(best_of.values(), reverse=True)
    assert sorted(table["value"], reverse=True) == search_values[:4]


def test_reevaluate_top_k_threads_give_the_same_table(study: hpo_core.Study) -> None:
    one = reevaluate_top_k(study, _cv, k=3, seeds=(5, 6))
    two = reevaluate_top_k(study, _cv, k=3, seeds=(5, 6), n_jobs=2)
    assert one.equals(two)


def test_reevaluate_top_k_single_seed_and_minimize() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)

    def log_loss(trial: Any, seed: int) -> float:
        clf = LogisticRegression(C=trial.suggest_float("C", 1e-3, 10, log=True), max_iter=500)
        cv = KFold(n_splits=3, shuffle=True, random_state=seed)
        return float(-cross_val_score(clf, X, y, cv=cv, scoring="neg_log_loss").mean())

    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=1))
    study.optimize(lambda t: log_loss(t, 0), n_trials=8)
    table = reevaluate_top_k(study, log_loss, k=2, seeds=[7])
    assert len(table) == 2 and table["std"].isna().all()
    assert table["mean"].iloc[0] <= table["mean"].iloc[1]  # lowest loss first
    assert (table["mean"] == table["seed_7"]).all()


def test_reevaluate_top_k_errors(study: hpo_core.Study) -> None:
    with pytest.raises(ValueError, match="k"):
        reevaluate_top_k(study, _cv, k=0)
    with pytest.raises(ValueError, match="seeds"):
        reevaluate_top_k(study, _cv, seeds=())
    with pytest.raises(ValueError, match="n_jobs"):
        reevaluate_top_k(study, _cv, n_jobs=0)
    with pytest.raises(TypeError, match="objective"):
        reevaluate_top_k(study, "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="COMPLETE"):
        reevaluate_top_k(hpo_core.create_study(), _cv)
    with pytest.raises(ValueError, match="single-objective"):
        reevaluate_top_k(hpo_core.create_study(directions=["minimize", "minimize"]), _cv)

    def broken(trial: Any, seed: int) -> float:
        raise RuntimeError("seed 2 crashed")

    with pytest.raises(RuntimeError, match="seed 2 crashed"):
        reevaluate_top_k(study, broken, k=1)


# ------------------------------------------------------------------ HeldOut
def _split() -> tuple[Any, Any, HeldOut]:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return X_train, y_train, HeldOut(X_test, y_test)


def test_held_out_evaluates_the_best_configuration_once() -> None:
    X_train, y_train, test = _split()

    def build(trial: Any) -> DecisionTreeClassifier:
        return DecisionTreeClassifier(max_depth=trial.suggest_int("max_depth", 1, 8), random_state=0)

    study = hpo_core.create_study(direction="maximize", sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: float(cross_val_score(build(t), X_train, y_train, cv=3).mean()), n_trials=10)

    def score(trial: Any, X_test: Any, y_test: Any) -> float:
        return float(build(trial).fit(X_train, y_train).score(X_test, y_test))

    value = test.evaluate(study, score)
    X, y = load_breast_cancer(return_X_y=True)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    want = (
        DecisionTreeClassifier(max_depth=study.best_params["max_depth"], random_state=0)
        .fit(X_train, y_train)
        .score(X_test, y_test)
    )
    assert value == want and test.result == want and 0.8 < value <= 1.0
    with pytest.raises(HeldOutAccessError, match="evaluated once already"):
        test.evaluate(study, score)
    assert "evaluated once" in repr(test)


@pytest.mark.filterwarnings("ignore:Trial .* failed with HeldOutAccessError")
def test_held_out_is_out_of_reach_during_the_search() -> None:
    X_train, y_train, test = _split()

    def peeking(trial: Any) -> float:
        X_test, y_test = test.data  # what the seal forbids
        return 0.0

    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    with pytest.raises(HeldOutAccessError, match="sealed"):
        study.optimize(peeking, n_trials=1)
    with pytest.raises(HeldOutAccessError, match="sealed"):
        list(test)
    with pytest.raises(HeldOutAccessError, match="pickled"):
        pickle.dumps(test)

    def evaluating_inside(trial: Any) -> float:
        trial.suggest_float("x", 0, 1)
        return test.evaluate(study, lambda t, X, y: 0.0)

    with pytest.raises(HeldOutAccessError, match="RUNNING"):
        study.optimize(evaluating_inside, n_trials=1)
    assert test.result is None and "sealed" in repr(test)


def test_held_out_refuses_while_another_worker_runs_and_takes_given_params() -> None:
    _, _, test = _split()
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    pending = study.ask()  # another worker's trial, still RUNNING
    with pytest.raises(HeldOutAccessError, match="1 trial"):
        test.evaluate(study, lambda t, X, y: 0.0)
    study.tell(pending, 0.5)
    got = test.evaluate(study, lambda t, X, y: t.suggest_float("x", 0, 1) + len(y), params={"x": 0.25})
    assert got == 0.25 + len(test._data[1])
    with pytest.raises(ValueError, match="data"):
        HeldOut()
