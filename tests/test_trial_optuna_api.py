"""Optuna 5.0's trial API on hpo_core's trials: constraints, relative parameters,
``BaseTrial``, ``Trial(study, trial_id)``, ``FrozenTrial``'s constructor
(hpo_core/trial/)."""

from __future__ import annotations

import datetime
import math
import warnings
from typing import Any

import pytest

import hpo_core
from hpo_core.distributions import FloatDistribution, IntDistribution
from hpo_core.samplers import GPSampler, TPESampler
from hpo_core.trial import BaseTrial, FixedTrial, FrozenTrial, Trial, TrialState, create_trial


def _optuna() -> Any:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its trial API is the reference")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _quiet() -> None:
    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)


# --------------------------------------------------------------------- constraints
def test_trial_set_constraint_stores_what_optuna_stores() -> None:
    optuna = _optuna()
    _quiet()
    stored = []
    for lib in (hpo_core, optuna):
        study = lib.create_study()
        trial = study.ask()
        trial.suggest_float("x", 0, 1)
        trial.set_constraint("c0", 0.5)
        trial.set_constraint("c1", -2)
        with pytest.warns(UserWarning, match="already set"):
            trial.set_constraint("c0", 1.0)
        study.tell(trial, 1.0)
        stored.append((trial.constraints, study.trials[0].constraints, study.trials[0].system_attrs))
    assert stored[0] == stored[1]
    assert stored[0][0] == {"c0": 0.5, "c1": -2.0}


@pytest.mark.parametrize("make", ["trial", "frozen", "fixed"])
def test_trial_set_constraint_rejects_what_optuna_rejects(make: str) -> None:
    trial: Any
    if make == "trial":
        trial = hpo_core.create_study().ask()
    elif make == "frozen":
        trial = create_trial(value=1.0)
    else:
        trial = FixedTrial({})
    with pytest.raises(TypeError, match="supposed to be a float"):
        trial.set_constraint("c", "high")
    with pytest.raises(ValueError, match="NaN is not allowed"):
        trial.set_constraint("c", math.nan)
    trial.set_constraint("c", "0.25")  # anything float() takes, as Optuna
    assert trial.constraints == {"c": 0.25}


def test_frozen_and_fixed_trial_constraints_match_optuna() -> None:
    optuna = _optuna()
    ours = create_trial(value=1.0, constraints={"a": 1.0, "b": -1})
    theirs = optuna.trial.create_trial(value=1.0, constraints={"a": 1.0, "b": -1})
    assert ours.constraints == theirs.constraints and ours.system_attrs == theirs.system_attrs
    fixed = FixedTrial({"x": 1.0})
    fixed.set_constraint("a", 2.0)
    assert fixed.constraints == {"a": 2.0} and fixed.system_attrs == {"constraints:a": 2.0}
    # The older list of a constraints_func reads as "0", "1", ... (Optuna's merge).
    listed = create_trial(value=1.0, system_attrs={"constraints": [0.5, -1.0]})
    assert listed.constraints == {"0": 0.5, "1": -1.0}


@pytest.mark.parametrize("sampler", [TPESampler, GPSampler])
def test_samplers_read_set_constraint_as_they_read_constraints_func(sampler: Any) -> None:
    """A constraint set in the objective steers the sampler exactly as the same values
    from ``constraints_func`` do (Optuna 5.0's samplers read ``trial.constraints``)."""
    _quiet()
    n_trials = 30 if sampler is TPESampler else 14

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_float("y", -5, 5)
        trial.set_user_attr("c", 1.0 - x)
        return x**2 + y**2

    def objective_set(trial: Any) -> float:
        value = objective(trial)
        trial.set_constraint("0", 1.0 - trial.params["x"])
        return value

    by_attr = hpo_core.create_study(sampler=sampler(seed=3, n_startup_trials=5))
    by_attr.optimize(objective_set, n_trials=n_trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_func = hpo_core.create_study(
            sampler=sampler(seed=3, n_startup_trials=5, constraints_func=lambda t: [t.user_attrs["c"]])
        )
    by_func.optimize(objective, n_trials=n_trials)
    assert [t.params for t in by_attr.trials] == [t.params for t in by_func.trials]
    assert by_attr.best_trial.constraints["0"] <= 0  # the best trial is feasible
    unconstrained = hpo_core.create_study(sampler=sampler(seed=3, n_startup_trials=5))
    unconstrained.optimize(objective, n_trials=n_trials)
    assert [t.params for t in unconstrained.trials] != [t.params for t in by_attr.trials]


def test_best_trial_skips_trials_infeasible_by_set_constraint() -> None:
    _quiet()
    study = hpo_core.create_study()
    for x, c in ((0.0, 1.0), (1.0, -1.0), (2.0, 0.0)):
        trial = study.ask()
        trial.suggest_float("x", 0, 2)
        trial.set_constraint("c", c)
        study.tell(trial, x)
    assert study.best_trial.number == 1


# ------------------------------------------------------------- relative params
def test_trial_relative_params_are_the_joint_proposal() -> None:
    _quiet()
    study = hpo_core.create_study(sampler=TPESampler(seed=0, multivariate=True, n_startup_trials=2))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 4), n_trials=4)
    trial = study.ask()
    assert trial.relative_search_space is None  # not sampled yet
    rel = trial.relative_params
    space = trial.relative_search_space
    assert space == {"x": FloatDistribution(0, 1), "n": IntDistribution(1, 4)}
    assert set(rel) == {"x", "n"} and isinstance(rel["n"], int)
    assert trial.suggest_float("x", 0, 1) == rel["x"] and trial.suggest_int("n", 1, 4) == rel["n"]


def test_trial_relative_params_empty_without_a_joint_space() -> None:
    trial = hpo_core.create_study().ask()
    assert trial.relative_params == {} and trial.relative_search_space == {}


# ----------------------------------------------------------- classes, signatures
def test_trial_constructor_takes_study_and_trial_id() -> None:
    _quiet()
    study = hpo_core.create_study()
    study.ask()
    asked = study.ask()
    trial = Trial(study, asked.trial_id)
    assert trial.number == 1
    trial.suggest_float("x", 0, 1)
    study.tell(trial, 0.5)
    assert study.trials[1].params == trial.params


def test_base_trial_is_the_abstract_base_of_every_trial() -> None:
    study = hpo_core.create_study()
    trials = [study.ask(), create_trial(value=1.0), FixedTrial({})]
    assert all(isinstance(t, BaseTrial) for t in trials)
    with pytest.raises(TypeError, match="abstract"):
        BaseTrial()  # type: ignore[abstract]
    assert hpo_core.trial.BaseTrial is BaseTrial


def test_frozen_trial_constructor_is_optunas() -> None:
    optuna = _optuna()
    now = datetime.datetime.now()
    args = (3, TrialState.COMPLETE, 0.5, now, now, {"x": 0.1}, {"x": FloatDistribution(0, 1)}, {}, {}, {}, 7)
    ours = FrozenTrial(*args)
    theirs = optuna.trial.FrozenTrial(
        *args[:6], {"x": optuna.distributions.FloatDistribution(0, 1)}, *args[7:]
    )
    assert (ours.number, ours.value, ours.values, ours.params, ours.trial_id) == (
        theirs.number,
        theirs.value,
        theirs.values,
        theirs.params,
        theirs._trial_id,
    )
    multi = FrozenTrial(*args[:2], None, *args[3:], values=(1.0, 2.0))
    assert multi.values == [1.0, 2.0]
    with pytest.raises(ValueError, match="only one of `value` and `values`"):
        FrozenTrial(*args, values=[1.0])
    ours.value = 2.0
    assert ours.values == [2.0]
    with pytest.raises(RuntimeError, match="single-objective"):
        multi.value = 1.0


@pytest.mark.parametrize(
    "state, value, start, complete",
    [
        (TrialState.COMPLETE, None, True, True),  # a COMPLETE trial needs a value
        (TrialState.FAIL, 1.0, True, True),  # a FAIL trial has none
        (TrialState.COMPLETE, 1.0, False, True),  # datetime_start unset
        (TrialState.PRUNED, None, True, False),  # datetime_complete unset
        (TrialState.RUNNING, None, True, True),  # datetime_complete of an unfinished trial
        (TrialState.PRUNED, 0.5, True, True),  # valid: Optuna keeps a PRUNED trial's value
        (TrialState.WAITING, None, False, False),  # valid
    ],
)
def test_frozen_trial_validation_matches_optuna(
    state: TrialState, value: Any, start: bool, complete: bool
) -> None:
    optuna = _optuna()
    now = datetime.datetime.now()
    errors = []
    for mod in (hpo_core.trial, optuna.trial):
        trial = mod.FrozenTrial(
            0, state, value, now if start else None, now if complete else None, {}, {}, {}, {}, {}, 0
        )
        try:
            trial._validate()
            errors.append(None)
        except ValueError as e:
            errors.append(str(e))
    assert errors[0] == errors[1]


def test_add_trial_of_pruned_trial_reads_its_last_report() -> None:
    _quiet()
    study = hpo_core.create_study()
    study.add_trial(create_trial(state=TrialState.PRUNED, value=9.0, intermediate_values={0: 3.0, 4: 2.0}))
    assert study.trials[0].value == 2.0  # the last report, not the value given
    assert study._history().values[0, 0] != study._history().values[0, 0]  # NaN: samplers never model it


@pytest.mark.parametrize(
    "name", ["TPESampler", "GPSampler", "NSGAIISampler", "NSGAIIISampler", "AutoSampler"]
)
def test_constraints_func_warns_optunas_deprecation_once(name: str) -> None:
    """Optuna 5.0 deprecates ``constraints_func`` for ``Trial.set_constraint`` (and still
    honours it): the same FutureWarning, once, pointing at the caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(hpo_core.samplers, name)(constraints_func=lambda t: [0.0])
    ours = [w for w in caught if issubclass(w.category, FutureWarning)]
    assert len(ours) == 1 and ours[0].filename == __file__
    assert "`constraints_func` has been deprecated in v5.0.0" in str(ours[0].message)
    assert "Use `optuna.trial.Trial.set_constraint` instead." in str(ours[0].message)
    if name != "AutoSampler":  # Optuna has no AutoSampler (it is OptunaHub's)
        optuna = _optuna()
        with pytest.warns(FutureWarning) as theirs:
            getattr(optuna.samplers, name)(constraints_func=lambda t: [0.0])
        assert str(ours[0].message) in [str(w.message) for w in theirs]


def test_cmaes_warns_that_it_ignores_constraints_as_optuna() -> None:
    pytest.importorskip("cmaes", reason="CmaEsSampler needs the cmaes package")
    _quiet()
    study = hpo_core.create_study(sampler=hpo_core.samplers.CmaEsSampler(seed=0))
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    trial.set_constraint("c", 1.0)
    with pytest.warns(UserWarning, match="CmaEsSampler will not use them"):
        study.tell(trial, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no constraint, no warning
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)


def test_set_constraint_twice_through_two_objects_of_one_trial_warns(tmp_path: Any) -> None:
    """As Optuna's: the storage decides whether a key is set, not the Trial object."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    study = hpo_core.create_study(storage=url)
    trial = study.ask()
    trial.set_constraint("c", 1.0)
    other = hpo_core.Trial(hpo_core.load_study(study_name=study.study_name, storage=url), trial._trial_id)
    with pytest.warns(hpo_core.exceptions.HpoWarning, match="already set"):
        other.set_constraint("c", -5.0)
    assert other.constraints == {"c": 1.0}
