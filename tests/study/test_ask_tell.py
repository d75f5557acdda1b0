from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import hpo_core
from hpo_core import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
    TrialState,
)
from hpo_core.exceptions import FailedTrialWarning, HpoWarning, UpdateFinishedTrialError

DISTS = {"x": FloatDistribution(-1, 1), "n": IntDistribution(1, 64, log=True), "c": CategoricalDistribution(["a", "b"])}


def test_suggest_same_name_returns_same_value() -> None:
    study = hpo_core.create_study()
    t = study.ask()
    assert t.suggest_float("x", 0, 1) == t.suggest_float("x", 0, 1)
    assert t.suggest_categorical("c", [1, 2]) == t.suggest_categorical("c", [1, 2])


def test_suggest_same_name_other_distribution_raises() -> None:
    study = hpo_core.create_study()
    t = study.ask()
    t.suggest_float("x", 0, 1)
    with pytest.raises(ValueError, match="`x` was already suggested"):
        t.suggest_int("x", 0, 1)
    with pytest.raises(ValueError, match="`x` was already suggested"):
        t.suggest_float("x", 5, 6)


def test_suggest_kind_change_across_trials_raises() -> None:
    study = hpo_core.create_study()
    t = study.ask()
    t.suggest_float("x", 0, 1)
    study.tell(t, 0.0)
    with pytest.raises(ValueError, match="`x`.*one kind"):
        study.ask().suggest_categorical("x", ["a"])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda t: t.suggest_float("x", 1, 0), "low"),
        (lambda t: t.suggest_float("x", 0, 1, log=True), "low"),
        (lambda t: t.suggest_float("x", 0, 1, step=-0.1), "step"),
        (lambda t: t.suggest_int("x", 0, 10, step=0), "step"),
        (lambda t: t.suggest_categorical("x", []), "choices"),
    ],
)
def test_suggest_rejects_bad_arguments(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(hpo_core.create_study().ask())


def test_suggest_values_have_python_types() -> None:
    t = hpo_core.create_study().ask()
    assert type(t.suggest_int("i", 0, 5)) is int
    assert type(t.suggest_float("f", 0, 5)) is float
    assert type(t.suggest_int("li", 1, 100, log=True)) is int
    assert t.suggest_categorical("one", [None]) is None


def test_conditional_parameters_recorded_only_when_asked() -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))

    def objective(t: hpo_core.Trial) -> float:
        if t.suggest_categorical("model", ["svm", "tree"]) == "svm":
            return t.suggest_float("C", 1e-3, 1e3, log=True)
        return float(t.suggest_int("depth", 1, 10))

    study.optimize(objective, n_trials=40)
    for tr in study.trials:
        expected = {"model", "C"} if tr.params["model"] == "svm" else {"model", "depth"}
        assert set(tr.params) == expected
    h = study._history()
    svm = h.param_column("model") == 0
    assert np.isnan(h.param_column("depth")[svm]).all() and not np.isnan(h.param_column("C")[svm]).any()


def test_ask_fixed_distributions_then_suggest() -> None:
    study = hpo_core.create_study()
    t = study.ask(DISTS)
    assert set(t.params) == {"x", "n", "c"}
    assert t.suggest_float("x", -1, 1) == t.params["x"]
    assert t.suggest_int("n", 1, 64, log=True) == t.params["n"]
    assert t.distributions["c"] == DISTS["c"]
    study.tell(t, 1.0)
    assert study.trials[0].params == t.params


def test_ask_batch_returns_distinct_running_trials() -> None:
    study = hpo_core.create_study()
    trials = study.ask(DISTS, n=8)
    assert [t.number for t in trials] == list(range(8))
    assert len({t.params["x"] for t in trials}) == 8
    assert all(tr.state == TrialState.RUNNING for tr in study.trials)
    define_by_run = study.ask(n=3)
    assert len(define_by_run) == 3 and define_by_run[0].params == {}
    with pytest.raises(ValueError, match="`n`"):
        study.ask(n=0)


def test_tell_by_number_and_states() -> None:
    study = hpo_core.create_study()
    a, b, c = study.ask(), study.ask(), study.ask()
    study.tell(0, 1.5)
    study.tell(b, state=TrialState.PRUNED)
    study.tell(c.number, state=TrialState.FAIL)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL]
    with pytest.raises(UpdateFinishedTrialError, match="finished"):
        study.tell(a, 2.0)
    study.tell(a, 2.0, skip_if_finished=True)
    assert study.trials[0].value == 1.5


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"values": None}, ValueError, "values"),
        ({"values": 1.0, "state": TrialState.RUNNING}, ValueError, "state"),
        ({"values": 1.0, "state": "done"}, ValueError, "state"),
        ({"values": 1.0, "state": TrialState.FAIL}, ValueError, "values"),
    ],
)
def test_tell_rejects_bad_arguments(kwargs: dict, exc: type, match: str) -> None:
    study = hpo_core.create_study()
    t = study.ask()
    with pytest.raises(exc, match=match):
        study.tell(t, **kwargs)


def test_tell_unknown_trial_number_raises() -> None:
    study = hpo_core.create_study()
    with pytest.raises(ValueError, match="trial"):
        study.tell(5, 1.0)
    with pytest.raises(TypeError, match="trial"):
        study.tell("0", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value, why",
    [(float("nan"), "NaN"), ([1.0, 2.0], "2 value"), ("abc", "abc"), (None, None)],
)
def test_tell_bad_value_marks_fail_with_warning(value, why) -> None:
    study = hpo_core.create_study()
    t = study.ask()
    if value is None:  # an objective returning None
        with pytest.warns(FailedTrialWarning, match="returned None"):
            study.optimize(lambda tr: None, n_trials=1)  # type: ignore[arg-type, return-value]
        assert study.trials[-1].state == TrialState.FAIL
        return
    with pytest.warns(FailedTrialWarning, match=why):
        study.tell(t, value)
    assert study.trials[0].state == TrialState.FAIL
    assert why in study.trials[0].system_attrs["fail_reason"]


def test_tell_accepts_numpy_and_inf() -> None:
    study = hpo_core.create_study(directions=["minimize", "minimize"])
    study.tell(study.ask(), np.array([1.0, np.inf]))
    assert study.trials[0].values == [1.0, math.inf]


def test_ask_array_and_tell_array() -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    space = SearchSpace(DISTS)
    batch = study.ask_array(space, 100)
    assert batch.params.shape == (100, 3) and batch.numbers.tolist() == list(range(100))
    values = batch.params[:, 0].copy()
    values[5] = np.nan
    with pytest.warns(FailedTrialWarning, match="1 of 100"):
        study.tell_array(batch, values)
    trials = study.trials
    assert trials[5].state == TrialState.FAIL
    assert trials[0].params == batch.to_dicts()[0]
    assert study.best_value == np.nanmin(values)
    with pytest.raises(UpdateFinishedTrialError):
        study.tell_array(batch, values)
    with pytest.raises(ValueError, match="shape"):
        study.tell_array(study.ask_array(space, 3), np.zeros(4))


def test_ask_array_needs_batch_sampler() -> None:
    class OneAtATime(hpo_core.samplers.BaseSampler):
        def sample_independent(self, study, trial, name, distribution):  # type: ignore[no-untyped-def]
            return distribution.to_external_repr(0.0 if isinstance(distribution, CategoricalDistribution) else distribution.low)

    study = hpo_core.create_study(sampler=OneAtATime())
    with pytest.raises(NotImplementedError, match="ask"):
        study.ask_array(SearchSpace(DISTS), 2)
    assert len(study.ask(DISTS, n=2)) == 2  # ask(n) still works, one proposal at a time


def test_report_and_should_prune() -> None:
    study = hpo_core.create_study()
    t = study.ask()
    t.report(0.5, 0)
    t.report(0.25, 1)
    with pytest.warns(HpoWarning, match="step 1"):
        t.report(0.1, 1)
    assert not t.should_prune()
    with pytest.raises(ValueError, match="step"):
        t.report(1.0, -1)
    with pytest.raises(TypeError, match="step"):
        t.report(1.0, 1.5)  # type: ignore[arg-type]
    study.tell(t, 0.25)
    assert study.trials[0].intermediate_values == {0: 0.5, 1: 0.25}
    steps, values = study.view.history.steps.of_row(0)
    assert steps.tolist() == [0, 1] and values[:, 0].tolist() == [0.5, 0.25]


def test_report_multi_objective_needs_one_value_per_objective() -> None:
    study = hpo_core.create_study(directions=["minimize", "maximize"])
    trial = study.ask()
    with pytest.raises(TypeError, match="`value`"):
        trial.report(1.0, 0)
    with pytest.raises(ValueError, match="`value`"):
        trial.report([1.0, 2.0, 3.0], 0)
    trial.report([1.0, 2.0], 0)
    assert trial.intermediate_values == {0: (1.0, 2.0)}


def test_trial_user_attrs() -> None:
    study = hpo_core.create_study()
    t = study.ask()
    t.set_user_attr("note", {"k": [1]})
    assert t.user_attrs == {"note": {"k": [1]}}
    study.tell(t, 0.0)
    assert study.trials[0].user_attrs == {"note": {"k": [1]}}


def test_in_memory_study_storage_pickles() -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    storage = pickle.loads(pickle.dumps(study._storage))
    again = hpo_core.load_study(study_name=study.study_name, storage=storage)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
