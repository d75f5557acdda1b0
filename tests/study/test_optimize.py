from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core.exceptions import FailedTrialWarning


def quadratic(t: hpo_core.Trial) -> float:
    return (t.suggest_float("x", -5, 5) - 2) ** 2


@pytest.mark.parametrize("storage_kind", ["memory", "sqlite"])
@pytest.mark.parametrize("n_jobs", [1, 3])
def test_optimize_runs_exactly_n_trials(tmp_path: Path, storage_kind: str, n_jobs: int) -> None:
    storage = None if storage_kind == "memory" else f"sqlite:///{tmp_path / 'o.db'}"
    study = hpo_core.create_study(storage=storage)
    threads: set[int] = set()

    def objective(t: hpo_core.Trial) -> float:
        threads.add(threading.get_ident())
        time.sleep(0.002)
        return quadratic(t)

    study.optimize(objective, n_trials=30, n_jobs=n_jobs)
    trials = study.trials
    assert [t.number for t in trials] == list(range(30))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len(threads) == n_jobs or (n_jobs > 1 and len(threads) > 1)
    assert study.best_value == min(t.value for t in trials)


def test_optimize_timeout_stops() -> None:
    study = hpo_core.create_study()
    start = time.monotonic()
    study.optimize(lambda t: time.sleep(0.05) or quadratic(t), timeout=0.3)
    elapsed = time.monotonic() - start
    assert 0.25 < elapsed < 2.0
    assert 3 <= len(study.trials) <= 8


def test_optimize_callbacks_and_stop() -> None:
    study = hpo_core.create_study()
    seen: list[tuple[int, TrialState]] = []

    def cb(s: hpo_core.Study, frozen: hpo_core.FrozenTrial) -> None:
        seen.append((frozen.number, frozen.state))
        if frozen.number == 4:
            s.stop()

    study.optimize(quadratic, n_trials=100, callbacks=[cb])
    assert seen == [(k, TrialState.COMPLETE) for k in range(5)]
    study.optimize(quadratic, n_trials=2)  # stop() lasts for one optimize call only
    assert len(study.trials) == 7


def test_optimize_caught_exception_marks_fail_and_continues() -> None:
    study = hpo_core.create_study()

    def objective(t: hpo_core.Trial) -> float:
        x = quadratic(t)
        if t.number % 2:
            raise ArithmeticError("odd trial")
        return x

    with pytest.warns(FailedTrialWarning, match="odd trial"):
        study.optimize(objective, n_trials=6, catch=(ArithmeticError,))
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL] * 3
    reason = study.trials[1].system_attrs["fail_reason"]
    assert "Traceback" in reason and "odd trial" in reason


def test_optimize_uncaught_exception_propagates_after_marking_fail(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    study = hpo_core.create_study(storage=url)

    def objective(t: hpo_core.Trial) -> float:
        quadratic(t)
        if t.number == 2:
            raise RuntimeError("boom")
        return 1.0

    with pytest.raises(RuntimeError, match="boom"), pytest.warns(FailedTrialWarning):
        study.optimize(objective, n_trials=10)
    trials = hpo_core.load_study(study_name=study.study_name, storage=url).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2 + [TrialState.FAIL]


def test_optimize_keyboard_interrupt_leaves_storage_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    study = hpo_core.create_study(storage=url, study_name="k")

    def objective(t: hpo_core.Trial) -> float:
        quadratic(t)
        if t.number == 3:
            raise KeyboardInterrupt
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=10)
    resumed = hpo_core.create_study(storage=url, study_name="k", load_if_exists=True)
    assert [t.state for t in resumed.trials] == [TrialState.COMPLETE] * 3 + [TrialState.FAIL]
    resumed.optimize(quadratic, n_trials=2)
    assert len(resumed.trials) == 6


def test_optimize_pruned_trials() -> None:
    study = hpo_core.create_study()

    def objective(t: hpo_core.Trial) -> float:
        t.report(1.0, 0)
        if t.number < 2:
            raise hpo_core.TrialPruned()
        return quadratic(t)

    study.optimize(objective, n_trials=4)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2 + [TrialState.COMPLETE] * 2
    assert study.trials[0].intermediate_values == {0: 1.0}


def test_optimize_multi_objective() -> None:
    study = hpo_core.create_study(directions=["minimize", "maximize"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=20)
    assert all(len(t.values) == 2 for t in study.trials)


def test_optimize_progress_bar_and_gc(capsys: pytest.CaptureFixture[str]) -> None:
    study = hpo_core.create_study()
    study.optimize(quadratic, n_trials=5, show_progress_bar=True, gc_after_trial=True)
    assert len(study.trials) == 5
    assert "5/5" not in capsys.readouterr().err  # not a terminal: no bar (tests/study/test_progress.py)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n_trials": -1}, ValueError, "n_trials"),
        ({"n_trials": 1.5}, TypeError, "n_trials"),
        ({"timeout": -1}, ValueError, "timeout"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
        ({"catch": 3}, TypeError, "catch"),
        ({"catch": (ValueError, "x")}, TypeError, "catch"),
        ({"callbacks": [1]}, TypeError, r"callbacks\[0\]"),
        ({"show_progress_bar": 1}, TypeError, "show_progress_bar"),
    ],
)
def test_optimize_rejects_bad_arguments(kwargs: dict, exc: type, match: str) -> None:
    study = hpo_core.create_study()
    with pytest.raises(exc, match=match):
        study.optimize(quadratic, **kwargs)
    assert study.trials == []  # rejected before any trial ran


def test_optimize_rejects_non_callable() -> None:
    with pytest.raises(TypeError, match="func"):
        hpo_core.create_study().optimize(3, n_trials=1)  # type: ignore[arg-type]


def test_optimize_logs_progress_and_best(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    hpo_core.logging.set_verbosity(logging.INFO)
    logger = logging.getLogger("hpo_core")
    logger.addHandler(caplog.handler)
    try:
        hpo_core.create_study().optimize(quadratic, n_trials=2)
    finally:
        logger.removeHandler(caplog.handler)
        hpo_core.logging.set_verbosity(logging.WARNING)
    assert "Trial 1 finished with value: " in caplog.text and "Best is trial" in caplog.text
