"""The limits and the JSON rule shared by every storage (hpo_core/storages/_checks.py)."""

from __future__ import annotations

import json
import math
from collections import OrderedDict, namedtuple
from typing import Any

import numpy as np
import pytest

from hpo_core.storages._base import check_attr
from hpo_core.storages._checks import (
    MAX_JSON_DEPTH,
    MAX_NAME_LENGTH,
    check_name,
    check_step,
    decode_json,
    encode_json,
    normalize_json,
    to_float,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with exact types, and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _strict_loads(text: str) -> Any:
    """json.loads as a non-Python reader (JavaScript, jq) sees it: no NaN/Infinity tokens."""
    def reject(token: str) -> Any:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=reject)


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


# ---------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["x", "a" * MAX_NAME_LENGTH, "lr/é", "ü" * MAX_NAME_LENGTH])
def test_check_name_accepts_up_to_the_column_length(name: str) -> None:
    assert check_name(name, "name") == name


def test_check_name_returns_plain_str() -> None:
    out = check_name(np.str_("x"), "name")
    assert type(out) is str and out == "x"


@pytest.mark.parametrize("name", ["", "a" * (MAX_NAME_LENGTH + 1), "a\x00b", "bad\ud800"])
def test_check_name_rejects_bad_value(name: str) -> None:
    with pytest.raises(ValueError, match=r"`study_name` must be a str of 1 to 512 characters"):
        check_name(name, "study_name")


def test_check_name_shortens_long_names_in_message() -> None:
    with pytest.raises(ValueError, match=r"\(600 characters\)") as info:
        check_name("a" * 600, "param name")
    assert len(str(info.value)) < 250


@pytest.mark.parametrize("name", [None, 3, b"x"])
def test_check_name_rejects_non_str(name: Any) -> None:
    with pytest.raises(TypeError, match="user_attrs key"):
        check_name(name, "user_attrs key")


# ---------------------------------------------------------------- steps
@pytest.mark.parametrize("step", [0, 1, 2**31, 2**63 - 1, np.int64(7), np.uint64(2**63 - 1), np.int8(3)])
def test_check_step_accepts_64_bit_steps(step: Any) -> None:
    out = check_step(step)
    assert type(out) is int and out == int(step)


@pytest.mark.parametrize("step", [-1, 2**63, np.uint64(2**63), np.int64(-5)])
def test_check_step_rejects_out_of_range(step: Any) -> None:
    with pytest.raises(ValueError, match=r"`step` must be an int in the range \[0, 9223372036854775807\]"):
        check_step(step)


@pytest.mark.parametrize("step", [True, 1.0, "1", None])
def test_check_step_rejects_non_int(step: Any) -> None:
    with pytest.raises(TypeError, match="`step`"):
        check_step(step)


# ---------------------------------------------------------------- objective values
def test_to_float_turns_huge_ints_into_floats() -> None:
    assert to_float(2**63, "value") == 9.223372036854776e18
    assert type(to_float(np.int64(3), "value")) is float
    assert math.isnan(to_float(float("nan"), "value"))


def test_to_float_rejects_ints_beyond_float_range() -> None:
    with pytest.raises(ValueError, match=r"`value` must be a number within the float range.*1329 bits"):
        to_float(10**400, "value")


@pytest.mark.parametrize("value", [True, "1.0", None, 1j])
def test_to_float_rejects_non_numbers(value: Any) -> None:
    with pytest.raises(TypeError, match="`values\\[0\\]`"):
        to_float(value, "values[0]")


# ---------------------------------------------------------------- JSON: portable text
def test_encode_json_writes_standard_json_for_non_finite_floats() -> None:
    text = encode_json([float("nan"), float("inf"), -float("inf"), 1.5], "values")
    assert text == '[{"$float":"NaN"},{"$float":"Infinity"},{"$float":"-Infinity"},1.5]'
    assert _strict_loads(text)[3] == 1.5  # a strict reader parses it
    assert _same(decode_json(text), [math.nan, math.inf, -math.inf, 1.5])


@pytest.mark.parametrize(
    "value",
    [
        {"$float": "NaN"},
        {"$float": "Infinity"},
        {"$float": 1.0},
        {"$$float": "NaN"},
        {"$$$x": [1]},
        {"$x": {"$float": "NaN"}},
        {"$x": float("nan")},
        {"$float": "NaN", "other": 1},
        [{"$float": "-Infinity"}],
        {"$": None},
    ],
)
def test_encode_json_user_dicts_that_look_like_tags_round_trip(value: Any) -> None:
    text = encode_json(value, "user_attrs['k']")
    _strict_loads(text)
    assert _same(decode_json(text), value)


def test_decode_json_reads_plain_json_dumps_text() -> None:
    # What the storages wrote before the rule: bare NaN/Infinity tokens.
    old = json.dumps({"a": [float("nan"), float("inf"), -float("inf")], "$ref": 1, "b": {"$x": 2}})
    assert _same(decode_json(old), {"a": [math.nan, math.inf, -math.inf], "$ref": 1, "b": {"$x": 2}})


def test_decode_json_leaves_unknown_tags_alone() -> None:
    assert decode_json('{"$other":"NaN"}') == {"$other": "NaN"}
    assert decode_json('{"$float":"nan"}') == {"$float": "nan"}


def test_decode_json_too_deep_text_is_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        decode_json("[" * 100_000 + "]" * 100_000)


# ---------------------------------------------------------------- JSON: what is accepted
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ((1, (2, 3)), [1, [2, 3]]),
        (np.int64(5), 5),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (np.str_("s"), "s"),
        (OrderedDict(a=1), {"a": 1}),
        (namedtuple("P", "x y")(1, 2), [1, 2]),
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
        (-0.0, -0.0),
        (1e16, 1e16),
        ("é\x00\n", "é\x00\n"),
        (None, None),
    ],
)
def test_encode_json_values_come_back_as_json_gives_them(value: Any, expected: Any) -> None:
    assert _same(decode_json(encode_json(value, "v")), expected)
    assert _same(normalize_json(value, "v"), expected)


@pytest.mark.parametrize("bad", [object(), 1 + 2j, {1, 2}, frozenset(), b"x", np.zeros(2), 1.5 + 0j])
def test_encode_json_rejects_non_json_types_naming_the_path(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"`user_attrs\['k'\]\['a'\]\[1\]` must be JSON-serializable"):
        encode_json({"a": [0, bad]}, "user_attrs['k']")
    with pytest.raises(TypeError, match=r"`user_attrs\['k'\]\['a'\]\[1\]`"):
        normalize_json({"a": [0, bad]}, "user_attrs['k']")


@pytest.mark.parametrize("key", [1, None, 1.5, ("t",)])
def test_encode_json_rejects_non_str_keys(key: Any) -> None:
    # json.dumps would turn 1 into "1": the value would not come back as given.
    with pytest.raises(TypeError, match=r"`system_attrs\['s'\] key` must be a str"):
        encode_json({key: 1}, "system_attrs['s']")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**5000], ids=["2**63", "-2**63-1", "10**5000"])
def test_encode_json_rejects_ints_beyond_64_bits(value: int) -> None:
    with pytest.raises(ValueError, match=r"`v\[0\]` must be an int in the signed 64-bit range"):
        encode_json([value], "v")
    with pytest.raises(ValueError, match="64-bit"):
        normalize_json([value], "v")


def test_encode_json_rejects_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="valid Unicode"):
        encode_json({"k": "a\udcff"}, "v")
    with pytest.raises(ValueError, match="valid Unicode"):
        encode_json({"a\udcff": 1}, "v")


def test_encode_json_accepts_the_depth_limit() -> None:
    value = _nested(MAX_JSON_DEPTH)
    assert decode_json(encode_json(value, "v")) == value
    assert normalize_json(value, "v") == value


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 990, 5000])
def test_encode_json_rejects_deeper_nesting(depth: int) -> None:
    with pytest.raises(ValueError, match=rf"`user_attrs\['deep'\]` must be nested at most {MAX_JSON_DEPTH}"):
        encode_json(_nested(depth), "user_attrs['deep']")
    with pytest.raises(ValueError, match="nested at most"):
        normalize_json(_nested(depth), "user_attrs['deep']")


def test_encode_json_rejects_circular_values() -> None:
    value: list[Any] = [1]
    value.append(value)
    with pytest.raises(ValueError, match="nested at most"):
        encode_json(value, "v")


def test_normalize_json_shares_no_container_with_the_input() -> None:
    value = {"a": [1, {"b": 2}]}
    out = normalize_json(value, "v")
    value["a"][1]["b"] = 3  # type: ignore[index]
    value["a"].append(4)  # type: ignore[attr-defined]
    assert out == {"a": [1, {"b": 2}]}


def _random_value(rng: np.random.Generator, depth: int = 0) -> Any:
    kind = rng.integers(0, 11 if depth < 4 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return bool(rng.integers(2))
    if kind == 2:
        return int(rng.integers(-(2**63), 2**63 - 1, dtype=np.int64))
    if kind == 3:
        return [math.nan, math.inf, -math.inf, -0.0, float(rng.normal()), 1e300][rng.integers(6)]
    if kind == 4:
        return ["", "$", "$float", "NaN", "Infinity", "é", "\x00"][rng.integers(7)]
    if kind == 5:
        return np.float32(rng.normal())
    if kind == 6:
        return np.int32(rng.integers(-100, 100))
    n = int(rng.integers(0, 4))
    if kind == 7:
        return [_random_value(rng, depth + 1) for _ in range(n)]
    if kind == 8:
        return tuple(_random_value(rng, depth + 1) for _ in range(n))
    keys = ["$float", "$$float", "$", "$$", "a", "$x", "NaN"]
    return {keys[rng.integers(len(keys))]: _random_value(rng, depth + 1) for _ in range(n)}


def test_normalize_json_equals_decode_of_encode(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        value = _random_value(rng)
        text = encode_json(value, "v")
        _strict_loads(text)
        decoded = decode_json(text)
        assert _same(decoded, normalize_json(value, "v")), (value, text)
        # Exact inverses on what comes back: decoding is the identity from then on.
        assert encode_json(decoded, "v") == text


def test_check_attr_gives_normalize_json_with_the_key_seen_before(seed: int) -> None:
    # The first write of a key checks it, later ones remember it: both give back what
    # normalize_json gives, floats (NaN, -0.0, inf) and everything else alike.
    rng = np.random.default_rng(seed)
    values = [0.5, -0.0, math.nan, math.inf, np.float64(0.25), True, 3] + [_random_value(rng) for _ in range(200)]
    for kind in ("user", "system"):
        key = f"check_attr_{kind}_{seed}"
        for value in values:
            for _ in range(2):
                assert _same(check_attr(kind, key, value), normalize_json(value, "v")), (kind, value)


def test_check_attr_still_rejects_bad_keys_and_values_after_good_writes() -> None:
    class Key(str):
        pass

    check_attr("system", "completed_rung_0", 1.0)
    check_attr("system", Key("k_sub"), 1.0)
    for _ in range(2):  # rejected every time, never remembered
        with pytest.raises(TypeError, match=r"system_attrs\['completed_rung_0'\]"):
            check_attr("system", "completed_rung_0", object())
        with pytest.raises(ValueError, match="system_attrs key"):
            check_attr("system", "a\x00b", 1.0)
        with pytest.raises(ValueError, match="user_attrs key"):
            check_attr("user", "", 1.0)
        with pytest.raises(ValueError, match="user_attrs key"):
            check_attr("user", "\ud800", 1.0)
        with pytest.raises(TypeError, match="user_attrs key"):
            check_attr("user", ["completed_rung_0"], 1.0)
        with pytest.raises(ValueError, match="`kind` must be 'user' or 'system'"):
            check_attr("trial", "completed_rung_0", 1.0)
