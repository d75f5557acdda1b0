from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

from hpo_core import kernels


@pytest.fixture
def backend(backend: ModuleType) -> ModuleType:
    if not hasattr(backend, "crowding_distance"):
        pytest.skip(f"{backend.BACKEND_NAME} has no crowding_distance; the dispatcher falls back")
    return backend


def _values(rng: np.random.Generator, n: int, m: int, *, ties: bool) -> np.ndarray:
    if ties:
        return rng.integers(0, 4, (n, m)).astype(np.float64)
    return rng.normal(size=(n, m))


@pytest.mark.parametrize("m", [1, 2, 3, 5])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 40])
@pytest.mark.parametrize("ties", [True, False], ids=["ties", "continuous"])
def test_crowding_distance_matches_reference(backend: ModuleType, reference: ModuleType, assert_same: Any,
                                             n: int, m: int, ties: bool, seed: int) -> None:
    values = _values(np.random.default_rng(seed), n, m, ties=ties)
    assert_same(backend.crowding_distance(values), reference.crowding_distance(values))


def test_crowding_distance_infinities_and_equal_points(backend: ModuleType, reference: ModuleType,
                                                       assert_same: Any) -> None:
    inf = np.inf
    cases = [
        np.array([[inf, 0.0], [inf, 1.0], [0.0, 2.0], [-inf, 3.0]]),
        np.array([[-inf], [-inf], [inf], [inf]]),
        np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
        np.array([[0.0, inf], [1.0, inf], [2.0, -inf]]),
        np.full((3, 2), inf),
    ]
    for values in cases:
        assert_same(backend.crowding_distance(values), reference.crowding_distance(values))


def test_crowding_distance_extremes_are_infinite(backend: ModuleType) -> None:
    values = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.25, 0.75]])
    d = backend.crowding_distance(values)
    assert np.isposinf(d[[0, 2]]).all()
    # Interior points: (next - prev) / width summed over both objectives.
    np.testing.assert_allclose(d[1], (1.0 - 0.25) + (1.0 - 0.25))
    np.testing.assert_allclose(d[3], 0.5 + 0.5)


def test_crowding_distance_rejects_bad_shape() -> None:
    with pytest.raises(ValueError, match="values"):
        kernels.crowding_distance(np.zeros(3))


@pytest.mark.parametrize("ties", [True, False], ids=["ties", "continuous"])
def test_crowding_distance_reference_matches_optuna(reference: ModuleType, ties: bool, seed: int) -> None:
    optuna = pytest.importorskip("optuna")
    from optuna.samplers.nsgaii._elite_population_selection_strategy import _calc_crowding_distance

    rng = np.random.default_rng(seed)
    for m in (1, 2, 3):
        values = _values(rng, 30, m, ties=ties)
        values[0, 0] = np.inf
        trials = [optuna.trial.create_trial(values=list(v), params={}, distributions={}) for v in values]
        for i, t in enumerate(trials):
            t.number = i
        expected = _calc_crowding_distance(list(trials))
        np.testing.assert_allclose(reference.crowding_distance(values), [expected[i] for i in range(30)],
                                   rtol=1e-12)
