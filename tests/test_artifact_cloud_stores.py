"""Boto3ArtifactStore against a real S3-compatible server running locally (moto's
``ThreadedMotoServer``, over HTTP through boto3), and GCSArtifactStore against a local
Cloud Storage emulator (``gcp-storage-emulator``, through google-cloud-storage); both
skip with the reason when their packages are absent. Each runs a study that uploads,
lists and downloads artifacts, as Optuna's artifact tutorial does."""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hpo_core
from hpo_core.artifacts import (
    ArtifactNotFound,
    Boto3ArtifactStore,
    GCSArtifactStore,
    download_artifact,
    get_all_artifact_meta,
    upload_artifact,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_client() -> Iterator[Any]:
    boto3 = pytest.importorskip("boto3", reason="Boto3ArtifactStore needs boto3 (the s3 extra)")
    moto_server = pytest.importorskip(
        "moto.server", reason="the local S3 server is moto's (pip install 'moto[server]')"
    )
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gcs_client() -> Iterator[Any]:
    storage = pytest.importorskip(
        "google.cloud.storage", reason="GCSArtifactStore needs google-cloud-storage"
    )
    emulator = pytest.importorskip(
        "gcp_storage_emulator.server", reason="the local GCS server is gcp-storage-emulator"
    )
    from google.auth.credentials import AnonymousCredentials

    port = _free_port()
    server = emulator.create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": f"http://127.0.0.1:{port}"},
        )
    finally:
        server.stop()


@pytest.fixture(params=["s3", "gcs"])
def store(request: pytest.FixtureRequest) -> Any:
    bucket = f"artifacts-{request.node.name.split('[')[0][-20:].replace('_', '-')}"
    if request.param == "s3":
        client = request.getfixturevalue("s3_client")
        client.create_bucket(Bucket=bucket)
        return Boto3ArtifactStore(bucket, client)
    client = request.getfixturevalue("gcs_client")
    client.create_bucket(bucket)
    return GCSArtifactStore(bucket, client=client)


def test_cloud_store_round_trip(store: Any) -> None:
    store.write("a/b.bin", io.BytesIO(b"\x00weights\xff" * 1000))
    with store.open_reader("a/b.bin") as f:
        assert f.read() == b"\x00weights\xff" * 1000
    store.write("a/b.bin", io.BytesIO(b"new"))  # overwrite
    assert store.open_reader("a/b.bin").read() == b"new"
    store.remove("a/b.bin")
    with pytest.raises(ArtifactNotFound, match="a/b.bin"):
        store.open_reader("a/b.bin")


def test_cloud_store_in_a_study(store: Any, tmp_path: Path) -> None:
    def objective(trial: hpo_core.Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        path = tmp_path / f"model-{trial.number}.txt"
        path.write_text(f"x={x}")
        upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial)
        return x**2

    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'a.db'}")
    study.optimize(objective, n_trials=3)
    metas = get_all_artifact_meta(study.best_trial, storage=study._storage)
    assert len(metas) == 1 and metas[0].filename == f"model-{study.best_trial.number}.txt"
    out = tmp_path / "best.txt"
    download_artifact(artifact_store=store, file_path=str(out), artifact_id=metas[0].artifact_id)
    assert out.read_text() == f"x={study.best_trial.params['x']}"


def test_boto3_store_keeps_the_source_open_unless_told(s3_client: Any) -> None:
    s3_client.create_bucket(Bucket="artifacts-buf")
    source = io.BytesIO(b"payload")
    Boto3ArtifactStore("artifacts-buf", s3_client).write("k", source)
    assert not source.closed
    Boto3ArtifactStore("artifacts-buf", s3_client, avoid_buf_copy=True).write("k2", io.BytesIO(b"direct"))
    assert Boto3ArtifactStore("artifacts-buf", s3_client).open_reader("k2").read() == b"direct"


def test_boto3_store_of_a_missing_bucket_raises_not_found(s3_client: Any) -> None:
    with pytest.raises(ArtifactNotFound):
        Boto3ArtifactStore("no-such-bucket", s3_client).open_reader("k")


@pytest.mark.parametrize("cls", [Boto3ArtifactStore, GCSArtifactStore])
def test_cloud_store_checks_bucket_name(cls: type) -> None:
    with pytest.raises(TypeError, match="bucket_name"):
        cls(3, client=object())
    with pytest.raises(ValueError, match="bucket_name"):
        cls("", client=object())


def test_boto3_store_checks_avoid_buf_copy() -> None:
    with pytest.raises(TypeError, match="avoid_buf_copy"):
        Boto3ArtifactStore("b", object(), avoid_buf_copy=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [Boto3ArtifactStore, GCSArtifactStore])
def test_cloud_store_signature_matches_optuna(cls: type) -> None:
    import inspect

    optuna = pytest.importorskip("optuna", reason="Optuna is the reference for the signature")
    theirs = inspect.signature(getattr(optuna.artifacts, cls.__name__)).parameters
    ours = inspect.signature(cls).parameters
    assert [(n, p.kind, p.default) for n, p in theirs.items()] == [
        (n, p.kind, p.default) for n, p in ours.items()
    ]


@pytest.mark.parametrize(
    "cls, module, extra",
    [(Boto3ArtifactStore, "boto3", "s3"), (GCSArtifactStore, "google.cloud.storage", "gcs")],
)
def test_cloud_store_without_its_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, cls: type, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what Python does for a missing module
    with pytest.raises(ImportError, match=rf"hpo_core\[{extra}\]"):
        cls("bucket")
