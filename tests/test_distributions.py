from __future__ import annotations

import pickle

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

ALL = [
    FloatDistribution(-1.5, 2.0),
    FloatDistribution(1e-6, 1.0, log=True),
    FloatDistribution(0.0, 1.0, step=0.1),
    IntDistribution(-3, 7),
    IntDistribution(1, 512, log=True),
    IntDistribution(0, 100, step=7),
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
        (lambda: IntDistribution(0.5, 5), "low", TypeError),
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
    assert IntDistribution(0, 10, step=3).high == 9
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
    check_distribution_compatibility("x", FloatDistribution(0, 1), FloatDistribution(0, 5))
    with pytest.raises(ValueError, match="`x`.*one kind"):
        check_distribution_compatibility("x", FloatDistribution(0, 1), IntDistribution(0, 1))
    with pytest.raises(ValueError, match="log"):
        check_distribution_compatibility("x", FloatDistribution(1, 2), FloatDistribution(1, 2, log=True))
    with pytest.raises(ValueError, match="choices"):
        check_distribution_compatibility("c", CategoricalDistribution(["a"]), CategoricalDistribution(["b"]))


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
