"""The NumPy signed-rank p-value (``_signed_rank.py``) against SciPy's
``wilcoxon(d, alternative=..., zero_method="zsplit")``, the reference, on every branch of
SciPy's ``method="auto"``: exact, permutation (ties or zeros, n <= 13), normal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hpo_core.pruners._signed_rank import signed_rank_pvalue

stats = pytest.importorskip("scipy.stats")


def _scipy(d: np.ndarray, alternative: str) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy's small-sample notes
        return float(stats.wilcoxon(d, alternative=alternative, zero_method="zsplit").pvalue)


def _samples(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for n in [2, 3, 5, 8, 14, 20, 35, 50, 51, 80, 150]:
        out += [
            rng.normal(size=n) + rng.normal() * 0.5,  # no ties: exact up to n = 50
            rng.integers(-3, 4, size=n).astype(float),  # ties and zeros
            np.round(rng.normal(size=n), 1) + 0.3,  # ties, no zeros
            rng.normal(size=n) + 4.0,  # all positive: the extreme tail
            -np.abs(rng.normal(size=n)) - 1.0,  # all negative
            np.zeros(n),  # all zeros
            rng.normal(size=n) * 1e300,  # huge magnitudes
        ]
    return out


@pytest.mark.parametrize("alternative", ["less", "greater"])
@pytest.mark.parametrize("seed", range(2))
def test_signed_rank_pvalue_matches_scipy(seed: int, alternative: str) -> None:
    for d in _samples(seed):
        np.testing.assert_allclose(signed_rank_pvalue(d, alternative), _scipy(d, alternative), rtol=1e-12,
                                   err_msg=repr(d))


def test_signed_rank_pvalue_every_statistic_of_the_exact_branch() -> None:
    # n = 12 without ties or zeros: each signed permutation of 1..12 (every T on both
    # sides of the mean, both tails), against SciPy.
    ranks = np.arange(1.0, 13.0)
    for mask in range(0, 2**12, 37):
        signs = np.where((mask >> np.arange(12)) & 1, 1.0, -1.0)
        d = signs * ranks
        for alternative in ("less", "greater"):
            np.testing.assert_allclose(signed_rank_pvalue(d, alternative), _scipy(d, alternative), rtol=1e-12)


def test_signed_rank_pvalue_largest_permutation_case_matches_scipy() -> None:
    d = np.array([0.0, 1.0, -1.0, 2.0, 2.0, -2.0, 0.0, 1.0, 1.0, -1.0, 2.0, 2.0, 1.0])  # n = 13: 2**13 flips
    np.testing.assert_allclose(signed_rank_pvalue(d, "greater"), _scipy(d, "greater"), rtol=1e-12)  # ~0.7 s
