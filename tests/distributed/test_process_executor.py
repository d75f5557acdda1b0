"""ProcessExecutor: the same outcomes as threads, plus what only processes have (death, pickling)."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core.distributed import ProcessExecutor, RemoteTrial
from hpo_core.exceptions import FailedTrialWarning

EXECUTORS = [None, "process"]


def quadratic(t: Any) -> float:
    return (t.suggest_float("x", -5, 5) - 2) ** 2


def mixed_outcomes(t: Any) -> float:
    """Trial k: 0 completes, 1 raises a caught error, 2 is pruned, 3 returns None."""
    x = t.suggest_float("x", 0, 1)
    t.report(x, step=0)
    k = t.number % 4
    if k == 1:
        raise ArithmeticError(f"odd trial {t.number}")
    if k == 2:
        raise hpo_core.TrialPruned()
    if k == 3:
        return None  # type: ignore[return-value]
    return x


def _outcomes(executor: str | None, n_jobs: int) -> tuple[hpo_core.Study, list[Any], list[str]]:
    study = hpo_core.create_study()
    seen: list[tuple[int, TrialState]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(mixed_outcomes, n_trials=8, n_jobs=n_jobs, catch=(ArithmeticError,),
                       callbacks=[lambda s, f: seen.append((f.number, f.state))], executor=executor)
    messages = sorted(str(w.message) for w in caught if issubclass(w.category, FailedTrialWarning))
    return study, sorted(seen), messages


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_process_executor_outcomes_equal_threads(n_jobs: int) -> None:
    thread_study, thread_seen, thread_msgs = _outcomes(None, n_jobs)
    proc_study, proc_seen, proc_msgs = _outcomes("process", n_jobs)
    expected = [TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED, TrialState.FAIL] * 2
    for study in (thread_study, proc_study):
        assert [t.state for t in study.trials] == expected
        assert study.trials[2].intermediate_values == {0: study.trials[2].params["x"]}
        assert "ArithmeticError: odd trial 1" in study.trials[1].system_attrs["fail_reason"]
        assert study.trials[3].system_attrs["fail_reason"] == "the objective returned None instead of a value"
    assert proc_seen == thread_seen == [(k, s) for k, s in enumerate(expected)]
    assert proc_msgs == thread_msgs and len(proc_msgs) == 4


def test_process_executor_fail_reason_holds_the_worker_traceback() -> None:
    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="odd trial 1"):
        study.optimize(mixed_outcomes, n_trials=2, executor="process", catch=ArithmeticError)
    reason = study.trials[1].system_attrs["fail_reason"]
    # The worker's frames (the objective's line), then the driver's re-raise.
    assert reason.index("in mixed_outcomes") < reason.index("direct cause") < reason.rindex("odd trial 1")


@pytest.mark.parametrize("executor", EXECUTORS)
def test_process_executor_uncaught_error_propagates_after_fail(executor: str | None) -> None:
    study = hpo_core.create_study()
    with pytest.raises(ArithmeticError, match="odd trial 1"), pytest.warns(FailedTrialWarning):
        study.optimize(mixed_outcomes, n_trials=6, executor=executor)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]


def define_by_run(t: Any) -> float:
    kind = t.suggest_categorical("kind", ["a", "b"])
    x = t.suggest_int("n", 1, 4) if kind == "a" else t.suggest_float("lr", 1e-4, 1e-1, log=True)
    t.set_user_attr("seen_params", t.params)
    t.set_system_attr("pid", os.getpid())
    assert t.suggest_categorical("kind", ["a", "b"]) == kind  # the same value again
    assert t.user_attrs["seen_params"] == t.params and set(t.distributions) == set(t.params)
    assert t.datetime_start is not None and t.intermediate_values == {}
    return float(x)


def test_process_executor_define_by_run_and_attrs_reach_the_driver() -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.TPESampler(seed=0, n_startup_trials=4))
    study.enqueue_trial({"kind": "a", "n": 3})
    study.optimize(define_by_run, n_trials=12, n_jobs=2, executor="process")
    trials = study.trials
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert trials[0].params == {"kind": "a", "n": 3}  # the enqueued trial, served by the driver
    assert all(t.user_attrs["seen_params"] == t.params for t in trials)
    pids = {t.system_attrs["pid"] for t in trials}
    assert os.getpid() not in pids and len(pids) == 2


def bad_suggest(t: Any) -> float:
    try:
        t.suggest_float("x", 1.0, 0.0)
    except ValueError as e:
        return 1.0 if "Trial.suggest_float for parameter `x`" in str(e) else 0.0
    return 0.0


def test_process_executor_driver_errors_are_raised_in_the_objective() -> None:
    study = hpo_core.create_study()
    study.optimize(bad_suggest, n_trials=1, executor="process")
    assert study.trials[0].value == 1.0


def test_process_executor_runs_lambdas_and_closures() -> None:
    offset = 3.0
    study = hpo_core.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + offset, n_trials=3, executor="process")
    assert all(3.0 <= (t.value or 0.0) <= 4.0 for t in study.trials)


def test_process_executor_unpicklable_func_fails_before_any_trial() -> None:
    lock = threading.Lock()
    study = hpo_core.create_study()
    with pytest.raises(TypeError, match="`func` must be picklable"):
        study.optimize(lambda t: lock.locked(), n_trials=2, executor="process")
    assert study.trials == []


def _explode() -> None:
    raise RuntimeError("this objective cannot be loaded here")


class Unloadable:
    def __call__(self, t: Any) -> float:
        return 0.0

    def __reduce__(self) -> tuple[Any, ...]:
        return (_explode, ())


def test_process_executor_func_that_fails_to_load_in_the_worker_says_so() -> None:
    study = hpo_core.create_study()
    with pytest.raises(RuntimeError, match="(?s)`func` could not be loaded.*cannot be loaded here"):
        study.optimize(Unloadable(), n_trials=2, executor="process")
    assert study.trials == []


def dies(log: Path, t: Any) -> float:
    x = t.suggest_float("x", 0, 1)
    with log.open("a") as f:  # written before dying: a dead worker's pid is counted too
        f.write(f"{os.getpid()}\n")
    if t.number == 1:
        os._exit(3)
    if t.number == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does
    return x


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_process_executor_dead_worker_fails_its_trial_and_is_replaced(n_jobs: int, tmp_path: Path) -> None:
    log = tmp_path / "pids"
    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="WorkerLostError"):
        study.optimize(functools.partial(dies, log), n_trials=8, n_jobs=n_jobs, executor="process")
    trials = study.trials
    assert [t.number for t in trials if t.state == TrialState.FAIL] == [1, 3]
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 6
    assert "running trial 1 died: exited with code 3" in trials[1].system_attrs["fail_reason"]
    assert "running trial 3 died: killed by SIGKILL" in trials[3].system_attrs["fail_reason"]
    # Each death brought a new worker: the two that died plus at least one that
    # finished trials make more worker pids than slots, however the trials spread.
    assert len(set(log.read_text().split())) > n_jobs


def segfaults(t: Any) -> float:
    t.suggest_float("x", 0, 1)
    if t.number == 0:
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV
    return 1.0


def test_process_executor_segfault_fails_only_its_trial() -> None:
    study = hpo_core.create_study()
    with pytest.warns(FailedTrialWarning, match="SIGSEGV"):
        study.optimize(segfaults, n_trials=3, executor="process")
    assert [t.state for t in study.trials] == [TrialState.FAIL] + [TrialState.COMPLETE] * 2


def sleepy(t: Any) -> float:
    time.sleep(0.2)
    return t.suggest_float("x", 0, 1)


def test_process_executor_runs_trials_concurrently_on_sqlite(tmp_path: Path) -> None:
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'p.db'}")
    study.optimize(sleepy, n_trials=6, n_jobs=3, executor=ProcessExecutor())
    trials = study.trials
    assert [t.number for t in trials] == list(range(6))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trials)  # type: ignore[type-var]
    assert max(s for s, _ in spans[:3]) < min(c for _, c in spans[:3])  # type: ignore[type-var,operator]


def test_process_executor_timeout_and_stop_from_a_callback() -> None:
    study = hpo_core.create_study()
    start = time.monotonic()
    study.optimize(sleepy, timeout=0.5, n_jobs=2, executor="process")
    assert time.monotonic() - start < 10 and 2 <= len(study.trials) <= 12

    def stop_at_3(s: hpo_core.Study, f: hpo_core.FrozenTrial) -> None:
        if f.number == 3:
            s.stop()

    study = hpo_core.create_study()
    study.optimize(quadratic, n_trials=50, executor="process", callbacks=[stop_at_3])
    assert len(study.trials) == 4


def test_process_executor_multi_objective_and_numpy_values() -> None:
    import numpy as np

    study = hpo_core.create_study(directions=["minimize", "maximize"])
    def objective(t: Any) -> Any:
        return np.array([t.suggest_float("x", 0, 1), 2.0])

    study.optimize(objective, n_trials=3, executor="process")
    assert all(t.state == TrialState.COMPLETE and t.values == [t.params["x"], 2.0] for t in study.trials)


def is_remote(t: Any) -> float:
    assert isinstance(t, RemoteTrial)
    with pytest.raises(AttributeError, match="callback"):
        t.study
    assert repr(t) == f"RemoteTrial(number={t.number})" and t.checkpoint is None and t.device is None
    return 0.0


def test_process_executor_objective_gets_a_remote_trial() -> None:
    study = hpo_core.create_study()
    study.optimize(is_remote, n_trials=1, executor="process", gc_after_trial=True)
    assert study.trials[0].state == TrialState.COMPLETE


@pytest.mark.parametrize(
    "executor, exc, match",
    [
        ("fork", ValueError, "executor"),
        (3, TypeError, "executor"),
        (ProcessExecutor, TypeError, "executor"),  # the class, not an instance
    ],
)
def test_optimize_rejects_bad_executor(executor: Any, exc: type, match: str) -> None:
    study = hpo_core.create_study()
    with pytest.raises(exc, match=match):
        study.optimize(quadratic, n_trials=1, executor=executor)
    assert study.trials == []


def test_process_executor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="ProcessExecutor: `start_timeout`"):
        ProcessExecutor(start_timeout=0)
    with pytest.raises(TypeError, match="ProcessExecutor: `env`"):
        ProcessExecutor(env={"A": 1})  # type: ignore[dict-item]


INTERRUPTED_DRIVER = """
    import os, pathlib, signal, sys, time
    import hpo_core
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job ignores it
    marker = pathlib.Path(sys.argv[2])

    def objective(t):
        t.set_user_attr("pid", os.getpid())
        marker.with_suffix(f".{t.number}").write_text("running")
        time.sleep(600)
        return 0.0

    study = hpo_core.create_study(storage=sys.argv[1], study_name="i")
    study.optimize(objective, n_trials=4, n_jobs=2, executor="process")
"""


@pytest.mark.slow
def test_process_executor_ctrl_c_fails_the_running_trials_and_stops_the_workers(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    url = f"sqlite:///{tmp_path / 'i.db'}"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    driver = subprocess.Popen([sys.executable, "-c", textwrap.dedent(INTERRUPTED_DRIVER), url, str(tmp_path / "m")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ((tmp_path / "m.0").exists() and (tmp_path / "m.1").exists()):
        assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
        time.sleep(0.05)
    driver.send_signal(signal.SIGINT)
    driver.send_signal(signal.SIGINT)  # a second Ctrl-C right away must not leave a worker behind
    _, err = driver.communicate(timeout=60)
    assert "KeyboardInterrupt" in err
    trials = hpo_core.load_study(study_name="i", storage=url).trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 2
    for t in trials:
        with pytest.raises(ProcessLookupError):
            os.kill(t.user_attrs["pid"], 0)  # the worker is gone
