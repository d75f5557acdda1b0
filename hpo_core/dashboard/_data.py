"""What the dashboard's page shows, computed on the server from a study's history columns.

Every payload is *columnar* (one JSON list per column, never one object per trial) and
bounded whatever the study's size:

* Optimization history: COMPLETE trials up to :data:`MAX_POINTS` as points, beyond a
  seeded sample of that many plus every trial that improved the best value (so the
  best-value line is exact); the live updates carry the trials finished since a cursor,
  sampled the same way when a burst holds more than :data:`MAX_POINTS`.
* Trial table: filtered, sorted and cut into pages here; one page of rows goes out.
* The other plots (importances, parallel coordinates, intermediate values, Pareto
  front) are ``hpo_core.visualization``'s figures, which sample or aggregate beyond
  1,000-2,000 trials by the rules of that package.

A :class:`StudyState` keeps one study's finished-trial log: each refresh syncs the
history with the storage (the storages hand out only the changes after the last one
applied) and appends the trials that finished since the refresh before, so a cursor
into the log says what a page has already seen.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from typing import Any

import numpy as np

import hpo_core
from hpo_core.distributions import CategoricalDistribution, IntDistribution
from hpo_core.exceptions import HpoWarning
from hpo_core.trial import TrialState

__all__ = ["MAX_POINTS", "PAGE_SIZES", "StudyState", "TableQuery"]

MAX_POINTS = 2_000
PAGE_SIZES = (10, 20, 50, 100, 200)
_FINISHED = np.array([int(TrialState.COMPLETE), int(TrialState.PRUNED), int(TrialState.FAIL)], dtype=np.int8)
_COMPLETE = int(TrialState.COMPLETE)
STATE_NAMES = {int(s): s.name for s in TrialState}


def _floats(a: np.ndarray) -> list[float | None]:
    """JSON-safe floats: NaN and infinities as None."""
    a = np.asarray(a, dtype=np.float64)
    out: list[float | None] = a.tolist()
    bad = np.flatnonzero(~np.isfinite(a))
    for i in bad.tolist():
        out[i] = None
    return out


def _sample(n: int, k: int, keep: np.ndarray, seed: int) -> np.ndarray:
    """Sorted indices: all of ``range(n)`` when n <= k, else ``k`` seeded draws plus ``keep``."""
    if n <= k:
        return np.arange(n)
    idx = np.random.default_rng(seed).choice(n, size=k, replace=False)
    return np.union1d(idx, keep)


def _improvements(values: np.ndarray, minimize: bool, best: float) -> np.ndarray:
    """Indices of ``values`` (in trial order) that beat every value before them and ``best``."""
    if not len(values):
        return np.zeros(0, dtype=np.intp)
    signed = values if minimize else -values
    start = best if minimize else -best
    filled = np.where(np.isnan(signed), np.inf, signed)
    prev = np.minimum.accumulate(np.r_[start if start == start else np.inf, filled])[:-1]
    return np.flatnonzero(filled < prev)


class TableQuery:
    """The trial table's request: states, ranges, a categorical choice, sort and page.

    ``ranges`` maps a column (``"value"``/``"value_i"`` or a parameter name) to
    ``(low, high)`` (None for open); ``choices`` maps a categorical parameter to the
    label it must equal.
    """

    def __init__(
        self,
        *,
        states: list[str] | None = None,
        ranges: dict[str, tuple[float | None, float | None]] | None = None,
        choices: dict[str, str] | None = None,
        sort: str = "number",
        descending: bool = False,
        page: int = 0,
        size: int = 50,
    ) -> None:
        self.states = states
        self.ranges = ranges or {}
        self.choices = choices or {}
        self.sort = sort
        self.descending = descending
        self.page = page
        self.size = size


class StudyState:
    """One study as the dashboard sees it: its history synced on demand and the log of
    trials finished since the dashboard first read it (see the module docstring).

    All reads take :attr:`lock`, so the handler threads of the server never sync the
    same history at once.
    """

    def __init__(self, study: hpo_core.Study) -> None:
        self.study = study
        self.lock = threading.RLock()
        self.n_objectives = len(study.directions)
        self.minimize = [d.name == "MINIMIZE" for d in study.directions]
        self._seen = np.zeros(0, dtype=bool)  # rows known finished
        self._log: list[np.ndarray] = []  # rows finished per refresh, in order
        self._log_ends: list[int] = []  # cumulative lengths of _log
        self._last_refresh = 0.0
        self._figures: dict[tuple[str, int], tuple[int, str]] = {}
        self.history = study.view.sync()
        self._seen = np.isin(self.history.states[: self.history.n], _FINISHED)

    # ------------------------------------------------------------------ sync and log
    @property
    def cursor(self) -> int:
        """Trials logged as finished since the dashboard loaded the study."""
        return self._log_ends[-1] if self._log_ends else 0

    def refresh(self, min_interval: float = 0.0) -> None:
        """Sync the history and log the trials that finished since the last refresh
        (skipped when the last one is younger than ``min_interval`` seconds)."""
        with self.lock:
            now = time.monotonic()
            if now - self._last_refresh < min_interval:
                return
            self._last_refresh = now
            h = self.history = self.study.view.sync()
            done = np.isin(h.states[: h.n], _FINISHED)
            seen = np.zeros(h.n, dtype=bool)
            seen[: len(self._seen)] = self._seen[: h.n]
            new = np.flatnonzero(done & ~seen)
            self._seen = done
            if len(new):
                self._log.append(new)
                self._log_ends.append(self.cursor + len(new))

    def finished_since(self, cursor: int) -> np.ndarray:
        """Rows logged after ``cursor`` (trial numbers, in the order they finished)."""
        with self.lock:
            if cursor >= self.cursor:
                return np.zeros(0, dtype=np.intp)
            first = int(np.searchsorted(self._log_ends, cursor, side="right"))
            parts = self._log[first:]
            start = self._log_ends[first - 1] if first else 0
            rows = np.concatenate(parts)
            return rows[cursor - start :]

    # ------------------------------------------------------------------ summaries
    def meta(self) -> dict[str, Any]:
        """Directions, metric names, state counts, the parameters and their kinds."""
        with self.lock:
            h = self.history
            params: list[dict[str, Any]] = []
            for j, name in enumerate(h.param_names):
                d = h.param_dists[j][-1]
                if isinstance(d, CategoricalDistribution):
                    labels = sorted({str(c) for dist in h.param_dists[j] for c in dist.choices})  # type: ignore[attr-defined]
                    params.append({"name": name, "kind": "categorical", "choices": labels})
                else:
                    kind = "int" if isinstance(d, IntDistribution) else "float"
                    params.append({"name": name, "kind": kind, "log": bool(getattr(d, "log", False))})
            names = self.study.metric_names
            return {
                "name": self.study.study_name,
                "directions": [d.name.lower() for d in self.study.directions],
                "metric_names": names
                or [("value" if self.n_objectives == 1 else f"value {i}") for i in range(self.n_objectives)],
                "n_trials": int(h.n),
                "counts": {STATE_NAMES[i]: int(h.count(i)) for i in range(5)},
                "params": params,
                "has_intermediate": bool(h.steps.n_reports),
                "cursor": self.cursor,
            }

    def history_payload(self, objective: int) -> dict[str, Any]:
        """The optimization-history plot of objective ``objective``: sampled points,
        the exact best-value line, and the cursor from which live updates continue."""
        with self.lock:
            self.refresh()
            h = self.history
            rows = h.rows([_COMPLETE])
            y = h.values[rows, objective]
            ok = ~np.isnan(y)
            rows, y = rows[ok], y[ok]
            minimize = self.minimize[objective]
            imp = _improvements(y, minimize, math.nan)
            keep = _sample(len(rows), MAX_POINTS, imp, seed=0)
            return {
                "objective": objective,
                "minimize": minimize,
                "n_complete": int(len(rows)),
                "numbers": rows[keep].tolist(),
                "values": _floats(y[keep]),
                "best_numbers": rows[imp].tolist(),
                "best_values": _floats(y[imp]),
                "n_trials": int(h.n),
                "cursor": self.cursor,
            }

    def update_payload(self, cursor: int) -> dict[str, Any]:
        """The trials finished after ``cursor``: numbers, states and each objective's
        values as columns (a burst beyond :data:`MAX_POINTS` is sampled, every trial that
        improved an objective's best value kept)."""
        with self.lock:
            h = self.history
            rows = np.sort(self.finished_since(cursor))
            if len(rows) > MAX_POINTS:
                keep = [np.flatnonzero(h.states[rows] != _COMPLETE)[:MAX_POINTS]]
                before = h.rows([_COMPLETE])
                before = before[before < rows[0]]
                for i, minimize in enumerate(self.minimize):
                    prior = h.values[before, i]
                    best = (
                        float(np.nanmin(prior) if minimize else np.nanmax(prior)) if len(prior) else math.nan
                    )
                    keep.append(_improvements(h.values[rows, i], minimize, best))
                rows = rows[_sample(len(rows), MAX_POINTS, np.concatenate(keep), seed=len(rows))]
            return {
                "cursor": self.cursor,
                "numbers": rows.tolist(),
                "states": [STATE_NAMES[s] for s in h.states[rows].tolist()],
                "values": [_floats(h.values[rows, i]) for i in range(self.n_objectives)],
                "n_trials": int(h.n),
                "counts": {STATE_NAMES[i]: int(h.count(i)) for i in range(5)},
            }

    # ------------------------------------------------------------------ table
    def _column(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Numbers to filter or sort on: ``number``, ``value``/``value_i``, ``duration``
        or a parameter (its value; a categorical's choice index)."""
        h = self.history
        if name == "number":
            return rows.astype(np.float64)
        if name == "value" or name.startswith("value_"):
            i = 0 if name == "value" else int(name[6:])
            if not 0 <= i < self.n_objectives:
                raise KeyError(name)
            return h.values[rows, i]  # type: ignore[no-any-return]
        if name == "duration":
            return h.t_complete[rows] - h.t_start[rows]  # type: ignore[no-any-return]
        return h.X[rows, h.param_index[name]]  # type: ignore[no-any-return]

    def table(self, q: TableQuery) -> dict[str, Any]:
        """One page of the filtered, sorted trial table, as columns.

        Raises:
            KeyError: a column or state that the study lacks (its name).
        """
        with self.lock:
            h = self.history
            rows = h.rows()
            if q.states:
                codes = [int(TrialState[s.upper()]) for s in q.states]
                rows = rows[np.isin(h.states[rows], codes)]
            for name, (low, high) in q.ranges.items():
                col = self._column(name, rows)
                keep = ~np.isnan(col)
                if low is not None:
                    keep &= col >= low
                if high is not None:
                    keep &= col <= high
                rows = rows[keep]
            for name, label in q.choices.items():
                j = h.param_index[name]
                keep = np.zeros(len(rows), dtype=bool)
                for code, dist in enumerate(h.param_dists[j]):
                    labels = [str(c) for c in getattr(dist, "choices", ())]
                    if label in labels:
                        keep |= (h.codes[rows, j] == code) & (h.X[rows, j] == labels.index(label))
                rows = rows[keep]
            key = self._column(q.sort, rows)
            # NaN last in either order; ties by trial number (a stable sort of the rows).
            order = np.argsort(np.where(np.isnan(key), np.inf, -key if q.descending else key), kind="stable")
            total = len(rows)
            page = rows[order[q.page * q.size : (q.page + 1) * q.size]]
            cols: dict[str, list[Any]] = {
                "number": page.tolist(),
                "state": [STATE_NAMES[s] for s in h.states[page].tolist()],
            }
            for i in range(self.n_objectives):
                cols["value" if self.n_objectives == 1 else f"value_{i}"] = _floats(h.values[page, i])
            cols["duration"] = _floats(h.t_complete[page] - h.t_start[page])
            for j, name in enumerate(h.param_names):
                cols[f"params_{name}"] = _external(h, page, j)
            return {"total": total, "page": q.page, "size": q.size, "columns": cols}

    # ------------------------------------------------------------------ figures
    def figure(self, kind: str, objective: int = 0) -> str:
        """A plotly figure of ``hpo_core.visualization`` as JSON (cached until the
        history changes): ``importances``, ``parallel``, ``intermediate``, ``pareto``.

        Raises:
            KeyError: an unknown ``kind``.
        """
        from hpo_core import visualization as vis

        with self.lock:
            h = self.history
            version = int(h.n) * 8 + int(h.count(_COMPLETE)) + int(h.steps.n_reports) * 1_000_003
            cached = self._figures.get((kind, objective))
            if cached is not None and cached[0] == version:
                return cached[1]
            multi = self.n_objectives > 1
            names = self.meta()["metric_names"]
            # No `target`: a multi-objective study gets one bar set per objective and one
            # axis per objective, from the history's columns (a target builds trials).
            target: dict[str, Any] = {}
            with warnings.catch_warnings():
                # PED-ANOVA's note that a `target` is minimized: the page says which objective it shows.
                warnings.simplefilter("ignore", HpoWarning)
                fig = self._figure(vis, kind, h, multi, target, names)
            fig.update_layout(margin={"l": 60, "r": 20, "t": 40, "b": 50}, autosize=True)
            fig.layout.width = None
            fig.layout.height = None
            text = str(fig.to_json())
            self._figures[(kind, objective)] = (version, text)
            return text

    def _figure(
        self, vis: Any, kind: str, h: Any, multi: bool, target: dict[str, Any], names: list[str]
    ) -> Any:
        """The figure of ``kind`` (trusted: the caller holds the lock)."""
        if kind not in ("importances", "parallel", "intermediate", "pareto"):
            raise KeyError(kind)
        if not h.count(_COMPLETE):
            return _empty("No COMPLETE trials yet.")
        if kind == "importances":
            return vis.plot_param_importances(self.study, **target)
        if kind == "parallel":
            return vis.plot_parallel_coordinate(self.study, **target)
        if kind == "intermediate":
            if not h.steps.n_reports:
                return _empty("No trial reported intermediate values.")
            return vis.plot_intermediate_values(self.study)
        if not multi:
            return _empty("The Pareto front needs two or more objectives.")
        return vis.plot_pareto_front(self.study, target_names=names)


def _external(h: Any, rows: np.ndarray, j: int) -> list[Any]:
    """Parameter ``j``'s external values at ``rows`` (None where a trial lacks it)."""
    out: list[Any] = [None] * len(rows)
    codes = h.codes[rows, j].tolist()
    xs = h.X[rows, j].tolist()
    dists = h.param_dists[j]
    for i, (code, x) in enumerate(zip(codes, xs)):
        if code >= 0:
            v = dists[code].to_external_repr(x)
            out[i] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
    return out


def _empty(message: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
