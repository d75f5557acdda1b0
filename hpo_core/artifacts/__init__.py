"""Files attached to studies and trials (Optuna's ``optuna.artifacts``): model weights,
plots, logs. The file goes to an artifact store; the study or trial records its id,
name and type in a system attribute under Optuna's key (``artifacts:<id>``).

Stores: :class:`FileSystemArtifactStore` (a directory, atomic writes) and
:class:`Backoff` (retries around another store). Optuna's S3 and GCS stores are not
provided; any object with ``open_reader``, ``write`` and ``remove`` serves.
"""

from hpo_core.artifacts._meta import ArtifactMeta, download_artifact, get_all_artifact_meta, upload_artifact
from hpo_core.artifacts._stores import ArtifactNotFound, ArtifactStore, Backoff, FileSystemArtifactStore

__all__ = [
    "ArtifactMeta", "ArtifactNotFound", "ArtifactStore", "Backoff", "FileSystemArtifactStore",
    "download_artifact", "get_all_artifact_meta", "upload_artifact",
]
