"""Optuna 5.0's study API on hpo_core, against Optuna on the same runs: a PRUNED trial's
value and each trial's suggestion order (hpo_core/history.py, hpo_core/study/_dataframe.py);
``StudySummary``, ``StudyDirection.NOT_SET``, the exception hierarchy and the version
module (hpo_core/study/_summary.py, _api.py; hpo_core/exceptions.py, hpo_core/version.py)."""

from __future__ import annotations

import math
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


def test_pruned_trial_value_and_dataframe_match_optuna() -> None:
    optuna = _optuna()
    pytest.importorskip("pandas", reason="trials_dataframe needs pandas")
    ours, theirs = _run(hpo_core, None), _run(optuna, None)
    assert [t.value for t in ours.trials] == [t.value for t in theirs.trials] == [0.25, 1.75, 0.5]
    assert [t.state.name for t in ours.trials] == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert ours.best_trial.number == theirs.best_trial.number == 2  # PRUNED trials never are the best
    assert ours.trials_dataframe()["value"].tolist() == theirs.trials_dataframe()["value"].tolist()


def test_pruned_trial_without_a_finite_report_has_no_value() -> None:
    optuna = _optuna()
    values = []
    for lib in (hpo_core, optuna):
        study = lib.create_study()
        for reports in ([], [1.0, math.nan]):
            trial = study.ask()
            for step, v in enumerate(reports):
                trial.report(v, step)
            study.tell(trial, state=lib.trial.TrialState.PRUNED)
        values.append([t.value for t in study.trials])
    assert values[0] == values[1] == [None, None]


def test_trial_params_keep_suggestion_order_as_optuna(tmp_path: Any) -> None:
    optuna = _optuna()

    def objective(trial: Any) -> float:
        names = ["a", "b", "c"] if trial.number % 2 == 0 else ["c", "b", "a"]
        return sum(trial.suggest_float(n, 0, 1) for n in names[: 1 + trial.number % 3])

    orders = []
    for lib, storage in ((hpo_core, f"sqlite:///{tmp_path}/ours.db"), (optuna, None), (hpo_core, None)):
        study = lib.create_study(storage=storage, sampler=lib.samplers.RandomSampler(seed=0))
        study.enqueue_trial({"b": 0.5})
        study.optimize(objective, n_trials=8)
        orders.append([list(t.params) for t in study.trials])
        if storage is not None:  # a second process's view of the same database
            orders.append(
                [list(t.params) for t in lib.load_study(study_name=study.study_name, storage=storage).trials]
            )
    assert orders[0] == orders[1] == orders[2] == orders[3]


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
