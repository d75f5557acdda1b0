"""hpo_core.integration.from_optuna / to_optuna: studies between Optuna's storages and ours,
round trips through a real Optuna RDB (SQLite file), Optuna journal file and our SQLite."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna", reason="the Optuna import/export needs optuna")

import hpo_core  # noqa: E402
from hpo_core.integration import from_optuna, to_optuna  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _objective(trial: Any) -> tuple[float, float]:
    x = trial.suggest_float("x", -5, 5)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 9, step=2)
    kind = trial.suggest_categorical("kind", ["a", "b", None, 3])
    trial.set_user_attr("note", {"n": n, "tag": "t"})
    if trial.number % 4 == 2:
        raise optuna.TrialPruned()
    if trial.number % 5 == 3:
        raise RuntimeError("failed trial")
    return x**2 + math.log10(lr), float(n) + (kind == "a")


def _optuna_source(storage: Any) -> Any:
    study = optuna.create_study(study_name="src", storage=storage, directions=["minimize", "maximize"])
    study.set_user_attr("owner", "me")
    study.set_metric_names(["loss", "score"])
    study.optimize(_objective, n_trials=12, catch=(RuntimeError,))
    running = study.ask()  # a RUNNING trial
    running.suggest_float("x", -5, 5)
    study.enqueue_trial({"x": 1.0})  # a WAITING trial
    return study


def _single_source(storage: Any) -> Any:
    """A single-objective study with intermediate values (Optuna reports one per step)."""
    study = optuna.create_study(study_name="single", storage=storage, direction="maximize")

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(4):
            trial.report(x * step, step)
        if trial.number == 2:
            raise optuna.TrialPruned()
        return x

    study.optimize(objective, n_trials=6)
    return study


def _same_datetime(a: datetime.datetime | None, b: datetime.datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) < 1e-3


def _json(d: Any) -> Any:
    lib = optuna if type(d).__module__.startswith("optuna") else hpo_core
    return json.loads(lib.distributions.distribution_to_json(d))


def _assert_same_trials(ours: list[Any], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.number == b.number
        assert a.state.name == b.state.name
        assert a.values == b.values
        assert a.params == b.params
        assert {k: type(d).__name__ for k, d in a.distributions.items()} == {
            k: type(d).__name__ for k, d in b.distributions.items()
        }
        for k, d in a.distributions.items():
            assert _json(d) == _json(b.distributions[k])
        assert a.intermediate_values == b.intermediate_values
        assert a.user_attrs == b.user_attrs
        assert a.system_attrs == b.system_attrs
        assert _same_datetime(a.datetime_start, b.datetime_start)
        assert _same_datetime(a.datetime_complete, b.datetime_complete)


@pytest.mark.parametrize("kind", ["rdb", "journal"])
def test_from_optuna_copies_every_field_and_back(kind: str, tmp_path: Path) -> None:
    if kind == "rdb":
        optuna_storage: Any = f"sqlite:///{tmp_path / 'optuna.db'}"
    else:
        optuna_storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(tmp_path / "optuna.log"))
        )
    source = _optuna_source(optuna_storage)
    ours_url = f"sqlite:///{tmp_path / 'ours.db'}"
    ours = from_optuna(optuna_storage, "src", to_storage=ours_url)
    assert ours.directions == [hpo_core.StudyDirection.MINIMIZE, hpo_core.StudyDirection.MAXIMIZE]
    assert ours.user_attrs == {"owner": "me"}
    assert ours.metric_names == ["loss", "score"]
    _assert_same_trials(hpo_core.load_study(study_name="src", storage=ours_url).trials, source.trials)
    states = {t.state.name for t in ours.trials}
    assert {"COMPLETE", "PRUNED", "FAIL", "WAITING", "RUNNING"} <= states

    # And back into a fresh Optuna storage of the same kind, under another name.
    back = to_optuna(
        "sqlite:///" + str(tmp_path / "ours.db"), "src", to_storage=optuna_storage, to_study_name="back"
    )
    assert back.directions == source.directions
    assert back.user_attrs == {"owner": "me"}
    assert back.metric_names == ["loss", "score"]
    _assert_same_trials(back.trials, source.trials)


def test_to_optuna_then_from_optuna_keeps_reports_and_best(tmp_path: Path) -> None:
    ours = hpo_core.create_study(
        study_name="s", storage=f"sqlite:///{tmp_path / 'ours.db'}", direction="maximize"
    )

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(4):
            trial.report(x * step, step)
        return x

    ours.optimize(objective, n_trials=8)
    theirs = to_optuna(ours, to_storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    assert theirs.best_trial.number == ours.best_trial.number
    assert theirs.best_value == ours.best_value
    _assert_same_trials(ours.trials, theirs.trials)
    again = from_optuna(theirs, to_storage=hpo_core.storages.InMemoryStorage(), to_study_name="again")
    _assert_same_trials(again.trials, theirs.trials)
    assert again.study_name == "again"


def test_from_optuna_single_objective_with_reports() -> None:
    source = _single_source(optuna.storages.InMemoryStorage())
    ours = from_optuna(source, to_storage=hpo_core.storages.InMemoryStorage())
    _assert_same_trials(ours.trials, source.trials)
    assert ours.best_trial.number == source.best_trial.number


def test_from_optuna_names_a_missing_study_name() -> None:
    with pytest.raises(ValueError, match="study_name"):
        from_optuna("sqlite:///:memory:", to_storage=hpo_core.storages.InMemoryStorage())
    with pytest.raises(TypeError, match="study"):
        from_optuna(hpo_core.create_study(), to_storage=hpo_core.storages.InMemoryStorage())
    with pytest.raises(TypeError, match="study"):
        to_optuna(optuna.create_study(), to_storage=optuna.storages.InMemoryStorage())


def test_cli_import_and_export_optuna(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hpo_core.__main__ import main

    optuna_url = f"sqlite:///{tmp_path / 'optuna.db'}"
    source = _single_source(optuna_url)
    ours = f"sqlite:///{tmp_path / 'ours.db'}"
    args = ["--storage", ours, "--study-name", "single", "--optuna-storage", optuna_url]
    assert main(["import-optuna", *args]) == 0
    _assert_same_trials(hpo_core.load_study(study_name="single", storage=ours).trials, source.trials)
    journal = str(tmp_path / "optuna.log")
    assert main(["export-optuna", *args[:-1], journal, "--to-study-name", "copy"]) == 0
    back = optuna.load_study(
        study_name="copy",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal)),
    )
    _assert_same_trials(back.trials, source.trials)
    assert main(["import-optuna", *args]) == 2  # the copy exists already: an error naming it
    assert "single" in capsys.readouterr().err
