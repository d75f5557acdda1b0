"""Optuna 5.0's ``StudySummary``, ``StudyDirection.NOT_SET``, exception hierarchy and
version module on hpo_core (hpo_core/study/_summary.py, _api.py; hpo_core/exceptions.py,
hpo_core/version.py)."""

from __future__ import annotations

from typing import Any

import pytest

import hpo_core
from hpo_core import exceptions
from hpo_core.study import StudyDirection, StudySummary


def _optuna() -> Any:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its study API is the reference")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    return optuna


def _run(lib: Any, storage: Any) -> Any:
    study = lib.create_study(study_name="summary", storage=storage, direction="maximize")
    study.set_user_attr("owner", "me")

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.report(x + 1.0, 0)
        if trial.number % 3 == 1:
            raise lib.TrialPruned()
        return x

    study.enqueue_trial({"x": 0.25})
    study.enqueue_trial({"x": 0.75})
    study.enqueue_trial({"x": 0.5})
    study.optimize(objective, n_trials=3)
    return study


def test_get_all_study_summaries_returns_optunas_study_summary() -> None:
    optuna = _optuna()
    ours = hpo_core.get_all_study_summaries(_run(hpo_core, hpo_core.storages.InMemoryStorage())._storage)
    theirs = optuna.get_all_study_summaries(_run(optuna, optuna.storages.InMemoryStorage())._storage)
    assert [type(s).__name__ for s in ours] == [type(s).__name__ for s in theirs] == ["StudySummary"]
    a, b = ours[0], theirs[0]
    for attr in ("study_name", "direction", "user_attrs", "n_trials"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert list(a.directions) == list(b.directions)
    assert a.best_trial.params == b.best_trial.params == {"x": 0.5}
    assert isinstance(a, StudySummary) and a.datetime_start is not None


def test_study_summary_constructor_is_optunas() -> None:
    summary = StudySummary("s", StudyDirection.MINIMIZE, None, {}, 0, None, 3)
    assert summary.directions == [StudyDirection.MINIMIZE] and summary.study_id == 3
    multi = StudySummary("s", None, None, {}, 0, None, 4, directions=[StudyDirection.MINIMIZE] * 2)
    with pytest.raises(RuntimeError, match="directions"):
        multi.direction
    with pytest.raises(ValueError, match="direction"):
        StudySummary("s", None, None, {}, 0, None, 5)
    assert summary < multi and summary != multi


def test_study_direction_not_set_is_rejected_as_optuna_does() -> None:
    optuna = _optuna()
    assert int(StudyDirection.NOT_SET) == int(optuna.study.StudyDirection.NOT_SET) == 0
    with pytest.raises(ValueError, match="direction"):
        hpo_core.create_study(direction=StudyDirection.NOT_SET)
    with pytest.raises(ValueError):
        optuna.create_study(direction=optuna.study.StudyDirection.NOT_SET)


# ----------------------------------------------------------- exceptions, version
def test_exceptions_follow_optunas_hierarchy() -> None:
    assert exceptions.OptunaError is exceptions.HpoError
    assert exceptions.StorageInternalError is exceptions.StorageError
    for name in (
        "TrialPruned",
        "CLIUsageError",
        "StorageError",
        "DuplicatedStudyError",
        "UpdateFinishedTrialError",
        "StudyNotFoundError",
        "WorkerLostError",
    ):
        assert issubclass(getattr(exceptions, name), exceptions.OptunaError), name
    from hpo_core.cli import CommandError

    assert issubclass(CommandError, exceptions.CLIUsageError)
    with pytest.raises(exceptions.OptunaError):
        hpo_core.load_study(study_name="absent", storage=hpo_core.storages.InMemoryStorage())


def test_version_module() -> None:
    from hpo_core.version import __version__

    assert hpo_core.version.__version__ == hpo_core.__version__ == __version__
    assert __version__.count(".") == 2
