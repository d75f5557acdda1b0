"""Numba: the scalar normal-distribution math of TPE's product mixtures.

The scalar twins of ``_reference_truncnorm``'s helpers (notation there); this module
defines no kernel. SciPy's special functions cannot be called from compiled code, so
they are written here: ``log_ndtr`` (erfc, plus the asymptotic series of erfcx far in
the left tail), Cephes ``ndtri`` and ``ndtri_exp`` (the same algorithms SciPy uses), and
the log-space Gaussian masses of the reference. ``_numba_tpe`` compiles them into the
product-mixture kernels. The tests pin the special functions to SciPy
(``tests/kernels/test_backend_specifics.py``) and the product kernels to the reference
at ``rtol=1e-10``.

Every ``math.log``/``log1p`` argument is guarded so the module also runs as plain
Python under ``NUMBA_DISABLE_JIT=1`` (where ``math.log(0.0)`` raises).

Numba's on-disk cache does not notice edits here in the functions of ``_numba_tpe`` and
``_numba_tpe_propose`` that call these helpers (it checks only each function's own
file): after changing a helper, delete the cache
(``find hpo_core/kernels -name "*.nb[ic]" -delete``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__: list[str] = []  # helpers only; the kernels that use them are in _numba_tpe*.py

_jit = njit(cache=True, nogil=True, error_model="numpy")

_INF = math.inf
_LN2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_LOG_2_SQRT_PI = math.log(2.0 * math.sqrt(math.pi))
_S2PI = 2.50662827463100050242e0  # sqrt(2 pi)
_EXP_M2 = 0.13533528323661269189  # exp(-2)
_LOG1P_M_EXP_M2 = math.log1p(-_EXP_M2)
_NARROW = 1e-3  # see _reference_truncnorm._NARROW

# Cephes ndtri coefficients (Moshier, Cephes Math Library 2.8), highest degree first.
# P0/Q0: |y - 0.5| <= 3/8; P1/Q1: z = sqrt(-2 log y) in [2, 8); P2/Q2: z >= 8.
_P0 = np.array([-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
                1.39312609387279679503e1, -1.23916583867381258016e0])
_Q0 = np.array([1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
                -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
                1.59056225126211695515e1, -1.18331621121330003142e0])
_P1 = np.array([4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
                4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
                -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4])
_Q1 = np.array([1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
                1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
                -3.80806407691578277194e-2, -9.33259480895457427372e-4])
_P2 = np.array([3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
                1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
                3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9])
_Q2 = np.array([6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
                2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
                2.89247864745380683936e-6, 6.79019408009981274425e-9])


# --- scalar special functions ------------------------------------------------------


@_jit
def _polevl(x: float, coef: np.ndarray) -> float:
    acc = 0.0
    for c in coef:
        acc = acc * x + c
    return acc


@_jit
def _p1evl(x: float, coef: np.ndarray) -> float:
    """Polynomial with an implicit leading coefficient 1."""
    acc = 1.0
    for c in coef:
        acc = acc * x + c
    return acc


@_jit
def _ndtri(y0: float) -> float:
    """Phi^-1(y0) (Cephes ndtri); -inf for y0 <= 0, +inf for y0 >= 1."""
    if y0 <= 0.0:
        return -_INF
    if y0 >= 1.0:
        return _INF
    negate = True
    y = y0
    if y > 1.0 - _EXP_M2:  # upper tail: work with the (exact) complement
        y = 1.0 - y
        negate = False
    if y > _EXP_M2:
        y -= 0.5
        y2 = y * y
        return (y + y * (y2 * _polevl(y2, _P0) / _p1evl(y2, _Q0))) * _S2PI
    x = math.sqrt(-2.0 * math.log(y))
    return _ndtri_tail(x) if negate else -_ndtri_tail(x)


@_jit
def _ndtri_tail(x: float) -> float:
    """-Phi^-1(y) for y < exp(-2), given x = sqrt(-2 log y) (Cephes' tail expansion)."""
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * _polevl(z, _P1) / _p1evl(z, _Q1)
    else:
        x1 = z * _polevl(z, _P2) / _p1evl(z, _Q2)
    return x1 - x0


@_jit
def _ndtri_exp(y: float) -> float:
    """Phi^-1(exp(y)) for y <= 0, accurate for y down to -1.8e308 (as scipy's)."""
    if y == -_INF:
        return -_INF
    if y < -2.0:
        # Feed log y straight into the tail expansion: exp(y) may underflow.
        x = math.sqrt(-2.0 * y) if y >= -0.5 * 1.7976931348623157e308 else math.sqrt(2.0) * math.sqrt(-y)
        return _ndtri_tail(x)
    if y > _LOG1P_M_EXP_M2:
        return -_ndtri(-math.expm1(y))  # 1 - exp(y) without cancellation
    return _ndtri(math.exp(y))


@_jit
def _log_half_erfcx_series(y: float) -> float:
    """log(erfcx(y) / 2) for y > 24.7 by the asymptotic series
    erfcx(y) = (1 + sum_n (-1)^n (2n-1)!! / (2y^2)^n) / (y sqrt(pi)); ten terms leave a
    relative error below 1e-25 there."""
    inv = 0.5 / y / y
    term = 1.0
    s = 0.0
    for n in range(1, 11):
        term *= -(2.0 * n - 1.0) * inv
        s += term
    return math.log1p(s) - (math.log(y) + _LOG_2_SQRT_PI)


@_jit
def _log_ndtr(x: float) -> float:
    """log Phi(x), accurate (a few ulp) for every x."""
    t = x * _SQRT1_2
    if x >= -1.0:
        return math.log1p(-0.5 * math.erfc(t))  # Phi(x) >= 0.16: log1p of the small tail
    if x >= -35.0:
        return math.log(0.5 * math.erfc(-t))  # erfc(24.7) ~ 1e-267, still a normal double
    if x == -_INF:
        return -_INF
    return -t * t + _log_half_erfcx_series(-t)  # Phi(x) = erfcx(-t) exp(-t^2) / 2


@_jit
def _square_split(y: float) -> tuple[float, float]:
    """(hi, lo) with hi = fl(y^2) and hi + lo = y^2 to ~1e-32 relative (Dekker)."""
    hi = y * y
    # y_hi: y truncated to 26 significant bits (exact, unlike Veltkamp's split it cannot
    # be disturbed by FMA contraction); then y_hi^2 and 2 y_hi y_lo are exact products.
    m, e = math.frexp(y)
    y_hi = math.ldexp(math.floor(m * 67108864.0), e - 26)
    y_lo = y - y_hi
    return hi, ((y_hi * y_hi - hi) + 2.0 * y_hi * y_lo) + y_lo * y_lo


@_jit
def _log_ndtr_scaled(x: float) -> float:
    """g(x) = log Phi(x) + x^2/2 for x <= 0, without cancelling the two large terms."""
    if x >= -1.0:
        return _log_ndtr(x) + 0.5 * x * x  # both terms O(1)
    if x == -_INF:
        return -_INF
    y = -x * _SQRT1_2  # Phi(x) = erfcx(y) exp(-y^2) / 2, so g = log(erfcx(y) / 2)
    if y > 25.0:
        return _log_half_erfcx_series(y)
    # erfcx(y) = erfc(y) exp(y^2); y^2 = hi + lo exactly enough that exp(lo) = 1 + lo.
    hi, lo = _square_split(y)
    return math.log(0.5 * math.erfc(y) * math.exp(hi) * (1.0 + lo))


@_jit
def _ndtr(x: float) -> float:
    return 0.5 * math.erfc(-x * _SQRT1_2)


@_jit
def _log1mexp(d: float) -> float:
    """log(1 - exp(d)) for d <= 0; expm1 near 0, log1p(-exp) below -ln 2 (Maechler 2012)."""
    if d == 0.0:
        return -_INF
    if d > -_LN2:
        return math.log(-math.expm1(d))
    return math.log1p(-math.exp(d))


@_jit
def _shift(a: float, b: float) -> float:
    """c: b if b <= 0, a if a > 0, else 0 (the point of [a, b] nearest 0)."""
    if b <= 0.0:
        return b
    if a > 0.0:
        return a
    return 0.0


@_jit
def _scaled_left(a: float, b: float, width: float) -> float:
    """log(Phi(b) - Phi(a)) + b^2/2 for a <= b <= 0."""
    g_b = _log_ndtr_scaled(b)
    if a == -_INF:
        return g_b
    # d = log Phi(a) - log Phi(b) with the difference of squares as width * (a + b).
    d = _log_ndtr_scaled(a) - g_b + 0.5 * width * (a + b)
    return g_b + _log1mexp(min(d, 0.0))


@_jit
def _log_gauss_mass_scaled(a: float, b: float, width: float) -> float:
    """log(Phi(b) - Phi(a)) + c^2/2 with c = _shift(a, b), for a <= b and width = b - a."""
    m = 0.5 * (a + b) if 0.0 < width < _NARROW else 0.0  # a, b finite here
    if 0.0 < width < _NARROW and width * max(1.0, abs(m)) < _NARROW:
        # Midpoint expansion w phi(m) (1 + (m^2 - 1) w^2 / 24); m - c is exact.
        m_minus_c = -0.5 * width if b <= 0.0 else (0.5 * width if a > 0.0 else m)
        return (
            math.log(width) - _LOG_SQRT_2PI - 0.5 * m_minus_c * (m + _shift(a, b))
            + math.log1p((m * m - 1.0) * width * width / 24.0)
        )
    if b <= 0.0:
        return _scaled_left(a, b, width)
    if a > 0.0:  # right tail: Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
        return _scaled_left(-b, -a, width)
    # a <= 0 < b: above 1/2, 1 minus two small tails; below, half a sum of two erf >= 0.
    tails = _ndtr(a) + _ndtr(-b)
    if tails < 0.5:
        return math.log1p(-tails)
    return math.log(0.5 * (math.erf(b * _SQRT1_2) + math.erf(-a * _SQRT1_2)))


@_jit
def _log_gauss_mass(a: float, b: float) -> float:
    """log(Phi(b) - Phi(a)) for a <= b."""
    c = _shift(a, b)
    return _log_gauss_mass_scaled(a, b, b - a) - 0.5 * c * c


@_jit
def _logaddexp(x: float, y: float) -> float:
    """log(exp(x) + exp(y)), as numpy.logaddexp."""
    if x == y:
        return x + _LN2  # also covers x == y == -inf
    d = x - y
    if d > 0.0:
        return x + math.log1p(math.exp(-d))
    return y + math.log1p(math.exp(d))


@_jit
def _ppf_std_truncnorm(q: float, a: float, b: float) -> float:
    """Inverse CDF of the standard normal truncated to [a, b]."""
    log_mass = _log_gauss_mass(a, b)
    if a < 0.0:  # Phi^-1(Phi(a) + q Z): a left-tail probability
        log_q = math.log(q) if q > 0.0 else -_INF
        return _ndtri_exp(_logaddexp(_log_ndtr(a), log_q + log_mass))
    # Mirror: -Phi^-1(Phi(-b) + (1 - q) Z), again a left-tail probability.
    log_1mq = math.log1p(-q) if q < 1.0 else -_INF
    return -_ndtri_exp(_logaddexp(_log_ndtr(-b), log_1mq + log_mass))


@_jit
def _log_bin_mass(a: float, b: float) -> float:
    """log(Phi(b) - Phi(a)) for a < b: a fast path for bins that are neither narrow nor
    far in a tail, else :func:`_log_gauss_mass`.

    The fast path takes the difference of the two tail probabilities on the side of 0
    where both are <= 1/2 (or 1 minus both tails when [a, b] straddles 0). For
    b - a >= 1e-3 the larger tail is at most ~1e3 times the difference, so the relative
    error stays below ~1e-13; |a|, |b| < 37 keeps erfc from underflowing.
    """
    if b - a >= 1e-3 and a > -37.0 and b < 37.0:
        if a >= 0.0:
            mass = 0.5 * (math.erfc(a * _SQRT1_2) - math.erfc(b * _SQRT1_2))
        elif b <= 0.0:
            mass = 0.5 * (math.erfc(-b * _SQRT1_2) - math.erfc(-a * _SQRT1_2))
        else:
            mass = 1.0 - 0.5 * (math.erfc(-a * _SQRT1_2) + math.erfc(b * _SQRT1_2))
        if mass > 1e-300:
            return math.log(mass)
    return _log_gauss_mass(a, b)


# --- shared by the product-mixture kernels of _numba_tpe -----------------------------


@_jit
def _normalized_cumsum(weights):  # type: ignore[no-untyped-def]
    """cumsum(weights) / sum(weights), with numpy.cumsum's sequential sums."""
    k = weights.shape[0]
    cum = np.empty(k)
    acc = 0.0
    for j in range(k):
        acc += weights[j]
        cum[j] = acc
    for j in range(k):
        cum[j] /= acc
    return cum


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)
