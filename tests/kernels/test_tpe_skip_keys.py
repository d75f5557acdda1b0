"""tpe_propose's skip_keys and skip_rows (pass over evaluated grid configurations, given as
keys or as rows of X) and tpe_grid_keys: every backend against the NumPy reference, and
the reference against its definition."""

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
             prior_weight: float = 1.0, rows: np.ndarray | None = None, skip_rows: Any = None) -> np.ndarray:
    """The proposal from ``rows`` of the history (default: every row); ``skip_rows="rows"``
    passes the rows array itself as skip_rows."""
    rows = np.arange(h["X"].shape[0]) if rows is None else rows
    extra = {} if skip_rows is None else {"skip_rows": rows if isinstance(skip_rows, str) else skip_rows}
    return module.tpe_propose(h["X"], rows, n_below, h["cols"], np.ones(len(rows)), u, h["low"], h["high"],
                              h["is_log"], h["step"], h["grid_low"], h["grid_high"], h["offsets"], h["sizes"],
                              prior_weight, False, True, *skip, **extra)


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


@pytest.mark.parametrize("n_skipped", [0, 1, 5, 24])
def test_tpe_propose_plain_out_is_the_result_without_skipping(
        bbackend: ModuleType, assert_same: Any, n_skipped: int, seed: int) -> None:
    # plain_out receives the plain argmax beside the skipping choice (TPESampler records
    # the evaluated configuration it passed over, samplers/tpe/_repeats): the result of
    # the same call without skip arguments, whether the skipped configurations come as
    # keys or as rows, and whether or not any candidate is skipped.
    rng = np.random.default_rng(seed)
    h = _grid_history(rng, 40)
    u = rng.random((24, 6))
    S, acq = _scored(h, 4, u)
    keys = bbackend.tpe_grid_keys(S, h["grid_low"], h["step"], h["strides"]) if hasattr(bbackend, "tpe_grid_keys") \
        else _reference_tpe_propose.tpe_grid_keys(S, h["grid_low"], h["step"], h["strides"])
    skip_keys = np.unique(keys[np.argsort(-acq, kind="stable")[:n_skipped]])
    rows = np.arange(h["X"].shape[0])
    plain = _propose(bbackend, h, 4, u)
    assert_same(plain, S[np.argmax(acq)])
    args = (h["X"], rows, 4, h["cols"], np.ones(len(rows)), u, h["low"], h["high"], h["is_log"], h["step"],
            h["grid_low"], h["grid_high"], h["offsets"], h["sizes"], 1.0, False, True)
    for skip in ((skip_keys, h["strides"], None), (None, None, rows), (None, None, None)):
        out = np.full(5, np.nan)
        got = bbackend.tpe_propose(*args, *skip, plain_out=out)
        assert_same(out, plain)
        assert_same(got, _propose(bbackend, h, 4, u, *skip[:2], skip_rows=skip[2]))


def test_tpe_propose_dispatcher_checks_plain_out() -> None:
    rng = np.random.default_rng(0)
    h = _grid_history(rng, 10)
    rows = np.arange(10)
    args = (h["X"], rows, 2, h["cols"], np.ones(10), rng.random((24, 6)), h["low"], h["high"], h["is_log"],
            h["step"], h["grid_low"], h["grid_high"], h["offsets"], h["sizes"], 1.0, False, True)
    for bad in (np.empty(4), np.empty(5, dtype=np.float32), [0.0] * 5):
        with pytest.raises(ValueError, match="`plain_out` must be a writable contiguous float64 array of shape"):
            kernels.tpe_propose(*args, None, None, rows, bad)  # type: ignore[arg-type]


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


@pytest.mark.parametrize("n_skipped", [0, 1, 2, 5, 23, 24])
@pytest.mark.parametrize("as_rows", ["rows", "other", "with_keys"])
def test_tpe_propose_skip_rows_match_reference_and_keys(
        bbackend: ModuleType, reference: ModuleType, assert_same: Any, n_skipped: int, as_rows: str,
        seed: int) -> None:
    # The evaluated configurations given as rows of X instead of keys: the n best
    # candidates (by the reference's values) written into the history as rows, then
    # passed as skip_rows (the observations' own array, or other rows), alone or beside
    # keys of further candidates. Every backend equals the reference, and the reference
    # equals skip_keys of the same configurations.
    rng = np.random.default_rng(seed)
    h = _grid_history(rng, 30)
    u = rng.random((24, 6))
    S, acq = _scored(h, 3, u)
    ranked = np.argsort(-acq, kind="stable")
    chosen = S[ranked[:n_skipped] if n_skipped < 24 else np.arange(24)]
    X = np.full((30 + len(chosen) + 2, 5), np.nan)  # two rows that equal no candidate: NaN, off the grid
    X[:30] = h["X"]
    X[np.ix_(np.arange(30, 30 + len(chosen)), h["cols"])] = chosen
    X[-1] = h["X"][0]
    X[-1, h["cols"][0]] = 1e6
    hx = dict(h, X=np.asfortranarray(X))  # the history's layout
    rows = np.arange(30) if as_rows == "other" else np.arange(X.shape[0])
    rows = rows[~np.isnan(X[rows]).any(axis=1)]
    skip_rows: Any = "rows" if as_rows != "other" else np.arange(30, X.shape[0])
    keys: tuple[Any, ...] = ()
    if as_rows == "with_keys":  # the next two candidates as keys
        extra = S[ranked[n_skipped : n_skipped + 2]]
        keys = (np.unique(reference.tpe_grid_keys(extra, h["grid_low"], h["step"], h["strides"])), h["strides"])
    n_below = 3
    got = _propose(bbackend, hx, n_below, u, *keys, rows=rows, skip_rows=skip_rows)
    expected = _propose(reference, hx, n_below, u, *keys, rows=rows, skip_rows=skip_rows)
    assert_same(got, expected)
    # The same configurations as keys give the same proposal.
    skip_rows_arr = rows if isinstance(skip_rows, str) else skip_rows
    V = X[skip_rows_arr][:, h["cols"]]
    V = V[~np.isnan(V).any(axis=1) & (V[:, 0] < 1e6)]
    all_keys = reference.tpe_grid_keys(V, h["grid_low"], h["step"], h["strides"])
    if keys:
        all_keys = np.concatenate((all_keys, keys[0]))
    assert_same(expected, _propose(reference, hx, n_below, u, np.unique(all_keys), h["strides"], rows=rows))
    if n_skipped in (1, 2) and as_rows != "with_keys":
        assert not np.array_equal(expected, S[ranked[0]])  # the best candidate was skipped


def test_tpe_propose_skip_rows_compare_grid_indices(bbackend: ModuleType) -> None:
    # A row holding 0.1 * 3 where the candidate is 0.3 (or the reverse) is the same grid
    # point; an empty skip_rows is the plain argmax.
    rng = np.random.default_rng(5)
    h = _grid_history(rng, 20)
    u = rng.random((24, 6))
    plain = _propose(bbackend, h, 2, u)
    np.testing.assert_array_equal(_propose(bbackend, h, 2, u, skip_rows=np.empty(0, np.intp)), plain)
    X = np.vstack((h["X"], h["X"][:1]))
    X[-1, h["cols"]] = plain
    X[-1, h["cols"][1]] = round(plain[1] * 10) * 0.1 + (0.1 * 3 - 0.3)  # off by one ulp-ish, same index
    hx = dict(h, X=X)
    got = _propose(bbackend, hx, 2, u, rows=np.arange(20), skip_rows=np.array([20]))
    assert not np.array_equal(got, plain)


@pytest.mark.parametrize(("skip_rows", "step", "match"), [
    (np.array([0.0, 1.0]), None, "skip_rows"),
    (np.array([[0, 1]]), None, "skip_rows"),
    (np.array([0, 10]), None, "skip_rows"),
    (np.array([-1]), None, "skip_rows"),
    (np.array([0]), np.array([1.0, 0.0, 1.0]), "step"),
])
def test_tpe_propose_checks_skip_rows(skip_rows: np.ndarray, step: np.ndarray | None, match: str) -> None:
    # Through the dispatcher (kernels.tpe_propose: its checks, then the backend's bounds).
    h = _grid_history(np.random.default_rng(0), 10)
    with pytest.raises(ValueError, match=match):
        kernels.tpe_propose(h["X"], np.arange(10), 2, h["cols"], np.ones(10), np.full((4, 6), 0.5), h["low"],
                            h["high"], h["is_log"], h["step"] if step is None else step, h["grid_low"],
                            h["grid_high"], h["offsets"], h["sizes"], 1.0, False, True, skip_rows=skip_rows)


@pytest.mark.parametrize("name", ["numpy", "numba", "cext"])
def test_tpe_propose_backends_check_skip_rows_bounds(name: str) -> None:
    if name not in kernels.available_backends():
        pytest.skip(f"{name} is not available here")
    h = _grid_history(np.random.default_rng(0), 10)
    with pytest.raises(ValueError, match="skip_rows"):
        _propose(kernels.get_backend(name), h, 2, np.full((4, 6), 0.5), skip_rows=np.array([3, 10]))


def test_tpe_propose_skip_rows_off_centre_values(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                                 seed: int) -> None:
    # Rows whose values lie up to 0.45 steps from their grid point, and a grid whose
    # upper bound is off the grid (candidates clipped to it): the backends' shortcut for
    # rows far from a candidate (more than 1.5 steps) never misses one with its grid
    # index, as the reference's and skip_keys' comparisons say.
    rng = np.random.default_rng(seed)
    n = 40
    idx = np.column_stack([rng.integers(0, 4, n), rng.integers(0, 4, n), rng.integers(0, 3, n)])
    X = np.column_stack([(idx[:, 0] + rng.uniform(-0.45, 0.45, n)) * 0.3, idx[:, 1] + rng.uniform(-0.45, 0.45, n),
                         idx[:, 2]]).astype(np.float64)
    step, grid_low, grid_high = np.array([0.3, 1.0]), np.array([0.0, 0.0]), np.array([1.0, 3.4])
    low, high = grid_low - 0.5 * step, grid_high + 0.5 * step
    strides = np.array([1, 4, 16], dtype=np.uint64)
    h = dict(X=X, cols=np.array([0, 1, 2]), low=low, high=high, is_log=np.array([False, False]), step=step,
             grid_low=grid_low, grid_high=grid_high, offsets=np.array([0], dtype=np.intp),
             sizes=np.array([3], dtype=np.intp), strides=strides)
    keys = np.unique(reference.tpe_grid_keys(X, grid_low, step, strides))
    for _ in range(10):
        u = rng.random((24, 4))
        expected = _propose(reference, h, 4, u, skip_rows="rows")
        assert_same(_propose(bbackend, h, 4, u, skip_rows="rows"), expected)
        assert_same(_propose(reference, h, 4, u, keys, strides), expected)


def test_tpe_propose_skip_rows_all_categorical(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                               seed: int) -> None:
    # No numeric dimension: the rows are compared by category index alone.
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 3, 8), rng.integers(0, 4, 8)]).astype(np.float64)
    empty = np.empty(0)
    h = dict(X=X, cols=np.array([0, 1]), low=empty, high=empty, is_log=np.empty(0, dtype=bool), step=empty,
             grid_low=empty, grid_high=empty, offsets=np.array([0, 3], dtype=np.intp),
             sizes=np.array([3, 4], dtype=np.intp))
    strides = np.array([1, 3], dtype=np.uint64)
    keys = np.unique(reference.tpe_grid_keys(X, empty, empty, strides))
    for _ in range(10):
        u = rng.random((24, 3))
        expected = _propose(reference, h, 2, u, skip_rows="rows")
        assert_same(_propose(bbackend, h, 2, u, skip_rows="rows"), expected)
        assert_same(_propose(reference, h, 2, u, keys, strides), expected)
