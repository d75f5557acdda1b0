"""The shared helpers of hpo_core/_validation.py: as_real, param_error, for_param."""

from __future__ import annotations

import decimal
import fractions
import math
import warnings

import numpy as np
import pytest

from hpo_core._validation import as_real, check_real, for_param, param_error
from hpo_core.distributions import FloatDistribution, IntDistribution


@pytest.mark.parametrize(
    "value, expected",
    [
        (1.5, 1.5),
        (3, 3.0),
        (np.float64(1.5), 1.5),
        (np.float32(0.5), 0.5),
        (np.int8(-3), -3.0),
        (np.uint64(7), 7.0),
        (np.array(2.5), 2.5),
        (np.array([2.5]), 2.5),
        (np.array([[4]]), 4.0),
        (np.array(1.0, dtype=object), 1.0),
        (fractions.Fraction(1, 4), 0.25),
        (decimal.Decimal("0.5"), 0.5),
        (float("inf"), math.inf),
    ],
    ids=repr,
)
def test_as_real_accepts_real_scalars(value, expected: float) -> None:
    out = as_real(value, "value")
    assert out == expected and type(out) is float


def test_as_real_passes_nan_through() -> None:
    assert math.isnan(as_real(np.float32("nan"), "value"))


@pytest.mark.parametrize(
    "value",
    [True, np.bool_(False), np.array(True), "1.5", b"1", 1 + 2j, np.complex128(1), np.array([1.0, 2.0]),
     np.array([]), np.array("1.5"), None, [1.0], {"a": 1}, object()],
    ids=repr,
)
def test_as_real_rejects_non_real(value) -> None:
    with pytest.raises(TypeError, match=r"`loss` must be a real number .* but got"):
        as_real(value, "loss")


def test_as_real_huge_int_is_value_error_with_owner() -> None:
    with pytest.raises(ValueError, match=r"^Trial.report: `value` must be a real number in the float64 range"):
        as_real(10**400, "value", owner="Trial.report")


@pytest.fixture
def torch():  # type: ignore[no-untyped-def]
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")


def test_as_real_accepts_torch_scalars(torch) -> None:  # type: ignore[no-untyped-def]
    w = torch.tensor(3.0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float() on a grad tensor would warn
        assert as_real(w * 2, "value") == 6.0
        assert as_real(torch.tensor([1.5], requires_grad=True), "value") == 1.5
    assert as_real(torch.tensor(2, dtype=torch.int32), "value") == 2.0
    assert as_real(torch.tensor(0.5, dtype=torch.bfloat16), "value") == 0.5


@pytest.mark.parametrize("make", ["bool", "multi", "complex", "empty"])
def test_as_real_rejects_torch_non_scalars(torch, make: str) -> None:  # type: ignore[no-untyped-def]
    value = {
        "bool": lambda: torch.tensor(True),
        "multi": lambda: torch.tensor([1.0, 2.0], requires_grad=True),
        "complex": lambda: torch.tensor(1 + 1j),
        "empty": lambda: torch.tensor([]),
    }[make]()
    with pytest.raises(TypeError, match="`value`"):
        as_real(value, "value")


def test_check_real_huge_int_is_value_error() -> None:
    with pytest.raises(ValueError, match="`x` must be a finite number"):
        check_real("x", 10**400)


# --- naming the hyperparameter -----------------------------------------------------


def test_param_error_names_the_hyperparameter_and_keeps_type() -> None:
    with pytest.raises(ValueError) as info:
        FloatDistribution(0.0, 1.0, log=True)
    err = param_error(info.value, "lr", owner="Trial.suggest_float")
    assert type(err) is ValueError
    assert str(err) == "Trial.suggest_float for parameter `lr`: `low` must be > 0 when log=True, but got 0.0."
    with pytest.raises(TypeError) as tinfo:
        IntDistribution("0", 3)  # type: ignore[arg-type]
    err2 = param_error(tinfo.value, "n_layers")
    assert type(err2) is TypeError
    assert str(err2).startswith("IntDistribution for parameter `n_layers`: `low` must be an int")


def test_param_error_without_owner_prefix() -> None:
    err = param_error(ValueError("`x` must be > 0, but got -1."), "lr")
    assert str(err) == "Parameter `lr`: `x` must be > 0, but got -1."


def test_for_param_reraises_from_the_original() -> None:
    with pytest.raises(ValueError, match=r"^Trial.suggest_float for parameter `lr`: `high` must be") as info:
        with for_param("lr", owner="Trial.suggest_float"):
            FloatDistribution(0, 10**400)
    assert isinstance(info.value.__cause__, ValueError)
    assert str(info.value.__cause__).startswith("FloatDistribution: `high`")


def test_for_param_leaves_other_exceptions_and_success_alone() -> None:
    with for_param("lr"):
        dist = FloatDistribution(0.0, 1.0)
    assert dist.high == 1.0
    with pytest.raises(KeyError):
        with for_param("lr"):
            raise KeyError("k")
