"""Crossovers of NSGA-II and NSGA-III: ``n_parents`` parent vectors in, one child out.

Notation (``d`` numeric parameters, ``k = n_parents``):

* ``parents_params``: (k, d) float64 parents in the *transformed* space: the value itself,
  its log for log parameters (Optuna's ``_SearchSpaceTransform`` without the [0, 1]
  scaling).
* ``search_space_bounds``: (d, 2) the box of that space: ``[low, high]`` for continuous
  parameters, widened by half a step on each side for int and stepped ones (so each grid
  point owns an equal share), in log space for log parameters.
* ``rng``: a ``numpy.random.RandomState``, the sampler's own (seeded) generator.

A crossover may return a point outside the box; the sampler rounds it to the grid,
clips it into bounds, and retries when a continuous float falls below its ``low`` (as
Optuna does). Categorical parameters never reach a crossover: the sampler crosses them
over uniformly between the first and the last parent.

The classes and their arguments are Optuna 5.0's (``optuna.samplers.nsgaii``); a custom
crossover subclasses :class:`BaseCrossover`.
"""

from __future__ import annotations

import abc
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_real

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]


def _is_multi_objective(study: Any) -> bool:
    return len(getattr(study, "directions", ())) > 1


class BaseCrossover(abc.ABC):
    """Base class of crossovers (see the module docstring for the arrays).

    Subclasses set :attr:`n_parents` and implement :meth:`crossover`.
    """

    def __str__(self) -> str:
        return type(self).__name__

    @property
    @abc.abstractmethod
    def n_parents(self) -> int:
        """Number of parents a crossover takes."""

    @abc.abstractmethod
    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """One child from the parents.

        Args:
            parents_params: (n_parents, d) parents in the transformed space.
            rng: The sampler's random generator.
            study: The study (read-only use: its directions).
            search_space_bounds: (d, 2) bounds of the transformed space.

        Returns:
            (d,) float64 child in the transformed space.
        """


class UniformCrossover(BaseCrossover):
    """Each parameter from one of two parents (Syswerda 1989): from the second with
    probability ``1 - swapping_prob``, else from the first.

    Args:
        swapping_prob: Probability of taking a parameter from the first parent, in [0, 1].

    Example:
        >>> import numpy as np
        >>> c = UniformCrossover(0.5)
        >>> child = c.crossover(np.array([[0.0, 0.0], [1.0, 1.0]]), np.random.RandomState(0), None,
        ...                     np.array([[0.0, 1.0], [0.0, 1.0]]))
        >>> set(child.tolist()) <= {0.0, 1.0}
        True
    """

    n_parents = 2

    def __init__(self, swapping_prob: float = 0.5) -> None:
        self._swapping_prob = float(check_real("swapping_prob", swapping_prob, low=0.0, high=1.0,  # type: ignore[arg-type]
                                               owner="UniformCrossover"))

    @property
    def swapping_prob(self) -> float:
        return self._swapping_prob

    def crossover(self, parents_params: np.ndarray, rng: np.random.RandomState, study: Study,
                  search_space_bounds: np.ndarray) -> np.ndarray:
        n = len(search_space_bounds)
        second = rng.rand(n) >= self._swapping_prob
        return np.where(second, parents_params[1], parents_params[0])  # type: ignore[no-any-return]


class BLXAlphaCrossover(BaseCrossover):
    """Blend crossover (Eshelman and Schaffer 1993): uniform in the parents' box widened
    by ``alpha`` times its width on each side.

    Args:
        alpha: Widening factor, >= 0.
    """

    n_parents = 2

    def __init__(self, alpha: float = 0.5) -> None:
        self._alpha = check_real("alpha", alpha, low=0.0, owner="BLXAlphaCrossover")

    def crossover(self, parents_params: np.ndarray, rng: np.random.RandomState, study: Study,
                  search_space_bounds: np.ndarray) -> np.ndarray:
        # Takahashi and Kita, CEC 2001, Sec. 2.1, eq. (1).
        lo, hi = parents_params.min(axis=0), parents_params.max(axis=0)
        spread = self._alpha * (hi - lo)
        low, high = lo - spread, hi + spread
        return low + (high - low) * rng.rand(len(search_space_bounds))  # type: ignore[no-any-return]


def _check_sbx_args(owner: str, eta: float | None, uniform_crossover_prob: float,
                    use_child_gene_prob: float) -> tuple[float | None, float, float]:
    eta = check_real("eta", eta, low=0.0, allow_none=True, owner=owner)
    uni = check_real("uniform_crossover_prob", uniform_crossover_prob, low=0.0, high=1.0, owner=owner)
    use = check_real("use_child_gene_prob", use_child_gene_prob, low=0.0, high=1.0, low_open=True, owner=owner)
    return eta, float(uni), float(use)  # type: ignore[arg-type]


def _one_of_two_children(c1: np.ndarray, c2: np.ndarray, x1: np.ndarray, x2: np.ndarray,
                         rng: np.random.RandomState, use_child_gene_prob: float,
                         uniform_crossover_prob: float) -> np.ndarray:
    """Optuna's reduction of (v)SBX's two children to one: per parameter the children's
    genes with probability ``use_child_gene_prob`` (else the parents'), swapped between
    the two with probability ``uniform_crossover_prob``; then one of the two at random."""
    n = len(c1)
    u = rng.rand(2 * n)  # per parameter its two draws, in Optuna's order
    use_child = u[0::2] < use_child_gene_prob
    keep = u[1::2] >= uniform_crossover_prob
    a, b = np.where(use_child, c1, x1), np.where(use_child, c2, x2)
    first = np.where(keep, a, b)
    second = np.where(keep, b, a)
    return first if rng.rand() < 0.5 else second  # type: ignore[no-any-return]


class _TwoChildCrossover(BaseCrossover):
    """(v)SBX: two children per pair of parents, reduced to one (see ``_one_of_two_children``)."""

    n_parents = 2

    def __init__(self, eta: float | None = None, uniform_crossover_prob: float = 0.5,
                 use_child_gene_prob: float = 0.5) -> None:
        self._eta, self._uniform, self._use_child = _check_sbx_args(
            type(self).__name__, eta, uniform_crossover_prob, use_child_gene_prob)

    def _eta_for(self, study: Any) -> float:
        return self._eta if self._eta is not None else (20.0 if _is_multi_objective(study) else 2.0)


class SBXCrossover(_TwoChildCrossover):
    """Simulated binary crossover (Deb and Agrawal 1995), bounded so that children stay
    in the box, reduced to one child as in Optuna.

    Args:
        eta: Distribution index (None: 20 for several objectives, 2 for one); small
            values spread the children further.
        uniform_crossover_prob: Probability of swapping a gene between the two children,
            in [0, 1].
        use_child_gene_prob: Probability of a child gene rather than a parent's, in (0, 1].
    """

    def crossover(self, parents_params: np.ndarray, rng: np.random.RandomState, study: Study,
                  search_space_bounds: np.ndarray) -> np.ndarray:
        xl, xu = search_space_bounds[:, 0], search_space_bounds[:, 1]
        lo, hi = parents_params.min(axis=0), parents_params.max(axis=0)
        eta = self._eta_for(study)
        diff = np.clip(hi - lo, 1e-10, None)
        # beta and alpha bound the spread by the distance to each bound (Deb's bounded
        # SBX); u > 1/alpha takes the other branch of the inverse CDF (eq. (3)).
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            alpha1 = 2.0 - np.power(1.0 + 2.0 * (lo - xl) / diff, -(eta + 1.0))
            alpha2 = 2.0 - np.power(1.0 + 2.0 * (xu - hi) / diff, -(eta + 1.0))
            u = rng.rand(len(search_space_bounds))
            inv = 1.0 / (eta + 1.0)
            betaq1 = np.where(u > 1.0 / alpha1, np.power(1.0 / (2.0 - u * alpha1), inv), np.power(u * alpha1, inv))
            betaq2 = np.where(u > 1.0 / alpha2, np.power(1.0 / (2.0 - u * alpha2), inv), np.power(u * alpha2, inv))
        c1 = 0.5 * ((lo + hi) - betaq1 * diff)  # eq. (4)
        c2 = 0.5 * ((lo + hi) + betaq2 * diff)  # eq. (5)
        return _one_of_two_children(c1, c2, parents_params[0], parents_params[1], rng,
                                    self._use_child, self._uniform)


class VSBXCrossover(_TwoChildCrossover):
    """vSBX (Ballester and Carter 2003): SBX that excludes no region of the space,
    reduced to one child as in Optuna.

    Args:
        eta: Distribution index (None: 20 for several objectives, 2 for one).
        uniform_crossover_prob: Probability of swapping a gene between the two children,
            in [0, 1].
        use_child_gene_prob: Probability of a child gene rather than a parent's, in (0, 1].
    """

    def crossover(self, parents_params: np.ndarray, rng: np.random.RandomState, study: Study,
                  search_space_bounds: np.ndarray) -> np.ndarray:
        # Ballester and Carter, GECCO 2003, Sec. 3.2.
        eta = self._eta_for(study)
        x1, x2 = parents_params[0], parents_params[1]
        u = rng.rand(len(search_space_bounds))
        inv = 1.0 / (eta + 1.0)
        beta1 = np.power(1.0 / np.maximum(2.0 * u, 1e-10), inv)
        beta2 = np.power(1.0 / np.maximum(2.0 * (1.0 - u), 1e-10), inv)
        if rng.rand() <= 0.5:
            c1 = 0.5 * ((1 + beta1) * x1 + (1 - beta2) * x2)
        else:
            c1 = 0.5 * ((1 - beta1) * x1 + (1 + beta2) * x2)
        if rng.rand() <= 0.5:
            c2 = 0.5 * ((3 - beta1) * x1 - (1 - beta2) * x2)
        else:
            c2 = 0.5 * (-(1 - beta1) * x1 + (3 - beta2) * x2)
        return _one_of_two_children(c1, c2, x1, x2, rng, self._use_child, self._uniform)


class SPXCrossover(BaseCrossover):
    """Simplex crossover (Tsutsui, Goldberg and Sastry 2000): uniform in the parents'
    simplex expanded by ``epsilon`` around its centroid.

    Args:
        epsilon: Expansion rate, > 0 (None: ``sqrt(d + 2)``).
    """

    n_parents = 3

    def __init__(self, epsilon: float | None = None) -> None:
        self._epsilon = check_real("epsilon", epsilon, low=0.0, low_open=True, allow_none=True, owner="SPXCrossover")

    def crossover(self, parents_params: np.ndarray, rng: np.random.RandomState, study: Study,
                  search_space_bounds: np.ndarray) -> np.ndarray:
        n = self.n_parents - 1
        G = parents_params.mean(axis=0)  # eq. (1)
        rs = np.power(rng.rand(n), 1.0 / (np.arange(n) + 1.0))  # eq. (2)
        eps = math.sqrt(len(search_space_bounds) + 2) if self._epsilon is None else self._epsilon
        xs = G + eps * (parents_params - G)  # eq. (3)
        c = np.zeros(parents_params.shape[1])
        for k in range(1, self.n_parents):  # eq. (4)
            c = rs[k - 1] * (xs[k - 1] - xs[k] + c)
        return xs[-1] + c  # type: ignore[no-any-return]  # eq. (5)


class UNDXCrossover(BaseCrossover):
    """Unimodal normal distribution crossover (Kita, Ono and Kobayashi 1999): normal
    around the midpoint of the first two parents, along their line (``sigma_xi``) and
    across it scaled by the third parent's distance to that line (``sigma_eta``).

    Args:
        sigma_xi: Spread along the line of the first two parents, > 0.
        sigma_eta: Spread across it, > 0 (None: ``0.35 / sqrt(d)``).
    """

    n_parents = 3

    def __init__(self, sigma_xi: float = 0.5, sigma_eta: float | None = None) -> None:
        self._sigma_xi = float(check_real("sigma_xi", sigma_xi, low=0.0, low_open=True,  # type: ignore[arg-type]
                                          owner="UNDXCrossover"))
        self._sigma_eta = check_real("sigma_eta", sigma_eta, low=0.0, low_open=True, allow_none=True,
                                     owner="UNDXCrossover")

    def crossover(self, parents_params: np.ndarray, rng: np.random.RandomState, study: Study,
                  search_space_bounds: np.ndarray) -> np.ndarray:
        n = len(search_space_bounds)
        x1, x2, x3 = parents_params[0], parents_params[1], parents_params[2]
        xp = (x1 + x2) / 2  # Sec. 2, (2); the arithmetic below follows Optuna's to the last bit
        d = x1 - x2  # (3)
        sigma_eta = 0.35 / math.sqrt(n) if self._sigma_eta is None else self._sigma_eta
        # Optuna passes the variances as the scale (sigma ** 2); kept for the same spread.
        etas = rng.normal(0.0, sigma_eta**2, size=n)
        xi = rng.normal(0.0, self._sigma_xi**2)
        if n > 1:
            v12 = x2 - x1
            e12 = v12 / max(float(np.linalg.norm(v12)), 1e-10)
            v13 = x3 - x1
            D = float(np.linalg.norm(v13 - np.dot(v13, e12) * e12))  # (4): x3's distance to the line
            basis = np.identity(n)
            if np.count_nonzero(e12):
                basis[0] = e12
            Q, _ = np.linalg.qr(basis.T)
            es = Q.T[1:]  # orthonormal basis of the subspace orthogonal to the line
            three = np.zeros(n)
            for i in range(n - 1):
                three += etas[i] * es[i]
            return xp + xi * d + three * D  # type: ignore[no-any-return]
        return xp + xi * d  # type: ignore[no-any-return]
