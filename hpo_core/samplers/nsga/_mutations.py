"""Mutations of NSGA-II and NSGA-III: one numeric parameter in the transformed space
(the value, or its log for log parameters; see ``_crossovers.py``) in, one out.

Optuna 5.0's ``BaseMutation`` and ``PolynomialMutation``. Without a mutation (the
default) a parameter chosen for mutation is drawn afresh at random, as in Optuna;
categorical parameters always are.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import numpy as np

from hpo_core._validation import check_real

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["BaseMutation", "PolynomialMutation"]


class BaseMutation(abc.ABC):
    """Base class of mutations of one numeric parameter."""

    def __str__(self) -> str:
        return type(self).__name__

    @abc.abstractmethod
    def mutation(self, param: float, rng: np.random.RandomState, study: Study,
                 search_space_bounds: np.ndarray) -> float:
        """The mutated value of ``param`` (transformed space; ``search_space_bounds``:
        (2,) its bounds there). The sampler clips the result into the bounds."""


class PolynomialMutation(BaseMutation):
    """Polynomial mutation (Deb et al. 2002; revision 1.1.6 of the NSGA-II C code).

    Args:
        eta: Distribution index, >= 0; larger values keep the value closer.

    Example:
        >>> import numpy as np
        >>> m = PolynomialMutation(eta=20.0)
        >>> 0.0 <= m.mutation(0.5, np.random.RandomState(0), None, np.array([0.0, 1.0])) <= 1.0
        True
    """

    def __init__(self, eta: float = 20.0) -> None:
        self._eta = float(check_real("eta", eta, low=0.0, owner="PolynomialMutation"))  # type: ignore[arg-type]

    def mutation(self, param: float, rng: np.random.RandomState, study: Study,
                 search_space_bounds: np.ndarray) -> float:
        u = rng.rand()
        lb, ub = float(search_space_bounds[0]), float(search_space_bounds[1])
        width = ub - lb
        if width <= 0.0:
            return param
        eta1 = self._eta + 1.0
        power = 1.0 / eta1
        if u <= 0.5:
            xy = 1.0 - (param - lb) / width
            value = 2.0 * u + (1.0 - 2.0 * u) * xy**eta1
            delta_q = value**power - 1.0
        else:
            xy = 1.0 - (ub - param) / width
            value = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * xy**eta1
            delta_q = 1.0 - value**power
        return float(param + delta_q * width)
