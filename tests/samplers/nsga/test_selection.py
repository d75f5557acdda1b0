"""Elite population selection (survival) against Optuna 5.0's strategies on the same pools."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpo_core.samplers.nsga import _selection

optuna = pytest.importorskip("optuna")
from optuna.samplers._lazy_random_state import LazyRandomState  # noqa: E402
from optuna.samplers._nsgaiii._elite_population_selection_strategy import (  # noqa: E402
    NSGAIIIElitePopulationSelectionStrategy,
)
from optuna.samplers.nsgaii._elite_population_selection_strategy import (  # noqa: E402
    NSGAIIElitePopulationSelectionStrategy,
)


class _StudyStub:
    def __init__(self, directions: list[Any]):
        self.directions = directions


def _study(m: Any) -> Any:
    """A stand-in for the study: the operators read only its directions."""
    return _StudyStub(m)


def _pool(rng: np.random.Generator, n: int, m: int, *, ties: bool, constrained: bool
          ) -> tuple[np.ndarray, np.ndarray | None, list[Any]]:
    values = rng.integers(0, 5, (n, m)).astype(float) if ties else rng.normal(size=(n, m))
    C = None
    if constrained:
        C = rng.normal(size=(n, 2))
        C[rng.random(n) < 0.5] = -1.0  # half of them feasible
    trials = []
    for i in range(n):
        attrs = {} if C is None else {"constraints": C[i].tolist()}
        t = optuna.trial.create_trial(values=values[i].tolist(), params={}, distributions={}, system_attrs=attrs)
        t.number = i
        trials.append(t)
    penalty = None if C is None else np.maximum(C, 0.0).sum(axis=1)
    return values, penalty, trials


CASES = [(m, ties, constrained) for m in (2, 3) for ties in (False, True) for constrained in (False, True)]


@pytest.mark.parametrize(("m", "ties", "constrained"), CASES)
def test_select_nsga2_matches_optuna(m: int, ties: bool, constrained: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    directions = [optuna.study.StudyDirection.MINIMIZE] * m
    for pop in (5, 20, 37):
        values, penalty, trials = _pool(rng, 60, m, ties=ties, constrained=constrained)
        expected = [t.number for t in NSGAIIElitePopulationSelectionStrategy(population_size=pop)(
            _study(directions), list(trials))]
        got = _selection.select_nsga2(values, values, penalty, pop).tolist()
        assert got == expected


def test_select_nsga2_maximize_matches_optuna(seed: int) -> None:
    rng = np.random.default_rng(seed)
    D = optuna.study.StudyDirection
    directions = [D.MAXIMIZE, D.MINIMIZE]
    values, _, trials = _pool(rng, 50, 2, ties=False, constrained=False)
    expected = [t.number for t in NSGAIIElitePopulationSelectionStrategy(population_size=20)(
        _study(directions), list(trials))]
    loss = values * np.array([-1.0, 1.0])
    assert _selection.select_nsga2(loss, values, None, 20).tolist() == expected


@pytest.mark.parametrize(("m", "ties", "constrained"), CASES)
def test_select_nsga3_matches_optuna(m: int, ties: bool, constrained: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    directions = [optuna.study.StudyDirection.MINIMIZE] * m
    for pop in (5, 20, 37):
        values, penalty, trials = _pool(rng, 60, m, ties=ties, constrained=constrained)
        values = np.abs(values)  # a front in the positive orthant, as NSGA-III expects
        for t, v in zip(trials, values.tolist()):
            t.values = v
        ref = _selection.default_reference_points(m, 3)
        strategy = NSGAIIIElitePopulationSelectionStrategy(population_size=pop, rng=LazyRandomState(seed))
        expected = [t.number for t in strategy(_study(directions), list(trials))]
        got = _selection.select_nsga3(values, penalty, pop, ref, np.random.RandomState(seed)).tolist()
        assert sorted(got) == sorted(expected)
        assert got == expected


def test_default_reference_points_match_optuna() -> None:
    from optuna.samplers._nsgaiii._elite_population_selection_strategy import (
        _generate_default_reference_point,
    )

    for m, p in [(2, 3), (3, 3), (4, 2), (3, 1)]:
        np.testing.assert_array_equal(_selection.default_reference_points(m, p), _generate_default_reference_point(m, p))


def test_rank_puts_feasible_first_then_by_violation() -> None:
    loss = np.array([[0.0, 0.0], [1.0, 1.0], [-5.0, -5.0], [-9.0, -9.0]])
    penalty = np.array([0.0, 0.0, 1.0, 0.5])
    assert _selection.rank(loss, penalty).tolist() == [0, 1, 3, 2]
