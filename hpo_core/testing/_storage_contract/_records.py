"""What the storage contract compares: records of trials, studies and histories, and
the writes of every kind that fill a study."""

from __future__ import annotations

import numpy as np

from hpo_core.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    SearchSpace,
)
from hpo_core.history import History
from hpo_core.storages import BaseStorage
from hpo_core.trial import FrozenTrial, StudyDirection, TrialState, create_trial

MIN, MAX = StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE
RUNNING, WAITING, COMPLETE, PRUNED, FAIL = (
    TrialState.RUNNING, TrialState.WAITING, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
SPACE = SearchSpace({
    "x": FloatDistribution(-1.0, 1.0),
    "n": IntDistribution(1, 8, log=True),
    "c": CategoricalDistribution(["a", None, 3]),
})
BIG_STEPS = (2**31, 2**40, 2**63 - 1)


def trial_record(t: FrozenTrial) -> str:
    """Everything a trial holds, as text: NaN matches NaN, dict order does not count."""
    return repr((
        t.number, t.trial_id, t.state, t.values,
        sorted(t.params.items()), sorted((k, repr(d)) for k, d in t.distributions.items()),
        sorted(t.user_attrs.items()), sorted(t.system_attrs.items()),
        sorted(t.intermediate_values.items()), t.datetime_start, t.datetime_complete,
    ))


def study_record(storage: BaseStorage, study_id: int) -> str:
    """Everything a study holds, as read through the storage's API."""
    return repr((
        storage.get_study_name_from_id(study_id), storage.get_study_directions(study_id),
        sorted(storage.get_study_attrs(study_id, "user").items()),
        sorted(storage.get_study_attrs(study_id, "system").items()),
        [trial_record(t) for t in storage.get_all_trials(study_id)],
        [storage.get_n_trials(study_id, [s]) for s in TrialState],
    ))


def history_record(h: History) -> str:
    """The rows of a history and its summaries (counts, best row, reports)."""
    rows = np.flatnonzero(h.states[: h.n] >= 0).tolist()
    rows_, steps, values = h.steps.log()
    return repr((
        h.n, list(h.state_counts), h.best_row, h.states[: h.n].tolist(),
        [trial_record(h.frozen(r)) for r in rows],
        h.steps.n_reports, rows_.tolist(), steps.tolist(), values.tolist(),
        sorted(h.intersection_search_space().names),
    ))


def assert_rows_blank(h: History) -> None:
    """Rows at or past ``h.n`` hold nothing (no half-applied trial)."""
    n = h.n
    assert (h.states[n:] == -1).all() and (h.trial_ids[n:] == -1).all()
    assert np.isnan(h.values[n:]).all() and np.isnan(h.X[n:]).all() and (h.codes[n:] == -1).all()
    assert all(a is None for a in h.user_attrs[n:]) and all(a is None for a in h.system_attrs[n:])
    assert not np.isin(h.steps.log()[0], np.arange(n, h.states.shape[0])).any()


def fill_study(storage: BaseStorage, study_id: int, x_dist: BaseDistribution) -> None:
    """Writes of every kind into one study (single objective): study attributes, a
    reservation, trials in each state with parameters (one by one, joint, batched),
    attributes and reports at large steps, template trials, a WAITING trial."""
    space = SearchSpace({"x": x_dist, "k": IntDistribution(1, 8, log=True)})
    X = space.from_unit(np.random.default_rng(0).random((8, 2)))
    storage.set_study_attr(study_id, "user", "u", [1, "a", None])
    storage.set_study_attr(study_id, "system", "s", {"k": 2.5})
    storage.reserve(study_id, "grid:0")
    for i, state in enumerate((COMPLETE, PRUNED, FAIL, RUNNING)):
        tid, _ = storage.create_new_trial(study_id)
        storage.set_trial_param(tid, "x", float(X[i, 0]), x_dist)
        storage.set_trial_param(tid, "k", float(X[i, 1]), space["k"])
        storage.set_trial_attr(tid, "user", "state", state.name)
        storage.set_trial_attr(tid, "system", "constraints", [0.5, -1.0])
        for step, v in ((0, 1.0), (2**40, 2.0), (2**63 - 1, float("nan"))):
            storage.set_trial_intermediate_value(tid, step, v)
        if state != RUNNING:
            storage.set_trial_state_values(tid, state, [float(i)] if state == COMPLETE else None)
    tid, _ = storage.create_new_trial(study_id, space=space, internal=X[4])
    storage.set_trial_state_values(tid, COMPLETE, [-1.0])
    ids, _ = storage.create_new_trials(study_id, 2)
    storage.set_trials_params(ids, space, X[5:7])
    storage.set_trials_state_values(ids, COMPLETE, np.array([[2.0], [3.0]]))
    tid, _ = storage.create_new_trial(study_id)
    storage.set_trial_params(tid, space, X[7])
    storage.create_new_trial(study_id, create_trial(
        value=4.0, params={"x": x_dist.to_external_repr(float(X[0, 0]))}, distributions={"x": x_dist},
        user_attrs={"from": "template"}, system_attrs={"s": [1]}, intermediate_values={1: 0.5, 2**40: 0.25},
    ))
    storage.create_new_trial(study_id, create_trial(state=WAITING, system_attrs={"fixed_params": {"k": 2}}))
