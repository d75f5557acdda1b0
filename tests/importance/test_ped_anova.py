"""PedAnovaImportanceEvaluator: Optuna 5.0's values on the same trials, conditional
parameters, multi-objective studies, warnings and argument errors."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from _importance_studies import mixed_study, to_optuna, two_objective_study

import hpo_core
from hpo_core.exceptions import HpoWarning
from hpo_core.importance import PedAnovaImportanceEvaluator, get_param_importances


def _optuna() -> Any:
    return pytest.importorskip("optuna", reason="the parity checks need Optuna 5.0 (pip install 'hpo_core[benchmark]')")


def _both(study: hpo_core.Study, kwargs: dict[str, Any], **call: Any) -> tuple[dict[str, float], dict[str, float]]:
    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = get_param_importances(study, evaluator=PedAnovaImportanceEvaluator(**kwargs), normalize=False, **call)
        theirs = optuna.importance.get_param_importances(
            to_optuna(study), evaluator=optuna.importance.PedAnovaImportanceEvaluator(**kwargs), normalize=False,
            **call)
    return ours, {k: float(v) for k, v in theirs.items()}


def _assert_close(ours: dict[str, float], theirs: dict[str, float]) -> None:
    assert set(ours) == set(theirs)
    for name in theirs:
        assert ours[name] == pytest.approx(theirs[name], rel=1e-9, abs=1e-15), name


@pytest.mark.parametrize("kwargs", [
    {},
    {"evaluate_on_local": False},
    {"target_quantile": 0.05, "region_quantile": 0.5},
    {"target_quantile": 0.3},
])
def test_ped_anova_matches_optuna_with_conditional_parameters(seed: int, kwargs: dict[str, Any]) -> None:
    study = mixed_study(seed)
    ours, theirs = _both(study, kwargs)
    assert "d" in ours  # the conditional parameter is assessed
    _assert_close(ours, theirs)


def test_ped_anova_matches_optuna_on_a_params_subset() -> None:
    ours, theirs = _both(mixed_study(0), {}, params=["lr", "d", "c"])
    assert set(ours) == {"lr", "d", "c"}
    _assert_close(ours, theirs)


def test_ped_anova_matches_optuna_with_a_target() -> None:
    ours, theirs = _both(mixed_study(1), {}, target=lambda t: -t.params["x"])
    _assert_close(ours, theirs)


def test_ped_anova_matches_optuna_when_maximizing() -> None:
    study = hpo_core.create_study(direction="maximize", sampler=hpo_core.samplers.RandomSampler(seed=3))
    study.optimize(lambda t: -t.suggest_float("a", -1, 1) ** 2 + 0.1 * t.suggest_int("b", 0, 5), n_trials=80)
    _assert_close(*_both(study, {}))


@pytest.mark.parametrize("kwargs", [{}, {"target_quantile": 0.2, "region_quantile": 0.6}])
def test_ped_anova_multi_objective_pareto_matches_optuna(seed: int, kwargs: dict[str, Any]) -> None:
    ours, theirs = _both(two_objective_study(seed), kwargs)
    _assert_close(ours, theirs)


def test_ped_anova_multi_objective_with_target_matches_optuna() -> None:
    ours, theirs = _both(two_objective_study(0), {}, target=lambda t: t.values[1])
    _assert_close(ours, theirs)


def test_ped_anova_ignores_failed_pruned_and_infinite_trials() -> None:
    study = mixed_study(2, 60, conditional=False)
    study.add_trial(hpo_core.create_trial(params={"x": 0.0}, distributions={"x": hpo_core.FloatDistribution(-5, 5)},
                                          state=hpo_core.TrialState.FAIL))
    study.add_trial(hpo_core.create_trial(params={"x": 1.0}, distributions={"x": hpo_core.FloatDistribution(-5, 5)},
                                          value=float("inf")))
    _assert_close(*_both(study, {}))


def test_ped_anova_conditional_importance_comes_from_its_regime() -> None:
    # "d" decides the value whenever it exists: it must matter, though half the trials lack it.
    def objective(t: hpo_core.Trial) -> float:
        if t.suggest_categorical("use_d", [True, False]):
            return 10 * abs(t.suggest_float("d", -1, 1))
        return 5.0 + 0.001 * t.suggest_float("e", 0, 1)

    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HpoWarning)
        imp = get_param_importances(study)
    assert imp["d"] > imp["e"]


def test_ped_anova_too_few_trials_warns_and_gives_equal_importances() -> None:
    study = hpo_core.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=1)
    with pytest.warns(HpoWarning, match="too small"):
        imp = get_param_importances(study)
    assert imp == {"x": 0.5, "y": 0.5}


def test_ped_anova_no_complete_trial_gives_empty_dict() -> None:
    with pytest.warns(HpoWarning, match="too small"):
        assert get_param_importances(hpo_core.create_study()) == {}


def test_ped_anova_unknown_params_raise_naming_params() -> None:
    with pytest.raises(ValueError, match="`params`.*Missing: \\['nope'\\]"):
        get_param_importances(mixed_study(0, 20), params=["x", "nope"])


def test_ped_anova_params_on_empty_study_raise_naming_params() -> None:
    with pytest.raises(ValueError, match="params"):
        get_param_importances(hpo_core.create_study(), params=["x"])


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"target_quantile": 0.0}, "target_quantile"),
    ({"target_quantile": 1.0}, "target_quantile"),
    ({"target_quantile": 0.5, "region_quantile": 0.5}, "region_quantile"),
    ({"region_quantile": 1.5}, "region_quantile"),
])
def test_ped_anova_rejects_bad_quantiles(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        PedAnovaImportanceEvaluator(**kwargs)


def test_ped_anova_rejects_a_non_bool_evaluate_on_local() -> None:
    with pytest.raises(TypeError, match="evaluate_on_local"):
        PedAnovaImportanceEvaluator(evaluate_on_local=1)  # type: ignore[arg-type]


def test_ped_anova_warns_that_region_quantile_is_ignored_globally() -> None:
    with pytest.warns(HpoWarning, match="region_quantile"):
        PedAnovaImportanceEvaluator(region_quantile=0.5, evaluate_on_local=False)


def test_ped_anova_is_deterministic() -> None:
    study = mixed_study(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HpoWarning)
        assert get_param_importances(study) == get_param_importances(study)


def test_ped_anova_changed_range_counts_as_regimes_like_optuna() -> None:
    # The range of "x" widens half-way: two regimes of one parameter.
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=4))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + 0.1 * t.suggest_int("y", 0, 9), n_trials=60)
    study.optimize(lambda t: t.suggest_float("x", 0, 2) + 0.1 * t.suggest_int("y", 0, 9), n_trials=60)
    _assert_close(*_both(study, {}))
    _assert_close(*_both(study, {"evaluate_on_local": False}))
