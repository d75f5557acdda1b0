"""Asynchronous successive halving (ASHA) and Hyperband with several worker processes on
one database: every trial ends COMPLETE or PRUNED, each rung's attribute holds the
trial's value at that rung, and what every interleaving must give holds (the best value
of a rung always goes on; some trials are stopped at the first rung)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _workers import spawn  # tests/storages/_workers.py

import hpo_core
from hpo_core.trial import TrialState

N_WORKERS, N_TRIALS, N_STEPS = 3, 18, 27

WORKER = """
import sys, warnings
import hpo_core
from hpo_core import TrialPruned

url, kind = sys.argv[1], sys.argv[2]

def curve(x, step):
    # A learning curve whose final value is x: (x - 0.3)^2 + 1 / (step + 1).
    return (x - 0.3) ** 2 + 1.0 / (step + 1)

def objective(trial):
    x = trial.suggest_float("x", 0.0, 1.0)
    for step in range(27):
        trial.report(curve(x, step), step)
        if trial.should_prune():
            raise TrialPruned()
    return curve(x, 26)

if kind == "asha":
    pruner = hpo_core.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
else:
    pruner = hpo_core.pruners.HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)
study = hpo_core.load_study(study_name="asha", storage=url,
                            sampler=hpo_core.samplers.TPESampler(n_startup_trials=4), pruner=pruner)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    study.optimize(objective, n_trials=6)
"""


def _run_workers(url: str, kind: str) -> hpo_core.Study:
    hpo_core.create_study(study_name="asha", storage=url)
    procs = [spawn(WORKER, url, kind) for _ in range(N_WORKERS)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    return hpo_core.load_study(study_name="asha", storage=url)


def _check(study: hpo_core.Study, kind: str) -> None:
    trials = study.trials
    assert len(trials) == N_TRIALS
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    assert any(t.state == TrialState.PRUNED for t in trials)
    for t in trials:
        last = max(t.intermediate_values)
        if t.state == TrialState.COMPLETE:
            assert last == N_STEPS - 1 and t.value == t.intermediate_values[last]
        # completed_rung_r: the value at rung r's step, for every rung the trial reached
        # (ASHA: rung r ends at step 3^r).
        rungs = {int(k.rsplit("_", 1)[1]): v for k, v in t.system_attrs.items() if k.startswith("completed_rung_")}
        if kind == "asha":
            for r, v in rungs.items():
                assert 3**r <= last and v == t.intermediate_values[3**r]
            assert sorted(rungs) == [r for r in range(4) if 3**r <= last] or t.state == TrialState.COMPLETE
    if kind == "asha":
        # Whatever the order the workers decided in, the best value of a rung was in
        # the top 1/3 of the values there at its decision, so that trial went on.
        for r in range(3):
            at_rung = [t for t in trials if f"completed_rung_{r}" in t.system_attrs]
            best = min(at_rung, key=lambda t: t.system_attrs[f"completed_rung_{r}"])
            assert max(best.intermediate_values) > 3**r, (r, best.number)
        # Rung 0 kept at most about a third, never all of them.
        beyond = [t for t in trials if max(t.intermediate_values) > 1]
        assert 0 < len(beyond) < N_TRIALS


@pytest.mark.parametrize("kind", ["asha", "hyperband"])
def test_pruning_workers_on_sqlite(kind: str, tmp_path: Path) -> None:
    study = _run_workers(f"sqlite:///{tmp_path / 'asha.db'}", kind)
    _check(study, kind)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["asha", "hyperband"])
def test_pruning_workers_on_postgres(kind: str, postgres_url: str) -> None:
    study = _run_workers(postgres_url, kind)
    _check(study, kind)
