from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest

from hpo_core.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
    check_distribution_compatibility,
    distribution_to_json,
    json_to_distribution,
    unit_to_internal,
)
from hpo_core.exceptions import HpoWarning

ALL = [
    FloatDistribution(-1.5, 2.0),
    FloatDistribution(1e-6, 1.0, log=True),
    FloatDistribution(0.0, 1.0, step=0.1),
    IntDistribution(-3, 7),
    IntDistribution(1, 512, log=True),
    IntDistribution(0, 98, step=7),
    CategoricalDistribution([None, True, 1, 1.0, "a"]),
]


@pytest.mark.parametrize(
    "make, match, exc",
    [
        (lambda: FloatDistribution(2.0, 1.0), "low", ValueError),
        (lambda: FloatDistribution(0.0, 1.0, log=True), "low", ValueError),
        (lambda: FloatDistribution(0.0, 1.0, step=0.0), "step", ValueError),
        (lambda: FloatDistribution(0.1, 1.0, step=0.1, log=True), "step", ValueError),
        (lambda: FloatDistribution(0.0, float("inf")), "high", ValueError),
        (lambda: FloatDistribution("0", 1.0), "low", TypeError),
        (lambda: IntDistribution(0, 5, step=0), "step", ValueError),
        (lambda: IntDistribution(0, 5, log=True), "low", ValueError),
        (lambda: IntDistribution(1, 9, step=2, log=True), "step", ValueError),
        (lambda: IntDistribution(float("nan"), 5), "low", TypeError),
        (lambda: IntDistribution(0, float("inf")), "high", TypeError),
        (lambda: IntDistribution("0", 5), "low", TypeError),
        (lambda: CategoricalDistribution([]), "choices", ValueError),
        (lambda: CategoricalDistribution(["a", "a"]), "choices", ValueError),
        (lambda: CategoricalDistribution([[1]]), "choices", TypeError),
        (lambda: CategoricalDistribution("abc"), "choices", TypeError),
    ],
)
def test_distribution_rejects_bad_arguments(make, match: str, exc: type) -> None:
    with pytest.raises(exc, match=match):
        make()


def test_distribution_error_message_names_value() -> None:
    with pytest.raises(ValueError, match=r"`step` must be a number > 0 or None, but got -1"):
        FloatDistribution(0, 1, step=-1)


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_distribution_json_and_pickle_round_trip(dist) -> None:
    assert json_to_distribution(distribution_to_json(dist)) == dist
    assert pickle.loads(pickle.dumps(dist)) == dist
    assert hash(pickle.loads(pickle.dumps(dist))) == hash(dist)


def test_distribution_step_snaps_high_down() -> None:
    with pytest.warns(HpoWarning):
        assert IntDistribution(0, 10, step=3).high == 9
    with pytest.warns(HpoWarning):
        assert FloatDistribution(0.0, 1.0, step=0.3).high == pytest.approx(0.9)


def test_categorical_distinguishes_equal_python_values() -> None:
    d = CategoricalDistribution([1, 1.0, True])
    assert [d.to_internal_repr(v) for v in (1, 1.0, True)] == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="one of"):
        d.to_internal_repr("1")


def test_distribution_contains() -> None:
    assert IntDistribution(0, 10, step=2).contains(4.0)
    assert not IntDistribution(0, 10, step=2).contains(5.0)
    assert FloatDistribution(0.0, 1.0, step=0.25).contains(0.75)
    assert not FloatDistribution(0.0, 1.0, step=0.25).contains(0.8)
    assert not CategoricalDistribution(["a"]).contains(1.0)


def test_distribution_compatibility_across_trials() -> None:
    check_distribution_compatibility(FloatDistribution(0, 1), FloatDistribution(0, 5), name="x")
    with pytest.raises(ValueError, match="`x`.*one kind"):
        check_distribution_compatibility(FloatDistribution(0, 1), IntDistribution(0, 1), name="x")
    with pytest.raises(ValueError, match="log"):
        check_distribution_compatibility(FloatDistribution(1, 2), FloatDistribution(1, 2, log=True))
    with pytest.raises(ValueError, match="choices"):
        check_distribution_compatibility(CategoricalDistribution(["a"]), CategoricalDistribution(["b"]), name="c")


def test_distribution_compatibility_agrees_with_optuna() -> None:
    optuna = pytest.importorskip("optuna")
    od = optuna.distributions
    cases = [
        (FloatDistribution(0, 1), FloatDistribution(0, 5)),
        (FloatDistribution(0, 1), IntDistribution(0, 1)),
        (FloatDistribution(1, 2), FloatDistribution(1, 2, log=True)),
        (IntDistribution(1, 9, step=2), IntDistribution(1, 5)),
        (CategoricalDistribution(["a"]), CategoricalDistribution(["b"])),
        (CategoricalDistribution(["a", "b"]), CategoricalDistribution(["a", "b"])),
    ]
    for old, new in cases:
        theirs_old, theirs_new = (od.json_to_distribution(distribution_to_json(d)) for d in (old, new))
        try:
            od.check_distribution_compatibility(theirs_old, theirs_new)
            expected = None
        except ValueError as e:
            expected = str(e)
        if expected is None:
            check_distribution_compatibility(dist_old=old, dist_new=new)
        else:  # Optuna's message leads ours
            with pytest.raises(ValueError, match=re.escape(expected.split(":")[0].rstrip("."))):
                check_distribution_compatibility(old, new)


def test_search_space_from_unit_stays_inside(seed: int) -> None:
    space = SearchSpace({f"p{i}": d for i, d in enumerate(ALL)})
    U = np.random.default_rng(seed).random((2000, len(ALL)))
    U[0] = 0.0
    U[1] = np.nextafter(1.0, 0.0)
    X = space.from_unit(U)
    for j, dist in enumerate(ALL):
        assert all(dist.contains(v) for v in X[:, j]), dist


def test_search_space_grid_points_equally_likely() -> None:
    space = SearchSpace({"n": IntDistribution(1, 4)})
    X = space.from_unit(np.random.default_rng(0).random((40000, 1)))
    counts = np.bincount(X[:, 0].astype(int))[1:]
    assert np.all(np.abs(counts / 40000 - 0.25) < 0.01)


def test_search_space_to_unit_inverts_continuous() -> None:
    space = SearchSpace({"a": FloatDistribution(-2, 3), "b": FloatDistribution(1e-3, 10, log=True)})
    U = np.random.default_rng(0).random((50, 2))
    np.testing.assert_allclose(space.to_unit(space.from_unit(U)), U, rtol=1e-12, atol=1e-12)


def test_search_space_external_conversion() -> None:
    space = SearchSpace({"f": ALL[0], "i": ALL[3], "c": ALL[6]})
    X = np.array([[0.5, 3.0, 4.0], [1.0, -3.0, 0.0]])
    rows = space.external_rows(X)
    assert rows == [[0.5, 3, "a"], [1.0, -3, None]]
    assert space.to_external(X[0]) == {"f": 0.5, "i": 3, "c": "a"}
    assert isinstance(rows[0][1], int)


def test_search_space_rejects_non_distribution() -> None:
    with pytest.raises(TypeError, match="distributions"):
        SearchSpace({"x": (0, 1)})  # type: ignore[dict-item]


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_unit_to_internal_matches_search_space(dist) -> None:
    us = np.linspace(0, 1, 101)[:-1]
    space = SearchSpace({"p": dist})
    vec = space.from_unit(us[:, None])[:, 0]
    scalar = np.array([unit_to_internal(dist, float(u)) for u in us])
    np.testing.assert_allclose(scalar, vec, rtol=1e-12)


# --- ints are exact: bounds within +-2**53 (float64 ints) ----------------------------

MAX_EXACT = 2**53


@pytest.mark.parametrize(
    "low, high, step, match",
    [
        (0, MAX_EXACT + 1, 1, "`high` must be an int in the range \\[-9007199254740992, 9007199254740992\\]"),
        (2**62, 2**62 + 10, 1, "`low` must be an int in the range"),
        (-(2**63), 0, 1, "`low` must be an int in the range"),
        (0, 2**63 - 1, 1, "`high` must be"),
        (0, 10**400, 1, "`high` must be"),
        (0, 5, 10**400, "`step` must be an int in the range \\[1, 9007199254740992\\]"),
        (-MAX_EXACT, MAX_EXACT, 3, "`high - low` must be at most 2\\*\\*53"),
    ],
    ids=["2**53+1", "2**62", "-2**63", "2**63-1", "10**400", "step=10**400", "span>2**53"],
)
def test_int_distribution_rejects_ranges_float64_cannot_hold(low, high, step, match) -> None:
    with pytest.raises(ValueError, match=match):
        IntDistribution(low, high, step=step)


def test_int_distribution_to_internal_repr_rejects_inexact_ints() -> None:
    dist = IntDistribution(0, MAX_EXACT)
    assert dist.to_internal_repr(MAX_EXACT) == float(MAX_EXACT)
    assert dist.to_internal_repr(np.int64(MAX_EXACT)) == float(MAX_EXACT)
    with pytest.raises(ValueError, match="value"):
        dist.to_internal_repr(MAX_EXACT + 1)  # float() would make it 2**53, inside
    with pytest.raises(ValueError, match="value"):
        dist.to_internal_repr(np.int64(2**62 + 1))


@pytest.mark.parametrize(
    "dist",
    [
        IntDistribution(MAX_EXACT - 28, MAX_EXACT, step=7),
        IntDistribution(-MAX_EXACT, -MAX_EXACT + 21, step=3),
        IntDistribution(-MAX_EXACT, MAX_EXACT),
        IntDistribution(0, 8190 * 2**40, step=3 * 2**40),
        IntDistribution(1, MAX_EXACT, log=True),
    ],
    ids=repr,
)
def test_int_distribution_samples_exactly_at_the_limits(dist, seed: int) -> None:
    U = np.random.default_rng(seed).random((1000, 1))
    U[0], U[1] = 0.0, np.nextafter(1.0, 0.0)
    X = SearchSpace({"n": dist}).from_unit(U)[:, 0]
    scalar = [unit_to_internal(dist, float(u)) for u in U[:, 0]]
    for internal in [*X.tolist(), *scalar]:
        assert dist.contains(internal)
        n = dist.to_external_repr(internal)
        assert dist.low <= n <= dist.high and (n - dist.low) % dist.step == 0, n
    assert unit_to_internal(dist, 0.0) == dist.low


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_suggest_int_near_2_53_stays_on_grid(sampler: str) -> None:
    import hpo_core

    make = {"random": hpo_core.samplers.RandomSampler, "tpe": hpo_core.samplers.TPESampler}[sampler]
    study = hpo_core.create_study(sampler=make(seed=0))
    low, high = MAX_EXACT - 3 * 40, MAX_EXACT
    for _ in range(30):
        trial = study.ask()
        n = trial.suggest_int("n", low, high, step=3)
        assert low <= n <= high and (n - low) % 3 == 0, n
        study.tell(trial, float(n - low))
    with pytest.raises(ValueError, match="`high`"):
        study.ask().suggest_int("m", 0, 2**60)


def test_int_distribution_contains_is_exact() -> None:
    dist = IntDistribution(MAX_EXACT - 6, MAX_EXACT, step=3)
    assert dist.contains(float(MAX_EXACT - 3))
    assert not dist.contains(float(MAX_EXACT - 2))
    assert not dist.contains(float(MAX_EXACT - 5))


# --- floats: the step grid ---------------------------------------------------------


def test_float_distribution_warns_when_step_does_not_divide_range() -> None:
    with pytest.warns(HpoWarning, match=r"not divisible by `step`. It will be replaced with \[0.0, 0.9\]"):
        dist = FloatDistribution(0.0, 1.0, step=0.3)
    assert dist.high == 0.9  # Optuna's value: decimal 3 * 0.3, not 0.8999999999999999


def test_int_distribution_warns_when_step_does_not_divide_range() -> None:
    with pytest.warns(HpoWarning, match=r"\[0, 10\] and step=3.*replaced with \[0, 9\]"):
        IntDistribution(0, 10, step=3)


@pytest.mark.parametrize(
    "low, high, step",
    [(0.0, 0.3, 0.1), (0.0, 1.0, 0.1), (-1.0, 1.0, 0.25), (1e-3, 1.0, 1e-3), (0.5, 0.5, 0.1), (0.0, 1.0, 0.1 / 3)],
)
def test_float_distribution_divisible_range_does_not_warn(low, high, step) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert FloatDistribution(low, high, step=step).high == high


@pytest.mark.parametrize(
    "low, high, step",
    [(0.0, 1.0, 0.3), (1.0, 2.0, 1e-12 * 3), (1e6, 1e6 + 1.0, 7e-10), (-7.3, 1e3, 0.0123), (0.1, 0.7, 0.2)],
)
def test_float_distribution_rebuilt_from_its_high_is_the_same(low, high, step) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HpoWarning)
        dist = FloatDistribution(low, high, step=step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning, no second adjustment
        assert json_to_distribution(distribution_to_json(dist)) == dist
        assert pickle.loads(pickle.dumps(dist)) == dist
        assert FloatDistribution(dist.low, dist.high, step=dist.step) == dist


FINE_STEPS = [
    FloatDistribution(1.0, 2.0, step=1e-12),
    FloatDistribution(1e6, 1e6 + 1.0, step=1e-9),
    FloatDistribution(-1.0, 1.0, step=2.0**-50),
    FloatDistribution(-3e3, 5e3, step=1e-12),
    FloatDistribution(123.456, 124.0, step=1e-13),
]


@pytest.mark.parametrize("dist", FINE_STEPS, ids=repr)
def test_float_distribution_fine_step_samples_are_contained(dist, seed: int) -> None:
    U = np.random.default_rng(seed).random((2000, 1))
    U[0], U[1] = 0.0, np.nextafter(1.0, 0.0)
    X = SearchSpace({"x": dist}).from_unit(U)[:, 0]
    assert all(dist.contains(v) for v in X.tolist())
    assert all(dist.contains(unit_to_internal(dist, float(u))) for u in U[:, 0])
    assert dist.contains(dist.low) and dist.contains(dist.high)


def test_float_distribution_contains_still_rejects_off_grid() -> None:
    dist = FloatDistribution(1.0, 2.0, step=1e-6)
    assert dist.contains(1.0 + 3 * 1e-6)
    assert not dist.contains(1.0 + 3.5 * 1e-6)
    assert FloatDistribution(0.0, 1.0, step=0.1).contains(0.3)  # Optuna's 1e-8 tolerance


# --- floats: float64 range -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"low": 0, "high": 10**400}, r"`high` must be a finite number in the float64 range \[.*\], but got 1000"),
        ({"low": -(10**400), "high": 0}, r"`low` must be a finite number in the float64 range"),
        ({"low": 0, "high": 10, "step": 5e-324}, r"`step` must be a number in the range \[1.1102230246251565e-15, inf\).*but got 5e-324"),
        ({"low": 0, "high": 1, "step": 10**400}, r"`step` must be a finite number in the float64 range"),
        ({"low": 0, "high": 1, "step": float("nan")}, r"`step` must be a number > 0"),
        ({"low": 0, "high": 1, "step": float("inf")}, r"`step` must be a finite number"),
        ({"low": -1e308, "high": 1e308}, r"`high - low` must be at most"),
    ],
)
def test_float_distribution_out_of_float64_range_is_value_error(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        FloatDistribution(**kwargs)


def test_float_distribution_to_internal_repr_huge_int_is_value_error() -> None:
    with pytest.raises(ValueError, match="value"):
        FloatDistribution(0, 1).to_internal_repr(10**400)


def test_float_distribution_subnormal_step_on_subnormal_range() -> None:
    dist = FloatDistribution(0.0, 1e-320, step=5e-324)  # 2,024 steps: fine
    assert dist.contains(5e-324 * 7)


def test_search_space_external_row_equals_external_rows() -> None:
    space = SearchSpace({
        "f": FloatDistribution(0.0, 1.0), "i": IntDistribution(-3, 7), "l": IntDistribution(1, 1024, log=True),
        "c": CategoricalDistribution(["a", None, 3.5]), "s": FloatDistribution(0.0, 1.0, step=0.25),
    })
    rng = np.random.default_rng(0)
    X = space.from_unit(rng.random((200, 5)))
    X[:4, 1] = [-2.5, -1.5, 0.5, 1.5]  # exact halves round to even in both
    assert [space.external_row(x) for x in X] == space.external_rows(X)


def test_search_space_rows_keep_each_spaces_choices() -> None:
    # Spaces with the same column kinds share one compiled row converter; each must
    # still return its own choices (1 and 1.0 are equal as keys, not as values).
    ints = SearchSpace({"c": CategoricalDistribution([1, 2]), "i": IntDistribution(0, 9)})
    floats = SearchSpace({"c": CategoricalDistribution([1.0, 2.0]), "i": IntDistribution(0, 9)})
    x = np.array([1.0, 4.0])
    assert ints.external_row(x) == [2, 4] and type(ints.external_row(x)[0]) is int
    assert floats.external_row(x) == [2.0, 4] and type(floats.to_external(x)["c"]) is float
    assert type(ints.to_external(x)["i"]) is int


def test_int_distribution_cuts_real_bounds_to_ints_as_optuna() -> None:
    # Integral floats (n / 2) silently; a fraction toward zero, with a warning naming it.
    assert IntDistribution(1.0, 10 / 2, step=np.float64(2.0)) == IntDistribution(1, 5, step=2)
    with pytest.warns(HpoWarning, match=r"IntDistribution: `high` should be an int, but got 5.5; 5 is used"):
        assert IntDistribution(1, 5.5) == IntDistribution(1, 5)
    with pytest.warns(HpoWarning, match="`low`"):
        assert IntDistribution(-0.5, 3).low == 0


def test_suggest_int_takes_real_bounds_as_optuna() -> None:
    import hpo_core

    study = hpo_core.create_study()
    trial = study.ask()
    n = 10
    assert 1 <= trial.suggest_int("half", 1, n / 2) <= 5
    with pytest.warns(HpoWarning, match=r"Trial.suggest_int for parameter `odd`: `high` should be an int, but got 3.5"):
        assert 1 <= trial.suggest_int("odd", 1, 7 / 2) <= 3
    assert trial.distributions["half"] == IntDistribution(1, 5)
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its distribution is the reference")
    theirs = optuna.distributions.IntDistribution(1, 7 / 2)
    assert (theirs.low, theirs.high) == (trial.distributions["odd"].low, trial.distributions["odd"].high)
