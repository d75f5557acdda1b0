"""The executor interface: sessions driven by hand, checkpoints, abort, custom executors."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core.distributed import BaseExecutor, ExecutorSession, ProcessExecutor, TrialTask
from hpo_core.exceptions import WorkerLostError


def resumes(t: Any) -> float:
    x = t.suggest_float("x", 0, 1)
    return x + (0.0 if t.checkpoint is None else float(t.checkpoint["epoch"]))


def test_session_run_passes_the_checkpoint_to_the_objective() -> None:
    study = hpo_core.create_study()
    with ProcessExecutor().open(study, resumes, slots=[None]) as session:
        trial = study.ask()
        fresh = session.run(0, trial)
        resumed = session.run(0, trial, checkpoint={"epoch": 3})  # the same trial again
        study.tell(trial, resumed)
    assert resumed == pytest.approx(fresh + 3.0)
    assert study.trials[0].state == TrialState.COMPLETE and study.trials[0].params == {"x": fresh}


def waits(t: Any) -> float:
    t.suggest_float("x", 0, 1)
    time.sleep(60)
    return 0.0


def test_session_abort_ends_a_running_trial() -> None:
    study = hpo_core.create_study()
    session = ProcessExecutor().open(study, waits, slots=[None])
    trial = study.ask()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            session.run(0, trial)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while not study.trials[0].params and time.monotonic() < deadline:
        time.sleep(0.05)  # the worker suggested x: the objective is sleeping
    session.abort()
    thread.join(30)
    session.close()
    assert len(errors) == 1 and isinstance(errors[0], WorkerLostError)
    assert "optimize was interrupted" in str(errors[0])
    with pytest.raises(WorkerLostError):
        session.run(0, study.ask())  # a closed session runs nothing


class InlineExecutor(BaseExecutor):
    """Runs the objective in the driver thread: the smallest executor."""

    def __init__(self) -> None:
        self.tasks: list[TrialTask] = []

    def _open(self, study: Any, func: Any, slots: list[str | None], gc_after_trial: bool) -> ExecutorSession:
        executor = self

        class Session(ExecutorSession):
            def run_task(self, slot: int, trial: Any, task: TrialTask) -> Any:
                executor.tasks.append(task)
                return func(trial)

            def close(self) -> None:
                pass

        return Session(slots, gc_after_trial=gc_after_trial)


def test_optimize_accepts_any_executor_object() -> None:
    executor = InlineExecutor()
    study = hpo_core.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4, n_jobs=2, executor=executor,
                   devices=["cuda:0", "cuda:1"], gc_after_trial=True)
    assert len(study.trials) == 4
    assert {t.device for t in executor.tasks} == {"cuda:0", "cuda:1"}
    assert all(t.gc_after_trial and t.checkpoint is None for t in executor.tasks)
    assert sorted(t.number for t in executor.tasks) == [0, 1, 2, 3]


def test_executor_open_checks_its_arguments() -> None:
    study = hpo_core.create_study()
    with pytest.raises(TypeError, match="`func`"):
        InlineExecutor().open(study, 3, slots=[None])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="InlineExecutor: `slots`"):
        InlineExecutor().open(study, lambda t: 0, slots=[])
