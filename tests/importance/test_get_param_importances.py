"""get_param_importances and sensitivity_report: normalization, order, argument errors."""

from __future__ import annotations

import math
import warnings

import pytest
from _importance_studies import mixed_study, two_objective_study

import hpo_core
from hpo_core.exceptions import ExperimentalWarning, HpoWarning
from hpo_core.importance import (
    BaseImportanceEvaluator,
    PedAnovaImportanceEvaluator,
    SensitivityReport,
    get_param_importances,
    sensitivity_report,
)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.simplefilter("ignore", HpoWarning)


def test_get_param_importances_normalizes_and_sorts(seed: int) -> None:
    imp = get_param_importances(mixed_study(seed))
    assert math.isclose(sum(imp.values()), 1.0)
    values = list(imp.values())
    assert values == sorted(values, reverse=True)
    assert next(iter(imp)) == "x"  # x**2 on [-5, 5] dominates


def test_get_param_importances_unnormalized_warns_experimental() -> None:
    study = mixed_study(0, 40)
    with pytest.warns(ExperimentalWarning, match="normalize"):
        raw = get_param_importances(study, normalize=False)
    norm = get_param_importances(study)
    total = sum(raw.values())
    for k in raw:
        assert norm[k] == pytest.approx(raw[k] / total)


def test_get_param_importances_all_zero_normalizes_to_equal() -> None:
    class Zero(BaseImportanceEvaluator):
        def evaluate(self, study, params=None, *, target=None):  # type: ignore[no-untyped-def]
            return {"a": 0.0, "b": 0.0}

    assert get_param_importances(hpo_core.create_study(), evaluator=Zero()) == {"a": 0.5, "b": 0.5}


def test_get_param_importances_empty_params_give_empty_dict() -> None:
    assert get_param_importances(mixed_study(0, 20), params=[]) == {}


def test_get_param_importances_rejects_a_non_evaluator() -> None:
    with pytest.raises(TypeError, match="`evaluator`"):
        get_param_importances(mixed_study(0, 10), evaluator="fanova")  # type: ignore[arg-type]


@pytest.mark.parametrize("params", ["x", [1, 2], {"x"}])
def test_get_param_importances_rejects_params_of_a_wrong_type(params: object) -> None:
    with pytest.raises(TypeError, match="`params`"):
        get_param_importances(mixed_study(0, 10), params=params)  # type: ignore[arg-type]


def test_get_param_importances_rejects_a_non_callable_target() -> None:
    with pytest.raises(TypeError, match="`target`"):
        get_param_importances(mixed_study(0, 10), target=0)  # type: ignore[arg-type]


def test_get_param_importances_rejects_a_non_bool_normalize() -> None:
    with pytest.raises(TypeError, match="`normalize`"):
        get_param_importances(mixed_study(0, 10), normalize=1)  # type: ignore[arg-type]


def test_get_param_importances_rejects_a_non_study() -> None:
    with pytest.raises(TypeError, match="`study`"):
        get_param_importances(object())  # type: ignore[arg-type]


def test_get_param_importances_reads_a_sqlite_study(tmp_path: object) -> None:
    storage = f"sqlite:///{tmp_path}/imp.db"
    study = hpo_core.create_study(storage=storage, study_name="s",
                                  sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + 0.01 * t.suggest_float("y", -1, 1), n_trials=40)
    loaded = hpo_core.load_study(study_name="s", storage=storage)
    assert get_param_importances(loaded) == get_param_importances(study)


def test_sensitivity_report_puts_evaluators_side_by_side() -> None:
    pytest.importorskip("sklearn", reason="the default report fits forests (scikit-learn)")
    report = sensitivity_report(mixed_study(0), seed=0)
    assert isinstance(report, SensitivityReport)
    assert list(report.importances) == ["ped_anova", "fanova", "mdi"]
    assert report.params[0] == "x" and report.n_trials == 120
    assert math.isnan(report.importances["fanova"]["d"])  # conditional: PED-ANOVA only
    assert report.rank_correlation[("fanova", "mdi")] > 0.5
    text = str(report)
    assert "ped_anova" in text and "Spearman(fanova, mdi)" in text


def test_sensitivity_report_multi_objective_has_a_column_per_objective() -> None:
    pytest.importorskip("sklearn", reason="the default report fits forests (scikit-learn)")
    report = sensitivity_report(two_objective_study(0, 60), seed=0)
    assert list(report.importances) == ["ped_anova", "fanova[0]", "fanova[1]", "mdi[0]", "mdi[1]"]
    assert max(report.importances["fanova[1]"], key=report.importances["fanova[1]"].__getitem__) == "y"


def test_sensitivity_report_with_chosen_evaluators() -> None:
    report = sensitivity_report(mixed_study(0, 40), evaluators={
        "local": PedAnovaImportanceEvaluator(), "global": PedAnovaImportanceEvaluator(evaluate_on_local=False)})
    assert list(report.importances) == ["local", "global"]


def test_sensitivity_report_rejects_bad_evaluators() -> None:
    with pytest.raises(TypeError, match="`evaluators`"):
        sensitivity_report(mixed_study(0, 10), evaluators={"a": "fanova"})  # type: ignore[dict-item]


def test_importance_is_reachable_from_the_package_as_in_optuna() -> None:
    import hpo_core.importance as direct

    assert hpo_core.importance is direct
    assert "importance" in hpo_core.__all__


def test_sensitivity_report_leaves_out_a_column_that_cannot_be_computed() -> None:
    pytest.importorskip("sklearn", reason="the default report fits forests (scikit-learn)")
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: 0.0 * t.suggest_float("x", 0, 1) + 0.0 * t.suggest_float("y", 0, 1), n_trials=20)
    with pytest.warns(HpoWarning, match="no `fanova` column"):
        report = sensitivity_report(study, seed=0)
    assert all(math.isnan(v) for v in report.importances["fanova"].values())
    assert report.importances["ped_anova"] == {"x": 0.5, "y": 0.5}
