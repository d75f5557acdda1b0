"""Real processes on one real SQLite file (kill-and-resume, hung workers, four writers)
and on PostgreSQL and MariaDB (four and eight workers)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from _workers import spawn as _spawn  # tests/storages/_workers.py
from _workers import wait_for as _wait_for  # tests/storages/_workers.py

import hpo_core
from hpo_core.storages import RDBStorage
from hpo_core.trial import TrialState

ROOT = Path(__file__).resolve().parents[2]






HANGING_WORKER = """
    import sys, time, pathlib, logging
    import hpo_core
    hpo_core.logging.set_verbosity(logging.WARNING)
    url, marker, hb = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3])
    storage = hpo_core.storages.RDBStorage(url, heartbeat_interval=hb)
    study = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 7:
            marker.write_text("in trial 7")
            time.sleep(600)
        return x
    study.optimize(objective, n_trials=20)
"""


@pytest.mark.slow
def test_sqlite_kill_and_resume_marks_running_trial_failed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    marker = tmp_path / "marker"
    proc = _spawn(HANGING_WORKER, url, str(marker), "60")
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    study = hpo_core.create_study(storage=url, study_name="s", load_if_exists=True)
    trials = study.trials
    assert [t.state for t in trials[:7]] == [TrialState.COMPLETE] * 7
    assert all(t.params["x"] == t.value for t in trials[:7])
    assert trials[7].state == TrialState.FAIL  # failed at once: its process is gone
    assert "is gone" in trials[7].system_attrs["fail_reason"]
    assert len(trials) == 8

    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    states = [t.state for t in study.trials]
    assert len(states) == 13 and states.count(TrialState.COMPLETE) == 12


@pytest.mark.slow
def test_sqlite_hung_worker_failed_by_heartbeat(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hung.db'}"
    marker = tmp_path / "marker"
    proc = _spawn(HANGING_WORKER, url, str(marker), "0.2")
    try:
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGSTOP)  # alive but silent: only the heartbeat can tell
        storage = RDBStorage(url, heartbeat_interval=0.2, grace_period=1.0)
        study = hpo_core.load_study(study_name="s", storage=storage)
        assert study.trials[7].state == TrialState.RUNNING  # its process still exists
        time.sleep(1.5)
        assert storage.fail_stale_trials(study._study_id) == [7]
        trial = study.trials[7]
        assert trial.state == TrialState.FAIL
        assert "heartbeat" in trial.system_attrs["fail_reason"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


FOUR_WORKER = """
    import sys, logging, pathlib, time
    import hpo_core
    hpo_core.logging.set_verbosity(logging.WARNING)
    url, kind = sys.argv[1], sys.argv[2]
    # A start barrier: every worker waits until all four have imported, so that on a
    # loaded machine one worker cannot finish the study before the others start.
    barrier = pathlib.Path(sys.argv[4])
    (barrier / sys.argv[3]).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    if kind == "grid":
        sampler = hpo_core.samplers.GridSampler({"a": list(range(6)), "b": list(range(10))})
        n = 100
    else:
        sampler = hpo_core.samplers.RandomSampler()
        n = 50
    study = hpo_core.create_study(storage=url, study_name="shared", load_if_exists=True, sampler=sampler)
    def objective(trial):
        a = trial.suggest_int("a", 0, 5)
        b = trial.suggest_int("b", 0, 9)
        trial.set_user_attr("worker", sys.argv[3])
        time.sleep(0.01)  # a trial takes a moment, so that no worker can take them all
        return a * 10 + b
    study.optimize(objective, n_trials=n)
    print("done")
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["random", "grid"])
def test_sqlite_four_processes_lose_and_duplicate_nothing(tmp_path: Path, kind: str) -> None:
    url = f"sqlite:///{tmp_path / 'four.db'}"
    hpo_core.create_study(storage=url, study_name="shared")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [_spawn(FOUR_WORKER, url, kind, str(k), str(barrier)) for k in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "locked" not in err.lower(), err
        assert out.strip() == "done"
    trials = hpo_core.load_study(study_name="shared", storage=url).trials
    expected = 200 if kind == "random" else 60
    assert [t.number for t in trials] == list(range(expected))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert all(t.value == t.params["a"] * 10 + t.params["b"] for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) > 1  # the work was shared
    if kind == "grid":
        points = {(t.params["a"], t.params["b"]) for t in trials}
        assert len(points) == 60  # every grid point exactly once


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_four_processes_lose_and_duplicate_nothing(postgres_url: str, tmp_path: Path) -> None:
    hpo_core.create_study(storage=postgres_url, study_name="shared")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [_spawn(FOUR_WORKER, postgres_url, "grid", str(k), str(barrier)) for k in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    trials = hpo_core.load_study(study_name="shared", storage=postgres_url).trials
    assert [t.number for t in trials] == list(range(60))
    assert len({(t.params["a"], t.params["b"]) for t in trials}) == 60
    assert all(t.state == TrialState.COMPLETE for t in trials)


EIGHT_WORKER = """
    import sys, logging, pathlib, time
    import hpo_core
    hpo_core.logging.set_verbosity(logging.WARNING)
    url, me, barrier, n = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), int(sys.argv[4])
    (barrier / me).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < 8 and time.monotonic() < deadline:
        time.sleep(0.005)
    study = hpo_core.load_study(study_name="eight", storage=url,
                                sampler=hpo_core.samplers.TPESampler(seed=int(me), n_startup_trials=5))
    count = [0]
    def objective(trial):
        x = trial.suggest_float("x", -5, 5)
        c = trial.suggest_categorical("c", ["a", "b"])
        trial.set_user_attr("run", f"{me}:{count[0]}")
        count[0] += 1
        return x * x + (c == "a")
    study.optimize(objective, n_trials=n)
    print("done")
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres),
                                     pytest.param("mysql", marks=pytest.mark.mysql)])
def test_eight_processes_lose_and_duplicate_nothing(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    # The full 8 x 1,000 run is benchmarks/rdb_scale.py's `workers` section.
    url = request.getfixturevalue(f"{backend}_url")
    n = 30
    hpo_core.create_study(storage=url, study_name="eight")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [_spawn(EIGHT_WORKER, url, str(k), str(barrier), str(n)) for k in range(8)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
        assert out.strip() == "done"
    trials = hpo_core.load_study(study_name="eight", storage=url).trials
    assert [t.number for t in trials] == list(range(8 * n))  # dense, none lost
    assert all(t.state == TrialState.COMPLETE for t in trials)
    runs = sorted(t.user_attrs["run"] for t in trials)
    assert runs == sorted(f"{k}:{j}" for k in range(8) for j in range(n))  # none run twice
    # x * x as the worker computes it (x ** 2 may differ from it in the last bit).
    wrong = [(t.number, t.value, t.params, t.user_attrs) for t in trials
             if t.value != t.params["x"] * t.params["x"] + (t.params["c"] == "a")]
    assert wrong == []  # every trial stores the parameters its objective used
