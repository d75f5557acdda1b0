"""FanovaImportanceEvaluator and MeanDecreaseImpurityImportanceEvaluator: Optuna 5.0's
values with the same seed, the intersection search space, targets and argument errors."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from _importance_studies import mixed_study, to_optuna, two_objective_study

import hpo_core
from hpo_core.importance import (
    FanovaImportanceEvaluator,
    MeanDecreaseImpurityImportanceEvaluator,
    get_param_importances,
)

pytest.importorskip("sklearn", reason="the forest evaluators need scikit-learn (pip install 'hpo_core[importance]')")

EVALUATORS = {"fanova": FanovaImportanceEvaluator, "mdi": MeanDecreaseImpurityImportanceEvaluator}


def _both(name: str, study: hpo_core.Study, seed: int, **call: Any) -> tuple[dict[str, float], dict[str, float]]:
    optuna = pytest.importorskip("optuna", reason="the parity checks need Optuna 5.0")
    theirs_cls = {"fanova": optuna.importance.FanovaImportanceEvaluator,
                  "mdi": optuna.importance.MeanDecreaseImpurityImportanceEvaluator}[name]
    kw = {"seed": seed, "n_trees": 16}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = get_param_importances(study, evaluator=EVALUATORS[name](**kw), **call)
        theirs = optuna.importance.get_param_importances(to_optuna(study), evaluator=theirs_cls(**kw), **call)
    return ours, {k: float(v) for k, v in theirs.items()}


@pytest.mark.parametrize("name", list(EVALUATORS))
def test_forest_evaluator_matches_optuna_with_the_same_seed(name: str, seed: int) -> None:
    from scipy.stats import spearmanr

    ours, theirs = _both(name, mixed_study(seed), seed)
    assert list(ours) == list(theirs)  # same order, conditional "d" left out by both
    assert "d" not in ours
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-8, abs=1e-12), k
    assert spearmanr(list(ours.values()), [theirs[k] for k in ours])[0] == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(EVALUATORS))
def test_forest_evaluator_params_subset_matches_optuna(name: str) -> None:
    ours, theirs = _both(name, mixed_study(0), 0, params=["c", "lr", "x"])
    assert set(ours) == {"c", "lr", "x"}
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-8, abs=1e-12), k


def test_fanova_conditional_param_in_params_uses_trials_holding_it() -> None:
    ours, theirs = _both("fanova", mixed_study(1), 1, params=["d", "x"])
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-8, abs=1e-12), k


@pytest.mark.parametrize("name", list(EVALUATORS))
def test_forest_evaluator_multi_objective_needs_a_target(name: str) -> None:
    with pytest.raises(ValueError, match="`target`"):
        get_param_importances(two_objective_study(0, 20), evaluator=EVALUATORS[name](seed=0))


def test_fanova_multi_objective_with_target_matches_optuna() -> None:
    ours, theirs = _both("fanova", two_objective_study(0), 0, target=lambda t: t.values[1])
    assert max(ours, key=ours.__getitem__) == "y"
    for k in theirs:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-8, abs=1e-12), k


def test_fanova_single_valued_parameter_gets_zero() -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("one", 3, 3), n_trials=30)
    imp = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0), normalize=True)
    assert imp == {"x": 1.0, "one": 0.0}


def test_fanova_constant_objective_raises_like_optuna() -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: 0.0 * t.suggest_float("x", 0, 1), n_trials=10)
    with pytest.raises(RuntimeError, match="zero total variance"):
        get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))


@pytest.mark.parametrize("name", list(EVALUATORS))
def test_forest_evaluator_dynamic_space_in_params_raises_naming_params(name: str) -> None:
    study = hpo_core.create_study()
    for i, high in enumerate([1.0, 1.0, 2.0]):
        study.add_trial(hpo_core.create_trial(params={"x": 0.5}, distributions={"x": hpo_core.FloatDistribution(0, high)},
                                              value=float(i)))
    with pytest.raises(ValueError, match="`params`.*dynamic"):
        get_param_importances(study, evaluator=EVALUATORS[name](seed=0), params=["x"])


@pytest.mark.parametrize("name", list(EVALUATORS))
def test_forest_evaluator_no_trials_gives_empty_dict(name: str) -> None:
    assert get_param_importances(hpo_core.create_study(), evaluator=EVALUATORS[name](seed=0)) == {}


@pytest.mark.parametrize("name", list(EVALUATORS))
@pytest.mark.parametrize(("kwargs", "arg", "error"), [
    ({"n_trees": 0}, "n_trees", ValueError),
    ({"max_depth": 0}, "max_depth", ValueError),
    ({"seed": -1}, "seed", ValueError),
    ({"seed": 1.5}, "seed", TypeError),
])
def test_forest_evaluator_rejects_bad_arguments(name: str, kwargs: dict[str, Any], arg: str, error: type) -> None:
    with pytest.raises(error, match=arg):
        EVALUATORS[name](**kwargs)


def test_fanova_same_seed_same_result() -> None:
    study = mixed_study(0, 60)
    a = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=3, n_trees=8))
    b = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=3, n_trees=8))
    assert a == b
