"""Helpers for comparing hpo_core's TPE with Optuna 5.0's on the same observations.

Optuna's Parzen estimator gives tied observations their bandwidths in the order of NumPy's
default ``argsort``, which is not stable (it depends on NumPy's version and the CPU's sort
kernels); hpo_core's uses trial order (``hpo_core/samplers/tpe/_parzen.py``). Putting
:class:`NumpyStableArgsort` in place of the ``np`` of Optuna's
``optuna.samplers._tpe.parzen_estimator`` module gives Optuna hpo_core's order, so that
the two estimators can be compared exactly (``tests/samplers/test_tpe_optuna_parity.py``)
and the order's effect measured (``benchmarks/tpe_ties.py``).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

__all__ = ["NumpyStableArgsort"]


class NumpyStableArgsort(types.ModuleType):
    """NumPy whose ``argsort`` is stable (ties in the order given); everything else is NumPy's.

    Example:
        >>> shim = NumpyStableArgsort("numpy")
        >>> shim.argsort([10, 1, 10, 10, 2]).tolist()
        [1, 4, 0, 2, 3]
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def argsort(a: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        return np.argsort(a, kind="stable")
