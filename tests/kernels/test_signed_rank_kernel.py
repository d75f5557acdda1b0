"""``paired_signed_rank`` (the Wilcoxon pruner's statistic): every backend against the NumPy
reference, and the reference against SciPy through the p-value."""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np
import pytest

from hpo_core.kernels import _reference
from hpo_core.pruners._signed_rank import needs_permutation, pvalue_from_statistic, signed_rank_pvalue


def _cases(seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    # 64 and 65 pairs: either side of the Numba kernel's switch from insertion sort to quicksort.
    for n, k in [(0, 0), (0, 5), (5, 0), (1, 1), (2, 2), (13, 13), (61, 100), (100, 61), (64, 64), (65, 65),
                 (80, 200), (300, 300)]:
        for kind in ("normal", "ties", "gaps", "equal", "extremes"):
            if kind == "gaps":  # steps missing on either side: only the common ones pair
                sx = np.sort(rng.choice(3 * max(n, 1), n, replace=False)).astype(np.int64)
                sy = np.sort(rng.choice(3 * max(k, 1), k, replace=False)).astype(np.int64)
            else:
                sx, sy = np.arange(n, dtype=np.int64), np.arange(k, dtype=np.int64)
            if kind == "ties":  # ties and zero differences
                x, y = rng.integers(-3, 4, n).astype(float), rng.integers(-3, 4, k).astype(float)
            elif kind == "equal":  # every difference zero
                x = y_full = rng.normal(size=max(n, k))
                x, y = y_full[:n].copy(), y_full[:k].copy()
            elif kind == "extremes":  # -0.0 and +-inf differences, tiny and huge ones, ties among them
                pool = np.array([-0.0, 0.0, np.inf, -np.inf, 5e-324, -5e-324, 1e308, -1e308, 1.0, -1.0])
                x, y = rng.choice(pool, n), np.where(rng.random(k) < 0.5, -0.0, 0.0)
            else:
                x, y = rng.normal(size=n), rng.normal(size=k) * 1e3
            out.append((sx, x, sy, y))
    return out


def _same(got: tuple, want: tuple) -> bool:
    """Equal element by element, NaN equal to NaN."""
    return len(got) == len(want) and all(g == w or (g != g and w != w) for g, w in zip(got, want))


@pytest.mark.parametrize("seed", range(3))
def test_paired_signed_rank_matches_reference(backend: ModuleType, seed: int) -> None:
    if not hasattr(backend, "paired_signed_rank"):
        pytest.skip(f"{backend.BACKEND_NAME} has no paired_signed_rank (the dispatcher falls back)")
    for sx, x, sy, y in _cases(seed):
        with np.errstate(over="ignore", invalid="ignore"):  # the sum of the extremes (NUMBA_DISABLE_JIT)
            got = backend.paired_signed_rank(sx, x, sy, y)
            want = _reference.paired_signed_rank(sx, x, sy, y)
        # Counts and the tie term are integers, T+ a multiple of 1/4 and the sum is added
        # left to right in both: equal, not close (NaN where +inf and -inf are summed).
        assert _same(got, want), (sx, x, sy, y)
        assert isinstance(got[1], float) and isinstance(got[2], float)


def test_paired_signed_rank_pairs_common_steps_in_step_order() -> None:
    sx = np.array([0, 2, 3, 7], dtype=np.int64)
    sy = np.array([1, 2, 3, 5, 7, 9], dtype=np.int64)
    x = np.array([1.0, 5.0, -2.0, 4.0])
    y = np.array([9.0, 1.0, 1.0, 9.0, 4.0, 9.0])
    # Pairs at steps 2, 3, 7: d = 4, -3, 0; |d| ranks 3, 2, 1; T+ = 3 + 1/2.
    assert _reference.paired_signed_rank(sx, x, sy, y) == (3, 8.0, 3.5, 0, 1)


@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_pvalue_from_the_statistic_matches_scipy(alternative: str) -> None:
    stats = pytest.importorskip("scipy.stats")
    for sx, x, sy, y in _cases(7):
        p, _, t_plus, tie_term, n_zero = _reference.paired_signed_rank(sx, x, sy, y)
        if p < 2 or needs_permutation(p, tie_term, n_zero > 0):
            continue
        _, i, j = np.intersect1d(sx, sy, assume_unique=True, return_indices=True)
        d = x[i] - y[j]
        got = pvalue_from_statistic(p, t_plus, tie_term, n_zero > 0, alternative)
        assert got == signed_rank_pvalue(d, alternative)  # one formula, two entry points
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SciPy's notes on zeros and ties
            want = float(stats.wilcoxon(d, alternative=alternative, zero_method="zsplit").pvalue)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_paired_signed_rank_rows_reads_rows_of_a_step_index(backend: ModuleType) -> None:
    if not hasattr(backend, "paired_signed_rank_rows"):
        pytest.skip(f"{backend.BACKEND_NAME} has no paired_signed_rank_rows (the dispatcher falls back)")
    from hpo_core._step_index import StepIndex

    rng = np.random.default_rng(3)
    index = StepIndex(n_values=2)
    for row in range(6):  # row 2 reports nothing; steps out of order and with gaps
        if row == 2:
            continue
        for step in rng.permutation(rng.choice(40, rng.integers(1, 30), replace=False)).tolist():
            index.add(row, int(step), [float(rng.integers(-3, 4)), float(rng.normal())])
    arrays = index.row_arrays()
    for row_x in range(8):  # rows 6 and 7: past every reporting row
        for row_y in range(8):
            for column, greater in ((0, True), (1, False)):
                got = backend.paired_signed_rank_rows(*arrays, row_x, row_y, column, greater)
                sx, vx = index.of_row(row_x)
                sy, vy = index.of_row(row_y)
                want = (len(sx), *_reference.paired_signed_rank(sx, vx[:, column], sy, vy[:, column]))
                assert tuple(got[:6]) == want
                ref = _reference.paired_signed_rank_rows(*arrays, row_x, row_y, column, greater)
                assert tuple(got[:6]) == ref[:6]
                if want[1] < 2:
                    assert np.isnan(got[6]) and np.isnan(ref[6])
                else:  # erf/erfc of the C library in both
                    np.testing.assert_allclose(got[6], ref[6], rtol=1e-14, atol=0)
                    np.testing.assert_allclose(
                        got[6],
                        _reference.signed_rank_normal_pvalue(want[1], want[3], want[4], greater),
                        rtol=1e-14,
                    )


def test_signed_rank_normal_pvalue_far_tails(backend: ModuleType) -> None:
    if not hasattr(backend, "signed_rank_normal_pvalue"):
        pytest.skip(f"{backend.BACKEND_NAME} has no signed_rank_normal_pvalue")
    n = 400
    for t_plus in (0.0, 10.5, n * (n + 1) / 4, n * (n + 1) / 2 - 3.0, n * (n + 1) / 2):
        for greater in (True, False):
            got = backend.signed_rank_normal_pvalue(n, t_plus, 6, greater)
            want = _reference.signed_rank_normal_pvalue(n, t_plus, 6, greater)
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)  # tiny tails keep their digits
            assert 0.0 <= got <= 1.0


def test_resolved_paired_signed_rank_rows_matches_the_dispatcher() -> None:
    """The function resolved for a step index's arrays (Numba: the compiled entry point;
    under NUMBA_DISABLE_JIT or NumPy: the function) returns the dispatcher's results."""
    from hpo_core import kernels
    from hpo_core._step_index import StepIndex
    from hpo_core.kernels._dispatch_stats import resolve_paired_signed_rank_rows

    rng = np.random.default_rng(5)
    index = StepIndex()
    for row in range(5):
        for step in rng.permutation(70)[: rng.integers(1, 70)].tolist():
            index.add(row, int(step), float(rng.integers(-20, 21)) / 4)
    arrays = index.row_arrays()
    resolved = resolve_paired_signed_rank_rows(*arrays)
    for row_x in range(6):
        for row_y in range(6):
            for greater in (True, False):
                got = resolved(*arrays, row_x, row_y, 0, greater)
                want = kernels.paired_signed_rank_rows(*arrays, row_x, row_y, 0, greater)
                assert _same(got, want)
