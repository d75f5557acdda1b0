"""PED-ANOVA: importance as the Pearson divergence between top and local parameter densities.

Watanabe et al., "PED-ANOVA: Efficiently Quantifying Hyperparameter Importance in
Arbitrary Subspaces", IJCAI 2023 (https://arxiv.org/abs/2304.10255); conditional
parameters by regimes as in "Conditional PED-ANOVA" (https://arxiv.org/abs/2601.20800,
Theorem 4.2 and Algorithm 1).

Notation:
    gamma'       ``target_quantile``: the top trials ("target") whose importance is asked.
    gamma        ``region_quantile``: the trials ("region") the importance is measured in.
    regime       the trials where a parameter has one given distribution (inactive: none).
    alpha_i      share of the target trials in regime i; beta_i the region's share.
    D_i          Pearson divergence ``sum_g p_local(g) (p_top(g) / p_local(g) - 1)^2`` of
                 the grid densities of the target and region trials of regime i.

Importance of a parameter: ``(gamma' / gamma)^2 sum_i alpha_i^2 / beta_i D_i`` over its
active regimes with at least two trials.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from hpo_core._validation import check_bool, check_real, format_error
from hpo_core.distributions import CategoricalDistribution
from hpo_core.history import History
from hpo_core.importance._base import (
    BaseImportanceEvaluator,
    Target,
    _check_params,
    _check_target,
    _complete_rows,
    _history,
    _is_multi_objective,
    _names_in,
    _sort_by_importance,
    _target_values,
    _warn,
)
from hpo_core.importance._scott_parzen import grid_counts, grid_pdf
from hpo_core.samplers.tpe._split import split_below_above
from hpo_core.trial import StudyDirection

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["PedAnovaImportanceEvaluator"]

_OWNER = "PedAnovaImportanceEvaluator"


class PedAnovaImportanceEvaluator(BaseImportanceEvaluator):
    """PED-ANOVA importance evaluator (the default of
    :func:`~hpo_core.importance.get_param_importances`, as in Optuna 5).

    Fits grid Parzen estimators (Scott's rule) to the parameter values of the COMPLETE
    trials better than ``target_quantile`` and of those better than ``region_quantile``;
    a parameter matters as much as the two densities differ. Deterministic: the same
    trials give Optuna 5.0's values. Conditional parameters count in each regime where
    they have one distribution (regimes of fewer than two trials are left out with a
    warning). In a multi-objective study without ``target``, the top trials are chosen
    as multi-objective TPE chooses them (non-domination rank, then hypervolume subset
    selection), i.e. the importance of reaching the Pareto front. A ``target`` is
    assumed to be minimized.

    Args:
        target_quantile: gamma', in (0, region_quantile).
        region_quantile: gamma, in (target_quantile, 1]; 1.0 measures in the whole space.
        evaluate_on_local: Compare with the density of the region's trials (True) or with
            the uniform density over the search space (False; ``region_quantile`` is then
            ignored, with a warning when it is not 1.0).

    Example:
        >>> import hpo_core
        >>> from hpo_core.importance import PedAnovaImportanceEvaluator, get_param_importances
        >>> study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x1", -10, 10) + t.suggest_float("x2", -10, 10) / 1000,
        ...                n_trials=100)
        >>> imp = get_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
        >>> list(imp)
        ['x1', 'x2']
    """

    def __init__(
        self,
        *,
        target_quantile: float = 0.1,
        region_quantile: float = 1.0,
        evaluate_on_local: bool = True,
    ) -> None:
        target_quantile = check_real("target_quantile", target_quantile, low=0.0, high=1.0,  # type: ignore[assignment]
                                     low_open=True, high_open=True, owner=_OWNER)
        region_quantile = check_real("region_quantile", region_quantile, low=target_quantile, high=1.0,  # type: ignore[assignment]
                                     low_open=True, owner=_OWNER)
        check_bool("evaluate_on_local", evaluate_on_local, owner=_OWNER)
        if region_quantile != 1.0 and not evaluate_on_local:
            _warn("PedAnovaImportanceEvaluator: `region_quantile` has no effect when `evaluate_on_local` is False.")
        self._target_quantile = float(target_quantile)
        self._region_quantile = float(region_quantile)
        self._evaluate_on_local = evaluate_on_local
        # Optuna's fixed settings: grid points of a numeric parameter, the prior's weight,
        # and the fewest trials a regime needs to count.
        self._n_steps = 50
        self._prior_weight = 1.0
        self._min_n_trials_in_regime = 2

    def evaluate(
        self,
        study: Study,
        params: list[str] | None = None,
        *,
        target: Target | None = None,
    ) -> dict[str, float]:
        """Evaluate parameter importances based on the COMPLETE trials of ``study``.

        ``params=None`` assesses every parameter of some COMPLETE trial, conditional ones
        included; named ``params`` must each appear in a COMPLETE trial. See
        :meth:`BaseImportanceEvaluator.evaluate`.
        """
        params = _check_params(params)
        target = _check_target(target)
        history = _history(study)
        complete = _complete_rows(history)
        names = _names_in(history, complete)
        if params is None:
            params = names
        elif missing := [p for p in params if p not in set(names)]:
            raise ValueError(format_error(
                "params", "names of parameters in at least one COMPLETE trial", params, owner=_OWNER)
                + f" Missing: {missing}.")
        rows, loss = _filtered(study, history, complete, target)
        if len(rows) <= 1:
            _warn("The number of trials is too small to compute importances. Parameter importances will be equal.")
            return {name: 0.0 for name in params}
        is_target = self._top(study, loss, self._target_quantile, target)
        is_region = self._top(study, loss, self._region_quantile, target)
        n_target, n_region = int(is_target.sum()), int(is_region.sum())
        if n_target == n_region:
            _warn("Target and region quantiles select the same set of trials. Parameter importances will be equal.")
        if n_target == 0:
            return {name: 0.0 for name in params}
        region = rows[is_region]
        in_target = is_target[is_region]
        scale = (n_target / n_region) ** 2  # (gamma' / gamma)^2
        result = {name: scale * self._importance(history, name, region, in_target, n_target)
                  for name in params}
        return _sort_by_importance(result)

    def _top(self, study: Study, loss: np.ndarray, quantile: float, target: Target | None) -> np.ndarray:
        """Mask of the trials in the top ``quantile`` (n,), ties at the cut included."""
        n = loss.shape[0]
        if quantile == 1.0:
            return np.ones(n, dtype=bool)
        if loss.shape[1] > 1:  # multi-objective, no target: TPE's split
            return split_below_above(loss, math.ceil(quantile * n))
        if target is not None:
            _warn(f"{_OWNER} computes the importances of params to achieve low `target` values. If this is "
                  "not what you want, please modify target, e.g., by multiplying the output by -1.")
        cut = math.ceil(quantile * n) - 1
        cutoff = np.partition(loss[:, 0], cut)[cut]
        return loss[:, 0] <= cutoff  # type: ignore[no-any-return]

    def _importance(self, history: History, name: str, region: np.ndarray, in_target: np.ndarray,
                    n_target: int) -> float:
        """sum over regimes of alpha^2 / beta * D (Conditional PED-ANOVA, Algorithm 1)."""
        j = history.param_index[name]
        codes = history.codes[region, j]
        kinds, counts = np.unique(codes, return_counts=True)
        if (counts < self._min_n_trials_in_regime).any():
            _warn(f"Some regimes for parameter `{name}` have less than {self._min_n_trials_in_regime} trials. "
                  "The importance of the parameter may be inaccurate.")
        total = 0.0
        n_region = region.shape[0]
        for code, count in zip(kinds.tolist(), counts.tolist()):
            if code < 0 or count < self._min_n_trials_in_regime:
                continue  # inactive, or too few trials
            dist = history.param_dists[j][code]
            in_regime = codes == code
            top = in_regime & in_target
            n_top = int(top.sum())
            if dist.single() or n_top == 0:
                continue
            alpha, beta = n_top / n_target, count / n_region
            x = history.X[:, j]
            total += alpha ** 2 / beta * self._divergence(dist, x[region[top]], x[region[in_regime]])
        return total

    def _divergence(self, dist: object, x_top: np.ndarray, x_region: np.ndarray) -> float:
        """Pearson divergence of the top trials' grid density from the region's (or uniform)."""
        is_cat = isinstance(dist, CategoricalDistribution)
        counts_top = grid_counts(dist, x_top, self._n_steps)  # type: ignore[arg-type]
        pdf_top = grid_pdf(counts_top, is_cat, self._prior_weight) + 1e-12
        if self._evaluate_on_local:
            counts = grid_counts(dist, x_region, self._n_steps)  # type: ignore[arg-type]
            pdf_local = grid_pdf(counts, is_cat, self._prior_weight) + 1e-12
        else:
            pdf_local = np.full(counts_top.size, 1.0 / counts_top.size)
        return float(pdf_local @ ((pdf_top / pdf_local - 1.0) ** 2))


def _filtered(study: Study, history: History, complete: np.ndarray, target: Target | None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(rows, loss (n, k)): COMPLETE rows with finite target (or values), lower better.

    k = 1 with a target (taken as is) or one objective (sign-flipped when maximized);
    else k = m, every objective minimized (for the multi-objective split).
    """
    if target is not None:
        y = _target_values(history, complete, target)
        keep = np.isfinite(y)
        return complete[keep], y[keep, None]
    values = history.values[complete]
    keep = np.isfinite(values).all(axis=1)
    signs = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions])
    if not _is_multi_objective(study):
        signs = signs[:1]
    return complete[keep], values[keep] * signs
