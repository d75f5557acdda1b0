"""Scenario: easy parallelization, as Optuna's tutorial teaches it: one study in a
database, the same script started in several processes, each loading the study and
optimizing it; afterwards the results are read back from the database."""

from __future__ import annotations

import pickle

import pytest

import hpo_core as optuna
from hpo_core.trial import TrialState

# What a user runs in each terminal: ``python worker.py <storage> <study> <n_trials> <i>``.
WORKER = """
import sys
import hpo_core as optuna

storage, study_name, n_trials, worker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", -5, 5)
    trial.set_user_attr("worker", worker)
    return (x - 2) ** 2 + (y + 1) ** 2


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=study_name, storage=storage)
study.optimize(objective, n_trials=n_trials)
print(len(study.trials))
"""

N_WORKERS = 3
N_TRIALS = 8


def _check_shared_study(storage: str, study_name: str) -> None:
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.trials
    assert len(trials) == N_WORKERS * N_TRIALS
    assert sorted(t.number for t in trials) == list(range(N_WORKERS * N_TRIALS))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # Every worker contributed its share, and the study's best is over all of them.
    per_worker = [sum(t.user_attrs["worker"] == str(i) for t in trials) for i in range(N_WORKERS)]
    assert per_worker == [N_TRIALS] * N_WORKERS
    assert study.best_value == min(t.value for t in trials)
    assert study_name in optuna.get_all_study_names(storage=storage)


def _create_and_run(run_workers, storage: str, study_name: str) -> None:
    optuna.create_study(study_name=study_name, storage=storage, sampler=optuna.samplers.TPESampler(seed=0))
    outputs = run_workers(WORKER, [storage, study_name, str(N_TRIALS)], n_workers=N_WORKERS)
    # A worker sees at least its own trials when it finishes.
    assert all(int(out.split()[-1]) >= N_TRIALS for out in outputs)
    _check_shared_study(storage, study_name)


def test_distributed_workers_share_one_sqlite_file(tmp_path, run_workers) -> None:
    _create_and_run(run_workers, f"sqlite:///{tmp_path / 'example.db'}", "distributed-example")


@pytest.mark.postgres
def test_distributed_workers_share_one_postgresql_study(postgres_url: str, run_workers) -> None:
    _create_and_run(run_workers, postgres_url, "distributed-example")


def test_distributed_study_resumes_from_the_database_file(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 'resume.db'}"
    study = optuna.create_study(study_name="resume", storage=storage, direction="maximize")
    study.optimize(lambda t: -abs(t.suggest_float("x", 0, 1) - 0.5), n_trials=5)
    del study

    again = optuna.create_study(study_name="resume", storage=storage, load_if_exists=True)
    assert again.direction == optuna.study.StudyDirection.MAXIMIZE
    assert len(again.trials) == 5
    again.optimize(lambda t: -abs(t.suggest_float("x", 0, 1) - 0.5), n_trials=5)
    assert [t.number for t in again.trials] == list(range(10))
    with pytest.raises(optuna.exceptions.DuplicatedStudyError):
        optuna.create_study(study_name="resume", storage=storage)

    summaries = optuna.get_all_study_summaries(storage=storage)
    assert [(s.study_name, s.n_trials) for s in summaries] == [("resume", 10)]
    optuna.delete_study(study_name="resume", storage=storage)
    assert optuna.get_all_study_names(storage=storage) == []


def _resumable_objective(trial):
    return (trial.suggest_float("x", -10, 10) - 2) ** 2 + trial.suggest_int("n", 0, 5)


@pytest.mark.parametrize(
    "make_sampler",
    [
        lambda: optuna.samplers.TPESampler(seed=0, n_startup_trials=3),
        lambda: optuna.samplers.RandomSampler(seed=0),
    ],
    ids=["tpe", "random"],
)
def test_distributed_resume_with_a_pickled_sampler_reproduces_the_run(tmp_path, make_sampler) -> None:
    uninterrupted = optuna.create_study(sampler=make_sampler())
    uninterrupted.optimize(_resumable_objective, n_trials=8)

    storage = f"sqlite:///{tmp_path / 'pickled.db'}"
    first = optuna.create_study(study_name="pickled", storage=storage, sampler=make_sampler())
    first.optimize(_resumable_objective, n_trials=4)
    (tmp_path / "sampler.pkl").write_bytes(pickle.dumps(first.sampler))
    del first

    restored = pickle.loads((tmp_path / "sampler.pkl").read_bytes())
    resumed = optuna.load_study(study_name="pickled", storage=storage, sampler=restored)
    resumed.optimize(_resumable_objective, n_trials=4)
    assert [t.params for t in resumed.trials] == [t.params for t in uninterrupted.trials]


# The fault-tolerance recipe: a worker killed mid-trial leaves a RUNNING trial behind;
# the next worker on the study marks it FAIL and, with RetryHeartbeatStaleTrialCallback, runs
# its parameters again.
DYING_WORKER = """
import os
import sys
import time
import hpo_core as optuna
from hpo_core.storages import RDBStorage

storage = RDBStorage(url=sys.argv[1], heartbeat_interval=1, grace_period=2)
study = optuna.load_study(study_name="fault-tolerant", storage=storage)


def objective(trial):
    trial.suggest_float("x", -10, 10)
    time.sleep(0.5)  # training for a while (parameter writes are batched for flush_delay)
    os._exit(9)  # the machine is lost in the middle of the trial


study.optimize(objective, n_trials=1)
"""


def test_distributed_trial_of_a_dead_worker_is_retried(tmp_path, run_workers) -> None:
    from hpo_core.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    url = f"sqlite:///{tmp_path / 'fault.db'}"
    optuna.create_study(study_name="fault-tolerant", storage=url)
    with pytest.raises(AssertionError, match="exited with 9"):
        run_workers(DYING_WORKER, [url], n_workers=1)

    storage = RDBStorage(
        url=url, heartbeat_interval=1, grace_period=2,
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
    )
    study = optuna.load_study(study_name="fault-tolerant", storage=storage)
    study.optimize(lambda t: (t.suggest_float("x", -10, 10) - 2) ** 2, n_trials=2)

    lost, retried = study.trials[0], study.trials[1]
    assert lost.state == TrialState.FAIL
    assert retried.state == TrialState.COMPLETE
    assert retried.params == lost.params
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retried) == 0
    assert RetryHeartbeatStaleTrialCallback.retry_history(retried) == [0]
