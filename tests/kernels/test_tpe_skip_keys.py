"""tpe_propose's skip_keys (pass over evaluated grid configurations) and tpe_grid_keys:
every backend against the NumPy reference, and the reference against its definition."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _reference_tpe_propose


@pytest.fixture
def bbackend(backend: ModuleType) -> ModuleType:
    if not hasattr(backend, "tpe_propose"):
        pytest.skip(f"{backend.BACKEND_NAME} has no tpe_propose; the dispatcher falls back")
    return backend


def _grid_history(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """An all-discrete history: int 0..9 (column 2), float 0..1 step 0.1 (column 0), log
    int 1..64 (column 4), categoricals of 3 (column 1) and 4 (column 3)."""
    X = np.column_stack([
        rng.integers(0, 11, n) * 0.1, rng.integers(0, 3, n), rng.integers(0, 10, n), rng.integers(0, 4, n),
        np.round(np.exp(rng.uniform(0.0, np.log(64.0), n))),
    ]).astype(np.float64)
    step = np.array([1.0, 0.1, 1.0])
    grid_low, grid_high = np.array([0.0, 0.0, 1.0]), np.array([9.0, 1.0, 64.0])
    is_log = np.array([False, False, True])
    low, high = grid_low - 0.5 * step, grid_high + 0.5 * step
    low[is_log], high[is_log] = np.log(low[is_log]), np.log(high[is_log])
    sizes = np.array([3, 4], dtype=np.intp)
    grid = np.array([10, 11, 64, 3, 4], dtype=np.uint64)
    return dict(X=X, cols=np.array([2, 0, 4, 1, 3]), low=low, high=high, is_log=is_log, step=step,
                grid_low=grid_low, grid_high=grid_high, offsets=np.array([0, 3], dtype=np.intp), sizes=sizes,
                strides=np.concatenate(([1], np.cumprod(grid)[:-1])).astype(np.uint64))


def _propose(module: Any, h: dict[str, Any], n_below: int, u: np.ndarray, *skip: Any,
             prior_weight: float = 1.0) -> np.ndarray:
    n = h["X"].shape[0]
    return module.tpe_propose(h["X"], np.arange(n), n_below, h["cols"], np.ones(n), u, h["low"], h["high"],
                              h["is_log"], h["step"], h["grid_low"], h["grid_high"], h["offsets"], h["sizes"],
                              prior_weight, False, True, *skip)


def _scored(h: dict[str, Any], n_below: int, u: np.ndarray, prior_weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The reference's candidates and their log l - log g."""
    n = h["X"].shape[0]
    T, C = _reference_tpe_propose._tpe_gather(h["X"], np.arange(n), h["cols"], h["is_log"], h["low"], h["high"], h["sizes"])
    good, bad = (_reference_tpe_propose._tpe_estimator(T[part], C[part], np.ones(n)[part], h["low"], h["high"], h["sizes"],
                                               h["offsets"], prior_weight, False, True)
                 for part in (slice(0, n_below), slice(n_below, n)))
    return _reference_tpe_propose._tpe_scored_candidates(u[:, 0], u[:, 1:4], u[:, 4:], good, bad, h["low"], h["high"],
                                                 h["is_log"], h["step"], h["grid_low"], h["grid_high"],
                                                 h["offsets"], h["sizes"])


@pytest.mark.parametrize("n_skipped", [0, 1, 2, 5, 23, 24])
@pytest.mark.parametrize(("n_rows", "n_below", "prior_weight"), [(40, 4, 1.0), (12, 2, 0.0), (1, 1, 1.0)])
def test_tpe_propose_skips_the_best_candidates_as_the_reference(
        bbackend: ModuleType, reference: ModuleType, assert_same: Any, n_skipped: int, n_rows: int, n_below: int,
        prior_weight: float, seed: int) -> None:
    # Skip the keys of the n best candidates (by the reference's values) plus every
    # observed configuration: the result is the best candidate left, or the plain
    # argmax when all 24 are skipped.
    rng = np.random.default_rng(seed)
    h = _grid_history(rng, n_rows)
    u = rng.random((24, 6))
    S, acq = _scored(h, n_below, u, prior_weight)
    keys = reference.tpe_grid_keys(S, h["grid_low"], h["step"], h["strides"])
    ranked = np.argsort(-acq, kind="stable")
    skipped = keys[ranked[:n_skipped]]
    if n_skipped == 24:
        skipped = keys
    observed = reference.tpe_grid_keys(h["X"][:, h["cols"]], h["grid_low"], h["step"], h["strides"])
    skip_keys = np.unique(np.concatenate((skipped, observed)))
    got = _propose(bbackend, h, n_below, u, skip_keys, h["strides"], prior_weight=prior_weight)
    expected = _propose(reference, h, n_below, u, skip_keys, h["strides"], prior_weight=prior_weight)
    assert_same(got, expected)
    left = ~np.isin(keys, skip_keys)
    if left.any():
        best = np.flatnonzero(left)[np.argmax(acq[left])]
        assert_same(expected, S[best])
        assert not np.isin(reference.tpe_grid_keys(got[None], h["grid_low"], h["step"], h["strides"]), skip_keys)[0]
    else:
        assert_same(expected, S[np.argmax(acq)])


def test_tpe_propose_without_skip_keys_is_bit_identical(bbackend: ModuleType, seed: int) -> None:
    # The default path: None, an empty array, and keys no candidate has all give exactly
    # the plain argmax.
    rng = np.random.default_rng(seed)
    h = _grid_history(rng, 30)
    for _ in range(20):
        u = rng.random((24, 6))
        plain = _propose(bbackend, h, 3, u)
        np.testing.assert_array_equal(_propose(bbackend, h, 3, u, None, None), plain)
        np.testing.assert_array_equal(_propose(bbackend, h, 3, u, np.empty(0, np.uint64), h["strides"]), plain)
        far = np.array([np.iinfo(np.uint64).max], dtype=np.uint64)  # beyond every exact key of this grid
        np.testing.assert_array_equal(_propose(bbackend, h, 3, u, far, h["strides"]), plain)


def test_tpe_propose_hashed_keys_match_reference(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                                 seed: int) -> None:
    # Strides that wrap modulo 2^64 (a hash, for grids too large for exact keys): every
    # backend computes the same keys as the reference.
    rng = np.random.default_rng(seed)
    h = _grid_history(rng, 60)
    h["strides"] = rng.integers(0, 2**63, 5, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    for _ in range(10):
        u = rng.random((24, 6))
        S, acq = _scored(h, 6, u)
        keys = reference.tpe_grid_keys(S, h["grid_low"], h["step"], h["strides"])
        skip_keys = np.unique(keys[np.argsort(-acq, kind="stable")[:3]])
        assert_same(_propose(bbackend, h, 6, u, skip_keys, h["strides"]),
                    _propose(reference, h, 6, u, skip_keys, h["strides"]))


def test_tpe_grid_keys_are_grid_indices() -> None:
    # Mixed-radix strides: one key per grid point (all 10 x 11 x 4 points of three
    # dimensions), a stepped float computed as 0.1 * 3 has the key of 0.3.
    step, grid_low = np.array([1.0, 0.1]), np.array([0.0, 0.0])
    strides = np.array([1, 10, 110], dtype=np.uint64)
    pts = np.array([(i, j * 0.1, c) for i in range(10) for j in range(11) for c in range(4)])
    keys = kernels.tpe_grid_keys(pts, grid_low, step, strides)
    assert keys.dtype == np.uint64 and len(np.unique(keys)) == len(pts) == keys.max() + 1
    a = kernels.tpe_grid_keys(np.array([[2.0, 0.1 * 3, 1.0]]), grid_low, step, strides)
    b = kernels.tpe_grid_keys(np.array([[2.0, 0.3, 1.0]]), grid_low, step, strides)
    assert 0.1 * 3 != 0.3 and a[0] == b[0] == 2 + 3 * 10 + 110


@pytest.mark.parametrize(("change", "match"), [
    (lambda a: a.update(skip_keys=np.array([2.0, 5.0])), "skip_keys"),
    (lambda a: a.update(key_strides=None), "key_strides"),
    (lambda a: a.update(key_strides=np.ones(4, dtype=np.uint64)), "key_strides"),
    (lambda a: a.update(step=np.array([1.0, 0.0, 1.0])), "step"),
])
def test_tpe_propose_dispatcher_checks_skip_keys(change: Any, match: str) -> None:
    h = _grid_history(np.random.default_rng(0), 10)
    args = dict(skip_keys=np.array([2, 5], dtype=np.uint64), key_strides=h["strides"], step=h["step"])
    change(args)
    with pytest.raises(ValueError, match=match):
        kernels.tpe_propose(h["X"], np.arange(10), 2, h["cols"], np.ones(10), np.full((4, 6), 0.5), h["low"],
                            h["high"], h["is_log"], args["step"], h["grid_low"], h["grid_high"], h["offsets"],
                            h["sizes"], 1.0, False, True, args["skip_keys"], args["key_strides"])
