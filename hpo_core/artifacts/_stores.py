"""Artifact stores: where uploaded files live (Optuna's ``ArtifactStore`` protocol)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Protocol

from hpo_core._validation import check_int, check_real, format_error
from hpo_core.exceptions import HpoError

__all__ = ["ArtifactNotFound", "ArtifactStore", "Backoff", "FileSystemArtifactStore"]

_logger = logging.getLogger("hpo_core")


class ArtifactNotFound(HpoError):
    """An artifact id that the store does not hold (Optuna's name)."""


class ArtifactStore(Protocol):
    """What an artifact store offers: read, write and remove one artifact by id."""

    def open_reader(self, artifact_id: str) -> BinaryIO: ...

    def write(self, artifact_id: str, content_body: BinaryIO) -> None: ...

    def remove(self, artifact_id: str) -> None: ...


class FileSystemArtifactStore:
    """Artifacts as files in one directory (a local disk or a shared file system), as
    Optuna's, with atomic writes: the content goes to a temporary file in the same
    directory that is then renamed over the artifact, so a reader never sees half a file.

    Args:
        base_path: The directory (created if missing).

    Raises:
        ValueError: an artifact id that is an absolute path or leaves the directory.

    Example:
        >>> import io, tempfile
        >>> store = FileSystemArtifactStore(tempfile.mkdtemp())
        >>> store.write("a1", io.BytesIO(b"weights"))
        >>> with store.open_reader("a1") as f:
        ...     f.read()
        b'weights'
    """

    def __init__(self, base_path: str | os.PathLike[str]) -> None:
        if not isinstance(base_path, (str, os.PathLike)):
            raise TypeError(format_error("base_path", "a path (str or os.PathLike)", base_path,
                                         owner="FileSystemArtifactStore"))
        self._base_path = Path(base_path)
        self._base_path.mkdir(parents=True, exist_ok=True)

    def _path(self, artifact_id: str) -> Path:
        base = os.path.abspath(self._base_path)
        path = os.path.abspath(self._base_path / artifact_id)
        if os.path.isabs(artifact_id) or os.path.commonpath([base, path]) != base or path == base:
            raise ValueError(f"Invalid artifact_id: {artifact_id}")
        return Path(path)

    def open_reader(self, artifact_id: str) -> BinaryIO:
        try:
            return open(self._path(artifact_id), "rb")
        except FileNotFoundError as e:
            raise ArtifactNotFound(f"artifact {artifact_id!r} not found in {self._base_path}") from e

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        path = self._path(artifact_id)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as f:
                shutil.copyfileobj(content_body, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remove(self, artifact_id: str) -> None:
        try:
            os.remove(self._path(artifact_id))
        except FileNotFoundError as e:
            raise ArtifactNotFound(f"artifact {artifact_id!r} not found in {self._base_path}") from e


class Backoff:
    """Retry another store's calls with exponential backoff (Optuna's): ``min_delay *
    multiplier ** k`` seconds, at most ``max_delay``, up to ``max_retries`` tries;
    :class:`ArtifactNotFound` is never retried.

    Example:
        >>> import io, tempfile
        >>> store = Backoff(FileSystemArtifactStore(tempfile.mkdtemp()), max_retries=3)
        >>> store.write("a", io.BytesIO(b"x"))
    """

    def __init__(self, backend: ArtifactStore, *, max_retries: int = 10, multiplier: float = 2,
                 min_delay: float = 0.1, max_delay: float = 30) -> None:
        owner = "Backoff"
        self._backend = backend
        self._max_retries = int(check_int("max_retries", max_retries, low=1, owner=owner))  # type: ignore[arg-type]
        self._multiplier = float(check_real("multiplier", multiplier, low=0.0, low_open=True, owner=owner))  # type: ignore[arg-type]
        self._min_delay = float(check_real("min_delay", min_delay, low=0.0, low_open=True, owner=owner))  # type: ignore[arg-type]
        self._max_delay = float(check_real("max_delay", max_delay, low=min_delay, low_open=True, owner=owner))  # type: ignore[arg-type]

    def _retry(self, what: str, artifact_id: str, call, rewind: BinaryIO | None = None):  # type: ignore[no-untyped-def]
        for i in range(self._max_retries):
            try:
                return call()
            except ArtifactNotFound:
                raise
            except Exception as e:
                if i == self._max_retries - 1:
                    raise
                _logger.error(f"Failed to {what} artifact={artifact_id} n_retry={i}", exc_info=e)
            if rewind is not None:
                rewind.seek(0)
            time.sleep(min(self._min_delay * self._multiplier**i, self._max_delay))
        raise AssertionError("unreachable")  # pragma: no cover

    def open_reader(self, artifact_id: str) -> BinaryIO:
        return self._retry("open", artifact_id, lambda: self._backend.open_reader(artifact_id))  # type: ignore[no-any-return]

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._retry("write", artifact_id, lambda: self._backend.write(artifact_id, content_body), content_body)

    def remove(self, artifact_id: str) -> None:
        self._retry("delete", artifact_id, lambda: self._backend.remove(artifact_id))
