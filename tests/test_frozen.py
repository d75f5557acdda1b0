"""create_trial: argument checks (hpo_core/trial/_frozen.py)."""

from __future__ import annotations

import numpy as np
import pytest

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
