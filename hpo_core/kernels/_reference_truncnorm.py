"""NumPy reference: the truncated-normal math of TPE's product mixtures.

Notation:
    mu, s        mean and standard deviation of a normal (``s > 0``).
    L, H         truncation bounds ``L < H``; either may be infinite here (the product
                 mixtures pass finite ones).
    a, b         standardised bounds ``(L - mu) / s`` and ``(H - mu) / s``.
    Z            ``Phi(b) - Phi(a)``, the mass of the normal inside [L, H].
    phi, Phi     standard normal density and CDF; ``log_ndtr = log Phi``.

This module defines no kernel: its helpers (``_log_gauss_mass``, ``_ppf_std_truncnorm``,
``_logsumexp_rows``, ``_row_blocks``) are the truncated-normal math of the product
mixtures in ``_reference_tpe.py``. They are pure, elementwise over arrays, and trust
their input (``a <= b``, ``0 < q < 1``).

Numerical approach (shared by every backend): masses are handled in log space with
``log_ndtr`` and always computed in the *left* tail, where it is accurate, by using the
symmetry ``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)`` (as scipy's ``truncnorm`` and optuna's
``_truncnorm`` do). A normal far outside [L, H] therefore keeps a finite ``log Z``
even when ``Z`` underflows to 0 in linear space. (n, k) temporaries are built in row
blocks, so memory stays O(k) rows of a few MB whatever n is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy.special import erf, erfcx, log_ndtr, ndtr, ndtri_exp

__all__: list[str] = []  # helpers only; the kernels that use them are in _reference_tpe.py

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
# Intervals with width * max(1, |midpoint|) below this use a midpoint expansion, whose
# first omitted term is then below 1e-15 relative; differences of Phi lose digits there.
_NARROW = 1e-3
# Rows of an (n, k) temporary are processed in blocks of about this many elements so
# that n=1000 x k=100000 needs a few megabytes, not gigabytes.
_BLOCK_ELEMENTS = 1 << 16


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _row_blocks(n: int, k: int) -> Iterator[slice]:
    rows = max(1, _BLOCK_ELEMENTS // max(k, 1))
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def _log1mexp(d: np.ndarray) -> np.ndarray:
    """log(1 - exp(d)) for d <= 0, elementwise; -inf at d == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # expm1 is exact near d = 0 (nearly equal masses), log1p(-exp) far from it;
        # switch at -ln 2 (Maechler 2012, "Accurately computing log(1 - exp(-|a|))").
        return np.where(d > -math.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def _log_ndtr_scaled(x: np.ndarray) -> np.ndarray:
    """g(x) = log Phi(x) + x^2/2 for x <= 0, without cancelling the two large terms."""
    with np.errstate(divide="ignore", invalid="ignore"):
        near = log_ndtr(x) + 0.5 * x * x  # x >= -1: both terms are O(1)
        # x < -1: Phi(x) = erfcx(-x/sqrt 2) exp(-x^2/2) / 2, so g needs no exp(-x^2/2).
        far = np.log(0.5 * erfcx(-x * _SQRT1_2))
    return np.where(x >= -1.0, near, far)


def _shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c: the point of [a, b] nearest 0 when 0 is outside it (b if b <= 0, a if a > 0), else 0."""
    return np.where(b <= 0, b, np.where(a > 0, a, 0.0))


def _scaled_left(a: np.ndarray, b: np.ndarray, width: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) + b^2/2 for a <= b <= 0 (left tail)."""
    g_b = _log_ndtr_scaled(b)
    with np.errstate(invalid="ignore"):
        # d = log Phi(a) - log Phi(b) = g(a) - g(b) - (a^2 - b^2)/2, with the difference
        # of squares as width * (a + b): no O(b^2) terms that would cancel. Rounding may
        # push d above 0 for a tiny width; clamp to 0 (zero mass) rather than NaN.
        d = _log_ndtr_scaled(a) - g_b + 0.5 * width * (a + b)
    d = np.where(a == -np.inf, -np.inf, np.minimum(d, 0.0))
    return g_b + _log1mexp(d)  # type: ignore[no-any-return]


def _log_gauss_mass_scaled(a: np.ndarray, b: np.ndarray, width: np.ndarray) -> np.ndarray:
    """G = log(Phi(b) - Phi(a)) + c^2/2, c = _shift(a, b), for a <= b; width = b - a.

    ``width`` may be computed from unstandardised differences (e.g. ``(high - low) /
    sigma``), which is more accurate than ``b - a`` when both are large;
    :func:`_log_gauss_mass`, its one caller, passes ``b - a``. G is O(log |c|) even when
    the mass underflows: it is the well-conditioned part of ``log Z``.
    """
    a, b, width = np.broadcast_arrays(a, b, width)
    c = _shift(a, b)
    with np.errstate(over="ignore", invalid="ignore"):
        m = 0.5 * (a + b)  # NaN for (-inf, inf), which is never narrow
        narrow = (width > 0) & (width * np.maximum(1.0, np.abs(m)) < _NARROW)
    left = ~narrow & (b <= 0)  # difference of left-tail log_ndtr values is accurate
    right = ~narrow & (a > 0)  # mirror into the left tail: Phi(-a) - Phi(-b)
    central = ~(narrow | left | right)
    out = np.empty(a.shape)
    # Narrow interval: Phi(b) - Phi(a) = w phi(m) (1 + (m^2 - 1) w^2 / 24 + O(w^4 m^4)),
    # and -m^2/2 + c^2/2 = -(m - c)(m + c)/2 with m - c = -w/2, w/2 or m exactly.
    w, mm, cc = width[narrow], m[narrow], c[narrow]
    m_minus_c = np.where(b[narrow] <= 0, -0.5 * w, np.where(a[narrow] > 0, 0.5 * w, mm))
    out[narrow] = (
        np.log(w) - _LOG_SQRT_2PI - 0.5 * m_minus_c * (mm + cc) + np.log1p((mm * mm - 1.0) * w * w / 24.0)
    )
    out[left] = _scaled_left(a[left], b[left], width[left])
    out[right] = _scaled_left(-b[right], -a[right], width[right])
    # a <= 0 < b: a mass above 1/2 is 1 minus two small tails (accurate as it nears 1);
    # a smaller one is half the sum of two non-negative erf terms (no cancellation).
    ac, bc = a[central], b[central]
    tails = ndtr(ac) + ndtr(-bc)
    with np.errstate(divide="ignore"):
        small_mass = np.log(0.5 * (erf(bc * _SQRT1_2) + erf(-ac * _SQRT1_2)))
    out[central] = np.where(tails < 0.5, np.log1p(-tails), small_mass)
    return out


def _log_gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a <= b, elementwise, accurate in both tails."""
    c = _shift(a, b)
    return _log_gauss_mass_scaled(a, b, b - a) - 0.5 * c * c  # type: ignore[no-any-return]


def _logsumexp_rows(t: np.ndarray) -> np.ndarray:
    """logsumexp over axis 1 of ``t: (n, k)``; -inf for k == 0 or an all -inf row."""
    t_max = np.max(t, axis=1, initial=-np.inf)
    # Shift by the row maximum so the largest term is exp(0) = 1 (no overflow); an
    # all -inf row is shifted by 0 instead of -inf to avoid inf - inf = NaN.
    shift = np.where(np.isfinite(t_max), t_max, 0.0)
    with np.errstate(divide="ignore"):
        return shift + np.log(np.sum(np.exp(t - shift[:, None]), axis=1))


def _ppf_std_truncnorm(q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Inverse CDF of the standard normal truncated to [a, b], elementwise."""
    log_mass = _log_gauss_mass(a, b)
    with np.errstate(divide="ignore"):
        # a < 0: F^-1(q) = Phi^-1(Phi(a) + q Z), in log space. a >= 0: mirror,
        # F^-1(q) = -Phi^-1(Phi(-b) + (1 - q) Z). Either way only a left-tail (small,
        # exactly representable in log space) probability is inverted, by ndtri_exp.
        left = ndtri_exp(np.logaddexp(log_ndtr(a), np.log(q) + log_mass))
        right = -ndtri_exp(np.logaddexp(log_ndtr(-b), np.log1p(-q) + log_mass))
    return np.where(a < 0, left, right)
