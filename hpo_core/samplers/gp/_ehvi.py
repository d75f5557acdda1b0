"""Log expected hypervolume improvement (LogEHVI) for 2-3 objectives, all maximised.

Notation:
    M            objectives (2 or 3), maximised, in the models' standardised outputs.
    P            (p, M) the Pareto front of the observations; r (M,) the reference point
                 (below every observation).
    cells        disjoint boxes [l, u] that tile the part of [r, inf)^M no front point
                 dominates: ``kernels.nondominated_boxes`` of the negated front (at most
                 2p + 1 boxes for three objectives, p + 1 for two), computed once per ask.
                 The hypervolume gained by adding a point y is
                 ``sum_cells prod_j max(0, min(u_j, y_j) - l_j)``.

With independent Gaussian posteriors per objective the expectation has a closed form per
box, and LogEHVI is the logsumexp of the boxes' log expectations: ``kernels.log_ehvi``
(Yang et al. 2019, "Efficient computation of expected hypervolume improvement using box
decomposition algorithms"; in log space as in Daulton et al. 2023, "Unexpected
Improvements to Expected Improvement", so the value and its gradient stay finite where
EHVI underflows). The kernels minimise: this module negates the outputs and the boxes.
"""

from __future__ import annotations

import numpy as np

from hpo_core import kernels

__all__ = ["improvement_cells", "log_ehvi", "pareto_front"]


def pareto_front(Y: np.ndarray) -> np.ndarray:
    """Rows of Y (n, M) that no other row dominates (maximisation), duplicates once."""
    Y = np.unique(Y, axis=0)
    keep = kernels.is_pareto_front(-Y)  # the kernel minimises
    return Y[keep]


def improvement_cells(front: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners (c, M) of disjoint boxes that tile the region above ``ref``
    no front point dominates (upper corners may be +inf): ``kernels.nondominated_boxes``
    of the negated front and reference point, negated back."""
    lo, hi = kernels.nondominated_boxes(
        -np.asarray(front, dtype=np.float64).reshape(-1, len(ref)), -np.asarray(ref, dtype=np.float64)
    )
    return -hi, -lo


def log_ehvi(
    mean: np.ndarray,
    var: np.ndarray,
    dmean: np.ndarray,
    dvar: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    *,
    grad: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """LogEHVI at m points and its gradient.

    Args:
        mean, var: (m, M) posterior means and variances of the M objectives (maximised).
        dmean, dvar: (m, M, d) their gradients in the inputs.
        lows, highs: (c, M) the improvement cells (:func:`improvement_cells`).
        grad: whether to compute the gradient (zeros otherwise).

    Returns:
        (m,) values and (m, d) gradients; -inf (gradient 0) where there is no cell.
    """
    s = np.sqrt(var)  # (m, M)
    # Minimised: -Y ~ N(-mean, s^2) over the boxes [-highs, -lows].
    value, d_mean, d_sd = kernels.log_ehvi(-mean, s, -highs, -lows, grad=grad)
    if not grad:
        return value, np.zeros((len(mean), dmean.shape[2]))
    ds = dvar / (2.0 * s)[:, :, None]  # (m, M, d)
    gradient = np.einsum("mj,mjd->md", -d_mean, dmean) + np.einsum("mj,mjd->md", d_sd, ds)
    return value, gradient
