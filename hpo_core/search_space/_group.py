"""Optuna's group-decomposed search space: the parameters of a study's trials split into
groups that always appear together (``_SearchSpaceGroup``, ``_GroupDecomposedSearchSpace``).

Optuna's TPE with ``group=True`` models each group jointly; user-defined samplers import
these from ``optuna.search_space``. (Our TPE finds its groups from the history's columns,
``hpo_core/samplers/tpe/_sampler.py``; these classes serve the user-defined samplers.)
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from hpo_core._validation import check_bool
from hpo_core.distributions import BaseDistribution
from hpo_core.trial import TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["_GroupDecomposedSearchSpace", "_SearchSpaceGroup"]


class _SearchSpaceGroup:
    """Disjoint groups of parameters (name -> distribution): every trial added so far
    has either all or none of each group's parameters.

    Example:
        >>> from hpo_core.distributions import FloatDistribution
        >>> g = _SearchSpaceGroup()
        >>> d = FloatDistribution(0, 1)
        >>> g.add_distributions({"a": d, "b": d, "c": d})
        >>> g.add_distributions({"a": d, "b": d})
        >>> sorted(sorted(s) for s in g.search_spaces)
        [['a', 'b'], ['c']]
    """

    def __init__(self) -> None:
        self._search_spaces: list[dict[str, BaseDistribution]] = []

    @property
    def search_spaces(self) -> list[dict[str, BaseDistribution]]:
        return self._search_spaces

    def add_distributions(self, distributions: dict[str, BaseDistribution]) -> None:
        """Refine the groups by one trial's parameters: each group splits into the part
        the trial has and the part it lacks; the trial's new parameters form a group."""
        new = set(distributions)
        groups: list[dict[str, BaseDistribution]] = []
        for space in self._search_spaces:
            inside = {k: v for k, v in space.items() if k in new}
            outside = {k: v for k, v in space.items() if k not in new}
            groups += [g for g in (inside, outside) if g]
            new -= space.keys()
        if new:
            groups.append({k: distributions[k] for k in distributions if k in new})
        self._search_spaces = groups


class _GroupDecomposedSearchSpace:
    """The :class:`_SearchSpaceGroup` of one study's COMPLETE trials (and PRUNED ones with
    ``include_pruned``), updated with the trials finished since the last call."""

    def __init__(self, include_pruned: bool = False) -> None:
        self._include_pruned = check_bool(
            "include_pruned", include_pruned, owner="_GroupDecomposedSearchSpace"
        )
        self._search_space = _SearchSpaceGroup()
        self._study_id: int | None = None
        self._seen: set[int] = set()

    def calculate(self, study: Study, use_cache: bool = False) -> _SearchSpaceGroup:
        """The groups (a copy); ``use_cache`` is accepted for Optuna's signature (the
        trials come from the study's synchronized history either way)."""
        sid = study._study_id
        if self._study_id is None:
            self._study_id = sid
        elif self._study_id != sid:
            raise ValueError("`_GroupDecomposedSearchSpace` cannot handle multiple studies.")
        states = (TrialState.COMPLETE, TrialState.PRUNED) if self._include_pruned else (TrialState.COMPLETE,)
        for trial in study.get_trials(deepcopy=False, states=states):
            if trial.number not in self._seen:
                self._seen.add(trial.number)
                self._search_space.add_distributions(trial.distributions)
        return copy.deepcopy(self._search_space)
