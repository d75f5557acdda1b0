"""Scenario: artifacts, as Optuna's tutorial uses them: each trial saves a file (a model,
a plot) in an artifact store, and the best trial's file is fetched back afterwards."""

from __future__ import annotations

import json

import hpo_core as optuna
from hpo_core.artifacts import (
    FileSystemArtifactStore,
    download_artifact,
    get_all_artifact_meta,
    upload_artifact,
)


def test_artifacts_each_trial_uploads_a_file_and_the_best_one_is_downloaded(tmp_path) -> None:
    store_dir = tmp_path / "artifacts"
    store_dir.mkdir()
    artifact_store = FileSystemArtifactStore(base_path=str(store_dir))
    work = tmp_path / "work"
    work.mkdir()

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        model_path = work / f"model-{trial.number}.json"
        model_path.write_text(json.dumps({"x": x, "number": trial.number}))
        artifact_id = upload_artifact(artifact_store=artifact_store, file_path=str(model_path), study_or_trial=trial)
        trial.set_user_attr("artifact_id", artifact_id)
        return (x - 2) ** 2

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'artifacts.db'}")
    study = optuna.create_study(storage=storage, study_name="with-artifacts")
    study.optimize(objective, n_trials=6)

    best = study.best_trial
    downloaded = tmp_path / "best_model.json"
    download_artifact(artifact_store=artifact_store, file_path=str(downloaded), artifact_id=best.user_attrs["artifact_id"])
    assert json.loads(downloaded.read_text()) == {"x": best.params["x"], "number": best.number}

    # The metadata lives in the study's storage, next to the trials.
    loaded = optuna.load_study(study_name="with-artifacts", storage=storage)
    metas = get_all_artifact_meta(loaded.best_trial, storage=storage)
    assert [m.artifact_id for m in metas] == [best.user_attrs["artifact_id"]]
    assert metas[0].filename == f"model-{best.number}.json"


def test_artifacts_a_study_level_artifact(tmp_path) -> None:
    artifact_store = FileSystemArtifactStore(base_path=str(tmp_path))
    notes = tmp_path / "notes.txt"
    notes.write_text("baseline run")
    study = optuna.create_study()
    artifact_id = upload_artifact(artifact_store=artifact_store, file_path=str(notes), study_or_trial=study)

    metas = get_all_artifact_meta(study)
    assert [(m.artifact_id, m.filename) for m in metas] == [(artifact_id, "notes.txt")]
    copy = tmp_path / "copy.txt"
    download_artifact(artifact_store=artifact_store, file_path=str(copy), artifact_id=artifact_id)
    assert copy.read_text() == "baseline run"
