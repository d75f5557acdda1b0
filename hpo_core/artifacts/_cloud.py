"""Artifact stores in object storage: Amazon S3 and S3-compatible servers (MinIO, Ceph,
...) through boto3, and Google Cloud Storage; Optuna's ``Boto3ArtifactStore`` and
``GCSArtifactStore``, with the same arguments. boto3 and google-cloud-storage are
imported when a store is made, with an install hint when missing (the ``s3`` and
``gcs`` extras)."""

from __future__ import annotations

import io
import shutil
from typing import Any, BinaryIO

from hpo_core._imports import import_optional
from hpo_core._validation import check_bool, format_error
from hpo_core.artifacts._stores import ArtifactNotFound

__all__ = ["Boto3ArtifactStore", "GCSArtifactStore"]


def _check_bucket(bucket_name: Any, owner: str) -> str:
    if not isinstance(bucket_name, str) or not bucket_name:
        raise (TypeError if not isinstance(bucket_name, str) else ValueError)(
            format_error("bucket_name", "a non-empty str", bucket_name, owner=owner)
        )
    return bucket_name


class Boto3ArtifactStore:
    """Artifacts as objects of one S3 bucket (or of an S3-compatible server), by key
    ``artifact_id``.

    Args:
        bucket_name: The bucket (it must exist).
        client: A boto3 S3 client; default ``boto3.client("s3")`` (credentials, region
            and endpoint from the environment, as boto3 finds them). For an
            S3-compatible server, pass ``boto3.client("s3", endpoint_url=...)``.
        avoid_buf_copy: Upload ``content_body`` itself instead of a copy in memory.
            The copy is the default because boto3's ``upload_fileobj`` may close the
            file it is given (https://github.com/boto/boto3/issues/929).

    Raises:
        ImportError: boto3 is not installed (``pip install 'hpo_core[s3]'``).

    Example:
        >>> import hpo_core
        >>> from hpo_core.artifacts import Boto3ArtifactStore, upload_artifact
        >>> store = Boto3ArtifactStore("my-bucket")  # doctest: +SKIP
        >>> def objective(trial):
        ...     path = "model.pt"  # written by the objective
        ...     upload_artifact(artifact_store=store, file_path=path, study_or_trial=trial)
        ...     return 0.0
    """

    def __init__(self, bucket_name: str, client: Any = None, *, avoid_buf_copy: bool = False) -> None:
        owner = "Boto3ArtifactStore"
        self.bucket = _check_bucket(bucket_name, owner)
        self._avoid_buf_copy = check_bool("avoid_buf_copy", avoid_buf_copy, owner=owner)
        if client is None:
            boto3 = import_optional("boto3", extra="s3", feature=owner)
            client = boto3.client("s3")
        self.client = client

    def open_reader(self, artifact_id: str) -> BinaryIO:
        """The artifact's content, as a stream (boto3's ``StreamingBody``).

        Raises:
            ArtifactNotFound: the bucket has no object ``artifact_id``.
        """
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=artifact_id)
        except Exception as e:
            if _is_not_found(e):
                raise ArtifactNotFound(
                    f"Artifact storage with bucket: {self.bucket}, artifact_id: {artifact_id} was not found"
                ) from e
            raise
        return obj["Body"]  # type: ignore[no-any-return]

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        """Upload ``content_body`` (read to its end) as object ``artifact_id``."""
        source: BinaryIO = content_body
        if not self._avoid_buf_copy:
            source = io.BytesIO()
            shutil.copyfileobj(content_body, source)
            source.seek(0)
        self.client.upload_fileobj(source, self.bucket, artifact_id)

    def remove(self, artifact_id: str) -> None:
        """Delete object ``artifact_id`` (no error if it is absent, as S3 deletes)."""
        self.client.delete_object(Bucket=self.bucket, Key=artifact_id)


def _is_not_found(e: Exception) -> bool:
    """Whether a botocore ``ClientError`` says the key (or bucket) does not exist."""
    response = getattr(e, "response", None)
    if not isinstance(response, dict):
        return False
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "NoSuchKey" or status == 404


class GCSArtifactStore:
    """Artifacts as blobs of one Google Cloud Storage bucket, by name ``artifact_id``.

    Args:
        bucket_name: The bucket (it must exist).
        client: A ``google.cloud.storage.Client``; default ``Client()``, with the
            credentials of the environment (``gcloud auth application-default login``).

    Raises:
        ImportError: google-cloud-storage is not installed (``pip install 'hpo_core[gcs]'``).

    Example:
        >>> from hpo_core.artifacts import GCSArtifactStore
        >>> store = GCSArtifactStore("my-bucket")  # doctest: +SKIP
    """

    def __init__(self, bucket_name: str, client: Any = None) -> None:
        owner = "GCSArtifactStore"
        self.bucket_name = _check_bucket(bucket_name, owner)
        if client is None:
            storage = import_optional("google.cloud.storage", extra="gcs", feature=owner)
            client = storage.Client()
        self.client = client
        self.bucket_obj = client.bucket(bucket_name)

    def open_reader(self, artifact_id: str) -> BinaryIO:
        """The artifact's content (read into memory).

        Raises:
            ArtifactNotFound: the bucket has no blob ``artifact_id``.
        """
        blob = self.bucket_obj.get_blob(artifact_id)
        if blob is None:
            raise ArtifactNotFound(
                f"Artifact storage with bucket: {self.bucket_name}, artifact_id: {artifact_id} was not found"
            )
        return io.BytesIO(blob.download_as_bytes())

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        """Upload ``content_body`` (read to its end) as blob ``artifact_id``."""
        self.bucket_obj.blob(artifact_id).upload_from_string(content_body.read())

    def remove(self, artifact_id: str) -> None:
        """Delete blob ``artifact_id`` (the client's ``NotFound`` if absent, as Optuna's)."""
        self.bucket_obj.delete_blob(artifact_id)
