"""Optuna 5.0's random stream, value for value: NumPy's legacy draws emulated, and the
draws of Optuna's ``RandomSampler(seed)`` on them.

Samplers whose Optuna counterparts draw from a ``numpy.random.RandomState`` (CMA-ES,
NSGA-II, NSGA-III) draw the same numbers here, so that the same seed gives Optuna's
trials; ``hpo_core.samplers.RandomSampler`` keeps its own, faster stream.

**The generator** (:class:`LegacyStream`). Optuna draws its tournaments (``choice``),
swap masks and mutation flags (``rand``) and CMA-ES's seeds (``randint``) one NumPy call
at a time, microseconds each. :class:`LegacyStream` gives the same numbers by repeating
NumPy's legacy algorithms over a block of the generator's raw 32-bit MT19937 outputs,
drawn in one call:

* ``rand()`` (``random_standard_uniform``, ``mt19937_next_double``): two words ``a, b``
  give ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``; ``rand(n)`` is n of them in turn.
* ``randint(low, high)`` (the default int64 dtype, ``random_bounded_uint64_fill`` with
  ``use_masked``), for ``high - low <= 2**32``: words ``w`` until
  ``w & mask <= high - 1 - low``, with ``mask`` the smallest ``2**k - 1 >= high - 1 -
  low``, giving ``low + (w & mask)``; ``high - low == 1`` draws nothing. A wider range
  (64-bit words) is NumPy's own call. ``choice(n)`` is ``randint(0, n)``.
* ``uniform(lo, hi)``: ``lo + (hi - lo) * rand()``.

A block is drawn ahead of use, so the ``RandomState`` itself runs ahead of the stream;
:meth:`LegacyStream.sync` puts it back where the stream is (the state at the block's
start, advanced by the words used) before anything else draws from it (NSGA-III's
niching, crossover and mutation operators, CMA-ES's restarts, pickling). With
``emulate=False`` every draw is the NumPy call itself.

**Optuna's RandomSampler** (:class:`OptunaRandom`, :func:`sample_optuna_random`,
:class:`OptunaStreamRandomSampler`). Its ``sample_independent`` builds
``_SearchSpaceTransform({name: dist})`` (log space for log parameters, the interval
widened by half a step for stepped and int ones, one ``[0, 1)`` column per choice of a
categorical), draws ``rng.uniform(low, high)`` of those bounds and maps the draw back;
:func:`draw_internal` repeats those formulas operation by operation. ``Code`` (one per
distribution): ``(kind, lo, hi, low, high, step, below_high, n_choices)``, with ``lo, hi``
the transformed bounds and ``below_high`` the float just below ``high`` (Optuna's
untransform keeps continuous floats below it).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_int
from hpo_core.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, SearchSpace
from hpo_core.samplers._base import BaseSampler

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["LegacyStream", "OptunaRandom", "OptunaStreamRandomSampler", "code_of", "draw_internal",
           "sample_optuna_random", "untransform"]


# -------------------------------------------------------------------------- the generator
_BLOCK = 4096  # raw words per refill: ~90 children of a 10-parameter space
_RESYNC = 1 << 20  # words consumed since the state was saved before it is saved afresh
_INV_2_53 = 1.0 / 9007199254740992.0


class LegacyStream:
    """Draws of ``rng`` (a legacy ``RandomState``) emulated over its raw outputs.

    Args:
        rng: The generator; the stream owns it (other code draws from it only through
            :meth:`sync`).
        emulate: False: every draw is a NumPy call (no block, nothing to sync).
    """

    def __init__(self, rng: np.random.RandomState, *, emulate: bool = True) -> None:
        self._rng = rng
        self.emulate = emulate
        self._reset()

    def _reset(self) -> None:
        self._saved: Any = None  # the generator's state at the first buffered word
        self._consumed = 0  # words used since ``_saved``, before the current buffer
        self._w: list[int] = []  # buffered raw words
        self._d: tuple[list[float], list[float]] = ([], [])  # doubles of word pairs (even, odd start)
        self._p = 0  # next word of ``_w``

    # ------------------------------------------------------------------ the generator
    def sync(self) -> np.random.RandomState:
        """The generator, in the state the stream has reached (so that other code may
        draw from it); the stream continues from wherever that code leaves it."""
        if self._saved is not None:
            rng = self._rng
            rng.set_state(self._saved)
            k = self._consumed + self._p
            while k:  # one uint32 draw per word (NumPy's full-range path)
                m = min(k, _RESYNC)
                rng.randint(0, 2**32, size=m, dtype=np.uint32)
                k -= m
            self._reset()
        return self._rng

    def __getstate__(self) -> dict[str, Any]:
        return {"rng": self.sync(), "emulate": self.emulate}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._rng = state["rng"]
        self.emulate = state["emulate"]
        self._reset()

    def _refill(self, need: int) -> None:
        if self._saved is not None and self._consumed + self._p > _RESYNC:
            self.sync()  # bounds the replay a later sync does
        if self._saved is None:
            self._saved = self._rng.get_state()
            self._consumed = 0
        tail = np.array(self._w[self._p:], dtype=np.uint64)
        self._consumed += self._p
        new = self._rng.randint(0, 2**32, size=max(_BLOCK, need), dtype=np.uint32)
        w = np.concatenate([tail, new.astype(np.uint64)])
        d = ((w[:-1] >> 5).astype(np.float64) * 67108864.0 + (w[1:] >> 6).astype(np.float64)) * _INV_2_53
        self._w = w.tolist()
        self._d = (d[0::2].tolist(), d[1::2].tolist())  # d[i]: the double of words i, i + 1
        self._p = 0

    # ------------------------------------------------------------------ draws
    def rand(self) -> float:
        """``RandomState.rand()``."""
        if not self.emulate:
            return self._rng.rand()  # type: ignore[no-any-return]
        p = self._p
        if p + 2 > len(self._w):
            self._refill(2)
            p = 0
        self._p = p + 2
        return self._d[p & 1][p >> 1]

    def rand_list(self, n: int) -> list[float]:
        """``RandomState.rand(n).tolist()``."""
        if not self.emulate:
            return self._rng.rand(n).tolist()  # type: ignore[no-any-return]
        p = self._p
        if p + 2 * n > len(self._w):
            self._refill(2 * n)
            p = 0
        self._p = p + 2 * n
        i = p >> 1
        return self._d[p & 1][i:i + n]

    def randint(self, low: int, high: int) -> int:
        """``int(RandomState.randint(low, high))`` (the default int64 dtype), low < high."""
        top = high - 1 - low
        if not self.emulate or top > 0xFFFFFFFF:  # 64-bit words: NumPy's own call
            return int(self.sync().randint(low, high))
        if top == 0:
            return low
        mask = (1 << top.bit_length()) - 1
        while True:
            p = self._p
            if p >= len(self._w):
                self._refill(1)
                p = 0
            self._p = p + 1
            v = self._w[p] & mask
            if v <= top:
                return low + v

    def choice(self, n: int) -> int:
        """``RandomState.choice(n)`` (= ``randint(0, n)``), n >= 1."""
        return self.randint(0, n)

    def uniform(self, low: float, high: float) -> float:
        """``RandomState.uniform(low, high)`` (finite bounds)."""
        if not self.emulate:
            return float(self._rng.uniform(low, high))
        return low + (high - low) * self.rand()


# -------------------------------------------------------------------------- Optuna's RandomSampler
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


def draw_internal(stream: LegacyStream, code: Code) -> float:
    """One draw of Optuna's ``RandomSampler`` from ``stream``, as the internal value of
    the distribution of ``code`` (floats, the int as a float, the choice's index)."""
    if code[0] == _CAT:
        # A one-hot column per choice, each uniform on [0, 1): the first largest wins.
        u = stream.rand_list(code[7])
        return float(u.index(max(u)))
    return untransform(stream.uniform(code[1], code[2]), code)


def sample_optuna_random(rng: np.random.RandomState, dist: BaseDistribution) -> Any:
    """Draw one external value of ``dist`` from ``rng`` as Optuna's
    ``RandomSampler.sample_independent`` does (the same draws, the same floats).

    Args:
        rng: The generator (Optuna's ``LazyRandomState.rng``); advanced by one uniform
            draw (``len(choices)`` draws for a categorical), NumPy's own calls.
        dist: A float, int or categorical distribution.

    Returns:
        The external value: a float, an int, or one of the choices.
    """
    return dist.to_external_repr(draw_internal(LegacyStream(rng, emulate=False), code_of(dist)))


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
        return draw_internal(self.stream, code)

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


class OptunaStreamRandomSampler(BaseSampler):
    """Random sampling on Optuna's stream: the same seed gives Optuna's
    ``RandomSampler(seed)``'s values, parameter by parameter in sampling order.

    Joint sampling draws the parameters one by one in the space's order (as Optuna
    samples a fixed space's parameters in the order of its dict), through the emulated
    stream (:class:`OptunaRandom`). Slower per draw than
    :class:`~hpo_core.samplers.RandomSampler`; meant for the startup trials of samplers
    whose Optuna counterparts start with ``RandomSampler(seed)``.

    Args:
        seed: Seed of the ``numpy.random.RandomState``; None seeds it from the OS.

    Example:
        >>> import hpo_core
        >>> from hpo_core.samplers._optuna_stream import OptunaStreamRandomSampler
        >>> study = hpo_core.create_study(sampler=OptunaStreamRandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
    """

    def __init__(self, seed: int | None = None):
        check_int("seed", seed, low=0, allow_none=True, owner="OptunaStreamRandomSampler")
        self._random = OptunaRandom(seed)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "_rng" in state:  # pickled when it drew through NumPy's calls
            random = OptunaRandom(0)
            random.stream = LegacyStream(state.pop("_rng"))
            state["_random"] = random
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def reseed_rng(self) -> None:
        with self._lock:
            self._random.reseed()

    def sample_independent(
        self, study: Study, trial: Trial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        with self._lock:
            return self._random.external(param_distribution)

    def sample_joint(self, study: Study, trial: Trial, space: SearchSpace) -> np.ndarray:
        with self._lock:
            return self._random.space(space, np.empty(len(space)), None)
