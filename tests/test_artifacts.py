"""hpo_core.artifacts on a real SQLite study and a real directory, with Optuna's keys."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import hpo_core
from hpo_core.artifacts import (
    ArtifactNotFound,
    Backoff,
    FileSystemArtifactStore,
    download_artifact,
    get_all_artifact_meta,
    upload_artifact,
)


def _file(tmp_path: Path, name: str, body: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(body)
    return str(path)


def test_upload_list_download_on_sqlite(tmp_path: Path) -> None:
    store = FileSystemArtifactStore(tmp_path / "store")
    url = f"sqlite:///{tmp_path / 'a.db'}"
    study = hpo_core.create_study(storage=url, study_name="art")

    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        path = _file(tmp_path, f"model-{trial.number}.json", json.dumps({"x": x}).encode())
        upload_artifact(artifact_store=store, file_path=path, study_or_trial=trial)
        return x

    study.optimize(objective, n_trials=3)
    study_art = upload_artifact(artifact_store=store, file_path=_file(tmp_path, "notes.txt.gz", b"z"),
                                study_or_trial=study)
    again = hpo_core.load_study(study_name="art", storage=url)  # another process would see the same
    best = again.best_trial
    metas = get_all_artifact_meta(best, storage=again._storage)
    assert [(m.filename, m.mimetype) for m in metas] == [(f"model-{best.number}.json", "application/json")]
    out = tmp_path / "best.json"
    download_artifact(artifact_store=store, file_path=str(out), artifact_id=metas[0].artifact_id)
    assert json.loads(out.read_text()) == {"x": best.params["x"]}
    with pytest.raises(FileExistsError):
        download_artifact(artifact_store=store, file_path=str(out), artifact_id=metas[0].artifact_id)
    (study_meta,) = get_all_artifact_meta(again)
    assert (study_meta.artifact_id, study_meta.encoding) == (study_art, "gzip")
    with pytest.raises(ValueError, match="storage is required"):
        get_all_artifact_meta(best)


def test_store_is_atomic_and_confined(tmp_path: Path) -> None:
    store = FileSystemArtifactStore(tmp_path)

    class Broken(io.BytesIO):
        def read(self, *args: object) -> bytes:
            raise OSError("disk gone")

    store.write("a", io.BytesIO(b"old"))
    with pytest.raises(OSError, match="disk gone"):
        store.write("a", Broken())
    with store.open_reader("a") as f:
        assert f.read() == b"old"  # the failed write left the artifact as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # and no partial file
    for bad in ("/etc/passwd", "../x", "."):
        with pytest.raises(ValueError, match="Invalid artifact_id"):
            store.write(bad, io.BytesIO(b""))
    store.remove("a")
    with pytest.raises(ArtifactNotFound):
        store.open_reader("a")
    with pytest.raises(ArtifactNotFound):
        store.remove("a")


def test_backoff_retries_then_succeeds(tmp_path: Path) -> None:
    class Flaky(FileSystemArtifactStore):
        fails = 2

        def write(self, artifact_id: str, content_body):  # type: ignore[no-untyped-def]
            content_body.read(1)  # a partial read that the retry must rewind
            if self.fails:
                self.fails -= 1
                raise OSError("transient")
            super().write(artifact_id, content_body)

    flaky = Flaky(tmp_path)
    Backoff(flaky, min_delay=0.001, max_delay=0.01).write("a", io.BytesIO(b"body"))
    # Each try reads one byte first; the retries rewound the body, so the last try wrote
    # what follows that byte, not a body two reads shorter.
    with flaky.open_reader("a") as f:
        assert f.read() == b"ody"
    with pytest.raises(ValueError, match="Backoff: `max_delay`"):
        Backoff(flaky, min_delay=1.0, max_delay=0.5)


def test_attribute_format_is_optunas(tmp_path: Path) -> None:
    optuna = pytest.importorskip("optuna", reason="optuna is not installed: its attribute format is the reference")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = _file(tmp_path, "w.bin", b"123")
    theirs = optuna.create_study()
    optuna.artifacts.upload_artifact(artifact_store=optuna.artifacts.FileSystemArtifactStore(str(tmp_path)),
                                     file_path=path, study_or_trial=theirs)
    ours = hpo_core.create_study()
    upload_artifact(artifact_store=FileSystemArtifactStore(tmp_path / "o"), file_path=path, study_or_trial=ours)
    attrs = theirs._storage.get_study_system_attrs(theirs._study_id)
    (k1, v1), = [(k, v) for k, v in attrs.items() if k.startswith("artifacts:")]
    (k2, v2), = [(k, v) for k, v in ours.system_attrs.items() if k.startswith("artifacts:")]
    a, b = json.loads(v1), json.loads(v2)
    assert a.keys() == b.keys() and {k: a[k] for k in a if k != "artifact_id"} == {
        k: b[k] for k in b if k != "artifact_id"}
