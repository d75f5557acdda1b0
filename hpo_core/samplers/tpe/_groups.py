"""Incremental group decomposition of a conditional search space (TPE's ``group=True``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hpo_core.history import History

__all__ = ["Groups"]


class Groups:
    """Incremental group decomposition: parameters that always co-occur share a key.

    Each finished row adds a fixed pseudo-random 64-bit key to the signature of every
    parameter it has (wrapping sums are order-free), so two parameters have equal
    signatures iff they were present in the same rows (up to a 2^-64 collision).
    """

    def __init__(self) -> None:
        self.sig = np.zeros(0, dtype=np.uint64)
        self.seen = np.zeros(0, dtype=np.bool_)

    def update(self, h: History, finished: np.ndarray) -> list[np.ndarray]:
        n, p = len(finished), len(h.param_names)
        if len(self.sig) < p:
            self.sig = np.concatenate((self.sig, np.zeros(p - len(self.sig), np.uint64)))
        if len(self.seen) < n:
            self.seen = np.concatenate((self.seen, np.zeros(n - len(self.seen), np.bool_)))
        new = np.flatnonzero(finished & ~self.seen[:n])
        if len(new):
            self.seen[new] = True
            keys = (new.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
            keys ^= keys >> np.uint64(29)
            present = ~np.isnan(h.X[new, :p])  # (r, p)
            with np.errstate(over="ignore"):
                self.sig[:p] += (present * keys[:, None]).sum(axis=0, dtype=np.uint64)
        sig = self.sig[:p]
        groups = []
        for s in np.unique(sig[sig != 0]):
            groups.append(np.flatnonzero(sig == s))
        return groups
