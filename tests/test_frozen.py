"""create_trial: argument checks (hpo_core/trial/_frozen.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpo_core import TrialPruned
from hpo_core.distributions import FloatDistribution, IntDistribution
from hpo_core.trial import TrialState, create_trial


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"intermediate_values": 1}, r"`intermediate_values` must be a mapping step -> value or None, but got 1"),
        ({"intermediate_values": [0.1, 0.2]}, "`intermediate_values`"),
        ({"intermediate_values": {"0": 0.1}}, "`intermediate_values step` must be an int"),
        ({"intermediate_values": {0: "a"}}, r"`intermediate_values\[0\]` must be a real number"),
        ({"distributions": "x"}, r"`distributions` must be a mapping name -> distribution or None, but got 'x'"),
        ({"distributions": {"x": (0, 1)}, "params": {"x": 0.5}}, r"`distributions\['x'\]` must be an hpo_core distribution"),
        ({"params": [("x", 1.0)]}, "`params` must be a mapping"),
        ({"user_attrs": "a"}, "`user_attrs`"),
        ({"system_attrs": 3}, "`system_attrs`"),
        ({"value": "1.0"}, "`value` must be a real number"),
        ({"values": 1.0}, "`values` must be a sequence of numbers"),
        ({"values": "12"}, "`values` must be a sequence of numbers"),
        ({"values": [1.0, None]}, r"`values\[1\]` must be a real number"),
    ],
)
def test_create_trial_bad_type_is_type_error_naming_the_argument(kwargs, match: str) -> None:
    if "value" not in kwargs and "values" not in kwargs:
        kwargs = {"value": 1.0, **kwargs}
    with pytest.raises(TypeError, match=match):
        create_trial(**kwargs)


def test_create_trial_negative_step_is_value_error() -> None:
    with pytest.raises(ValueError, match="intermediate_values step"):
        create_trial(value=1.0, intermediate_values={-1: 0.5})


def test_create_trial_bad_state_is_value_error() -> None:
    with pytest.raises(ValueError, match="`state`"):
        create_trial(state="done", value=1.0)  # type: ignore[arg-type]


def test_create_trial_param_of_wrong_type_names_the_param() -> None:
    with pytest.raises(TypeError, match=r"`params\['n'\]`"):
        create_trial(value=1.0, params={"n": "3"}, distributions={"n": IntDistribution(0, 5)})


def test_create_trial_accepts_numpy_values() -> None:
    t = create_trial(
        values=np.array([1.0, 2.0]),
        params={"x": np.float64(0.5)},
        distributions={"x": FloatDistribution(0, 1)},
        intermediate_values={np.int64(3): np.float32(0.25), 4: float("nan")},
    )
    assert t.values == [1.0, 2.0]
    assert t.intermediate_values[3] == 0.25 and type(t.intermediate_values[3]) is float
    assert list(t.intermediate_values) == [3, 4] and all(type(k) is int for k in t.intermediate_values)
    assert t.state == TrialState.COMPLETE


# ------------------------------------------------------------- replay (Optuna's BaseTrial)
def _objective(trial: Any) -> float:
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 1, 8, log=True)
    c = trial.suggest_categorical("c", ["a", "b", None])
    trial.report(x, 0)
    if trial.should_prune():  # the study's MedianPruner may say so; a FrozenTrial never does
        raise TrialPruned()
    return (x - 2) ** 2 + n + (c == "a")


def test_frozen_trial_replays_the_objective() -> None:
    import hpo_core

    study = hpo_core.create_study()
    study.optimize(_objective, n_trials=15)
    best = study.best_trial
    reported = dict(best.intermediate_values)
    assert _objective(best) == study.best_value
    assert best.intermediate_values == reported  # report records nothing on a record


def test_frozen_trial_replay_errors_and_warnings() -> None:
    from hpo_core.distributions import FloatDistribution
    from hpo_core.exceptions import HpoWarning
    from hpo_core.trial import create_trial

    t = create_trial(params={"x": 3.0}, distributions={"x": FloatDistribution(0, 5)}, value=1.0)
    with pytest.raises(ValueError, match="The value of the parameter 'y' is not found"):
        t.suggest_float("y", 0, 1)
    with pytest.warns(HpoWarning, match=r"The value 3.0 of the parameter 'x' is out of the range"):
        assert t.suggest_float("x", 0, 1) == 3.0
    with pytest.raises(ValueError, match="one kind"):
        t.suggest_int("x", 0, 5)
    t.set_user_attr("k", 1)
    assert t.user_attrs == {"k": 1}


def test_user_defined_pruner_reads_last_step() -> None:
    import hpo_core
    from hpo_core.pruners import BasePruner

    class StopAtStep(BasePruner):
        def prune(self, study: Any, trial: Any) -> bool:
            return trial.last_step is not None and trial.last_step >= 2

    def objective(trial: Any) -> float:
        assert trial.last_step is None
        for step in range(5):
            trial.report(float(step), step)
            if trial.should_prune():
                raise hpo_core.TrialPruned()
        return 0.0

    study = hpo_core.create_study(pruner=StopAtStep())
    study.optimize(objective, n_trials=2)
    assert [t.last_step for t in study.trials] == [2, 2]
    assert all(t.state == hpo_core.TrialState.PRUNED for t in study.trials)


def test_fixed_trial_runs_an_objective_on_given_values() -> None:
    from hpo_core.exceptions import HpoWarning
    from hpo_core.trial import FixedTrial

    trial = FixedTrial({"x": 3.0, "n": 2, "c": "a", "unused": 1}, number=4)
    assert _objective(trial) == (3.0 - 2) ** 2 + 2 + 1
    assert trial.params == {"x": 3.0, "n": 2, "c": "a"} and set(trial.distributions) == {"x", "n", "c"}
    assert trial.number == 4 and not trial.should_prune()
    with pytest.raises(ValueError, match="Please set it at the construction of the FixedTrial object"):
        trial.suggest_float("missing", 0, 1)
    with pytest.warns(HpoWarning, match="out of the range"):
        FixedTrial({"x": 9.0}).suggest_float("x", 0, 1)
    with pytest.raises(TypeError, match="FixedTrial: `params`"):
        FixedTrial([("x", 1.0)])  # type: ignore[arg-type]
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its FixedTrial is the reference")
    theirs = optuna.trial.FixedTrial({"x": 3.0, "n": 2, "c": "a", "unused": 1}, number=4)
    assert _objective(theirs) == _objective(FixedTrial({"x": 3.0, "n": 2, "c": "a"}))
    assert theirs.params == trial.params
