"""copy_study between real SQLite files and MaxTrialsCallback, as Optuna's."""

from __future__ import annotations

from pathlib import Path

import pytest

import hpo_core
from hpo_core import TrialPruned, TrialState
from hpo_core.exceptions import DuplicatedStudyError, StudyNotFoundError
from hpo_core.study import MaxTrialsCallback


def _objective(trial: hpo_core.Trial) -> float:
    x = trial.suggest_float("x", -1, 1)
    trial.suggest_categorical("c", ["a", "b"])
    trial.report(x * 2, 0)
    trial.set_user_attr("u", trial.number)
    if trial.number == 3:
        raise TrialPruned()
    return x**2


def _snapshot(study: hpo_core.Study) -> list[tuple]:
    return [(t.number, t.state, t.values, t.params, t.distributions, t.intermediate_values, t.user_attrs,
             t.datetime_start, t.datetime_complete) for t in study.trials]


def test_copy_study_between_sqlite_files(tmp_path: Path) -> None:
    src_url, dst_url = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    # One storage object for the source, so that the running trial's suggestion (written
    # by the storage within its flush delay) is read back by the copy.
    src_storage = hpo_core.storages.RDBStorage(src_url)
    src = hpo_core.create_study(study_name="s", storage=src_storage, direction="maximize")
    src.optimize(_objective, n_trials=5)
    running = src.ask()
    running.suggest_float("x", -1, 1)
    src.set_user_attr("owner", "team")
    src.set_system_attr("sys", [1, 2])
    hpo_core.copy_study(from_study_name="s", from_storage=src_storage, to_storage=dst_url)
    dst = hpo_core.load_study(study_name=None, storage=dst_url)
    assert dst.study_name == "s" and dst.direction == src.direction
    assert dst.user_attrs == {"owner": "team"} and dst.system_attrs["sys"] == [1, 2]
    assert _snapshot(dst) == _snapshot(src)
    assert dst.trials[-1].state == TrialState.RUNNING
    assert dst.best_trial.number == src.best_trial.number
    # The copy is a study like any other: it goes on.
    dst.optimize(_objective, n_trials=2)
    assert len(dst.trials) == 8


def test_copy_study_names_and_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    src = hpo_core.create_study(study_name="s", storage=url, directions=["minimize", "maximize"])
    src.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    hpo_core.copy_study(from_study_name="s", from_storage=url, to_storage=url, to_study_name="s2")
    copy = hpo_core.load_study(study_name="s2", storage=url)
    assert copy.directions == src.directions and [t.values for t in copy.trials] == [t.values for t in src.trials]
    with pytest.raises(DuplicatedStudyError):
        hpo_core.copy_study(from_study_name="s", from_storage=url, to_storage=url, to_study_name="s2")
    with pytest.raises(StudyNotFoundError):
        hpo_core.copy_study(from_study_name="nope", from_storage=url, to_storage=url)


def test_max_trials_callback_counts_the_states() -> None:
    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number % 2:
            raise TrialPruned()
        return x

    study = hpo_core.create_study()
    study.optimize(objective, n_trials=100, callbacks=[MaxTrialsCallback(3)])
    assert sum(t.state == TrialState.COMPLETE for t in study.trials) == 3
    assert len(study.trials) == 5
    study = hpo_core.create_study()
    study.optimize(objective, n_trials=100, callbacks=[MaxTrialsCallback(3, states=None)])
    assert len(study.trials) == 3
    study = hpo_core.create_study()
    study.optimize(objective, n_trials=100, callbacks=[MaxTrialsCallback(2, states=(TrialState.PRUNED,))])
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.PRUNED] * 2


def test_max_trials_callback_stops_all_workers_of_a_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    hpo_core.create_study(study_name="w", storage=url)
    cb = MaxTrialsCallback(10, states=(TrialState.COMPLETE,))
    studies = [hpo_core.load_study(study_name="w", storage=url) for _ in range(2)]
    studies[0].optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=6, callbacks=[cb])
    # The second worker sees the first one's six trials: it stops after four of its own.
    studies[1].optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=100, callbacks=[cb])
    assert len(studies[1].trials) == 10


@pytest.mark.parametrize(("n", "error"), [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_max_trials_callback_rejects_bad_n_trials(n: object, error: type) -> None:
    with pytest.raises(error, match="MaxTrialsCallback: `n_trials`"):
        MaxTrialsCallback(n)  # type: ignore[arg-type]


def test_matches_optuna_callback_semantics() -> None:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its callback is the reference")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs = optuna.create_study()
    theirs.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=50,
                    callbacks=[optuna.study.MaxTrialsCallback(4)])
    ours = hpo_core.create_study()
    ours.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=50, callbacks=[MaxTrialsCallback(4)])
    assert len(ours.trials) == len(theirs.trials) == 4


def test_metric_names_in_logs_and_dataframe() -> None:
    pytest.importorskip("pandas", reason="pandas is not installed: trials_dataframe needs it")
    study = hpo_core.create_study(directions=["maximize", "minimize"])
    assert study.metric_names is None
    study.set_metric_names(["acc", "latency"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 2.0), n_trials=2)
    assert study.metric_names == ["acc", "latency"]
    assert [c for c in study.trials_dataframe().columns if c.startswith("values")] == ["values_acc", "values_latency"]
    with pytest.raises(ValueError, match="metric_names"):
        study.set_metric_names(["only_one"])
    with pytest.raises(TypeError, match="metric_names"):
        study.set_metric_names("acc")  # type: ignore[arg-type]


def test_summaries_without_best_trial() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    hpo_core.create_study(storage=storage).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert hpo_core.get_all_study_summaries(storage)[0].best_trial is not None
    assert hpo_core.get_all_study_summaries(storage, include_best_trial=False)[0].best_trial is None


def test_deprecated_suggest_methods_warn_and_work() -> None:
    study = hpo_core.create_study()
    trial = study.ask()
    with pytest.warns(FutureWarning, match="Trial.suggest_uniform has been deprecated in v3.0.0"):
        assert 0 <= trial.suggest_uniform("a", 0, 1) <= 1
    with pytest.warns(FutureWarning, match="suggest_float\\(..., log=True\\)"):
        assert 1e-3 <= trial.suggest_loguniform("b", 1e-3, 1) <= 1
    with pytest.warns(FutureWarning):
        assert trial.suggest_discrete_uniform("c", 0, 1, 0.25) in (0, 0.25, 0.5, 0.75, 1)
    assert trial.distributions["b"].log and trial.distributions["c"].step == 0.25
    study.tell(trial, 1.0)
    with pytest.warns(FutureWarning, match="FrozenTrial.suggest_uniform"):
        assert study.trials[0].suggest_uniform("a", 0, 1) == trial.params["a"]
