"""Uploading, listing and downloading artifacts of a study or trial (Optuna's functions,
Optuna's attribute keys and JSON, so that studies move between the libraries)."""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import os
import shutil
import uuid
from typing import Any

from hpo_core._validation import format_error
from hpo_core.artifacts._stores import ArtifactStore
from hpo_core.storages import BaseStorage
from hpo_core.study import Study
from hpo_core.trial import FrozenTrial, Trial

__all__ = ["ArtifactMeta", "download_artifact", "get_all_artifact_meta", "upload_artifact"]

ARTIFACTS_ATTR_PREFIX = "artifacts:"
DEFAULT_MIME_TYPE = "application/octet-stream"


@dataclasses.dataclass
class ArtifactMeta:
    """An uploaded artifact: its id, file name, MIME type and content encoding."""

    artifact_id: str
    filename: str
    mimetype: str
    encoding: str | None


def _target(study_or_trial: Any, storage: BaseStorage | None) -> tuple[BaseStorage, str, int]:
    """(storage, "study" or "trial", id) of what artifacts are attached to."""
    if isinstance(study_or_trial, Study):
        return storage or study_or_trial._storage, "study", study_or_trial._study_id
    if isinstance(study_or_trial, Trial):
        return storage or study_or_trial.study._storage, "trial", study_or_trial._trial_id
    if isinstance(study_or_trial, FrozenTrial):
        if storage is None:
            raise ValueError("storage is required for FrozenTrial.")
        return storage, "trial", study_or_trial.trial_id
    raise TypeError(format_error("study_or_trial", "a Study, Trial or FrozenTrial", study_or_trial))


def upload_artifact(*, artifact_store: ArtifactStore, file_path: str, study_or_trial: Study | Trial | FrozenTrial,
                    storage: BaseStorage | None = None, mimetype: str | None = None,
                    encoding: str | None = None) -> str:
    """Store the file ``file_path`` in ``artifact_store`` and attach it to a study or
    trial (``storage`` is needed for a ``FrozenTrial``); returns the artifact's id.

    The content is written first and the study or trial records it after, so a
    recorded artifact is always there to download (Optuna records first).

    Example:
        >>> import os, tempfile, hpo_core
        >>> from hpo_core.artifacts import FileSystemArtifactStore
        >>> d = tempfile.mkdtemp()
        >>> store = FileSystemArtifactStore(os.path.join(d, "artifacts"))
        >>> path = os.path.join(d, "model.txt")
        >>> with open(path, "w") as f:
        ...     _ = f.write("w = 1.5")
        >>> study = hpo_core.create_study()
        >>> trial = study.ask()
        >>> artifact_id = upload_artifact(artifact_store=store, file_path=path, study_or_trial=trial)
        >>> study.tell(trial, 1.0)
        >>> [m.filename for m in get_all_artifact_meta(study.trials[0], storage=study._storage)]
        ['model.txt']
    """
    target_storage, kind, key_id = _target(study_or_trial, storage)
    filename = os.path.basename(file_path)
    guess_type, guess_encoding = mimetypes.guess_type(filename)
    meta = ArtifactMeta(str(uuid.uuid4()), filename, mimetype or guess_type or DEFAULT_MIME_TYPE,
                        encoding or guess_encoding)
    with open(file_path, "rb") as f:
        artifact_store.write(meta.artifact_id, f)
    value = json.dumps(dataclasses.asdict(meta))
    key = ARTIFACTS_ATTR_PREFIX + meta.artifact_id
    if kind == "study":
        target_storage.set_study_attr(key_id, "system", key, value)
    else:
        target_storage.set_trial_attr(key_id, "system", key, value)
    return meta.artifact_id


def get_all_artifact_meta(study_or_trial: Study | Trial | FrozenTrial, *,
                          storage: BaseStorage | None = None) -> list[ArtifactMeta]:
    """The artifacts attached to a study (not its trials') or to a trial."""
    target_storage, kind, key_id = _target(study_or_trial, storage)
    attrs = (target_storage.get_study_attrs(key_id, "system") if kind == "study"
             else target_storage.get_trial(key_id).system_attrs)
    return [ArtifactMeta(**json.loads(v)) for k, v in attrs.items() if k.startswith(ARTIFACTS_ATTR_PREFIX)]


def download_artifact(*, artifact_store: ArtifactStore, file_path: str, artifact_id: str) -> None:
    """Copy the artifact ``artifact_id`` to ``file_path`` (which must not exist)."""
    if os.path.exists(file_path):
        raise FileExistsError(f"File already exists: {file_path}")
    with artifact_store.open_reader(artifact_id) as reader, open(file_path, "wb") as writer:
        shutil.copyfileobj(reader, writer)
