"""The evaluator interface and the history reads shared by the evaluators.

Every evaluator reads the study's columnar history (``study.view.sync()``): the rows of
COMPLETE trials, their internal parameter columns ``X`` and distribution codes
``codes``, and their objective values; a ``target`` callable is the one path that builds
:class:`~hpo_core.FrozenTrial` objects (one per COMPLETE trial), since it takes one.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import check_callable, format_error
from hpo_core.distributions import BaseDistribution, CategoricalDistribution
from hpo_core.exceptions import HpoWarning
from hpo_core.history import History
from hpo_core.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["BaseImportanceEvaluator"]

Target = Callable[[FrozenTrial], float]

_COMPLETE = int(TrialState.COMPLETE)


class BaseImportanceEvaluator(abc.ABC):
    """Abstract parameter importance evaluator (Optuna's interface).

    A subclass implements :meth:`evaluate`; :func:`~hpo_core.importance.get_param_importances`
    calls it and normalizes the result.
    """

    @abc.abstractmethod
    def evaluate(
        self,
        study: Study,
        params: list[str] | None = None,
        *,
        target: Target | None = None,
    ) -> dict[str, float]:
        """Evaluate parameter importances based on the COMPLETE trials of ``study``.

        Args:
            study: An optimized study.
            params: Names of the parameters to assess; None for the evaluator's default
                set (see :func:`~hpo_core.importance.get_param_importances`).
            target: A function of a :class:`~hpo_core.FrozenTrial` returning the value
                whose importance is assessed; None for the objective value (required by
                some evaluators in a multi-objective study).

        Returns:
            Parameter name -> non-negative importance, the most important first.
        """
        raise NotImplementedError


def _history(study: Any) -> History:
    """The study's history, synced with its storage now (TypeError for a non-study)."""
    view = getattr(study, "view", None)
    if view is None or not hasattr(view, "sync"):
        raise TypeError(format_error("study", "an hpo_core Study", study))
    return view.sync()  # type: ignore[no-any-return]


def _check_params(params: Any) -> list[str] | None:
    """``params`` as a list of names (TypeError unless a list or tuple of str, or None)."""
    if params is None:
        return None
    if not isinstance(params, (list, tuple)) or any(not isinstance(p, str) for p in params):
        raise TypeError(format_error("params", "a list of parameter names (str) or None", params))
    return list(params)


def _check_target(target: Any) -> Target | None:
    return check_callable("target", target, allow_none=True)  # type: ignore[return-value]


def _is_multi_objective(study: Any) -> bool:
    return len(study.directions) > 1


def _require_target(study: Any, target: Target | None, owner: str) -> None:
    """ValueError naming ``target`` when a multi-objective study gives none (Optuna's rule)."""
    if target is None and _is_multi_objective(study):
        raise ValueError(format_error(
            "target", "a callable for a multi-objective study, e.g. `target=lambda t: t.values[0]` "
            "for the first objective", None, owner=owner))


def _complete_rows(history: History) -> np.ndarray:
    """Row numbers (trial numbers) of the COMPLETE trials, ascending."""
    return history.rows([_COMPLETE])


def _target_values(history: History, rows: np.ndarray, target: Target | None) -> np.ndarray:
    """(n,) float64: ``target`` of each row's trial, or the single objective value."""
    if target is None:
        return np.array(history.values[rows, 0], dtype=np.float64)
    out = np.empty(len(rows))
    for i, row in enumerate(rows.tolist()):
        out[i] = float(target(history.frozen(row)))
    return out


def _names_in(history: History, rows: np.ndarray) -> list[str]:
    """Names of the parameters present in at least one of ``rows``, in column order."""
    p = len(history.param_names)
    present = (history.codes[rows, :p] >= 0).any(axis=0) if len(rows) else np.zeros(p, dtype=bool)
    return [history.param_names[j] for j in np.flatnonzero(present).tolist()]


def _fixed_space(history: History, rows: np.ndarray, params: list[str] | None) -> dict[str, tuple[int, int]]:
    """Name -> (column, code) of the parameters assessed by the forest evaluators, by name.

    ``params=None``: the parameters with one distribution in every COMPLETE trial (the
    intersection search space). Otherwise ``params``, with the distributions of the
    COMPLETE trials that hold all of them, which must agree (Optuna's
    ``_get_distributions``).
    """
    p = len(history.param_names)
    codes = history.codes[rows, :p]
    if params is None:
        if not len(rows):
            return {}
        same = (codes >= 0).all(axis=0) & (codes == codes[:1]).all(axis=0)
        return dict(sorted((history.param_names[j], (j, int(codes[0, j])))
                           for j in np.flatnonzero(same).tolist()))
    if not params:
        return {}
    cols = _columns_of(history, params)
    holding = rows[(codes[:, cols] >= 0).all(axis=1)] if cols is not None else rows[:0]
    if cols is None or not len(holding):
        raise ValueError(format_error(
            "params", "names of parameters that all appear together in at least one COMPLETE trial", params))
    sub = history.codes[holding][:, cols]
    if not (sub == sub[:1]).all():
        raise ValueError(format_error(
            "params", "parameters with one distribution each in the COMPLETE trials that hold them "
            "(importances cannot be assessed over a dynamic search space)", params))
    return dict(sorted((name, (j, int(sub[0, i]))) for i, (name, j) in enumerate(zip(params, cols))))


def _columns_of(history: History, params: Sequence[str]) -> list[int] | None:
    """History columns of ``params``; None when one of them was never suggested."""
    index = history.param_index
    if any(name not in index for name in params):
        return None
    return [index[name] for name in params]


def _encode(history: History, rows: np.ndarray, space: dict[str, tuple[int, int]]
            ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Forest inputs of ``rows``: (X (n, D), bounds (D, 2), columns of each parameter).

    Numbers keep their values (no log, no step transform: Optuna's importance encoding);
    a categorical parameter becomes one 0/1 column per choice with bounds [0, 1].
    """
    blocks: list[np.ndarray] = []
    bounds: list[tuple[float, float]] = []
    groups: list[np.ndarray] = []
    d = 0
    for j, code in space.values():
        dist: BaseDistribution = history.param_dists[j][code]
        x = history.X[rows, j]
        if isinstance(dist, CategoricalDistribution):
            k = len(dist.choices)
            blocks.append(np.eye(k)[x.astype(np.intp)])
            bounds.extend([(0.0, 1.0)] * k)
        else:
            k = 1
            blocks.append(x[:, None])
            bounds.append((float(dist.low), float(dist.high)))  # type: ignore[attr-defined]
        groups.append(np.arange(d, d + k))
        d += k
    X = np.hstack(blocks) if blocks else np.empty((len(rows), 0))
    return X, np.array(bounds, dtype=np.float64).reshape(-1, 2), groups


def _forest_rows(history: History, space: dict[str, tuple[int, int]], target: Target | None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, y): COMPLETE rows holding every parameter of ``space``, with finite target."""
    rows = _complete_rows(history)
    cols = [j for j, _ in space.values()]
    if cols:
        rows = rows[(history.codes[rows][:, cols] >= 0).all(axis=1)]
    y = _target_values(history, rows, target)
    finite = np.isfinite(y)
    return rows[finite], y[finite]


def _sort_by_importance(importances: dict[str, float]) -> dict[str, float]:
    """Most important first; ties keep Optuna's order (the later name first)."""
    return dict(reversed(sorted(importances.items(), key=lambda kv: kv[1])))


def _warn(message: str) -> None:
    warnings.warn(message, HpoWarning, stacklevel=4)
