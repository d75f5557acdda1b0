"""Files attached to studies and trials (Optuna's ``optuna.artifacts``): model weights,
plots, logs. The file goes to an artifact store; the study or trial records its id,
name and type in a system attribute under Optuna's key (``artifacts:<id>``).

Stores: :class:`FileSystemArtifactStore` (a directory, atomic writes),
:class:`Boto3ArtifactStore` (Amazon S3 and S3-compatible servers; the ``s3`` extra),
:class:`GCSArtifactStore` (Google Cloud Storage; the ``gcs`` extra) and :class:`Backoff`
(retries around another store). Any object with ``open_reader``, ``write`` and
``remove`` serves.
"""

from hpo_core.artifacts._cloud import Boto3ArtifactStore, GCSArtifactStore
from hpo_core.artifacts._meta import ArtifactMeta, download_artifact, get_all_artifact_meta, upload_artifact
from hpo_core.artifacts._stores import ArtifactNotFound, ArtifactStore, Backoff, FileSystemArtifactStore

__all__ = [
    "ArtifactMeta", "ArtifactNotFound", "ArtifactStore", "Backoff", "Boto3ArtifactStore", "FileSystemArtifactStore",
    "GCSArtifactStore",
    "download_artifact", "get_all_artifact_meta", "upload_artifact",
]
