from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

Args = tuple[np.ndarray, np.ndarray, np.ndarray]


def _log_dirichlet(rng: np.random.Generator, k: int, c: int) -> np.ndarray:
    return np.log(rng.dirichlet(np.ones(c), size=k)) if k else np.empty((0, c))


def _case_typical(rng: np.random.Generator) -> Args:
    k, c = 30, 5
    lw = np.log(rng.dirichlet(np.ones(k)))
    return rng.integers(0, c, 40).astype(np.float64), lw, _log_dirichlet(rng, k, c)


def _case_zero_components(rng: np.random.Generator) -> Args:
    return np.array([0.0, 2.0]), np.empty(0), np.empty((0, 3))


def _case_one_component(rng: np.random.Generator) -> Args:
    return np.array([0.0, 1.0, 2.0, 2.0]), np.zeros(1), _log_dirichlet(rng, 1, 3)


def _case_one_category(rng: np.random.Generator) -> Args:
    return np.zeros(3), np.log([0.25, 0.75]), np.zeros((2, 1))


def _case_zero_observations(rng: np.random.Generator) -> Args:
    return np.empty(0), np.log([0.5, 0.5]), _log_dirichlet(rng, 2, 4)


def _case_identical(rng: np.random.Generator) -> Args:
    row = _log_dirichlet(rng, 1, 4)
    return np.full(5, 3.0), np.full(3, -np.log(3.0)), np.repeat(row, 3, axis=0)


def _case_zero_probabilities(rng: np.random.Generator) -> Args:
    with np.errstate(divide="ignore"):
        lp = np.log(np.array([[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]))
    return np.array([0.0, 1.0, 2.0]), np.log([0.4, 0.6]), lp


def _case_invalid_indices(rng: np.random.Generator) -> Args:
    # Outside [0, c) gives NaN; -0.5 and 2.5 truncate to valid indices 0 and 2.
    x = np.array([-1.0, 3.0, np.nan, np.inf, -0.5, 2.5, 1.0])
    return x, np.log([0.5, 0.5]), _log_dirichlet(rng, 2, 3)


CASES: dict[str, Callable[[np.random.Generator], Args]] = {
    name.removeprefix("_case_"): fn for name, fn in list(globals().items()) if name.startswith("_case_")
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_pdf_categorical_mixture_matches_reference(
    backend: ModuleType, reference: ModuleType, assert_same: Any, case: str, seed: int
) -> None:
    args = CASES[case](np.random.default_rng(seed))
    assert_same(backend.log_pdf_categorical_mixture(*args), reference.log_pdf_categorical_mixture(*args))


def test_log_pdf_categorical_mixture_reference_is_the_direct_formula(reference: ModuleType) -> None:
    x, lw, lp = CASES["typical"](np.random.default_rng(7))
    expected = np.log(np.exp(lw) @ np.exp(lp))[x.astype(int)]
    np.testing.assert_allclose(reference.log_pdf_categorical_mixture(x, lw, lp), expected, rtol=1e-12)


def test_log_pdf_categorical_mixture_sums_to_one(backend: ModuleType) -> None:
    _, lw, lp = CASES["typical"](np.random.default_rng(8))
    out = backend.log_pdf_categorical_mixture(np.arange(lp.shape[1], dtype=np.float64), lw, lp)
    assert np.exp(out).sum() == pytest.approx(1.0, abs=1e-12)
