"""The random draws of Optuna 5.0's ``RandomSampler(seed)``, value for value.

NSGA-II and NSGA-III draw their first generation, and every parameter a child leaves to
mutation, from a ``RandomSampler`` of the same seed. Optuna's ``sample_independent``
makes one ``RandomState.uniform`` call per parameter on the bounds of a
``_SearchSpaceTransform`` (log of log parameters, widened by half a step for int and
stepped ones, one [0, 1) column per choice of a categorical) and maps the draw back.
This module repeats those formulas on a ``numpy.random.RandomState(seed)`` of its own
(drawn through ``_stream.LegacyStream``),
so that a seeded study proposes the same values as Optuna's (hpo_core's own
``RandomSampler`` keeps its faster stream).

``Code`` (one per distribution): ``(kind, lo, hi, low, high, step, below_high,
n_choices)``, with ``lo, hi`` the transformed bounds and ``below_high`` the float just
below ``high`` (Optuna's untransform keeps continuous floats below it).
"""

from __future__ import annotations

import math

import numpy as np

from hpo_core.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, SearchSpace
from hpo_core.samplers.nsga._stream import LegacyStream

__all__ = ["OptunaRandom", "code_of", "untransform"]

_FLOAT, _FLOAT_LOG, _FLOAT_STEP, _INT, _INT_LOG, _CAT = range(6)
Code = tuple[int, float, float, float, float, float, float, int]


def code_of(dist: BaseDistribution) -> Code:
    """The draw recipe of ``dist`` (see the module docstring)."""
    if isinstance(dist, CategoricalDistribution):
        return (_CAT, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, len(dist.choices))
    low, high = dist.low, dist.high  # type: ignore[attr-defined]
    below = float(np.nextafter(high, high - 1))
    if isinstance(dist, FloatDistribution):
        if dist.log:
            return (_FLOAT_LOG, math.log(low), math.log(high), low, high, 0.0, below, 0)
        if dist.step is not None:
            half = 0.5 * dist.step
            return (_FLOAT_STEP, low - half, high + half, low, high, dist.step, below, 0)
        return (_FLOAT, float(low), float(high), low, high, 0.0, below, 0)
    half = 0.5 * dist.step  # type: ignore[attr-defined]
    if dist.log:  # type: ignore[attr-defined]
        return (_INT_LOG, math.log(low - half), math.log(high + half), low, high, 1.0, below, 0)
    return (_INT, float(low) - half, float(high) + half, low, high, dist.step, below, 0)  # type: ignore[attr-defined]


def untransform(t: float, code: Code) -> float:
    """Optuna's ``_untransform_numerical_param`` of a transformed value ``t``, as an
    internal value (floats, or the int as a float)."""
    kind, _, _, low, high, step, below, _ = code
    if kind == _FLOAT:
        return t if t < below or low == high else below
    if kind == _FLOAT_LOG:
        v = math.exp(t)
        if low == high:
            return v
        return low if v < low else below if v > below else v
    if kind == _FLOAT_STEP:  # np.round: half to even, as Optuna
        v = float(np.round((t - low) / step)) * step + low
        return low if v < low else high if v > high else v
    if kind == _INT_LOG:
        i = int(round(math.exp(t)))
        return float(min(max(i, low), high))
    k = math.floor((t - low) / step + 0.5) * int(step) + low
    return float(min(max(k, low), high))


class OptunaRandom:
    """Draws of Optuna's ``RandomSampler(seed)``, one parameter at a time.

    Args:
        seed: Seed of the ``RandomState`` (None: fresh entropy).
    """

    def __init__(self, seed: int | None) -> None:
        self.stream = LegacyStream(np.random.RandomState(seed))
        self._codes: dict[SearchSpace, list[Code]] = {}
        self._dist_codes: dict[BaseDistribution, Code] = {}

    def reseed(self) -> None:
        self.stream = LegacyStream(np.random.RandomState())

    def __getstate__(self) -> dict[str, object]:
        return {"stream": self.stream}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.stream = state["stream"]  # type: ignore[assignment]
        self._codes = {}
        self._dist_codes = {}

    def internal(self, code: Code) -> float:
        """One draw, as the internal value of the distribution of ``code``."""
        if code[0] == _CAT:
            # A one-hot column per choice, each uniform on [0, 1): the first largest wins.
            u = self.stream.rand_list(code[7])
            return float(u.index(max(u)))
        return untransform(self.stream.uniform(code[1], code[2]), code)

    def code(self, dist: BaseDistribution) -> Code:
        """``code_of(dist)``, cached."""
        code = self._dist_codes.get(dist)
        if code is None:
            if len(self._dist_codes) > 256:
                self._dist_codes.clear()
            code = self._dist_codes[dist] = code_of(dist)
        return code

    def external(self, dist: BaseDistribution) -> object:
        """One draw of ``dist`` (Optuna's ``RandomSampler.sample_independent``)."""
        return dist.to_external_repr(self.internal(self.code(dist)))

    def space(self, space: SearchSpace, out: np.ndarray, which: list[int] | None) -> np.ndarray:
        """Draw the parameters of ``space`` (all, or the indices ``which``, ascending) into
        ``out`` (d,), in the order of the space: the order they are suggested in."""
        codes = self._codes.get(space)
        if codes is None:
            if len(self._codes) > 16:
                self._codes.clear()
            codes = self._codes[space] = [code_of(dist) for dist in space.values()]
        for j in range(len(codes)) if which is None else which:
            out[j] = self.internal(codes[j])
        return out
