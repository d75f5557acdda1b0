"""TPESampler's repeats (``samplers/tpe/_repeats.py``): where Optuna's choice was an
evaluated configuration and a new one was proposed instead, the model counts the
evaluated trial's observation once more, as if the trial had re-evaluated it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import CategoricalDistribution, IntDistribution
from hpo_core.samplers import TPESampler
from hpo_core.samplers.tpe import _repeats
from hpo_core.trial import Trial, TrialState, create_trial


def _objective(t: Trial) -> float:
    # A 7 x 5 x 3 grid, deterministic: TPE's plain choice soon repeats its best trials.
    x = t.suggest_int("x", 0, 6)
    y = t.suggest_float("y", 0.0, 0.4, step=0.1)
    c = t.suggest_categorical("c", ["a", "b", "c"])
    return (x - 4) ** 2 + (10 * y - 1) ** 2 + {"a": 0.5, "b": 0.0, "c": 1.0}[c]


def _repeat_rows(study: Any) -> dict[int, int]:
    col = study.view.history.numeric_column(_repeats.REPEAT_KEY)
    if col is None:
        return {}
    rows = np.flatnonzero(~np.isnan(col[:, 0]))
    return {int(t): int(col[t, 0]) for t in rows}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tpe_repeats_propose_as_real_re_evaluations(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Study A counts its recorded repeats in the model. Study B counts none (entries
    # patched away) but, after the first trial that recorded a repeat of r, adds a real
    # trial with r's configuration and value: Optuna's history, had it re-evaluated r
    # once. A's proposals are B's, trial for trial.
    a = hpo_core.create_study(sampler=TPESampler(seed=seed))
    a.optimize(_objective, n_trials=60)
    repeats = _repeat_rows(a)
    assert len(repeats) >= 5  # the rule was exercised
    assert all(r < t and a.trials[r].params == a.trials[repeats[t]].params for t, r in repeats.items())
    assert all(a.trials[t].params != a.trials[r].params for t, r in repeats.items())

    monkeypatch.setattr(_repeats, "entries", lambda h, states: None)
    b = hpo_core.create_study(sampler=TPESampler(seed=seed))
    proposed, copied = [], set()
    while len(proposed) < 60:
        t = b.ask()
        b.tell(t, _objective(t))
        proposed.append(b.trials[t.number].params)
        r = b.trials[t.number].system_attrs.get(_repeats.REPEAT_KEY)
        if r is not None and r not in copied:
            copied.add(r)
            src = b.trials[r]
            b.add_trial(create_trial(params=src.params, distributions=src.distributions, value=src.value))
    assert proposed == [t.params for t in a.trials]


def test_tpe_repeat_entries_count_finished_pairs_only() -> None:
    # Rows 0-2 COMPLETE, 3 FAIL, 4 RUNNING, 5-9 COMPLETE; repeats recorded by 5 (of 1), 6
    # (of 4: RUNNING), 7 (of 2), 3 (FAIL, of 0), 8 (malformed) and 9 (of 1 again: a row
    # counts twice at most). Counted: 5->1, 7->2.
    dists = {"x": IntDistribution(0, 9), "c": CategoricalDistribution(["a", "b"])}
    study = hpo_core.create_study()
    plan: list[tuple[TrialState, Any]] = [
        (TrialState.COMPLETE, None), (TrialState.COMPLETE, None), (TrialState.COMPLETE, None),
        (TrialState.FAIL, 0), (TrialState.RUNNING, None), (TrialState.COMPLETE, 1),
        (TrialState.COMPLETE, 4), (TrialState.COMPLETE, 2), (TrialState.COMPLETE, 2.5), (TrialState.COMPLETE, 1)]
    for i, (state, r) in enumerate(plan):
        study.add_trial(create_trial(
            state=state, value=float(i) if state == TrialState.COMPLETE else None,
            params={"x": i, "c": "a"}, distributions=dists,
            system_attrs={} if r is None else {_repeats.REPEAT_KEY: r}))
    h = study.view.history
    states = h.states[: h.n].copy()
    ix = _repeats.entries(h, states)
    assert ix is not None
    np.testing.assert_array_equal(ix, [0, 1, 2, 3, 4, 5, 1, 6, 7, 2, 8, 9])
    # A row taking no part (the asking trial, a row outside a bracket: -1) drops its copies.
    states[1] = -1
    np.testing.assert_array_equal(_repeats.entries(h, states), [0, 1, 2, 3, 4, 5, 6, 7, 2, 8, 9])
    states[2] = -1
    assert _repeats.entries(h, states) is None


def test_tpe_repeats_gamma_counts_copies() -> None:
    # 20 finished trials, 10 of which recorded a repeat of trial 0 (the best): it counts
    # once more, so gamma counts 21 observations and the good group holds 3 entries,
    # trial 0, its copy (after trial 10, the first to record it) and trial 1.
    dists = {"x": IntDistribution(0, 99), "c": CategoricalDistribution(["a", "b"])}
    sampler = TPESampler(seed=0, n_startup_trials=1)
    study = hpo_core.create_study(sampler=sampler)
    for i in range(20):
        study.add_trial(create_trial(value=float(i), params={"x": 5 * i, "c": "b"}, distributions=dists,
                                     system_attrs={_repeats.REPEAT_KEY: 0} if i >= 10 else {}))
    trial = study.ask()
    states, good, ix = sampler._split_for_ask(study, study.view.history, trial)
    assert ix is not None and len(ix) == 22  # 20 rows, the RUNNING asking trial, 1 copy
    assert ix[good].tolist() == [0, 1, 0] and good.tolist() == [0, 1, 11]


def test_tpe_repeats_only_single_objective_and_skip_evaluated() -> None:
    # Two objectives (multivariate, where skipping applies) record nothing; neither does
    # skip_evaluated=False, Optuna's choice.
    def two(t: Trial) -> tuple[float, float]:
        v = _objective(t)
        return v, -v

    study = hpo_core.create_study(directions=["minimize", "maximize"], sampler=TPESampler(seed=0, multivariate=True))
    study.optimize(two, n_trials=40)
    assert _repeat_rows(study) == {}
    study = hpo_core.create_study(sampler=TPESampler(seed=0, skip_evaluated=False))
    study.optimize(_objective, n_trials=40)
    assert _repeat_rows(study) == {}


def test_tpe_repeats_survive_storage(tmp_path: Path) -> None:
    # Recorded as a system attribute: a study on an SQLite file proposes what the
    # in-memory one does, and a fresh load of the file reads the same repeats.
    url = f"sqlite:///{tmp_path / 'repeats.db'}"
    mem = hpo_core.create_study(sampler=TPESampler(seed=3))
    mem.optimize(_objective, n_trials=45)
    disk = hpo_core.create_study(storage=url, study_name="r", sampler=TPESampler(seed=3))
    disk.optimize(_objective, n_trials=45)
    assert [t.params for t in disk.trials] == [t.params for t in mem.trials]
    loaded = hpo_core.load_study(study_name="r", storage=url, sampler=TPESampler(seed=4))
    assert _repeat_rows(loaded) == _repeat_rows(mem) != {}
    # The loaded study's next proposal is the in-memory study's, given the same sampler seed.
    mem.sampler = TPESampler(seed=4)
    assert loaded.ask().params == mem.ask().params


def test_tpe_repeats_with_two_threads_on_a_database(tmp_path: Path) -> None:
    # Two threads share the sampler over an SQLite file (the constant liar on): a repeat
    # may name a trial RUNNING in the other thread. Every recorded repeat names another
    # trial, whose configuration the recording trial did not take.
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    study = hpo_core.create_study(storage=url, sampler=TPESampler(seed=0))
    study.optimize(_objective, n_trials=60, n_jobs=2)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 60 and all(t.state == TrialState.COMPLETE for t in trials)
    repeats = _repeat_rows(hpo_core.load_study(study_name=study.study_name, storage=url))
    assert repeats
    for t, r in repeats.items():
        assert r != t and 0 <= r < 60 and trials[t].params != trials[r].params
