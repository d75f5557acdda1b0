"""hpo_core.logging has Optuna 5.0's functions and level constants, and the per-trial
lines are Optuna's, word for word (compared with Optuna's own output where installed)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

import hpo_core
from hpo_core import TrialPruned

hl = hpo_core.logging


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The library's records as its default handler formats them, at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(hl._handler.formatter)  # type: ignore[union-attr]
    logger = hl.get_logger()
    level = hl.get_verbosity()
    logger.addHandler(handler)
    hl.set_verbosity(hl.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        hl.set_verbosity(level)


def test_level_constants_and_verbosity() -> None:
    for name in ("CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG"):
        assert getattr(hl, name) == getattr(logging, name)
    level = hl.get_verbosity()
    try:
        hl.set_verbosity(hl.WARNING)
        assert hl.get_verbosity() == hl.WARNING
        assert not hl.get_logger().isEnabledFor(logging.INFO)
    finally:
        hl.set_verbosity(level)


def test_optuna_logger_names_map_to_ours() -> None:
    assert hl.get_logger("optuna") is logging.getLogger("hpo_core")
    assert hl.get_logger("optuna.study") is logging.getLogger("hpo_core.study")
    assert hl.get_logger("my_app") is logging.getLogger("my_app")


def test_default_handler_and_propagation_switches() -> None:
    default = hl._handler
    assert isinstance(default, logging.StreamHandler)
    stderr = io.StringIO()
    old_stream = default.setStream(stderr)  # the default handler writes where stderr was
    root_stream = io.StringIO()
    root_handler = logging.StreamHandler(root_stream)
    logging.getLogger().addHandler(root_handler)
    level = hl.get_verbosity()
    hl.set_verbosity(hl.INFO)
    try:
        hl.disable_default_handler()
        hl.enable_propagation()
        hl.get_logger().info("to the root only")
        hl.disable_propagation()
        hl.enable_default_handler()
        hl.get_logger().info("to stderr only")
    finally:
        logging.getLogger().removeHandler(root_handler)
        hl.disable_propagation()
        hl.set_verbosity(level)
        default.setStream(old_stream)
    assert root_stream.getvalue() == "to the root only\n"
    err = stderr.getvalue()
    assert "to stderr only" in err and "to the root only" not in err
    assert re.search(r"^\[I \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] to stderr only$", err, re.M)


def _objective(trial: hpo_core.Trial) -> float:
    x = trial.suggest_int("x", 0, 10)
    if trial.number == 2:
        raise TrialPruned()
    return float(x)


def _lines(text: str, prefix: str = "Trial ") -> list[str]:
    """The INFO messages of ``text`` that start with ``prefix``."""
    messages = [re.sub(r"^\[I [^]]*\] ", "", line) for line in text.splitlines() if line.startswith("[I ")]
    return [m for m in messages if m.startswith(prefix)]


def test_trial_lines_are_optunas(captured: io.StringIO) -> None:
    study = hpo_core.create_study(sampler=hpo_core.samplers.RandomSampler(seed=0))
    study.optimize(_objective, n_trials=3)
    lines = _lines(captured.getvalue())
    t0, t1 = study.trials[0], study.trials[1]
    best = min((t0, t1), key=lambda t: t.value)
    assert lines[0] == (f"Trial 0 finished with value: {t0.value} and parameters: {t0.params}. "
                        f"Best is trial 0 with value: {t0.value}.")
    assert lines[1] == (f"Trial 1 finished with value: {t1.value} and parameters: {t1.params}. "
                        f"Best is trial {best.number} with value: {best.value}.")
    assert lines[2] == "Trial 2 pruned. "


def test_multi_objective_line(captured: io.StringIO) -> None:
    study = hpo_core.create_study(directions=["minimize", "maximize"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)
    t = study.trials[0]
    assert _lines(captured.getvalue()) == [f"Trial 0 finished with values: {t.values} and parameters: {t.params}."]


def test_trial_lines_match_optunas_output(captured: io.StringIO) -> None:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its log lines are the reference")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    optuna.logging.get_logger("optuna").addHandler(handler)
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        theirs = optuna.create_study()
        for x in (3, 1):
            theirs.enqueue_trial({"x": x})
        theirs.optimize(lambda t: float(t.suggest_int("x", 0, 10)), n_trials=2)
    finally:
        optuna.logging.get_logger("optuna").removeHandler(handler)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours = hpo_core.create_study()
    for x in (3, 1):
        ours.enqueue_trial({"x": x})
    ours.optimize(lambda t: float(t.suggest_int("x", 0, 10)), n_trials=2)
    theirs_lines = [line for line in stream.getvalue().splitlines() if line.startswith("Trial ")]
    assert len(theirs_lines) == 2
    assert _lines(captured.getvalue()) == theirs_lines


def test_study_creation_lines_are_optunas(captured: io.StringIO, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    hpo_core.create_study(study_name="a")
    hpo_core.create_study(study_name="b", storage=url)
    hpo_core.create_study(study_name="b", storage=url, load_if_exists=True)
    assert _lines(captured.getvalue(), prefix="") == [
        "A new study created in memory with name: a",
        "A new study created in RDB with name: b",
        "Using an existing study with study_name='b' instead of creating a new one.",
    ]
