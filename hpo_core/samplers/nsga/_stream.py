"""The draws NSGA-II and NSGA-III make from a ``numpy.random.RandomState``, value for
value, at a fraction of the cost of NumPy's per-call overhead.

Optuna draws its tournaments (``choice``), swap masks and mutation flags (``rand``) one
NumPy call at a time, several microseconds each. :class:`LegacyStream` gives the same
numbers by repeating NumPy's legacy algorithms over a block of the generator's raw 32-bit
MT19937 outputs, drawn in one call:

* ``rand()`` (``random_standard_uniform``, ``mt19937_next_double``): two words ``a, b``
  give ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``; ``rand(n)`` is n of them in turn.
* ``choice(n)`` = ``randint(0, n)`` (legacy, masked rejection sampling): words ``w`` until
  ``w & mask <= n - 1``, with ``mask`` the smallest ``2**k - 1 >= n - 1``; ``n == 1``
  draws nothing.
* ``uniform(lo, hi)``: ``lo + (hi - lo) * rand()``.

A block is drawn ahead of use, so the ``RandomState`` itself runs ahead of the stream;
:meth:`LegacyStream.sync` puts it back where the stream is (the state at the block's
start, advanced by the words used) before anything else draws from it (NSGA-III's
niching, crossover and mutation operators, pickling). With ``emulate=False`` every draw
is the NumPy call itself (for samplers whose operators draw from the generator at every
child, where syncing would cost more than it saves).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LegacyStream"]

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

    def choice(self, n: int) -> int:
        """``RandomState.choice(n)`` (= ``randint(0, n)``), n >= 1."""
        if not self.emulate:
            return int(self._rng.randint(n))
        top = n - 1
        if top == 0:
            return 0
        mask = (1 << top.bit_length()) - 1
        while True:
            p = self._p
            if p >= len(self._w):
                self._refill(1)
                p = 0
            self._p = p + 1
            v = self._w[p] & mask
            if v <= top:
                return v

    def uniform(self, low: float, high: float) -> float:
        """``RandomState.uniform(low, high)`` (finite bounds)."""
        if not self.emulate:
            return float(self._rng.uniform(low, high))
        return low + (high - low) * self.rand()
