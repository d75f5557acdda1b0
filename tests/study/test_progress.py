"""optimize(show_progress_bar=True): a bar with the best value on a terminal (a real
pseudo-terminal here), nothing when the stream is not one."""

from __future__ import annotations

import os
import pty
import time

import pytest

import hpo_core
from hpo_core.study._progress import ProgressBar

pytest.importorskip("tqdm", reason="tqdm is not installed")


def _read_all(fd: int) -> str:
    out = b""
    os.set_blocking(fd, False)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except (BlockingIOError, OSError):  # EIO: the terminal's other end is closed and read
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def _on_terminal(n_trials: int | None, timeout: float | None, study: hpo_core.Study, updates: int) -> str:
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as term:
        bar = ProgressBar(n_trials, timeout, file=term)
        assert bar.shown
        for _ in range(updates):
            bar.update(study)
        bar.close()
        term.flush()
    text = _read_all(master)
    os.close(master)
    return text


def _study(n: int) -> hpo_core.Study:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)
    return study


def test_bar_counts_trials_and_shows_the_best() -> None:
    study = _study(5)
    text = _on_terminal(5, None, study, updates=5)
    assert "5/5" in text
    assert f"Best trial: {study.best_trial.number}. Best value: {study.best_value:.6g}" in text


def test_bar_over_a_timeout_counts_seconds() -> None:
    study = _study(2)
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as term:
        bar = ProgressBar(None, 0.2, file=term)
        time.sleep(0.25)
        bar.update(study)  # elapsed is clipped to the timeout
        bar.close()
    text = _read_all(master)
    os.close(master)
    assert "100%" in text and "Best value" in text


def test_no_bar_when_not_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    study = hpo_core.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3, show_progress_bar=True)
    err = capsys.readouterr().err
    assert "%|" not in err and "Best value" not in err
    assert not ProgressBar(3, None).shown  # pytest's captured stderr is not a terminal


def test_multi_objective_bar_has_no_best_value() -> None:
    study = hpo_core.create_study(directions=["minimize", "maximize"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    text = _on_terminal(2, None, study, updates=2)
    assert "2/2" in text and "Best value" not in text
