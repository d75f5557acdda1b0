// Scalar special functions of the standard normal distribution, in log space.
//
// Same algorithms as hpo_core/kernels/_numba_truncnorm.py (and as SciPy, which the reference
// calls): log_ndtr from erfc plus the asymptotic erfcx series far in the left tail,
// Cephes ndtri and SciPy's ndtri_exp. Plain C++17, no Python.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace hpo_core {
namespace special {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr double kLogSqrt2Pi = 0.918938533204672741780329736405617640;  // log sqrt(2 pi)
constexpr double kSqrt1_2 = 0.707106781186547524400844362104849039;
constexpr double kLog2SqrtPi = 1.265512123484645396488945797134705923;  // log(2 sqrt(pi))
constexpr double kS2Pi = 2.50662827463100050242E0;                       // sqrt(2 pi)
constexpr double kExpM2 = 0.13533528323661269189;                        // exp(-2)

// Cephes ndtri coefficients (Moshier, Cephes Math Library 2.8), highest degree first.
// P0/Q0: |y - 0.5| <= 3/8; P1/Q1: z = sqrt(-2 log y) in [2, 8); P2/Q2: z >= 8.
constexpr double kP0[] = {-5.99633501014107895267E1, 9.80010754185999661536E1,
                          -5.66762857469070293439E1, 1.39312609387279679503E1,
                          -1.23916583867381258016E0};
constexpr double kQ0[] = {1.95448858338141759834E0,  4.67627912898881538453E0,
                          8.63602421390890590575E1,  -2.25462687854119370527E2,
                          2.00260212380060660359E2,  -8.20372256168333339912E1,
                          1.59056225126211695515E1,  -1.18331621121330003142E0};
constexpr double kP1[] = {4.05544892305962419923E0,   3.15251094599893866154E1,
                          5.71628192246421288162E1,   4.40805073893200834700E1,
                          1.46849561928858024014E1,   2.18663306850790267539E0,
                          -1.40256079171354495875E-1, -3.50424626827848203418E-2,
                          -8.57456785154685413611E-4};
constexpr double kQ1[] = {1.57799883256466749731E1,   4.53907635128879210584E1,
                          4.13172038254672030440E1,   1.50425385692907503408E1,
                          2.50464946208309415979E0,   -1.42182922854787788574E-1,
                          -3.80806407691578277194E-2, -9.33259480895457427372E-4};
constexpr double kP2[] = {3.23774891776946035970E0,  6.91522889068984211695E0,
                          3.93881025292474443415E0,  1.33303460815807542389E0,
                          2.01485389549179081538E-1, 1.23716634817820021358E-2,
                          3.01581553508235416007E-4, 2.65806974686737550832E-6,
                          6.23974539184983293730E-9};
constexpr double kQ2[] = {6.02427039364742014255E0,  3.67983563856160859403E0,
                          1.37702099489081330271E0,  2.16236993594496635890E-1,
                          1.34204006088543189037E-2, 3.28014464682127739104E-4,
                          2.89247864745380683936E-6, 6.79019408009981274425E-9};

template <std::size_t N>
inline double polevl(double x, const double (&coef)[N]) {
  double acc = 0.0;
  for (double c : coef) acc = acc * x + c;
  return acc;
}

// Polynomial with an implicit leading coefficient 1.
template <std::size_t N>
inline double p1evl(double x, const double (&coef)[N]) {
  double acc = 1.0;
  for (double c : coef) acc = acc * x + c;
  return acc;
}

// -Phi^-1(y) for y < exp(-2), given x = sqrt(-2 log y) (Cephes' tail expansion).
inline double ndtri_tail(double x) {
  const double x0 = x - std::log(x) / x;
  const double z = 1.0 / x;
  const double x1 = x < 8.0 ? z * polevl(z, kP1) / p1evl(z, kQ1)
                            : z * polevl(z, kP2) / p1evl(z, kQ2);
  return x1 - x0;
}

// Phi^-1(y0) (Cephes ndtri); -inf for y0 <= 0, +inf for y0 >= 1.
inline double ndtri(double y0) {
  if (y0 <= 0.0) return -kInf;
  if (y0 >= 1.0) return kInf;
  bool negate = true;
  double y = y0;
  if (y > 1.0 - kExpM2) {  // upper tail: work with the (exact) complement
    y = 1.0 - y;
    negate = false;
  }
  if (y > kExpM2) {
    y -= 0.5;
    const double y2 = y * y;
    return (y + y * (y2 * polevl(y2, kP0) / p1evl(y2, kQ0))) * kS2Pi;
  }
  const double t = ndtri_tail(std::sqrt(-2.0 * std::log(y)));
  return negate ? t : -t;
}

// Phi^-1(exp(y)) for y <= 0, accurate down to y = -1.8e308 (as scipy.special.ndtri_exp).
inline double ndtri_exp(double y) {
  if (y == -kInf) return -kInf;
  if (y < -2.0) {
    // Feed log y straight into the tail expansion: exp(y) may underflow.
    const double x = y >= -0.5 * std::numeric_limits<double>::max()
                         ? std::sqrt(-2.0 * y)
                         : std::sqrt(2.0) * std::sqrt(-y);
    return ndtri_tail(x);
  }
  if (y > std::log1p(-kExpM2)) return -ndtri(-std::expm1(y));  // 1 - e^y, no cancellation
  return ndtri(std::exp(y));
}

// log(erfcx(y) / 2) for y > 24.7 by the asymptotic series
// erfcx(y) = (1 + sum_n (-1)^n (2n-1)!! / (2y^2)^n) / (y sqrt(pi)); ten terms leave a
// relative error below 1e-25 there.
inline double log_half_erfcx_series(double y) {
  const double inv = 0.5 / y / y;
  double term = 1.0, s = 0.0;
  for (int n = 1; n <= 10; ++n) {
    term *= -(2.0 * n - 1.0) * inv;
    s += term;
  }
  return std::log1p(s) - (std::log(y) + kLog2SqrtPi);
}

// log Phi(x), accurate to a few ulp for every x.
inline double log_ndtr(double x) {
  const double t = x * kSqrt1_2;
  if (x >= -1.0) return std::log1p(-0.5 * std::erfc(t));  // Phi(x) >= 0.16
  if (x >= -35.0) return std::log(0.5 * std::erfc(-t));   // erfc(24.7) ~ 1e-267: normal
  if (x == -kInf) return -kInf;
  return -t * t + log_half_erfcx_series(-t);  // Phi(x) = erfcx(-t) exp(-t^2) / 2
}

inline double ndtr(double x) { return 0.5 * std::erfc(-x * kSqrt1_2); }

// g(x) = log Phi(x) + x^2/2 for x <= 0, without cancelling the two large terms.
inline double log_ndtr_scaled(double x) {
  if (x >= -1.0) return log_ndtr(x) + 0.5 * x * x;  // both terms O(1)
  if (x == -kInf) return -kInf;
  const double y = -x * kSqrt1_2;  // Phi(x) = erfcx(y) exp(-y^2) / 2: g = log(erfcx(y) / 2)
  if (y > 25.0) return log_half_erfcx_series(y);
  // erfcx(y) = erfc(y) exp(y^2) with y^2 = hi + lo (Dekker), so exp(lo) = 1 + lo. y_hi is
  // y truncated to 26 significant bits, which makes y_hi^2 and 2 y_hi y_lo exact products
  // (and, unlike Veltkamp's split, cannot be disturbed by FMA contraction).
  const double hi = y * y;
  int e = 0;
  const double m = std::frexp(y, &e);
  const double y_hi = std::ldexp(std::floor(m * 67108864.0), e - 26);
  const double y_lo = y - y_hi;
  const double lo = ((y_hi * y_hi - hi) + 2.0 * y_hi * y_lo) + y_lo * y_lo;
  return std::log(0.5 * std::erfc(y) * std::exp(hi) * (1.0 + lo));
}

// log(1 - exp(d)) for d <= 0: expm1 near 0, log1p(-exp) below -ln 2 (Maechler 2012).
inline double log1mexp(double d) {
  if (d == 0.0) return -kInf;
  if (d > -kLn2) return std::log(-std::expm1(d));
  return std::log1p(-std::exp(d));
}

// c: b if b <= 0, a if a > 0, else 0 (the point of [a, b] nearest 0).
inline double shift(double a, double b) { return b <= 0.0 ? b : (a > 0.0 ? a : 0.0); }

// log(Phi(b) - Phi(a)) + b^2/2 for a <= b <= 0.
inline double scaled_left(double a, double b, double width) {
  const double g_b = log_ndtr_scaled(b);
  if (a == -kInf) return g_b;
  // d = log Phi(a) - log Phi(b) with the difference of squares as width * (a + b).
  const double d = log_ndtr_scaled(a) - g_b + 0.5 * width * (a + b);
  return g_b + log1mexp(std::min(d, 0.0));
}

constexpr double kNarrow = 1e-3;  // see _reference_truncnorm._NARROW

// G = log(Phi(b) - Phi(a)) + c^2/2 with c = shift(a, b), for a <= b and width = b - a
// (log_gauss_mass, its one caller, passes b - a). G stays O(log |c|) when the mass
// underflows.
inline double log_gauss_mass_scaled(double a, double b, double width) {
  if (width > 0.0 && width < kNarrow) {
    const double m = 0.5 * (a + b);
    if (width * std::max(1.0, std::fabs(m)) < kNarrow) {
      // Midpoint expansion w phi(m) (1 + (m^2 - 1) w^2 / 24); m - c is exact.
      const double m_minus_c = b <= 0.0 ? -0.5 * width : (a > 0.0 ? 0.5 * width : m);
      return std::log(width) - kLogSqrt2Pi - 0.5 * m_minus_c * (m + shift(a, b)) +
             std::log1p((m * m - 1.0) * width * width / 24.0);
    }
  }
  if (b <= 0.0) return scaled_left(a, b, width);
  if (a > 0.0) return scaled_left(-b, -a, width);  // Phi(b) - Phi(a) = Phi(-a) - Phi(-b)
  // a <= 0 < b: above 1/2, 1 minus two small tails; below, half a sum of two erf >= 0.
  const double tails = ndtr(a) + ndtr(-b);
  if (tails < 0.5) return std::log1p(-tails);
  return std::log(0.5 * (std::erf(b * kSqrt1_2) + std::erf(-a * kSqrt1_2)));
}

// log(Phi(b) - Phi(a)) for a <= b.
inline double log_gauss_mass(double a, double b) {
  const double c = shift(a, b);
  return log_gauss_mass_scaled(a, b, b - a) - 0.5 * c * c;
}

// log(exp(x) + exp(y)), as numpy.logaddexp.
inline double logaddexp(double x, double y) {
  if (x == y) return x + kLn2;  // also covers x == y == -inf
  const double d = x - y;
  if (d > 0.0) return x + std::log1p(std::exp(-d));
  return y + std::log1p(std::exp(d));
}

// Inverse CDF of the standard normal truncated to [a, b]. Both branches invert a
// left-tail probability, which log space represents without rounding to 1.
inline double ppf_std_truncnorm(double q, double a, double b) {
  const double log_mass = log_gauss_mass(a, b);
  if (a < 0.0) {  // Phi^-1(Phi(a) + q Z)
    const double log_q = q > 0.0 ? std::log(q) : -kInf;
    return ndtri_exp(logaddexp(log_ndtr(a), log_q + log_mass));
  }
  // Mirror: -Phi^-1(Phi(-b) + (1 - q) Z).
  const double log_1mq = q < 1.0 ? std::log1p(-q) : -kInf;
  return -ndtri_exp(logaddexp(log_ndtr(-b), log_1mq + log_mass));
}

}  // namespace special
}  // namespace hpo_core
