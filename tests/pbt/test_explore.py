"""PBT's explore step and quantiles (pure functions of hpo_core.pbt._explore)."""

from __future__ import annotations

import numpy as np
import pytest

from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.pbt._explore import explore, quantiles, sample_config


def _explore(config: dict, mutations: dict, seed: int, p: float = 0.0, factors: tuple = (1.2, 0.8)) -> dict:
    return explore(config, mutations, np.random.default_rng(seed), resample_probability=p,
                   perturbation_factors=factors)


def test_quantiles_bottom_and_top_with_ray_sizes() -> None:
    assert quantiles([], 0.25) == ([], [])
    assert quantiles([1.0], 0.25) == ([], [])
    assert quantiles([3.0, 1.0], 0.25) == ([1], [0])  # ceil(0.5) = 1
    scores = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6]
    assert quantiles(scores, 0.25) == ([2, 6], [5, 1])
    assert quantiles(scores, 0.5) == ([2, 6, 4, 0], [7, 3, 5, 1])
    assert quantiles(scores, 0.0) == ([], [])
    assert quantiles([1.0, 2.0, 3.0], 0.5) == ([0], [2])  # at most floor(n / 2)


def test_quantiles_ties_keep_member_order() -> None:
    assert quantiles([1.0, 1.0, 1.0, 1.0], 0.25) == ([0], [3])


def test_explore_float_multiplies_by_a_factor(seed: int) -> None:
    new = _explore({"lr": 0.01}, {"lr": FloatDistribution(1e-4, 1.0, log=True)}, seed)
    assert new["lr"] in (pytest.approx(0.012), pytest.approx(0.008))


def test_explore_float_is_clipped_and_stepped() -> None:
    dist = FloatDistribution(0.0, 1.0, step=0.1)
    seen = {round(_explore({"d": 0.9}, {"d": dist}, s)["d"], 9) for s in range(20)}
    assert seen == {1.0, 0.7}  # 1.08 clipped to 1.0; 0.72 rounded to the grid point 0.7


def test_explore_int_rounds_to_its_grid(seed: int) -> None:
    new = _explore({"units": 10}, {"units": IntDistribution(4, 64, step=2)}, seed)
    assert new["units"] in (12, 8) and isinstance(new["units"], int)


def test_explore_list_moves_to_a_neighbour_or_stays_at_an_end() -> None:
    choices = [16, 32, 64, 128]
    assert {_explore({"bs": 32}, {"bs": choices}, s)["bs"] for s in range(20)} == {16, 64}
    assert {_explore({"bs": 128}, {"bs": choices}, s)["bs"] for s in range(20)} == {64, 128}
    cat = CategoricalDistribution(["sgd", "adam", "rmsprop"])
    assert {_explore({"opt": "adam"}, {"opt": cat}, s)["opt"] for s in range(20)} == {"sgd", "rmsprop"}


def test_explore_resamples_a_value_not_in_the_list() -> None:
    assert _explore({"bs": 48}, {"bs": [16, 32]}, 0)["bs"] in (16, 32)


def test_explore_resample_probability_one_samples_inside_the_distribution() -> None:
    dist = FloatDistribution(0.5, 0.6)
    values = [_explore({"x": 100.0}, {"x": dist}, s, p=1.0)["x"] for s in range(20)]
    assert all(0.5 <= v <= 0.6 for v in values) and len(set(values)) == 20


def test_explore_callable_gets_the_generator_and_keeps_ints_and_bools() -> None:
    mutations = {"n": lambda rng: int(rng.integers(1, 100)), "flag": lambda rng: bool(rng.random() < 0.5)}
    new = _explore({"n": 10, "flag": True}, mutations, 0)
    assert new["n"] in (12, 8) and new["flag"] is True
    assert sample_config(mutations, np.random.default_rng(3)) == sample_config(mutations, np.random.default_rng(3))


def test_explore_keeps_unmutated_keys_and_applies_custom_explore_fn() -> None:
    new = explore({"lr": 0.1, "hidden": 32}, {"lr": [0.1, 0.2]}, np.random.default_rng(0), resample_probability=0.0,
                  perturbation_factors=(2.0,), custom_explore_fn=lambda c: {**c, "hidden": c["hidden"] * 2})
    assert new["hidden"] == 64 and new["lr"] in (0.1, 0.2)


def test_explore_rejects_a_custom_explore_fn_returning_no_dict() -> None:
    with pytest.raises(TypeError, match="custom_explore_fn"):
        explore({"lr": 0.1}, {}, np.random.default_rng(0), resample_probability=0.0, perturbation_factors=(1.2,),
                custom_explore_fn=lambda c: None)  # type: ignore[arg-type,return-value]


def test_explore_same_seed_same_result() -> None:
    mutations = {"lr": FloatDistribution(1e-4, 1.0, log=True), "bs": [16, 32, 64]}
    runs = [_explore({"lr": 0.01, "bs": 32}, mutations, 7, p=0.5) for _ in range(2)]
    assert runs[0] == runs[1]
