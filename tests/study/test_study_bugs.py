"""Regression tests of study-level bugs, one per bug (each failed before its fix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import FloatDistribution, TrialState
from hpo_core.exceptions import FailedTrialWarning
from hpo_core.samplers import RandomSampler

SPACE = {"x": FloatDistribution(0.0, 1.0)}


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return None if request.param == "memory" else f"sqlite:///{tmp_path / 's.db'}"


@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")


class RecordingSampler(RandomSampler):
    """A random sampler that records its ``before_trial`` and ``after_trial`` calls."""

    def __init__(self) -> None:
        super().__init__(seed=0)
        self.before: list[int] = []
        self.after: list[tuple[int, TrialState, list[float] | None]] = []

    def before_trial(self, study: Any, trial: Any) -> None:
        self.before.append(trial.number)

    def after_trial(self, study: Any, trial: Any, state: TrialState, values: list[float] | None) -> None:
        self.after.append((trial.number, state, values))


class FailingTellSampler(RandomSampler):
    def after_trial(self, study: Any, trial: Any, state: TrialState, values: list[float] | None) -> None:
        raise RuntimeError("after_trial failed")


# --------------------------------------------------------------------- sampler hooks
def test_tell_array_calls_after_trial_for_each_trial() -> None:
    sampler = RecordingSampler()
    study = hpo_core.create_study(sampler=sampler)
    study.tell_array(study.ask_array(SPACE, 3), [3.0, 1.0, 2.0])
    assert sampler.after == [(0, TrialState.COMPLETE, [3.0]), (1, TrialState.COMPLETE, [1.0]),
                             (2, TrialState.COMPLETE, [2.0])]


def test_ask_n_calls_before_trial_for_each_trial() -> None:
    sampler = RecordingSampler()
    study = hpo_core.create_study(sampler=sampler)
    study.ask(SPACE, n=3)
    assert sampler.before == [0, 1, 2]


def test_ask_array_calls_before_trial_for_each_trial() -> None:
    sampler = RecordingSampler()
    study = hpo_core.create_study(sampler=sampler)
    study.ask_array(SPACE, 3)
    assert sampler.before == [0, 1, 2]


def test_ask_with_space_calls_before_trial() -> None:
    sampler = RecordingSampler()
    study = hpo_core.create_study(sampler=sampler)
    study.ask(SPACE)
    study.ask(SPACE)
    assert sampler.before == [0, 1]


# --------------------------------------------------------------------- tensors and scalars
def test_optimize_objective_returning_tensor_requiring_grad(storage: str | None, torch: Any) -> None:
    study = hpo_core.create_study(storage=storage)
    losses = []

    def objective(trial: hpo_core.Trial) -> Any:
        w = torch.tensor(trial.suggest_float("w", 0.0, 1.0), requires_grad=True)
        loss = (w - 0.5) ** 2
        losses.append(float(loss.detach()))
        return loss

    study.optimize(objective, n_trials=2)
    assert [(t.state, t.value) for t in study.trials] == [(TrialState.COMPLETE, v) for v in losses]


@pytest.mark.parametrize("kind", ["tensor_requiring_grad", "numpy_float32", "zero_d_array"])
def test_report_accepts_scalar(storage: str | None, torch: Any, kind: str) -> None:
    value = {
        "tensor_requiring_grad": lambda: torch.tensor(0.5, requires_grad=True),
        "numpy_float32": lambda: np.float32(0.5),
        "zero_d_array": lambda: np.array(0.5),
    }[kind]()
    study = hpo_core.create_study(storage=storage)
    trial = study.ask()
    trial.report(value, 2)
    study.tell(trial, 1.0)
    assert study.trials[0].intermediate_values == {2: 0.5}


def test_optimize_failing_tell_ends_trial_fail_and_raises(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage, sampler=FailingTellSampler(seed=0))
    with pytest.raises(RuntimeError, match="after_trial failed"):
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    (t,) = study.trials
    assert t.state == TrialState.FAIL and "after_trial failed" in t.system_attrs["fail_reason"]


def test_tell_with_failing_after_trial_stores_state_and_raises(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage, sampler=FailingTellSampler(seed=0))
    with pytest.raises(RuntimeError, match="after_trial failed"):
        study.tell(study.ask(), 1.0)  # as Optuna's tell: the told state is stored
    assert [(t.state, t.value) for t in study.trials] == [(TrialState.COMPLETE, 1.0)]


@pytest.mark.parametrize("state", [TrialState.COMPLETE, TrialState.PRUNED], ids=["COMPLETE", "PRUNED"])
def test_tell_array_with_failing_after_trial_finishes_batch_and_raises(state: TrialState) -> None:
    study = hpo_core.create_study(sampler=FailingTellSampler(seed=0))
    batch = study.ask_array(SPACE, 3)
    with pytest.raises(RuntimeError, match="after_trial failed"):
        study.tell_array(batch, [1.0, 2.0, 3.0], state=state)
    assert [t.state for t in study.trials] == [state] * 3


# --------------------------------------------------------------------- huge batches
def test_ask_huge_n_raises_naming_n_in_memory() -> None:
    study = hpo_core.create_study()
    with pytest.raises(ValueError, match="`n`"):
        study.ask({}, n=10**10)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert [t.number for t in study.trials] == [0, 1]


def test_ask_huge_n_raises_naming_n_on_sqlite(tmp_path: Path) -> None:
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(ValueError, match="`n`"):
        study.ask({}, n=10**9)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert [t.number for t in study.trials] == [0, 1]


# --------------------------------------------------------------------- attributes
def test_user_attr_nested_990_deep_raises(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage)
    trial = study.ask()
    deep: Any = 0
    for _ in range(990):
        deep = [deep]
    with pytest.raises(ValueError, match="deep"):
        trial.set_user_attr("deep", deep)
    study.tell(trial, 1.0)
    (t,) = study.trials
    assert t.user_attrs == {} and t.state == TrialState.COMPLETE


@pytest.mark.parametrize("value", [object(), 1 + 2j], ids=["object", "complex"])
def test_user_attr_of_non_json_type_raises_type_error(storage: str | None, value: Any) -> None:
    study = hpo_core.create_study(storage=storage)
    trial = study.ask()
    with pytest.raises(TypeError, match="odd"):
        trial.set_user_attr("odd", value)
    assert study.trials[0].user_attrs == {}


# --------------------------------------------------------------------- objective values
def test_tell_int_of_64_bits_or_more(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage)
    study.tell(study.ask(), 2**63)
    assert study.trials[0].value == 9.223372036854776e18


def test_tell_int_beyond_float_range_fails_trial(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage)
    with pytest.warns(FailedTrialWarning, match="not a number"):
        study.tell(study.ask(), 10**400)
    assert study.trials[0].state == TrialState.FAIL
    study.tell(study.ask(), 1.0)  # the study goes on
    assert study.best_value == 1.0


# --------------------------------------------------------------------- suggest errors
def test_suggest_float_log_with_zero_low_names_the_parameter() -> None:
    trial = hpo_core.create_study().ask()
    with pytest.raises(ValueError, match="lr") as e:
        trial.suggest_float("lr", 0, 1, log=True)
    assert "low" in str(e.value)
