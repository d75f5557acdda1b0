"""Numba backend: the reference kernels as compiled loops (``@njit(cache=True)``).

Single-threaded by design (no ``parallel=True``), so the kernels never fight BLAS or a
study's worker threads for cores; they are compiled with ``nogil=True``, so threads
calling them do run concurrently. ``fastmath`` is off and indices are ``intp``.
Mixture kernels stream over the components, so memory is O(k), not O(n k).

SciPy's special functions cannot be called from compiled code, so the scalar ones are
written here: ``log_ndtr`` (erfc, plus the asymptotic series of erfcx far in the left
tail), Cephes ``ndtri`` and ``ndtri_exp`` (the same algorithms SciPy uses). The tests
pin every kernel to the reference at ``rtol=1e-10``.

Every ``math.log``/``log1p`` argument is guarded so the module also runs as plain
Python under ``NUMBA_DISABLE_JIT=1`` (where ``math.log(0.0)`` raises).

The Gaussian-process kernels are compiled in ``_numba_gp.py`` and re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hpo_core.kernels import _reference
from hpo_core.kernels._numba_gp import gp_log_marginal_likelihood, gp_posterior, log_ei, matern52

__all__ = [
    "categorical_kernel_table",
    "gp_log_marginal_likelihood",
    "gp_posterior",
    "hypervolume",
    "is_pareto_front",
    "log_ei",
    "log_pdf_truncnorm_mixture",
    "log_pdf_product_mixture",
    "matern52",
    "nondominated_rank",
    "parzen_bandwidths",
    "sample_product_mixture",
    "sample_truncnorm_mixture",
    "tpe_best_candidate",
    "tpe_propose",
]

BACKEND_NAME = "numba"
AVAILABLE = True

_jit = njit(cache=True, nogil=True, error_model="numpy")

_INF = math.inf
_LN2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_LOG_2_SQRT_PI = math.log(2.0 * math.sqrt(math.pi))
_S2PI = 2.50662827463100050242e0  # sqrt(2 pi)
_EXP_M2 = 0.13533528323661269189  # exp(-2)
_LOG1P_M_EXP_M2 = math.log1p(-_EXP_M2)
_NARROW = 1e-3  # see _reference._NARROW

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
def _logsumexp(t: np.ndarray, t_max: float) -> float:
    """log sum exp(t) given t_max = max(t); -inf when every term is -inf."""
    if t_max == -_INF:
        return -_INF
    acc = 0.0
    for j in range(t.shape[0]):
        acc += math.exp(t[j] - t_max)  # shifted: the largest term is exp(0) = 1
    return t_max + math.log(acc)


# --- mixture kernels ---------------------------------------------------------------


@_jit
def _component_shifts(mus, sigmas, low, high, log_zs, c, bound):  # type: ignore[no-untyped-def]
    """Fill log_zs (G_j), c (c_j) and bound (c_j = (bound_j - mu_j) / s_j) over [low, high]."""
    for j in range(mus.shape[0]):
        s = sigmas[j]
        a, b = (low - mus[j]) / s, (high - mus[j]) / s
        log_zs[j] = _log_gauss_mass_scaled(a, b, (high - low) / s)
        c[j] = _shift(a, b)
        bound[j] = high if b <= 0.0 else (low if a > 0.0 else mus[j])


@_jit
def _log_pdf_truncnorm(x, mus, sigmas, log_weights, low, high):  # type: ignore[no-untyped-def]
    # log Z_j = G_j - c_j^2/2 and z^2 - c_j^2 = (z - c_j)(z + c_j), z - c_j computed from
    # x - bound_j: no cancellation of two huge terms for components far outside.
    n, k = x.shape[0], mus.shape[0]
    log_coef, c, bound = np.empty(k), np.empty(k), np.empty(k)
    _component_shifts(mus, sigmas, low, high, log_coef, c, bound)
    for j in range(k):
        if log_coef[j] == -_INF:  # no mass even in log space: contributes nothing
            log_coef[j] = -_INF
        else:
            log_coef[j] = log_weights[j] - math.log(sigmas[j]) - log_coef[j] - _LOG_SQRT_2PI
    out = np.empty(n)
    t = np.empty(k)
    for i in range(n):
        xi = x[i]
        if xi < low or xi > high:
            out[i] = -_INF
            continue
        t_max = -_INF
        for j in range(k):
            s = sigmas[j]
            t[j] = log_coef[j] - 0.5 * ((xi - bound[j]) / s) * ((xi - mus[j]) / s + c[j])
            t_max = max(t_max, t[j])
        out[i] = _logsumexp(t, t_max)
    return out


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


@_jit
def _sample_truncnorm(u_component, u_value, mus, sigmas, weights, low, high):  # type: ignore[no-untyped-def]
    n, k = u_component.shape[0], mus.shape[0]
    out = np.empty(n)
    if k == 0:
        out[:] = np.nan
        return out
    cum = _normalized_cumsum(weights)
    for i in range(n):
        u = u_component[i]
        lo, hi = 0, k  # count of cum <= u (numpy.searchsorted side="right")
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] <= u:
                lo = mid + 1
            else:
                hi = mid
        j = min(lo, k - 1)
        mu, s = mus[j], sigmas[j]
        v = mu + s * _ppf_std_truncnorm(u_value[i], (low - mu) / s, (high - mu) / s)
        out[i] = low if v < low else (high if v > high else v)
    return out


# --- Pareto kernels ----------------------------------------------------------------


@_jit
def _lex_order(values):  # type: ignore[no-untyped-def]
    """Indices sorting the rows lexicographically (stable sorts, last column first)."""
    n, m = values.shape
    order = np.arange(n)
    keys = np.empty(n)
    for col in range(m - 1, -1, -1):
        for i in range(n):
            keys[i] = values[order[i], col]
        order = order[np.argsort(keys, kind="mergesort")]
    return order


@_jit
def _dominates(values, q, p):  # type: ignore[no-untyped-def]
    """Whether row q dominates row p (<= everywhere, < somewhere)."""
    strict = False
    for col in range(values.shape[1]):
        if values[q, col] > values[p, col]:
            return False
        if values[q, col] < values[p, col]:
            strict = True
    return strict


@_jit
def _rank_1d(values):  # type: ignore[no-untyped-def]
    n = values.shape[0]
    rank = np.zeros(n, dtype=np.int64)
    order = np.argsort(values[:, 0], kind="mergesort")
    r = 0
    for i in range(1, n):
        if values[order[i], 0] > values[order[i - 1], 0]:
            r += 1
        rank[order[i]] = r
    return rank


@_jit
def _rank_2d(values):  # type: ignore[no-untyped-def]
    # Jensen (2003) sweep in (f1, f2) order. Front r dominates p iff its latest member
    # does, i.e. iff that member's key (f2, f1) is lexicographically below p's; these
    # keys increase with r, so p's rank is a binary search over the fronts.
    n = values.shape[0]
    rank = np.zeros(n, dtype=np.int64)
    last1 = np.empty(n)
    last2 = np.empty(n)
    n_fronts = 0
    for p in _lex_order(values):
        p1, p2 = values[p, 0], values[p, 1]
        lo, hi = 0, n_fronts
        while lo < hi:
            mid = (lo + hi) // 2
            if last2[mid] < p2 or (last2[mid] == p2 and last1[mid] < p1):
                lo = mid + 1
            else:
                hi = mid
        rank[p] = lo
        last1[lo], last2[lo] = p1, p2
        n_fronts = max(n_fronts, lo + 1)
    return rank


@_jit
def _rank_nd(values):  # type: ignore[no-untyped-def]
    # ENS-BS (Zhang et al. 2015): in lexicographic order every dominator of p is already
    # ranked; if front r holds a dominator of p so does every front below r, so p's
    # rank is a binary search over fronts. Fronts are linked lists (head, nxt).
    n = values.shape[0]
    rank = np.zeros(n, dtype=np.int64)
    head = np.full(n, -1, dtype=np.intp)
    nxt = np.full(n, -1, dtype=np.intp)
    n_fronts = 0
    for p in _lex_order(values):
        lo, hi = 0, n_fronts
        while lo < hi:
            mid = (lo + hi) // 2
            q = head[mid]
            while q >= 0 and not _dominates(values, q, p):
                q = nxt[q]
            if q >= 0:
                lo = mid + 1
            else:
                hi = mid
        rank[p] = lo
        nxt[p] = head[lo]
        head[lo] = p
        n_fronts = max(n_fronts, lo + 1)
    return rank


@_jit
def _nondominated_rank(values):  # type: ignore[no-untyped-def]
    n, m = values.shape
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.int64)
    if m == 1:
        return _rank_1d(values)
    if m == 2:
        return _rank_2d(values)
    return _rank_nd(values)


@_jit
def _is_pareto_front(values):  # type: ignore[no-untyped-def]
    n, m = values.shape
    on_front = np.zeros(n, dtype=np.bool_)
    if n == 0 or m == 0:
        on_front[:] = True
        return on_front
    if m == 1:
        best = values[:, 0].min()
        for i in range(n):
            on_front[i] = values[i, 0] == best
        return on_front
    order = _lex_order(values)
    if m == 2:
        # Earlier points have f1 <= p's; one dominates p iff its key (f2, f1) is below
        # p's, so compare with the running minimum key.
        b1, b2 = _INF, _INF
        for p in order:
            p1, p2 = values[p, 0], values[p, 1]
            if not (b2 < p2 or (b2 == p2 and b1 < p1)):
                on_front[p] = True
                b1, b2 = p1, p2
        return on_front
    front = np.empty(n, dtype=np.intp)
    size = 0
    for p in order:
        # A dominated point is dominated by a front member, which comes earlier.
        dominated = False
        for f in range(size):
            if _dominates(values, front[f], p):
                dominated = True
                break
        if not dominated:
            on_front[p] = True
            front[size] = p
            size += 1
    return on_front


# --- product mixtures (joint TPE) -----------------------------------------------------


@_jit
def _product_constants(discrete, mus, sigmas, log_weights, low, high):  # type: ignore[no-untyped-def]
    """(k,) log w_j - sum_d log Z_jd - sum_{d continuous} (log s_jd + log sqrt(2 pi))."""
    k, dn = mus.shape
    const = np.empty(k)
    for j in range(k):
        acc = log_weights[j]
        for d in range(dn):
            s = sigmas[j, d]
            a, b = (low[d] - mus[j, d]) / s, (high[d] - mus[j, d]) / s
            if a <= 0.0 <= b:
                # Mean inside the bounds (always, for TPE): Z = 1 - Phi(a) - Phi(-b). A
                # tail beyond 9 sigma (< 1.2e-19) is dropped: log Z changes by less than
                # that absolutely; most bad components need no erfc at all.
                tails = 0.0
                if a > -9.0:
                    tails += 0.5 * math.erfc(-a * _SQRT1_2)
                if b < 9.0:
                    tails += 0.5 * math.erfc(b * _SQRT1_2)
                if tails >= 0.5:
                    acc -= _log_gauss_mass(a, b)
                elif tails > 0.0:
                    acc -= math.log1p(-tails)
            else:
                acc -= _log_gauss_mass(a, b)
            if not discrete[d]:
                acc -= math.log(s) + _LOG_SQRT_2PI
        const[j] = acc
    return const


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


@_jit
def _product_terms(X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high,  # type: ignore[no-untyped-def]
                   cat_log_probs, cat_offsets):
    """(cheap, inv_s, j_best): cheap[j, i] the constant, categorical and continuous part of
    term (i, j) (its bins still to add, each <= 0), inv_s = 1 / sigmas, and per point the
    component whose full term is probably the largest (by the cheap part plus an
    estimate of the bins: midpoint density times width, at most 1; -1 where every term
    is -inf). Any component's exact term is a lower bound of the largest; a good choice
    makes the cut-off and the lower bounds tight."""
    n, dn = X_low.shape
    k, dc = mus.shape[0], C.shape[1]
    const = _product_constants(discrete, mus, sigmas, log_weights, low, high)
    inv_s = 1.0 / sigmas  # (k, dn): the (n, k) loops multiply instead of divide
    # Component-major so the inner loops run over contiguous candidates (and vectorise).
    XT = np.ascontiguousarray(X_low.T)  # (dn, n)
    MID = np.ascontiguousarray((0.5 * (X_low + X_high)).T)
    LW = np.log(np.ascontiguousarray((X_high - X_low).T)) - _LOG_SQRT_2PI
    CT = np.empty((dc, n), dtype=np.intp)
    for q in range(dc):
        for i in range(n):
            CT[q, i] = cat_offsets[q] + np.intp(C[i, q])
    cheap = np.empty((k, n))
    est = np.empty(n)
    best = np.full(n, -_INF)
    j_best = np.full(n, -1, dtype=np.intp)
    for j in range(k):
        row = cheap[j]
        c0 = const[j]
        for i in range(n):
            row[i] = c0
        if c0 == -_INF:
            continue
        for q in range(dc):
            for i in range(n):
                row[i] += cat_log_probs[j, CT[q, i]]
        for d in range(dn):
            if not discrete[d]:
                m, w = mus[j, d], inv_s[j, d]
                x = XT[d]
                for i in range(n):
                    z = (x[i] - m) * w
                    row[i] -= 0.5 * z * z
        for i in range(n):
            est[i] = row[i]
        for d in range(dn):
            if discrete[d]:
                m, w = mus[j, d], inv_s[j, d]
                log_w = -math.log(sigmas[j, d])  # (C++ uses a coarse log; a choice only)
                for i in range(n):
                    z = (MID[d, i] - m) * w
                    est[i] += min(0.0, LW[d, i] + log_w - 0.5 * z * z)
        for i in range(n):
            if row[i] != -_INF and (j_best[i] < 0 or est[i] > best[i]):
                best[i] = est[i]
                j_best[i] = j
    return cheap, inv_s, j_best


@_jit
def _term(i, j, floor, cheap, inv_s, X_low, X_high, discrete, mus):  # type: ignore[no-untyped-def]
    """Term (i, j): the cheap part plus the bin masses in dimension order, stopping early
    (with a value below floor) once the partial sum is below floor."""
    t = cheap[j, i]
    if t == -_INF or t < floor:
        return t
    for d in range(X_low.shape[1]):
        if discrete[d]:
            w = inv_s[j, d]
            t += _log_bin_mass((X_low[i, d] - mus[j, d]) * w, (X_high[i, d] - mus[j, d]) * w)
            if t < floor:
                break
    return t


@_jit
def _log_density(i, cheap, inv_s, j_best, X_low, X_high, discrete, mus):  # type: ignore[no-untyped-def]
    """log sum_j exp(term(i, j)). Exact cut-off: the bin factors still to add are <= 0 in
    log space, so a partial sum below (max - cut) bounds the whole term, and the k such
    terms together change the sum by less than k e^-cut = e^-42 relative, below float64
    resolution. The bound is the term of the chosen component, taken first."""
    k = cheap.shape[0]
    jb = j_best[i]
    if jb < 0:
        return -_INF
    cut = 42.0 + math.log(max(k, 1))
    t_max = -_INF
    acc = 0.0  # sum of exp(term - t_max) over the terms kept so far
    for jj in range(-1, k):
        j = jb if jj < 0 else jj
        if jj == jb:
            continue
        t = _term(i, j, t_max - cut, cheap, inv_s, X_low, X_high, discrete, mus)
        if t == -_INF or t < t_max - cut:
            continue
        if t > t_max:  # online logsumexp: rescale what was accumulated
            acc = acc * math.exp(t_max - t) + 1.0 if t_max > -_INF else 1.0
            t_max = t
        else:
            acc += math.exp(t - t_max)
    return t_max + math.log(acc) if t_max > -_INF else -_INF


@_jit
def _log_pdf_product(X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high,  # type: ignore[no-untyped-def]
                     cat_log_probs, cat_offsets):
    cheap, inv_s, j_best = _product_terms(X_low, X_high, discrete, C, mus, sigmas, log_weights, low, high,
                                          cat_log_probs, cat_offsets)
    n = X_low.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = _log_density(i, cheap, inv_s, j_best, X_low, X_high, discrete, mus)
    return out


@_jit
def _sample_product(u_component, U, UC, mus, sigmas, weights, low, high, cat_probs,  # type: ignore[no-untyped-def]
                    cat_offsets, cat_sizes):
    n = u_component.shape[0]
    k, dn = mus.shape
    dc = cat_offsets.shape[0]
    cum = _normalized_cumsum(weights)
    out = np.empty((n, dn + dc))
    for i in range(n):
        j = np.intp(np.searchsorted(cum, u_component[i], side="right"))
        if j > k - 1:
            j = k - 1
        for d in range(dn):
            mu, s = mus[j, d], sigmas[j, d]
            a, b = (low[d] - mu) / s, (high[d] - mu) / s
            # Fast path: invert in linear space while the target probability is central
            # (its rounding error then moves z by < 1e-14); tails take the log-space route.
            pa = _ndtr(a)
            p = pa + U[i, d] * (_ndtr(b) - pa)
            if 0.02 < p < 0.98:
                z = _ndtri(p)
            else:
                z = _ppf_std_truncnorm(U[i, d], a, b)
            out[i, d] = min(max(mu + s * z, low[d]), high[d])
        for q in range(dc):
            start, size = cat_offsets[q], cat_sizes[q]
            cdf = 0.0
            idx = 0
            for c in range(size):
                cdf += cat_probs[j, start + c]
                if cdf <= UC[i, q]:
                    idx += 1
            out[i, dn + q] = min(idx, size - 1)
    return out


@_jit
def _parzen_bandwidths(T, orders, low, high, consider_endpoints, magic_clip):  # type: ignore[no-untyped-def]
    n, dn = T.shape
    out = np.empty((n, dn))
    for d in range(dn):
        col = T[:, d]
        order = orders[:, d]
        width = high[d] - low[d]
        floor = width / min(100.0, n + 2.0) if magic_clip else 1e-12
        for r in range(n):
            left = low[d] if r == 0 else col[order[r - 1]]
            right = high[d] if r == n - 1 else col[order[r + 1]]
            x = col[order[r]]
            if not consider_endpoints and n >= 2 and r == 0:
                s = right - x
            elif not consider_endpoints and n >= 2 and r == n - 1:
                s = x - left
            else:
                s = max(x - left, right - x)
            out[order[r], d] = min(max(s, floor), width)
    return out


@_jit
def _categorical_kernel_table(C, sizes, offsets, prior_weight):  # type: ignore[no-untyped-def]
    n, dc = C.shape
    k = n + 1
    total = 0
    for t in range(dc):
        total += sizes[t]
    fill = prior_weight / k if n else 1.0
    P = np.empty((k, total))
    for t in range(dc):
        obs_norm = 1.0 / (fill * sizes[t] + 1.0)
        prior_norm = 1.0 / (fill * sizes[t])
        for i in range(k):
            norm = obs_norm if i < n else prior_norm
            for c in range(sizes[t]):
                P[i, offsets[t] + c] = fill * norm
            if i < n:
                P[i, offsets[t] + np.intp(C[i, t])] = (fill + 1.0) * norm
    return P


@_jit
def _tpe_best_candidate(u_component, U, UC, g_mus, g_sigmas, g_weights, g_cat_probs,  # type: ignore[no-untyped-def]
                        b_mus, b_sigmas, b_weights, b_cat_probs, low, high, is_log, step,
                        grid_low, grid_high, cat_offsets, cat_sizes):
    dn = low.shape[0]
    S = _sample_product(u_component, U, UC, g_mus, g_sigmas, g_weights, low, high, g_cat_probs,
                        cat_offsets, cat_sizes)
    n = S.shape[0]
    XL = np.empty((n, dn))
    XH = np.empty((n, dn))
    discrete = step > 0.0
    for i in range(n):
        for d in range(dn):
            v = S[i, d]
            if is_log[d]:
                v = math.exp(v)
            if discrete[d]:
                v = grid_low[d] + np.rint((v - grid_low[d]) / step[d]) * step[d]
            v = min(max(v, grid_low[d]), grid_high[d])
            S[i, d] = v
            half = 0.5 * step[d]
            lo_, hi_ = v - half, v + half
            if is_log[d]:
                lo_, hi_ = math.log(lo_), math.log(hi_)
            XL[i, d], XH[i, d] = lo_, hi_
    C = np.ascontiguousarray(S[:, dn:])
    log_l = _log_pdf_product(XL, XH, discrete, C, g_mus, g_sigmas, np.log(g_weights), low, high,
                             np.log(g_cat_probs), cat_offsets)
    # log g exactly only where it can decide (as csrc/tpe.cpp): log l minus one exact term
    # of g bounds log l - log g from above (rounding is monotonic), so a candidate whose
    # bound is below the best value so far cannot be the first maximum. Candidates are
    # visited by decreasing bound; the result is numpy.argmax's over the full values.
    cheap, inv_s, j_best = _product_terms(XL, XH, discrete, C, b_mus, b_sigmas, np.log(b_weights), low, high,
                                          np.log(b_cat_probs), cat_offsets)
    bound = np.empty(n)
    for i in range(n):
        jb = j_best[i]
        lb = -_INF if jb < 0 else _term(i, jb, -_INF, cheap, inv_s, XL, XH, discrete, b_mus)
        bound[i] = log_l[i] - lb
    if np.isnan(bound).any():  # no bounds to trust: every value
        acq = np.empty(n)
        for i in range(n):
            acq[i] = log_l[i] - _log_density(i, cheap, inv_s, j_best, XL, XH, discrete, b_mus)
        return S[np.argmax(acq)].copy()
    order = np.argsort(-bound, kind="mergesort")
    best, best_acq = -1, -_INF
    for i in order:
        if best >= 0 and bound[i] < best_acq:
            break  # every later bound is lower still
        acq_i = log_l[i] - _log_density(i, cheap, inv_s, j_best, XL, XH, discrete, b_mus)
        if np.isnan(acq_i):  # NaN counts as the maximum: the first NaN in index order
            if not np.isnan(best_acq) or i < best:
                best, best_acq = i, acq_i
            continue
        if best >= 0 and np.isnan(best_acq):
            continue
        if best < 0 or acq_i > best_acq or (acq_i == best_acq and i < best):
            best, best_acq = i, acq_i
    return S[best].copy()


@_jit
def _tpe_estimator(T, C, w, low, high, sizes, offsets, prior_weight, consider_endpoints, magic_clip):  # type: ignore[no-untyped-def]
    """One group's Parzen estimator (observations plus the prior component), as
    _reference.tpe_propose builds it."""
    m, dn = T.shape
    orders = np.empty((m, dn), dtype=np.intp)
    for d in range(dn):
        orders[:, d] = np.argsort(T[:, d], kind="mergesort")  # stable, as the reference
    mus = np.empty((m + 1, dn))
    sigmas = np.empty((m + 1, dn))
    mus[:m] = T
    sigmas[:m] = _parzen_bandwidths(T, orders, low, high, consider_endpoints, magic_clip)
    for d in range(dn):
        mus[m, d] = 0.5 * (low[d] + high[d])
        sigmas[m, d] = high[d] - low[d]
    weights = np.empty(m + 1)
    weights[:m] = w
    weights[m] = prior_weight if m > 0 else 1.0
    weights /= weights.sum()
    return mus, sigmas, weights, _categorical_kernel_table(C, sizes, offsets, prior_weight)


@_jit
def _tpe_propose(X, rows, n_below, cols, weights, u, low, high, is_log, step, grid_low, grid_high,  # type: ignore[no-untyped-def]
                 cat_offsets, cat_sizes, prior_weight, consider_endpoints, magic_clip):
    """(candidate, bad): bad is NaN, or the first categorical value that is no index."""
    n, dn, dc = rows.shape[0], low.shape[0], cat_sizes.shape[0]
    T = np.empty((n, dn))
    C = np.empty((n, dc))
    bad = np.nan
    for i in range(n):
        r = rows[i]
        for d in range(dn):
            v = X[r, cols[d]]
            if is_log[d]:
                v = math.log(v)
            T[i, d] = min(max(v, low[d]), high[d])
        for q in range(dc):
            c = X[r, cols[dn + q]]
            if not (c >= 0.0 and c < cat_sizes[q] and c == math.floor(c)):
                return np.empty(0), c
            C[i, q] = c
    g_mus, g_sigmas, g_w, g_p = _tpe_estimator(T[:n_below], C[:n_below], weights[:n_below], low, high,
                                               cat_sizes, cat_offsets, prior_weight, consider_endpoints,
                                               magic_clip)
    b_mus, b_sigmas, b_w, b_p = _tpe_estimator(T[n_below:], C[n_below:], weights[n_below:], low, high,
                                               cat_sizes, cat_offsets, prior_weight, consider_endpoints,
                                               magic_clip)
    out = _tpe_best_candidate(np.ascontiguousarray(u[:, 0]), np.ascontiguousarray(u[:, 1 : 1 + dn]),
                              np.ascontiguousarray(u[:, 1 + dn :]), g_mus, g_sigmas, g_w, g_p, b_mus, b_sigmas,
                              b_w, b_p, low, high, is_log, step, grid_low, grid_high, cat_offsets, cat_sizes)
    return out, bad

# --- public wrappers: convert once, then call the compiled code --------------------


def _f64(a: object) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def log_pdf_truncnorm_mixture(
    x: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Log density of a mixture of normals, each truncated to [low, high].

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_truncnorm_mixture`.
    """
    return _log_pdf_truncnorm(_f64(x), _f64(mus), _f64(sigmas), _f64(log_weights), float(low), float(high))  # type: ignore[no-any-return]


def sample_truncnorm_mixture(
    u_component: np.ndarray,
    u_value: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """Draw from a mixture of truncated normals by inverse CDF of pre-drawn uniforms.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.sample_truncnorm_mixture`.
    """
    return _sample_truncnorm(  # type: ignore[no-any-return]
        _f64(u_component), _f64(u_value), _f64(mus), _f64(sigmas), _f64(weights), float(low), float(high)
    )


def nondominated_rank(values: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each point for minimisation.

    Arguments, shapes and complexity as :func:`hpo_core.kernels._reference.nondominated_rank`.
    """
    return _nondominated_rank(_f64(values))  # type: ignore[no-any-return]


def is_pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each point is on the Pareto front (non-dominated) for minimisation.

    Arguments, shapes and complexity as :func:`hpo_core.kernels._reference.is_pareto_front`.
    """
    return _is_pareto_front(_f64(values))  # type: ignore[no-any-return]


def log_pdf_product_mixture(
    X_low: np.ndarray,
    X_high: np.ndarray,
    discrete: np.ndarray,
    C: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    log_weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_log_probs: np.ndarray,
    cat_offsets: np.ndarray,
) -> np.ndarray:
    """Log density of a mixture of product kernels over numeric and categorical dimensions.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.log_pdf_product_mixture`.
    Components whose partial log term falls more than ``42 + log k`` below the running
    maximum are skipped (their total is below float64 resolution of the result).
    """
    return _log_pdf_product(  # type: ignore[no-any-return]
        _f64(X_low), _f64(X_high), np.ascontiguousarray(discrete, dtype=np.bool_), _f64(C),
        _f64(mus), _f64(sigmas), _f64(log_weights), _f64(low), _f64(high),
        _f64(cat_log_probs), np.ascontiguousarray(cat_offsets, dtype=np.intp),
    )


def sample_product_mixture(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    mus: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    cat_probs: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """Draw from a mixture of product kernels by inverse CDFs of pre-drawn uniforms.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.sample_product_mixture`.
    """
    return _sample_product(  # type: ignore[no-any-return]
        _f64(u_component), _f64(U), _f64(UC), _f64(mus), _f64(sigmas), _f64(weights),
        _f64(low), _f64(high), _f64(cat_probs),
        np.ascontiguousarray(cat_offsets, dtype=np.intp),
        np.ascontiguousarray(cat_sizes, dtype=np.intp),
    )


# --- hypervolume kernels -------------------------------------------------------------
# Same notation and results as the reference (``_reference.hypervolume``); m >= 5 is
# delegated to the reference's WFG recursion from the Python wrappers.


@_jit
def _hv_inside(points, ref):  # type: ignore[no-untyped-def]
    """The rows that strictly dominate ref (non-empty box), as a new array."""
    n, m = points.shape
    keep = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        keep[i] = True
        for j in range(m):
            if not points[i, j] < ref[j]:
                keep[i] = False
                break
    return points[keep]


@_jit
def _all_finite(a):  # type: ignore[no-untyped-def]
    for v in a.ravel():
        if not math.isfinite(v):
            return False
    return True


@_jit
def _hv_2d(q, ref):  # type: ignore[no-untyped-def]
    # Sweep in f1 order: a new running minimum of f2 adds a strip (see reference). Ties
    # in f1 need no f2 order: their strips have the same width and add up to one strip.
    total = 0.0
    y_min = ref[1]
    for p in np.argsort(q[:, 0]):
        if q[p, 1] < y_min:
            total += (ref[0] - q[p, 0]) * (y_min - q[p, 1])
            y_min = q[p, 1]
    return total


@_jit
def _hv_3d(q, ref):  # type: ignore[no-untyped-def]
    # Dimension sweep over f3: after inserting the points with f3 <= z_i, the slab
    # [z_i, z_{i+1}) adds area_2d * (z_{i+1} - z_i). The 2-D front is kept sorted by
    # x (increasing) with y strictly decreasing; O(n f) for a 2-D front of size f.
    n = q.shape[0]
    order = np.argsort(q[:, 2], kind="mergesort")
    fx = np.empty(n)
    fy = np.empty(n)
    f = 0
    total = 0.0
    area = 0.0
    for t in range(n):
        p = order[t]
        x, y = q[p, 0], q[p, 1]
        lo, hi = 0, f  # j = number of front points with fx < x
        while lo < hi:
            mid = (lo + hi) // 2
            if fx[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        j = lo
        dominated = (j > 0 and fy[j - 1] <= y) or (j < f and fx[j] == x and fy[j] <= y)
        if not dominated:
            end = j  # front points from j on with y >= y are dominated by (x, y)
            while end < f and fy[end] >= y:
                end += 1
            shift = 1 - (end - j)
            if shift > 0:
                for s in range(f - 1, end - 1, -1):
                    fx[s + shift], fy[s + shift] = fx[s], fy[s]
            elif shift < 0:
                for s in range(end, f):
                    fx[s + shift], fy[s + shift] = fx[s], fy[s]
            fx[j], fy[j] = x, y
            f += shift
            area = 0.0
            for s in range(f):
                x_next = fx[s + 1] if s + 1 < f else ref[0]
                area += (x_next - fx[s]) * (ref[1] - fy[s])
        z_next = q[order[t + 1], 2] if t + 1 < n else ref[2]
        total += area * (z_next - q[p, 2])
    return total


@_jit
def _hv_4d(q, ref):  # type: ignore[no-untyped-def]
    # Slabs over f4, each the 3-D volume of the points below it: O(n^2 f).
    n = q.shape[0]
    order = np.argsort(q[:, 3], kind="mergesort")
    ref3 = ref[:3].copy()
    total = 0.0
    for t in range(n):
        z_next = q[order[t + 1], 3] if t + 1 < n else ref[3]
        dz = z_next - q[order[t], 3]
        if dz > 0.0:
            prefix = np.empty((t + 1, 3))
            for s in range(t + 1):
                for c in range(3):
                    prefix[s, c] = q[order[s], c]
            total += _hv_3d(prefix, ref3) * dz
    return total


@_jit
def _hv_low(q, ref):  # type: ignore[no-untyped-def]
    """HV of points (m <= 4) that all strictly dominate ref."""
    n, m = q.shape
    if n == 0:
        return 0.0
    if not (_all_finite(q) and _all_finite(ref)):
        return _INF
    if m == 1:
        return ref[0] - q[:, 0].min()
    if m == 2:
        return _hv_2d(q, ref)
    if m == 3:
        return _hv_3d(q, ref)
    return _hv_4d(q, ref)


@_jit
def _hypervolume(points, ref):  # type: ignore[no-untyped-def]
    return _hv_low(_hv_inside(points, ref), ref)


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by points and bounded by the reference point, for minimisation.

    Arguments and accuracy as :func:`hpo_core.kernels._reference.hypervolume`. Compiled
    for m <= 4 (m = 3: O(n f) dimension sweep, f the largest 2-D front; m = 4: slabs
    over f4, O(n^2 f)); m >= 5 runs the reference's WFG recursion.
    """
    points, ref = _f64(points), _f64(ref)
    if points.shape[1] >= 5:
        return _reference.hypervolume(points, ref)
    return float(_hypervolume(points, ref))


def parzen_bandwidths(
    T: np.ndarray, low: np.ndarray, high: np.ndarray, consider_endpoints: bool, magic_clip: bool
) -> np.ndarray:
    """Neighbour-distance bandwidths of TPE's Parzen estimator, every dimension at once.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.parzen_bandwidths`.
    """
    T = _f64(T)
    # NumPy's stable sort (radix/timsort) is several times faster than Numba's mergesort.
    orders = np.ascontiguousarray(np.argsort(T, axis=0, kind="stable"), dtype=np.intp)
    return _parzen_bandwidths(  # type: ignore[no-any-return]
        T, orders, _f64(low), _f64(high), bool(consider_endpoints), bool(magic_clip)
    )


def categorical_kernel_table(
    C: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, prior_weight: float
) -> np.ndarray:
    """Category probabilities of TPE's categorical kernels plus a uniform prior row.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.categorical_kernel_table`.
    """
    return _categorical_kernel_table(  # type: ignore[no-any-return]
        _f64(C), np.ascontiguousarray(sizes, dtype=np.intp), np.ascontiguousarray(offsets, dtype=np.intp),
        float(prior_weight),
    )


def tpe_best_candidate(
    u_component: np.ndarray,
    U: np.ndarray,
    UC: np.ndarray,
    good: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    bad: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
) -> np.ndarray:
    """TPE's proposal: the candidate drawn from ``good`` with the largest ``log l - log g``.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_best_candidate`;
    one compiled call (no Python between sampling, snapping and the two densities).
    """
    return _tpe_best_candidate(  # type: ignore[no-any-return]
        _f64(u_component), _f64(U), _f64(UC),
        _f64(good[0]), _f64(good[1]), _f64(good[2]), _f64(good[3]),
        _f64(bad[0]), _f64(bad[1]), _f64(bad[2]), _f64(bad[3]),
        _f64(low), _f64(high), np.ascontiguousarray(is_log, dtype=np.bool_), _f64(step),
        _f64(grid_low), _f64(grid_high),
        np.ascontiguousarray(cat_offsets, dtype=np.intp), np.ascontiguousarray(cat_sizes, dtype=np.intp),
    )


def tpe_propose(
    X: np.ndarray,
    rows: np.ndarray,
    n_below: int,
    cols: np.ndarray,
    weights: np.ndarray,
    u: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    grid_low: np.ndarray,
    grid_high: np.ndarray,
    cat_offsets: np.ndarray,
    cat_sizes: np.ndarray,
    prior_weight: float,
    consider_endpoints: bool,
    magic_clip: bool,
) -> np.ndarray:
    """TPE's whole proposal from the history's columns, in one call.

    Arguments, shapes and accuracy as :func:`hpo_core.kernels._reference.tpe_propose`;
    ``X`` is read in place (any layout), everything else runs in one compiled call.
    """
    X = np.asarray(X, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.intp)
    cols = np.ascontiguousarray(cols, dtype=np.intp)
    if len(rows) and (rows.min() < 0 or rows.max() >= X.shape[0]):
        raise ValueError(f"`rows` must index rows of `X` ({X.shape[0]}), but got {rows.min()}..{rows.max()}.")
    if len(cols) and (cols.min() < 0 or cols.max() >= X.shape[1]):
        raise ValueError(f"`cols` must index columns of `X` ({X.shape[1]}), but got {cols.min()}..{cols.max()}.")
    out, bad = _tpe_propose(
        X, rows, int(n_below), cols, _f64(weights), _f64(u), _f64(low), _f64(high),
        np.ascontiguousarray(is_log, dtype=np.bool_), _f64(step), _f64(grid_low), _f64(grid_high),
        np.ascontiguousarray(cat_offsets, dtype=np.intp), np.ascontiguousarray(cat_sizes, dtype=np.intp),
        float(prior_weight), bool(consider_endpoints), bool(magic_clip),
    )
    if not np.isnan(bad) or len(out) == 0:
        raise ValueError(f"`X` must hold category indices in [0, size) in its categorical columns, but got {bad!r}.")
    return out  # type: ignore[no-any-return]
