"""parzen_bandwidths, categorical_kernel_table and tpe_propose (TPE's estimators and
the fused proposal built on them), the dispatcher's checks of tpe_propose, and the
signatures of all TPE kernels: backends vs reference vs by hand. The mixtures themselves:
test_product_mixture.py; the pbackend and bbackend fixtures: conftest.py."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

from hpo_core import kernels
from hpo_core.kernels import _reference_tpe_propose


@pytest.mark.parametrize("n", [0, 1, 2, 3, 50])
@pytest.mark.parametrize("endpoints", [True, False])
@pytest.mark.parametrize("clip", [True, False])
def test_parzen_bandwidths_matches_reference(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                             n: int, endpoints: bool, clip: bool) -> None:
    rng = np.random.default_rng(n)
    low, high = np.array([0.0, -3.0, 1.0]), np.array([1.0, 5.0, 2.0])
    T = low + rng.random((n, 3)) * (high - low)
    if n >= 3:
        T[1] = T[0]  # identical points: a zero gap, clipped up
    assert_same(bbackend.parzen_bandwidths(T, low, high, endpoints, clip),
                reference.parzen_bandwidths(T, low, high, endpoints, clip))


@pytest.mark.parametrize("n", [255, 256, 1500])
def test_parzen_bandwidths_large_n_ties_and_signed_zeros(bbackend: ModuleType, reference: ModuleType,
                                                        n: int) -> None:
    # Large n takes the C++ radix-sort path: the order of tied values (rounded columns,
    # -0.0 next to 0.0) must be the stable one of the reference, bit for bit.
    rng = np.random.default_rng(n)
    low, high = np.array([0.0, 0.0, -0.5]), np.array([1.0, 1.0, 0.5])
    T = rng.random((n, 3))
    T[:, 1] = np.round(T[:, 1] * 10) / 10
    T[:, 2] -= 0.5
    T[:6, 2] = [-0.0, 0.0, -0.0, 0.0, 0.0, -0.0]
    for endpoints in (True, False):
        got = bbackend.parzen_bandwidths(T, low, high, endpoints, True)
        assert np.array_equal(got, reference.parzen_bandwidths(T, low, high, endpoints, True))


def test_parzen_bandwidths_reference_by_hand(reference: ModuleType) -> None:
    T = np.array([[0.5], [0.1], [0.2]])
    got = reference.parzen_bandwidths(T, np.zeros(1), np.ones(1), True, False)
    # sorted 0.1, 0.2, 0.5 with bounds 0 and 1: max(0.1, 0.1), max(0.1, 0.3), max(0.3, 0.5)
    np.testing.assert_allclose(got[:, 0], [0.5, 0.1, 0.3])
    got = reference.parzen_bandwidths(T, np.zeros(1), np.ones(1), False, True)
    # without endpoints the extremes use the inner gap; floor 1 / min(100, 5) = 0.2
    np.testing.assert_allclose(got[:, 0], [0.3, 0.2, 0.3])


@pytest.mark.parametrize("prior_weight", [1.5, 0.0])
@pytest.mark.parametrize("n", [0, 1, 6])
def test_categorical_kernel_table_matches_reference(bbackend: ModuleType, reference: ModuleType,
                                                    assert_same: Any, n: int, prior_weight: float) -> None:
    rng = np.random.default_rng(n)
    sizes = np.array([3, 1, 4], dtype=np.intp)
    offsets = np.array([0, 3, 4], dtype=np.intp)
    C = np.stack([rng.integers(0, c, n) for c in sizes], axis=1).astype(float)
    got = bbackend.categorical_kernel_table(C, sizes, offsets, prior_weight)
    assert_same(got, reference.categorical_kernel_table(C, sizes, offsets, prior_weight))
    for t, off in enumerate(offsets):
        np.testing.assert_allclose(got[:, off : off + sizes[t]].sum(axis=1), 1.0)
    np.testing.assert_allclose(got[n], np.repeat(1.0 / sizes, sizes))  # the prior row: uniform


def test_categorical_kernel_table_without_prior_is_one_hot(reference: ModuleType) -> None:
    P = reference.categorical_kernel_table(np.array([[1.0], [0.0]]), np.array([3]), np.array([0]), 0.0)
    np.testing.assert_array_equal(P, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_categorical_kernel_table_reference_by_hand(reference: ModuleType) -> None:
    P = reference.categorical_kernel_table(np.array([[1.0]]), np.array([2]), np.array([0]), 1.0)
    # k = 2 kernels: the observation gets 1 + 1/2 on category 1 and 1/2 elsewhere.
    np.testing.assert_allclose(P, [[0.25, 0.75], [0.5, 0.5]])


TPE_KERNELS = ["log_pdf_product_mixture", "sample_product_mixture", "parzen_bandwidths",
               "categorical_kernel_table", "tpe_best_candidate", "tpe_propose"]


def _history(rng: np.random.Generator, n: int, order: str = "F") -> dict[str, Any]:
    """A history matrix and the arguments of tpe_propose for its 5 columns: float in
    [-1, 2], log float in [1e-3, 1] (column 3), int 0..10 (column 0), categoricals of
    sizes 3 and 4; a spare column (2) the space does not use."""
    X = np.empty((n + 3, 6), order=order)  # more rows than used, like the history's capacity
    X[:, 0] = rng.integers(0, 11, n + 3)
    X[:, 1] = rng.uniform(-1.0, 2.0, n + 3)
    X[:, 2] = np.nan
    X[:, 3] = np.exp(rng.uniform(np.log(1e-3), 0.0, n + 3))
    X[:, 4] = rng.integers(0, 3, n + 3)
    X[:, 5] = rng.integers(0, 4, n + 3)
    return dict(
        X=X, cols=np.array([1, 3, 0, 4, 5]), low=np.array([-1.0, np.log(1e-3), -0.5]),
        high=np.array([2.0, 0.0, 10.5]), is_log=np.array([False, True, False]), step=np.array([0.0, 0.0, 1.0]),
        grid_low=np.array([-1.0, 1e-3, 0.0]), grid_high=np.array([2.0, 1.0, 10.0]),
        offsets=np.array([0, 3], dtype=np.intp), sizes=np.array([3, 4], dtype=np.intp),
    )


def _propose(module: ModuleType, h: dict[str, Any], rows: np.ndarray, n_below: int, weights: np.ndarray,
             u: np.ndarray, **options: Any) -> np.ndarray:
    opts = dict(prior_weight=1.0, consider_endpoints=False, magic_clip=True) | options
    extra = {"clip_count": opts["clip_count"]} if "clip_count" in opts else {}
    return module.tpe_propose(h["X"], rows, n_below, h["cols"], weights, u, h["low"], h["high"], h["is_log"],
                              h["step"], h["grid_low"], h["grid_high"], h["offsets"], h["sizes"],
                              opts["prior_weight"], opts["consider_endpoints"], opts["magic_clip"], **extra)


@pytest.mark.parametrize(("n_rows", "n_below", "order", "options"), [
    (30, 5, "F", {}),
    (30, 5, "C", {}),
    (12, 0, "F", {}),  # no good observation: l is the prior alone
    (6, 6, "F", {}),  # no bad observation: g is the prior alone
    (1, 1, "F", {}),
    (25, 3, "F", {"prior_weight": 0.3, "consider_endpoints": True, "magic_clip": False}),
    (25, 3, "F", {"prior_weight": 0.0}),  # no prior: zero weights and category probabilities
    (6, 6, "F", {"prior_weight": 0.0}),  # ... but g is the prior alone
    (30, 5, "F", {"clip_count": 30}),  # the floor counted from every observation
    (30, 5, "C", {"clip_count": 250}),  # beyond 98: the floor at range / 100
    (12, 0, "F", {"clip_count": 12}),
    (25, 3, "F", {"clip_count": 25, "magic_clip": False}),  # no floor: nothing to count
])
def test_tpe_propose_matches_reference(bbackend: ModuleType, reference: ModuleType, assert_same: Any,
                                       n_rows: int, n_below: int, order: str, options: dict[str, Any],
                                       seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = _history(rng, n_rows, order)
    rows = rng.permutation(n_rows + 3)[:n_rows]
    weights = rng.uniform(0.1, 1.0, n_rows)
    u = rng.random((24, 6))
    got = _propose(bbackend, h, rows, n_below, weights, u, **options)
    assert_same(got, _propose(reference, h, rows, n_below, weights, u, **options))
    assert np.all((got[:3] >= h["grid_low"]) & (got[:3] <= h["grid_high"]))
    assert got[2] == round(got[2]) and got[3] in (0, 1, 2) and got[4] in (0, 1, 2, 3)


def test_tpe_estimator_clip_count_floors_continuous_dimensions_only(reference: ModuleType) -> None:
    """With ``clip_count`` the clip floor of the continuous dimensions counts that many
    observations (range / min(100, c + 2)); a stepped dimension keeps its group's floor."""
    from hpo_core.kernels._reference_tpe_propose import _tpe_estimator

    T = np.array([[0.50, 5.0], [0.501, 5.0], [0.502, 6.0]])  # close together: the floors bind
    low, high, step = np.array([0.0, -0.5]), np.array([1.0, 10.5]), np.array([0.0, 1.0])
    args = (T, np.empty((3, 0)), np.ones(3), low, high, np.zeros(0, np.intp), np.zeros(0, np.intp), 1.0, False, True)
    plain = _tpe_estimator(*args)[1][:3]
    assert np.allclose(plain[:, 0], 1.0 / 5.0)  # range / (3 + 2)
    for count in (3, 2, 0):  # not above the group's size: Optuna's floor
        assert np.array_equal(_tpe_estimator(*args, count, step)[1][:3], plain)
    for count, floor in ((40, 1.0 / 42.0), (500, 1.0 / 100.0)):
        sig = _tpe_estimator(*args, count, step)[1]
        assert np.allclose(sig[:3, 0], floor)  # the gaps (0.001) are below it
        assert np.array_equal(sig[:3, 1], plain[:, 1])  # the grid dimension: unchanged
        assert np.array_equal(sig[3], high - low)  # the prior component: unchanged


def test_tpe_propose_clip_count_zero_is_the_default_and_bad_counts_are_refused(bbackend: ModuleType) -> None:
    rng = np.random.default_rng(3)
    h = _history(rng, 30)
    rows, weights, u = rng.permutation(33)[:30], rng.uniform(0.1, 1.0, 30), rng.random((24, 6))
    assert np.array_equal(_propose(bbackend, h, rows, 5, weights, u, clip_count=0),
                          _propose(bbackend, h, rows, 5, weights, u))
    with pytest.raises(ValueError, match="clip_count"):
        _propose(kernels, h, rows, 5, weights, u, clip_count=-1)
    with pytest.raises(ValueError, match="clip_count.*an int >= 0.*1.5"):
        _propose(kernels, h, rows, 5, weights, u, clip_count=1.5)


def test_cext_tpe_propose_converts_other_dtypes_and_layouts() -> None:
    """The C++ wrapper passes arrays of the binding's types as they are and converts any
    other (int32 indices, int flags, lists, Fortran-order uniforms, a float32 history):
    the same proposal, and the same in ``plain_out``, with and without skipping rows."""
    try:
        _cext = kernels.get_backend("cext")
    except ImportError as e:
        pytest.skip(f"C++ extension not available: {e}")
    rng = np.random.default_rng(5)
    h = _history(rng, 30)
    h["X"][:, [1, 3]] = h["X"][:, [1, 3]].astype(np.float32)  # values a float32 copy keeps exactly
    rows, weights, u = rng.permutation(33)[:30], rng.uniform(0.1, 1.0, 30), rng.random((24, 6))
    want = _propose(_cext, h, rows, 5, weights, u)
    other = dict(h, X=h["X"].astype(np.float32), cols=h["cols"].astype(np.int32), low=list(h["low"]),
                 is_log=h["is_log"].astype(np.int8), offsets=h["offsets"].astype(np.int32))
    assert np.array_equal(_propose(_cext, other, rows.astype(np.int32), 5, weights, np.asfortranarray(u)), want)
    args = (h["X"], rows, 5, h["cols"], weights, u, h["low"], h["high"], h["is_log"], h["step"], h["grid_low"],
            h["grid_high"], h["offsets"], h["sizes"], 1.0, False, True)
    plain, plain2 = np.empty(5), np.empty(5)
    assert np.array_equal(_cext.tpe_propose(*args, plain_out=plain), want)
    args2 = (other["X"], rows.astype(np.int32), *args[2:])
    assert np.array_equal(_cext.tpe_propose(*args2, plain_out=plain2), want)
    assert np.array_equal(plain, want) and np.array_equal(plain2, want)
    # Skipping the evaluated rows (an all-discrete space: the int column and the categoricals).
    disc = (h["X"], rows, 5, np.array([0, 4, 5]), weights, rng.random((24, 4)), np.array([-0.5]), np.array([10.5]),
            np.array([False]), np.array([1.0]), np.array([0.0]), np.array([10.0]), h["offsets"], h["sizes"],
            1.0, False, True)
    p1, p2 = np.empty(3), np.empty(3)
    got = _cext.tpe_propose(*disc, skip_rows=rows, plain_out=p1)
    disc2 = (other["X"], rows.astype(np.int32), 5, [0, 4, 5], *disc[4:8], np.array([0]), *disc[9:12],
             h["offsets"].astype(np.int32), *disc[13:])
    assert np.array_equal(_cext.tpe_propose(*disc2, skip_rows=rows.astype(np.int32), plain_out=p2), got)
    assert np.array_equal(p1, p2)


def _mixed_history(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """A history of the 10-parameter mixed space of benchmarks/overhead_tpe.py: float in
    [-5, 5], log float [1e-5, 1], float step 0.05 in [0, 1], int 0..100, log int 1..1024,
    int 0..100 step 5, categoricals of 3 and 10, two floats in [0, 1]."""
    X = np.column_stack([
        rng.uniform(-5, 5, n), np.exp(rng.uniform(np.log(1e-5), 0, n)), np.round(rng.uniform(0, 20, n)) * 0.05,
        rng.integers(0, 101, n), np.round(np.exp(rng.uniform(np.log(0.5), np.log(1024.5), n))).clip(1, 1024),
        rng.integers(0, 21, n) * 5, rng.random(n), rng.random(n), rng.integers(0, 3, n), rng.integers(0, 10, n),
    ])
    is_log = np.array([False, True, False, False, True, False, False, False])
    step = np.array([0.0, 0.0, 0.05, 1.0, 1.0, 5.0, 0.0, 0.0])
    grid_low = np.array([-5, 1e-5, 0, 0, 1, 0, 0, 0.0])
    grid_high = np.array([5, 1, 1, 100, 1024, 100, 1, 1.0])
    low, high = grid_low - 0.5 * step, grid_high + 0.5 * step
    low[is_log], high[is_log] = np.log(low[is_log]), np.log(high[is_log])
    return dict(X=X, cols=np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), low=low, high=high, is_log=is_log, step=step,
                grid_low=grid_low, grid_high=grid_high, offsets=np.array([0, 3], dtype=np.intp),
                sizes=np.array([3, 10], dtype=np.intp))


@pytest.mark.parametrize(("n_rows", "n_below", "n_candidates", "ranked"), [
    (40, 4, 256, True),
    (300, 25, 256, True),
    (300, 25, 256, False),  # rows in random order: l and g alike, the bounds decide little
    (1500, 25, 512, True),
    (1500, 25, 64, False),
    (200, 0, 256, True),  # l is the prior alone
    (9, 9, 256, True),  # g is the prior alone
])
def test_tpe_propose_many_candidates_matches_reference(bbackend: ModuleType, reference: ModuleType,
                                                       assert_same: Any, n_rows: int, n_below: int,
                                                       n_candidates: int, ranked: bool, seed: int) -> None:
    # The compiled backends compute g fully only at the candidates whose bound can win;
    # the reference evaluates every candidate. On TPE's own estimators and with hundreds
    # of candidates, the proposal has the largest value, and is the reference's unless
    # several candidates tie within rounding (where g is its prior alone, log l - log g
    # is flat: (200, 0) below).
    rng = np.random.default_rng(100 + seed)
    h = _mixed_history(rng, n_rows)
    X = h["X"]
    loss = (X[:, 0] - 1.0) ** 2 + np.log10(X[:, 1]) ** 2 + 0.01 * np.abs(X[:, 3] - 30) + (X[:, 8] != 2)
    rows = np.argsort(loss, kind="stable") if ranked else rng.permutation(n_rows)
    weights = np.concatenate((np.ones(n_below), rng.uniform(0.2, 1.0, n_rows - n_below)))
    u = rng.random((n_candidates, 11))
    got = _propose(bbackend, h, rows, n_below, weights, u)
    expected = _propose(reference, h, rows, n_below, weights, u)
    # Every candidate's value log l - log g, by the reference.
    T, C = _reference_tpe_propose._tpe_gather(X, rows, h["cols"], h["is_log"], h["low"], h["high"], h["sizes"])
    good, bad = (_reference_tpe_propose._tpe_estimator(T[part], C[part], weights[part], h["low"], h["high"], h["sizes"],
                                          h["offsets"], 1.0, False, True)
                 for part in (slice(0, n_below), slice(n_below, n_rows)))
    S = _reference_tpe_propose._tpe_candidates(u[:, 0], u[:, 1:9], u[:, 9:], good, h["low"], h["high"], h["is_log"], h["step"],
                                  h["grid_low"], h["grid_high"], h["offsets"], h["sizes"])
    XL, XH = S[:, :8] - 0.5 * h["step"], S[:, :8] + 0.5 * h["step"]
    XL[:, h["is_log"]], XH[:, h["is_log"]] = np.log(XL[:, h["is_log"]]), np.log(XH[:, h["is_log"]])
    acq = np.subtract(*(reference.log_pdf_product_mixture(XL, XH, h["step"] > 0, S[:, 8:], m[0], m[1], np.log(m[2]),
                                                          h["low"], h["high"], np.log(m[3]), h["offsets"])
                        for m in (good, bad)))
    chosen = np.flatnonzero(np.isclose(S, got, rtol=1e-9, atol=1e-12).all(axis=1))  # sampled to rounding
    assert len(chosen) and np.isclose(acq[chosen].max(), acq.max(), rtol=1e-9, atol=0)
    top2 = np.sort(acq)[-2:]
    if top2[1] - top2[0] > 1e-9 * max(1.0, abs(top2[1])):  # no tie within rounding: the same point
        assert_same(got, expected)


def test_tpe_propose_is_tpe_best_candidate_of_the_estimators(reference: ModuleType, assert_same: Any) -> None:
    # The reference by hand: both estimators written out (prior row last, weights
    # normalised with the prior weight, log for the log column) give the same proposal.
    rng = np.random.default_rng(7)
    h = _history(rng, 20)
    rows = np.arange(20)
    weights = rng.uniform(0.5, 1.0, 20)
    u = rng.random((8, 6))
    G = h["X"][rows[:, None], h["cols"]]
    T = G[:, :3].copy()
    T[:, 1] = np.log(T[:, 1])
    C = G[:, 3:]
    mixtures = []
    for part in (slice(0, 4), slice(4, 20)):
        n = len(T[part])
        mus = np.vstack((T[part], 0.5 * (h["low"] + h["high"])))
        sig = np.vstack((reference.parzen_bandwidths(T[part], h["low"], h["high"], False, True), h["high"] - h["low"]))
        w = np.append(weights[part], 1.0)
        mixtures.append((mus, sig, w / w.sum(), reference.categorical_kernel_table(C[part], h["sizes"], h["offsets"], 1.0)))
        assert len(mus) == n + 1
    expected = reference.tpe_best_candidate(u[:, 0], u[:, 1:4], u[:, 4:], mixtures[0], mixtures[1], h["low"],
                                            h["high"], h["is_log"], h["step"], h["grid_low"], h["grid_high"],
                                            h["offsets"], h["sizes"])
    assert_same(_propose(reference, h, rows, 4, weights, u), expected)


def test_tpe_propose_clips_values_from_a_wider_range(bbackend: ModuleType, reference: ModuleType,
                                                      assert_same: Any) -> None:
    # A value drawn under an older, wider range is clipped into the bounds before the
    # estimators are built (the same proposal as with the clipped value).
    rng = np.random.default_rng(11)
    h = _history(rng, 10)
    rows, weights, u = np.arange(10), np.ones(10), rng.random((24, 6))
    clipped = _propose(bbackend, h, rows, 2, weights, u)
    h["X"][0, 1], h["X"][1, 1] = 2.0, -1.0
    expected = _propose(bbackend, h, rows, 2, weights, u)
    h["X"][0, 1], h["X"][1, 1] = 7.0, -9.0
    assert_same(_propose(bbackend, h, rows, 2, weights, u), expected)
    assert_same(expected, _propose(reference, h, rows, 2, weights, u))
    assert clipped.shape == (5,)


@pytest.mark.parametrize(("where", "value", "match"), [
    ("category", 3.0, "category indices"),
    ("category", 1.5, "category indices"),
    ("category", np.nan, "category indices"),
    ("row", 99, "rows"),
    ("row", -1, "rows"),
    ("col", 6, "cols"),
])
def test_tpe_propose_rejects_bad_input(backend: ModuleType, where: str, value: float, match: str) -> None:
    # Every backend (the dispatcher's fallback included) checks what its compiled code
    # would otherwise read out of bounds.
    rng = np.random.default_rng(2)
    h = _history(rng, 8)
    rows = np.arange(8)
    if where == "category":
        h["X"][3, 4] = value
    elif where == "row":
        rows[2] = int(value)
    else:
        h["cols"] = h["cols"].copy()
        h["cols"][0] = int(value)
    module = backend if hasattr(backend, "tpe_propose") else kernels
    with pytest.raises((ValueError, IndexError), match=match):
        _propose(module, h, rows, 2, np.ones(8), rng.random((4, 6)))


@pytest.mark.parametrize("name", TPE_KERNELS)
def test_tpe_kernels_share_signature_and_summary(pbackend: ModuleType, reference: ModuleType, name: str) -> None:
    import inspect

    ref, fn = getattr(reference, name), getattr(pbackend, name)
    assert list(inspect.signature(fn).parameters) == list(inspect.signature(ref).parameters)
    summary = ref.__doc__.strip().splitlines()[0]
    assert fn.__doc__.strip().splitlines()[0] == summary
    assert getattr(kernels, name).__doc__.strip().splitlines()[0] == summary
    assert name in kernels.__all__ and name in pbackend.__all__


@pytest.mark.parametrize(("change", "match"), [
    (lambda a: a.update(u=a["u"][:, :3]), "u"),
    (lambda a: a.update(u=a["u"][:0]), "u"),
    (lambda a: a.update(n_below=-1), "n_below"),
    (lambda a: a.update(n_below=99), "n_below"),
    (lambda a: a.update(weights=a["weights"][:-1]), "weights"),
    (lambda a: a.update(cols=a["cols"][:-1]), "cols"),
    (lambda a: a.update(step=a["step"][:-1]), "step"),
])
def test_tpe_propose_dispatcher_checks_shapes(change: Any, match: str) -> None:
    # The module-level function checks every shape before any backend reads the arrays
    # (the Numba backend would read past a too-narrow `u`).
    rng = np.random.default_rng(3)
    h = _history(rng, 8)
    args = dict(rows=np.arange(8), n_below=2, weights=np.ones(8), u=rng.random((4, 6)), cols=h["cols"],
                step=h["step"])
    change(args)
    with pytest.raises(ValueError, match=match):
        kernels.tpe_propose(h["X"], args["rows"], args["n_below"], args["cols"], args["weights"], args["u"],
                            h["low"], h["high"], h["is_log"], args["step"], h["grid_low"], h["grid_high"],
                            h["offsets"], h["sizes"], 1.0, False, True)
