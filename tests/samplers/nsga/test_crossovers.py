"""Crossovers and mutations: shapes, where children fall, argument checks; compared in
distribution with Optuna 5.0's operators where Optuna is installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hpo_core.samplers.nsgaii import (
    BLXAlphaCrossover,
    PolynomialMutation,
    SBXCrossover,
    SPXCrossover,
    UNDXCrossover,
    UniformCrossover,
    VSBXCrossover,
)

# Optuna marks its operators experimental; its warnings say nothing about ours.
pytestmark = pytest.mark.filterwarnings("ignore:.*is experimental")


class _StudyStub:
    def __init__(self, m: int):
        self.directions = ["minimize"] * m

    def _is_multi_objective(self) -> bool:  # Optuna's operators ask the study this
        return len(self.directions) > 1


def _study(m: Any) -> Any:
    """A stand-in for the study: the operators read only its directions."""
    return _StudyStub(m)


ALL: list[Any] = [UniformCrossover, BLXAlphaCrossover, SBXCrossover, VSBXCrossover, SPXCrossover, UNDXCrossover]
D = 5
BOUNDS = np.tile([0.0, 1.0], (D, 1))


def _parents(rng: np.random.RandomState, k: int) -> np.ndarray:
    return 0.25 + 0.5 * rng.rand(k, D)


@pytest.mark.parametrize("cls", ALL)
def test_crossover_returns_one_child_of_the_space_dimension(cls: Any, seed: int) -> None:
    c = cls()
    rng = np.random.RandomState(seed)
    child = c.crossover(_parents(rng, c.n_parents), rng, _study(2), BOUNDS)
    assert child.shape == (D,) and child.dtype == np.float64 and np.isfinite(child).all()
    assert str(c) == cls.__name__


def test_crossover_parent_counts() -> None:
    assert [cls.n_parents for cls in ALL] == [2, 2, 2, 2, 3, 3]


def test_uniform_crossover_takes_each_gene_from_a_parent(seed: int) -> None:
    rng = np.random.RandomState(seed)
    P = _parents(rng, 2)
    takes_second = []
    for _ in range(400):
        child = UniformCrossover(0.3).crossover(P, rng, _study(2), BOUNDS)
        assert np.all((child == P[0]) | (child == P[1]))
        takes_second.append(child == P[1])
    assert abs(np.mean(takes_second) - 0.7) < 0.05  # the second parent with 1 - swapping_prob
    assert np.all(UniformCrossover(1.0).crossover(P, rng, _study(2), BOUNDS) == P[0])


def test_blx_alpha_child_inside_the_widened_box(seed: int) -> None:
    rng = np.random.RandomState(seed)
    P = _parents(rng, 2)
    lo, hi = P.min(axis=0), P.max(axis=0)
    children = np.array([BLXAlphaCrossover(0.5).crossover(P, rng, _study(2), BOUNDS) for _ in range(500)])
    w = hi - lo
    assert np.all(children >= lo - 0.5 * w - 1e-12) and np.all(children <= hi + 0.5 * w + 1e-12)
    assert np.all(children.min(axis=0) < lo) and np.all(children.max(axis=0) > hi)  # it does widen
    children = np.array([BLXAlphaCrossover(0.0).crossover(P, rng, _study(2), BOUNDS) for _ in range(50)])
    assert np.all(children >= lo) and np.all(children <= hi)


@pytest.mark.parametrize("cls", [SBXCrossover, VSBXCrossover])
def test_sbx_children_concentrate_near_the_parents(cls: Any, seed: int) -> None:
    rng = np.random.RandomState(seed)
    P = _parents(rng, 2)
    children = np.array([cls(eta=20.0).crossover(P, rng, _study(2), BOUNDS) for _ in range(500)])
    # eta = 20: nearly every gene within the parents' spread of one of them.
    spread = np.abs(P[0] - P[1]) + 1e-9
    near = np.minimum(np.abs(children - P[0]), np.abs(children - P[1])) <= spread
    assert near.mean() > 0.95
    assert (children != P[0]).any() and (children != P[1]).any()


def test_sbx_stays_inside_the_bounds(seed: int) -> None:
    # Bounded SBX: children of parents inside the box stay inside it.
    rng = np.random.RandomState(seed)
    for _ in range(300):
        P = rng.rand(2, D)
        child = SBXCrossover(eta=2.0).crossover(P, rng, _study(1), BOUNDS)
        assert np.all(child >= -1e-9) and np.all(child <= 1 + 1e-9)


def test_sbx_default_eta_depends_on_the_number_of_objectives(seed: int) -> None:
    P = _parents(np.random.RandomState(seed), 2)

    def spread(m: int) -> float:
        rng = np.random.RandomState(seed)
        kids = np.array([SBXCrossover().crossover(P, rng, _study(m), BOUNDS) for _ in range(300)])
        return float(np.abs(kids - P.mean(axis=0)).mean())

    assert spread(1) > spread(2)  # eta 2 (one objective) spreads further than eta 20


def test_spx_children_centred_on_the_centroid(seed: int) -> None:
    rng = np.random.RandomState(seed)
    P = _parents(rng, 3)
    children = np.array([SPXCrossover().crossover(P, rng, _study(2), BOUNDS) for _ in range(3000)])
    assert np.abs(children.mean(axis=0) - P.mean(axis=0)).max() < 0.05
    # Inside the simplex expanded by epsilon around the centroid: in its affine hull.
    G = P.mean(axis=0)
    basis = np.linalg.qr((P[1:] - P[0]).T)[0]
    resid = (children - G) - (children - G) @ basis @ basis.T
    assert np.abs(resid).max() < 1e-9


def test_undx_children_around_the_midpoint(seed: int) -> None:
    rng = np.random.RandomState(seed)
    P = _parents(rng, 3)
    children = np.array([UNDXCrossover().crossover(P, rng, _study(2), BOUNDS) for _ in range(3000)])
    assert np.abs(children.mean(axis=0) - 0.5 * (P[0] + P[1])).max() < 0.03
    one_d = UNDXCrossover().crossover(np.array([[0.2], [0.6], [0.3]]), rng, _study(2), np.array([[0.0, 1.0]]))
    assert one_d.shape == (1,)


@pytest.mark.parametrize("cls", ALL)
def test_crossover_spread_matches_optuna(cls: Any, seed: int) -> None:
    optuna = pytest.importorskip("optuna")
    theirs = getattr(optuna.samplers.nsgaii, cls.__name__)
    P = _parents(np.random.RandomState(seed), cls.n_parents)
    stats = []
    for c in (cls(), theirs()):
        rng = np.random.RandomState(seed)
        kids = np.array([c.crossover(P, rng, _study(2), BOUNDS) for _ in range(2000)])
        stats.append((kids.mean(axis=0), kids.std(axis=0)))
    np.testing.assert_allclose(stats[0][0], stats[1][0], atol=0.03)
    np.testing.assert_allclose(stats[0][1], stats[1][1], atol=0.03, rtol=0.15)


def test_polynomial_mutation_inside_bounds_and_matches_optuna(seed: int) -> None:
    rng = np.random.RandomState(seed)
    m = PolynomialMutation(eta=5.0)
    out = np.array([m.mutation(0.9, rng, None, np.array([0.0, 1.0])) for _ in range(2000)])  # type: ignore[arg-type]
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.std() > 0.01
    assert m.mutation(0.3, rng, None, np.array([1.0, 1.0])) == 0.3  # type: ignore[arg-type]
    optuna = pytest.importorskip("optuna")
    theirs = optuna.samplers.nsgaii.PolynomialMutation(eta=5.0)
    rng = np.random.RandomState(seed)
    ref = np.array([theirs.mutation(0.9, rng, None, np.array([0.0, 1.0])) for _ in range(2000)])
    np.testing.assert_allclose(out, ref)  # same formula, same draws


@pytest.mark.parametrize(("factory", "name"), [
    (lambda: UniformCrossover(1.5), "swapping_prob"),
    (lambda: BLXAlphaCrossover(-0.1), "alpha"),
    (lambda: SBXCrossover(eta=-1.0), "eta"),
    (lambda: SBXCrossover(uniform_crossover_prob=2.0), "uniform_crossover_prob"),
    (lambda: VSBXCrossover(use_child_gene_prob=0.0), "use_child_gene_prob"),
    (lambda: SPXCrossover(epsilon=0.0), "epsilon"),
    (lambda: UNDXCrossover(sigma_xi=0.0), "sigma_xi"),
    (lambda: UNDXCrossover(sigma_eta=-1.0), "sigma_eta"),
    (lambda: PolynomialMutation(eta=-1.0), "eta"),
])
def test_operator_bad_arguments_name_them(factory: Any, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        factory()
