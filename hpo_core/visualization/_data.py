"""Study -> arrays for the plots: the columns each figure draws, read from the history.

Every plot reads the study's columnar history (``study.view.sync()``): the rows of
COMPLETE trials, their internal parameter columns ``X`` and distribution codes
``codes``, their objective values, start and end times, the constraint column, and the
step-indexed intermediate values. A ``target`` callable is the one path that builds
:class:`~hpo_core.FrozenTrial` objects (one per COMPLETE trial), since it takes one.

The functions here validate the public arguments (each error names the argument) and
return plain arrays; the renderers (``_plotly.py``, ``matplotlib/_plots.py``) only draw.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_core._validation import check_callable, format_error
from hpo_core.distributions import CategoricalDistribution
from hpo_core.exceptions import HpoWarning
from hpo_core.history import History
from hpo_core.importance._base import _check_params, _complete_rows, _target_values
from hpo_core.logging import get_logger
from hpo_core.trial import FrozenTrial, TrialState

_logger = get_logger(__name__)
_COMPLETE = int(TrialState.COMPLETE)
DEFAULT_TARGET_NAME = "Objective Value"

Target = Callable[[FrozenTrial], float]


def history_of(study: Any, name: str = "study") -> History:
    """The study's history, synced with its storage now (TypeError for a non-study)."""
    view = getattr(study, "view", None)
    if view is None or not hasattr(view, "sync"):
        raise TypeError(format_error(name, "an hpo_core Study", study))
    return view.sync()  # type: ignore[no-any-return]


def as_studies(study: Any) -> list[Any]:
    """``study`` or a sequence of studies as a list (TypeError naming ``study``)."""
    if isinstance(study, Sequence) and not isinstance(study, str):
        studies = list(study)
    else:
        studies = [study]
    for s in studies:
        if getattr(s, "view", None) is None:
            raise TypeError(format_error("study", "an hpo_core Study or a sequence of them", study))
    return studies


def check_target(studies: list[Any], target: Any, target_name: Any) -> Target | None:
    """Optuna's rules: a multi-objective study needs ``target``; a ``target`` with the
    default ``target_name`` warns."""
    check_callable("target", target, allow_none=True)
    if not isinstance(target_name, str):
        raise TypeError(format_error("target_name", "a str", target_name))
    if target is None and any(len(s.directions) > 1 for s in studies):
        raise ValueError(format_error(
            "target", "a callable for a multi-objective study, e.g. `target=lambda t: t.values[0]`", None))
    if target is not None and target_name == DEFAULT_TARGET_NAME:
        warnings.warn("`target` is specified, but `target_name` is the default value, 'Objective Value'.",
                      HpoWarning, stacklevel=3)
    return target  # type: ignore[no-any-return]


# The same reads as the importance evaluators': the params check (TypeError naming
# ``params``), the COMPLETE rows, and the target of each row.
check_params = _check_params
complete_rows = _complete_rows
target_values = _target_values


def feasible(h: History, rows: np.ndarray) -> np.ndarray:
    """(n,) bool: no constraint value of the row is positive (rows without constraints
    are feasible), Optuna's ``all(c <= 0 for c in trial.constraints)``."""
    col = h.numeric_column("constraints")
    if col is None:
        return np.ones(len(rows), dtype=bool)
    c = col[rows]
    return ~(c > 0).any(axis=1)


@dataclass
class Axis:
    """One parameter's values over some rows, ready to draw.

    ``values`` (n,) are numbers for numeric parameters (external values, NaN where the
    trial lacks the parameter) and category positions 0..k-1 for categorical ones, with
    ``labels`` (k,) the choices as strings.
    """

    name: str
    values: np.ndarray
    is_log: bool
    labels: list[str] | None

    @property
    def is_categorical(self) -> bool:
        return self.labels is not None


def axis(h: History, name: str, rows: np.ndarray) -> Axis:
    """The :class:`Axis` of parameter ``name`` over ``rows`` (trusted: ``name`` exists)."""
    j = h.param_index[name]
    dists = h.param_dists[j]
    x = np.array(h.X[rows, j], dtype=np.float64)
    if not isinstance(dists[0], CategoricalDistribution):
        return Axis(name, x, bool(getattr(dists[0], "log", False)), None)
    # Categorical: the internal value is an index into the row's own choices; rows of
    # different distributions map to one list of labels (first seen first).
    codes = h.codes[rows, j]
    labels: list[str] = []
    where: dict[str, int] = {}
    out = np.full(len(rows), np.nan)
    for code, dist in enumerate(dists):
        mine = codes == code
        if not mine.any():
            continue
        lut = np.array([where.setdefault(str(c), len(where)) for c in dist.choices], dtype=np.float64)  # type: ignore[attr-defined]
        out[mine] = lut[x[mine].astype(np.intp)]
    labels = list(where)
    return Axis(name, out, False, labels)


def select_params(h: History, rows: np.ndarray, params: list[str] | None, *, keep_order: bool = False) -> list[str]:
    """Names to plot: ``params`` (each must exist: ValueError naming ``params``; sorted
    and without repeats unless ``keep_order``, Optuna's rank plot), or every parameter
    of some COMPLETE trial, sorted by name (Optuna's order)."""
    if params is not None:
        missing = [p for p in params if p not in h.param_index]
        if missing:
            raise ValueError(format_error("params", "names of parameters in the study", params)
                             + f" Unknown: {missing}.")
        return list(params) if keep_order else sorted(set(params))
    p = len(h.param_names)
    if not len(rows):
        return []
    present = (h.codes[rows, :p] >= 0).any(axis=0)
    return sorted(h.param_names[j] for j in np.flatnonzero(present).tolist())


def seeded_sample(n: int, k: int, *, keep: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a deterministic sample of ``k`` of ``range(n)`` (all when n <= k),
    always including ``keep`` (indices) on top of the ``k``."""
    if n <= k:
        return np.arange(n)
    idx = np.random.default_rng(seed).choice(n, size=k, replace=False)
    if keep is not None and len(keep):
        idx = np.union1d(idx, keep)
    return np.sort(idx)


def warn_empty(message: str) -> None:
    _logger.warning(message)
