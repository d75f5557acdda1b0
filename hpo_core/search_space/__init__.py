"""Optuna's ``optuna.search_space`` for user-defined samplers: the intersection search
space of a study (the parameters every finished trial has, with one distribution).

:class:`IntersectionSearchSpace` reads the study's columnar history: COMPLETE trials
through the history's incremental intersection, PRUNED ones (``include_pruned``) from
its per-trial distribution codes, so a call costs no list of trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hpo_core._validation import check_bool, format_error
from hpo_core.distributions import BaseDistribution
from hpo_core.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hpo_core.history import History
    from hpo_core.study import Study

__all__ = ["IntersectionSearchSpace", "_GroupDecomposedSearchSpace", "_SearchSpaceGroup", "intersection_search_space"]


class IntersectionSearchSpace:
    """The intersection search space of one study, as Optuna's: the parameters that
    every COMPLETE trial (and PRUNED trial, with ``include_pruned``) has, each with one
    distribution; a parameter whose range changed between trials is left out.

    Args:
        include_pruned: Count PRUNED trials too.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study()
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", 0, 1)
        ...     if trial.number % 2:
        ...         trial.suggest_int("n", 1, 3)
        ...     return x
        >>> study.optimize(objective, n_trials=4)
        >>> IntersectionSearchSpace().calculate(study)
        {'x': FloatDistribution(low=0.0, high=1.0, log=False, step=None)}
    """

    def __init__(self, include_pruned: bool = False) -> None:
        self._include_pruned = check_bool("include_pruned", include_pruned, owner="IntersectionSearchSpace")
        self._study_id: int | None = None

    def calculate(self, study: Study, use_cache: bool = False) -> dict[str, BaseDistribution]:
        """The intersection, sorted by parameter name (``use_cache`` is Optuna's
        argument; the history is always read incrementally)."""
        if self._study_id is None:
            self._study_id = study._study_id
        elif self._study_id != study._study_id:
            raise ValueError("`IntersectionSearchSpace` cannot handle multiple studies.")
        h = study.view.sync()
        if not self._include_pruned:
            return dict(sorted(h.intersection_search_space().items()))
        return _of_rows(h, np.flatnonzero(np.isin(h.states[: h.n], (int(TrialState.COMPLETE),
                                                                      int(TrialState.PRUNED)))))


def _of_rows(h: History, rows: np.ndarray) -> dict[str, BaseDistribution]:
    """The parameters every row in ``rows`` has with one distribution, by name."""
    if len(rows) == 0:
        return {}
    p = len(h.param_names)
    codes = h.codes[rows, :p]
    first = codes[0]
    keep = np.flatnonzero((first >= 0) & (codes == first).all(axis=0))
    return dict(sorted((h.param_names[j], h.param_dists[j][int(first[j])]) for j in keep.tolist()))


def intersection_search_space(
    trials: Sequence[FrozenTrial], include_pruned: bool = False
) -> dict[str, BaseDistribution]:
    """The intersection search space of ``trials`` (see :class:`IntersectionSearchSpace`,
    which is faster on a study), sorted by parameter name.

    Example:
        >>> from hpo_core.distributions import FloatDistribution
        >>> from hpo_core.trial import create_trial
        >>> d = FloatDistribution(0, 1)
        >>> trials = [create_trial(params={"x": 0.5, "y": 0.1}, distributions={"x": d, "y": d}, value=1.0),
        ...           create_trial(params={"x": 0.2}, distributions={"x": d}, value=2.0)]
        >>> list(intersection_search_space(trials))
        ['x']
    """
    check_bool("include_pruned", include_pruned, owner="intersection_search_space")
    states = (TrialState.COMPLETE, TrialState.PRUNED) if include_pruned else (TrialState.COMPLETE,)
    space: dict[str, BaseDistribution] | None = None
    for trial in trials:
        if not isinstance(trial, FrozenTrial):
            raise TypeError(format_error("trials", "a sequence of FrozenTrial", trial, owner="intersection_search_space"))
        if trial.state not in states:
            continue
        if space is None:
            space = dict(trial.distributions)
        else:
            space = {name: d for name, d in space.items() if trial.distributions.get(name) == d}
    return dict(sorted((space or {}).items()))


from hpo_core.search_space._group import _GroupDecomposedSearchSpace, _SearchSpaceGroup  # noqa: E402
