"""Study.best_trial / best_trials in a constrained study pick feasible trials only, as
Optuna's (a trial is feasible when every value of its ``"constraints"`` system attribute
is ``<= 0``; a trial without one counts as feasible)."""

from __future__ import annotations

import pytest

import hpo_core


def _tell(study: hpo_core.Study, values, constraints) -> None:
    trial = study.ask()
    if constraints is not None:
        trial.set_system_attr("constraints", constraints)
    study.tell(trial, values)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_best_trial_skips_infeasible_trials(direction: str) -> None:
    study = hpo_core.create_study(direction=direction)
    sign = 1 if direction == "minimize" else -1
    _tell(study, sign * 1.0, [0.5, -1.0])  # the best value, infeasible
    _tell(study, sign * 3.0, [0.0, -1.0])  # feasible (0 counts)
    _tell(study, sign * 2.0, [-0.1, -0.2])  # the best feasible
    _tell(study, sign * 2.0, [-0.1, -0.2])  # tied: the first one wins
    assert study.best_trial.number == 2
    assert study.best_value == sign * 2.0


def test_best_trial_raises_when_no_complete_trial_is_feasible() -> None:
    study = hpo_core.create_study()
    _tell(study, 1.0, [1.0])
    with pytest.raises(ValueError, match="feasible"):
        study.best_trial


def test_best_trial_unchanged_without_constraints_or_when_the_best_is_feasible() -> None:
    study = hpo_core.create_study()
    _tell(study, 2.0, None)
    _tell(study, 1.0, [-1.0])
    _tell(study, 0.5, None)  # no constraints: feasible
    assert study.best_trial.number == 2


def test_best_trials_keeps_the_front_of_feasible_trials() -> None:
    study = hpo_core.create_study(directions=["minimize", "minimize"])
    _tell(study, [0.0, 0.0], [1.0])  # dominates everything, infeasible
    _tell(study, [1.0, 2.0], [-1.0])
    _tell(study, [2.0, 1.0], [-1.0])
    _tell(study, [3.0, 3.0], [-1.0])
    assert sorted(t.number for t in study.best_trials) == [1, 2]

    infeasible = hpo_core.create_study(directions=["minimize", "minimize"])
    _tell(infeasible, [0.0, 0.0], [1.0])
    assert infeasible.best_trials == []
