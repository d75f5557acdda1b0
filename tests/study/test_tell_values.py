"""What ``tell`` and ``optimize`` accept as objective values (``study/_tell.check_values``)."""

from __future__ import annotations

import decimal
import warnings

import numpy as np
import pytest

import hpo_core
from hpo_core.exceptions import FailedTrialWarning
from hpo_core.study._tell import check_values
from hpo_core.trial import TrialState


@pytest.mark.parametrize(
    "value",
    [1.5, np.float64(1.5), np.float32(1.5), np.array(1.5), np.array([1.5]), decimal.Decimal("1.5"), [np.float16(1.5)]],
    ids=repr,
)
def test_check_values_accepts_numpy_scalars_and_0d_arrays(value) -> None:
    assert check_values(value, 1) == ([1.5], None)


def test_check_values_accepts_ints() -> None:
    assert check_values(3, 1) == ([3.0], None)
    assert check_values(np.int64(3), 1) == ([3.0], None)


@pytest.mark.parametrize(
    "value, why",
    [
        (True, "returned True"),
        (np.bool_(True), "returned"),
        ("1.5", "returned '1.5'"),
        (np.complex128(1 + 1j), "returned"),
        ({"a": 1.0}, "returned"),
        (np.array([1.0, 2.0]), "2 value"),
        ([1.0, "x"], "'x' is not a number"),
        ([True], "True is not a number"),
        (np.array(np.nan), "NaN"),
    ],
    ids=repr,
)
def test_check_values_refuses(value, why) -> None:
    values, reason = check_values(value, 1 if not isinstance(value, list) else len(value))
    assert values is None and why in reason


def test_check_values_multi_objective_array() -> None:
    assert check_values(np.array([1.0, np.inf]), 2) == ([1.0, np.inf], None)
    assert check_values((np.float32(1.0), np.array(2.0)), 2) == ([1.0, 2.0], None)


# --- PyTorch -----------------------------------------------------------------------


@pytest.fixture
def torch():  # type: ignore[no-untyped-def]
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")


def test_check_values_accepts_tensor_requiring_grad(torch) -> None:  # type: ignore[no-untyped-def]
    w = torch.tensor(2.0, requires_grad=True)
    loss = (w - 0.5) ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float() of a grad tensor warns: detached first
        assert check_values(loss, 1) == ([2.25], None)
        assert check_values(torch.stack([loss, 2 * loss]), 2) == ([2.25, 4.5], None)
        assert check_values([loss, w], 2) == ([2.25, 2.0], None)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int64"])
def test_check_values_accepts_torch_scalars(torch, dtype: str) -> None:  # type: ignore[no-untyped-def]
    t = torch.tensor(3, dtype=getattr(torch, dtype))
    assert check_values(t, 1) == ([3.0], None)
    assert check_values(t.reshape(1), 1) == ([3.0], None)


def test_check_values_refuses_torch_bool_and_nan(torch) -> None:  # type: ignore[no-untyped-def]
    assert check_values(torch.tensor(True), 1)[0] is None
    assert "NaN" in check_values(torch.tensor(float("nan")), 1)[1]
    assert "2 value" in check_values(torch.tensor([1.0, 2.0]), 1)[1]


def test_optimize_objective_returning_grad_tensor_completes(torch) -> None:  # type: ignore[no-untyped-def]
    def objective(trial: hpo_core.Trial):  # type: ignore[no-untyped-def]
        w = torch.tensor(trial.suggest_float("w", -1.0, 1.0), requires_grad=True)
        loss = (w - 0.25) ** 2
        loss.backward()
        return loss

    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FailedTrialWarning)
        study.optimize(objective, n_trials=5)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all(t.value == pytest.approx((t.params["w"] - 0.25) ** 2, rel=1e-6) for t in study.trials)


def test_tell_accepts_torch_and_numpy_scalars(torch) -> None:  # type: ignore[no-untyped-def]
    study = hpo_core.create_study(directions=["minimize", "maximize"])
    study.tell(study.ask(), [torch.tensor(1.0, requires_grad=True), np.array(2.0)])
    study.tell(study.ask(), torch.tensor([3.0, 4.0], requires_grad=True))
    assert [t.values for t in study.trials] == [[1.0, 2.0], [3.0, 4.0]]
