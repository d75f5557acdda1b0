"""hpo_core.search_space against Optuna 5.0's on the same trials."""

from __future__ import annotations

import json

import pytest

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.search_space import IntersectionSearchSpace, intersection_search_space
from hpo_core.trial import TrialState, create_trial

X, X2, N, C = FloatDistribution(0, 1), FloatDistribution(0, 2), IntDistribution(1, 5), CategoricalDistribution(["a", "b"])

TRIALS = [  # (state, params): x changes its range in the PRUNED trial; n is missing from one
    (TrialState.COMPLETE, {"x": (0.5, X), "n": (2, N), "c": ("a", C)}),
    (TrialState.COMPLETE, {"x": (0.1, X), "n": (3, N), "c": ("b", C)}),
    (TrialState.PRUNED, {"x": (1.5, X2), "n": (1, N), "c": ("a", C)}),
    (TrialState.FAIL, {"c": ("a", C)}),
    (TrialState.COMPLETE, {"x": (0.9, X), "c": ("b", C)}),
]


def _add(lib, study) -> None:
    for state, params in TRIALS:
        study.add_trial(lib.trial.create_trial(
            state=state, value=1.0 if state == TrialState.COMPLETE else None,
            params={k: v for k, (v, _) in params.items()},
            distributions={k: _as(lib, d) for k, (_, d) in params.items()},
        ))


def _as(lib, d):
    if lib is hpo_core:
        return d
    return lib.distributions.json_to_distribution(hpo_core.distributions.distribution_to_json(d))


@pytest.mark.parametrize("include_pruned", [False, True])
def test_intersection_of_a_study(include_pruned: bool) -> None:
    study = hpo_core.create_study()
    _add(hpo_core, study)
    got = IntersectionSearchSpace(include_pruned=include_pruned).calculate(study)
    assert got == ({"c": C} if include_pruned else {"c": C, "x": X})
    assert list(got) == sorted(got)
    assert intersection_search_space(study.trials, include_pruned=include_pruned) == got


@pytest.mark.parametrize("include_pruned", [False, True])
def test_matches_optuna(include_pruned: bool) -> None:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its search space is the reference")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs, ours = optuna.create_study(), hpo_core.create_study()
    _add(optuna, theirs)
    _add(hpo_core, ours)
    want = optuna.search_space.IntersectionSearchSpace(include_pruned=include_pruned).calculate(theirs)
    got = IntersectionSearchSpace(include_pruned=include_pruned).calculate(ours)
    ours_json, theirs_json = hpo_core.distributions.distribution_to_json, optuna.distributions.distribution_to_json
    assert {k: json.loads(ours_json(v)) for k, v in got.items()} == {
        k: json.loads(theirs_json(v)) for k, v in want.items()}
    assert list(got) == list(want)


def test_one_study_per_object_and_bad_arguments() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    space = IntersectionSearchSpace()
    space.calculate(hpo_core.create_study(storage=storage))
    with pytest.raises(ValueError, match="multiple studies"):
        space.calculate(hpo_core.create_study(storage=storage))
    with pytest.raises(TypeError, match="include_pruned"):
        IntersectionSearchSpace(include_pruned=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="trials"):
        intersection_search_space([object()])  # type: ignore[list-item]
    assert create_trial  # the module's public names import
