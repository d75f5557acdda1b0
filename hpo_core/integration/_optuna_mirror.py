"""An incremental mirror of one Optuna study in our columnar history.

Our samplers read a :class:`~hpo_core.history.History` through ``study.view``; Optuna
hands samplers lists of ``FrozenTrial``. :class:`Mirror` keeps a shadow study of ours
(an :class:`~hpo_core.storages.InMemoryStorage`, so that every change still goes through
the storages' one writer) whose row ``i`` is the Optuna trial number ``i``. A sync reads
Optuna's trial list once (``get_all_trials(deepcopy=False)``: what Optuna's own samplers
read per ask) and touches only

* the trials added since the last sync (appended), and
* the trials the mirror holds as RUNNING or WAITING (the only ones whose state, params,
  reports or constraint values may still change in Optuna),

so a sync costs O(new + unfinished) Python work on top of Optuna's list, never a pass over
all trials. Finished trials never change in Optuna, and trial numbers are dense and stable
per study, so the rows never need rereading.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpo_core.distributions import BaseDistribution, CategoricalDistribution, SearchSpace
from hpo_core.integration._optuna_convert import from_optuna_direction, from_optuna_distribution, make_frozen
from hpo_core.pruners import NopPruner
from hpo_core.samplers import BaseSampler
from hpo_core.storages import InMemoryStorage
from hpo_core.storages._base import check_attr
from hpo_core.study import Study
from hpo_core.trial import Trial
from hpo_core.trial._frozen import FrozenTrial
from hpo_core.trial._state import TrialState

__all__ = ["Mirror"]

_RUNNING, _COMPLETE = int(TrialState.RUNNING), int(TrialState.COMPLETE)
_FINISHED = (int(TrialState.COMPLETE), int(TrialState.PRUNED), int(TrialState.FAIL))
_NAME = "optuna-mirror"


class _Open:
    """What the mirror wrote of a trial it holds as RUNNING or WAITING."""

    __slots__ = ("state", "n_params", "n_reports", "n_user")

    def __init__(self, state: int):
        self.state = state
        self.n_params = 0
        self.n_reports = 0
        self.n_user = 0


class Mirror:
    """The shadow study of one Optuna study (see the module docstring).

    Args:
        directions: The Optuna study's directions.
        sampler: Our sampler; the shadow study's sampler (never asked by it).
    """

    def __init__(self, directions: list[Any], sampler: BaseSampler):
        self.storage = InMemoryStorage()
        self.storage.create_new_study([from_optuna_direction(d) for d in directions], _NAME)
        self.study = Study(_NAME, self.storage, sampler=sampler, pruner=NopPruner())
        self.n = 0  # Optuna trials mirrored: rows [0, n)
        self.open: dict[int, _Open] = {}  # number -> what was written, while unfinished
        self.trials: dict[int, Trial] = {}  # number -> our Trial handed to the sampler
        self._dist_cache: dict[Any, BaseDistribution] = {}
        self._space_cache: dict[tuple[Any, ...], SearchSpace] = {}
        self._last_space: tuple[tuple[str, ...], tuple[Any, ...], SearchSpace] | None = None

    @property
    def system_attrs(self) -> dict[str, Any]:
        """The shadow study's system attributes (the storage's own dict: read only)."""
        return self.storage._studies[0].attrs["system"]

    def pull_study_attrs(self, current: dict[str, Any]) -> None:
        """Copy into the shadow study the Optuna study's system attributes that differ
        (state our samplers keep in the study, written by another worker)."""
        mine = self.system_attrs
        for key, value in current.items():
            if key not in mine or mine[key] != value:
                _try(self.storage.set_study_attr, 0, "system", key, value)

    # ------------------------------------------------------------------ conversions
    def dist(self, odist: Any) -> BaseDistribution:
        """Our distribution of Optuna's ``odist`` (cached: Optuna distributions hash by value)."""
        d = self._dist_cache.get(odist)
        if d is None:
            if len(self._dist_cache) > 4096:
                self._dist_cache.clear()
            d = self._dist_cache[odist] = from_optuna_distribution(odist)
        return d

    def space(self, odists: dict[str, Any]) -> SearchSpace:
        """Our :class:`SearchSpace` of an Optuna ``{name: distribution}`` dict; the same
        object for equal dicts (the last one is checked first, by identity mostly)."""
        names, dists = tuple(odists), tuple(odists.values())
        last = self._last_space
        if (
            last is not None
            and last[0] == names
            and all(
                a is b or (type(a) is type(b) and a.__dict__ == b.__dict__) for a, b in zip(last[1], dists)
            )
        ):
            return last[2]
        key = tuple(odists.items())
        space = self._space_cache.get(key)
        if space is None:
            if len(self._space_cache) > 1024:
                self._space_cache.clear()
            space = self._space_cache[key] = SearchSpace({n: self.dist(d) for n, d in odists.items()})
        self._last_space = (names, dists, space)
        return space

    # ------------------------------------------------------------------ sync
    def sync(self, trials: list[Any]) -> None:
        """Bring the rows up to date with ``trials``, Optuna's trial list of the study
        (number order, as ``get_all_trials`` returns it)."""
        if trials and trials[-1].number != len(trials) - 1:  # not in number order: sort once
            trials = sorted(trials, key=lambda t: t.number)
        if self.open:
            for number in list(self.open):
                if number < len(trials):
                    self.refresh(number, trials[number])
        new = trials[self.n :]
        if len(new) > 1:
            self._append_many(new)
        else:
            for t in new:
                self._append(t)

    def _append_many(self, new: list[Any]) -> None:
        """Append ``new`` trials; runs of COMPLETE trials with the same distributions and
        nothing else to copy (no reports, no typed system attributes) go in as blocks of
        three storage calls (a study of many trials, mirrored when first seen)."""
        i, n_new, complete = 0, len(new), TrialState.COMPLETE
        while i < n_new:
            t = new[i]
            if not self._plain_complete(t):
                self._append(t)
                i += 1
                continue
            dists = t.distributions
            j = i + 1
            while j < n_new and self._plain_complete(new[j]) and _same_dists(new[j].distributions, dists):
                j += 1
            if j - i == 1:
                self._append(t)
            else:
                space = self.space(dists)
                block = new[i:j]
                X = _internal_block(space, [b.params for b in block])
                values = np.array([b.values for b in block], dtype=np.float64)
                ids, numbers = self.storage.create_new_trials(0, j - i)
                assert int(numbers[0]) == self.n  # internal: rows follow Optuna's trial numbers
                self.storage.set_trials_params(ids, space, X)
                self.storage.set_trials_state_values(ids, complete, values)
                self.n += j - i
            i = j

    @staticmethod
    def _plain_complete(t: Any) -> bool:
        return t.state.value == _COMPLETE and not t.intermediate_values and not t.system_attrs

    def _append(self, ot: Any) -> None:
        number = self.n
        state = int(ot.state.value)
        storage = self.storage
        if state in _FINISHED:
            storage.create_new_trial(0, self._template(ot, state))
        else:
            tid, got = storage.create_new_trial(0)
            assert got == number  # internal: rows follow Optuna's dense trial numbers
            self.open[number] = _Open(_RUNNING)
            self.refresh(number, ot)
        self.n = number + 1

    def _template(self, ot: Any, state: int) -> FrozenTrial:
        """A finished Optuna trial as our template: what samplers read (params, values,
        reports, datetimes, the system attributes kept as typed columns)."""
        return make_frozen(
            number=ot.number,
            state=TrialState(state),
            values=None if ot.values is None else list(ot.values),
            params=dict(ot.params),
            distributions={k: self.dist(d) for k, d in ot.distributions.items()},
            user_attrs={},
            system_attrs=_json_attrs(ot.system_attrs),
            intermediate_values=dict(ot.intermediate_values),
            datetime_start=ot.datetime_start,
            datetime_complete=ot.datetime_complete,
            trial_id=-1,
        )

    def refresh(self, number: int, ot: Any, *, user_attrs: bool = False) -> None:
        """Write what changed in an unfinished row: new params and reports, then (with
        ``user_attrs``) the user attributes, then a new state with its values."""
        rec = self.open.get(number)
        if rec is None:
            return
        storage, tid = self.storage, number  # one study per storage: trial id == number
        params = ot.params
        if len(params) != rec.n_params:
            space = self.space(ot.distributions)
            X = np.array([d.to_internal_repr(params[n]) for n, d in space.items()])
            storage.set_trial_params(tid, space, X)
            rec.n_params = len(params)
        reports = ot.intermediate_values
        if len(reports) != rec.n_reports:
            for step, value in reports.items():
                storage.set_trial_intermediate_value(tid, step, _report(value))
            rec.n_reports = len(reports)
        if user_attrs and len(ot.user_attrs) != rec.n_user:
            for key, value in ot.user_attrs.items():
                storage.set_trial_attr(tid, "user", key, value)
            rec.n_user = len(ot.user_attrs)
        state = int(ot.state.value)
        if state == rec.state:
            return
        if state in _FINISHED:
            h = self.storage.get_history(0, sync=False)
            have = h.system_attrs[number] or {}
            for key, value in ot.system_attrs.items():  # constraint values, a CMA-ES point, ...
                if key not in have or have[key] != value:
                    _try(storage.set_trial_attr, tid, "system", key, value)
            values = None if state != int(TrialState.COMPLETE) else [float(v) for v in ot.values]
            storage.set_trial_state_values(tid, state, values)
            del self.open[number]
            self.trials.pop(number, None)
        else:
            storage.set_trial_state_values(tid, state)
            rec.state = state

    # ------------------------------------------------------------------ trials
    def trial(self, number: int) -> Trial:
        """Our :class:`Trial` of row ``number`` (one object per trial while it runs: a
        sampler's ``before_trial`` may leave fixed values on it)."""
        t = self.trials.get(number)
        if t is None:
            if len(self.trials) > 4096:  # trials asked and never finished
                self.trials.pop(next(iter(self.trials)))
            t = self.trials[number] = Trial(self.study, number, number)
        return t


def _try(write: Any, *args: Any) -> None:
    """A storage write of an attribute; one our storages reject (not JSON, a bad key:
    Optuna's in-memory storage keeps anything) is left out of the mirror."""
    try:
        write(*args)
    except (TypeError, ValueError):
        pass


def _json_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """The system attributes our storages accept (see :func:`_try`)."""
    out = {}
    for key, value in attrs.items():
        try:
            check_attr("system", key, value)
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


def _same_dists(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two Optuna ``{name: distribution}`` dicts are equal: by type and fields
    (Optuna's own ``==`` compares categorical choices one by one in Python, which costs
    most of a mirror's first sync)."""
    if a is b:
        return True
    if a.keys() != b.keys():
        return False
    for name, x in a.items():
        y = b[name]
        if x is not y and (type(x) is not type(y) or x.__dict__ != y.__dict__):
            return False
    return True


def _internal_block(space: SearchSpace, rows: list[dict[str, Any]]) -> np.ndarray:
    """(n, d) internal values of ``rows`` (external ``{name: value}`` dicts with every
    parameter of ``space``), a column at a time."""
    X = np.empty((len(rows), len(space)))
    for j, (name, dist) in enumerate(space.items()):
        column = [r[name] for r in rows]
        if isinstance(dist, CategoricalDistribution):
            index = {c: k for k, c in reversed(list(enumerate(dist.choices)))}
            try:
                X[:, j] = [index[v] for v in column]
            except (KeyError, TypeError):  # a choice that hashes apart from its equal
                X[:, j] = [dist.to_internal_repr(v) for v in column]
        else:
            X[:, j] = column
    return X


def _report(value: Any) -> Any:
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value)


def nan_to_none(values: Any) -> list[float] | None:
    """Optuna's ``after_trial`` values as a list of floats (None stays None)."""
    if values is None:
        return None
    return [float(v) if v is not None else math.nan for v in values]
