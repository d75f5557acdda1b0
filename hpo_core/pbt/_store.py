"""Checkpoints of population-based training: a local file artifact store and the
:class:`Checkpoint` an objective receives as ``trial.checkpoint``.

Layout of a store's directory ``root``::

    root/trial-12/            the committed checkpoint of segment trial 12
    root/.partial/trial-13/   the directory segment trial 13 writes into while it runs

A segment writes into its partial directory; when it completes, the driver renames
that directory to its committed name, one atomic ``os.replace`` on the same file
system, so a committed checkpoint is always whole: a segment that failed, was pruned or
whose worker died leaves nothing behind but a partial directory, which is removed.
:meth:`Checkpoint.save` writes its file atomically too (a temporary file, then
``os.replace``). Workers must see ``root`` at the same path: one machine, or a shared
file system for a Ray cluster of several.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from collections.abc import Callable
from typing import Any

from hpo_core._validation import format_error

__all__ = ["Checkpoint", "FileArtifactStore", "pickle_load", "pickle_save"]

_PARTIAL = ".partial"


def pickle_save(obj: Any, path: str) -> None:
    """The default ``save_fn``: ``obj`` pickled into the file ``path``."""
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def pickle_load(path: str) -> Any:
    """The default ``load_fn``: the object pickled in the file ``path``."""
    with open(path, "rb") as f:
        return pickle.load(f)


class FileArtifactStore:
    """A local directory of checkpoints, one subdirectory per segment trial.

    Args:
        root: The directory (created if missing). Give one directory per study: keys
            are trial numbers.

    Example:
        >>> import os, tempfile
        >>> from hpo_core.pbt import FileArtifactStore
        >>> store = FileArtifactStore(tempfile.mkdtemp())
        >>> work = store.reserve("trial-0")
        >>> with open(os.path.join(work, "weights.txt"), "w") as f:
        ...     _ = f.write("1.5")
        >>> os.listdir(store.commit("trial-0"))
        ['weights.txt']
    """

    def __init__(self, root: str | os.PathLike[str]):
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(format_error("root", "a path (str or os.PathLike)", root, owner="FileArtifactStore"))
        self.root = os.path.abspath(os.fspath(root))
        os.makedirs(os.path.join(self.root, _PARTIAL), exist_ok=True)

    def path(self, key: str) -> str:
        """Where the committed artifact ``key`` lies."""
        return os.path.join(self.root, key)

    def reserve(self, key: str) -> str:
        """A fresh, empty partial directory for ``key``; returns its path."""
        work = os.path.join(self.root, _PARTIAL, key)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        return work

    def commit(self, key: str) -> str:
        """Publish the partial directory of ``key`` under its final name (atomic rename)."""
        final = self.path(key)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(os.path.join(self.root, _PARTIAL, key), final)
        return final

    def discard(self, key: str) -> None:
        """Remove the partial directory of ``key`` (its segment did not complete)."""
        shutil.rmtree(os.path.join(self.root, _PARTIAL, key), ignore_errors=True)

    def delete(self, key: str) -> None:
        """Remove the committed artifact ``key``."""
        shutil.rmtree(self.path(key), ignore_errors=True)

    def __repr__(self) -> str:
        return f"FileArtifactStore({self.root!r})"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One segment of a member's training, as its objective receives it (``trial.checkpoint``).

    The objective resumes from ``load_dir`` (nothing to load when it is None: a fresh
    member), trains the steps ``start, ..., stop - 1`` with the hyperparameters that
    its ``suggest_*`` calls return (also in ``config``), reports as it goes, saves its
    state into ``save_dir`` and returns the score at ``stop``. :meth:`load` and
    :meth:`save` do the file work with the ``load_fn`` and ``save_fn`` given to
    :meth:`PBT.run <hpo_core.pbt.PBT.run>` (pickle by default).

    Attributes:
        member: The member of the population (0 to ``population_size - 1``).
        start: Steps trained so far: the first step of this segment.
        stop: Train until this step (exclusive), then return.
        config: The hyperparameters of this segment.
        load_dir: The checkpoint directory to resume from, or None.
        save_dir: The directory to write this segment's checkpoint into.

    Example:
        >>> import tempfile
        >>> from hpo_core.pbt import Checkpoint
        >>> d = tempfile.mkdtemp()
        >>> first = Checkpoint(member=0, start=0, stop=2, config={"lr": 0.1}, load_dir=None, save_dir=d)
        >>> first.load() is None, list(first.steps)
        (True, [0, 1])
        >>> first.save({"weights": [1.0, 2.0], "step": 2})
        >>> Checkpoint(member=0, start=2, stop=4, config={"lr": 0.1}, load_dir=d, save_dir=d).load()
        {'weights': [1.0, 2.0], 'step': 2}
    """

    member: int
    start: int
    stop: int
    config: dict[str, Any]
    load_dir: str | None
    save_dir: str
    save_fn: Callable[[Any, str], None] = pickle_save
    load_fn: Callable[[str], Any] = pickle_load
    filename: str = "checkpoint.pkl"

    @property
    def steps(self) -> range:
        """``range(start, stop)``: the steps this segment trains."""
        return range(self.start, self.stop)

    def load(self) -> Any:
        """What the segment resumed from saved (``load_fn``), or None for a fresh member."""
        if self.load_dir is None:
            return None
        return self.load_fn(os.path.join(self.load_dir, self.filename))

    def __reduce__(self) -> tuple[Any, ...]:
        # save_fn and load_fn travel with cloudpickle (when installed), so that lambdas
        # and closures reach worker processes, whose transport is the standard pickle.
        # Imported here: `import hpo_core` does not load the remote-trial machinery.
        from hpo_core.distributed._remote import dumps

        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fns = dumps((fields.pop("save_fn"), fields.pop("load_fn")))
        return _rebuild, (fields, fns)

    def save(self, obj: Any) -> None:
        """Write ``obj`` into ``save_dir`` with ``save_fn``, atomically (a temporary file
        renamed into place)."""
        path = os.path.join(self.save_dir, self.filename)
        tmp = f"{path}.tmp-{os.getpid()}"
        self.save_fn(obj, tmp)
        os.replace(tmp, path)


def _rebuild(fields: dict[str, Any], fns: bytes) -> Checkpoint:
    save_fn, load_fn = pickle.loads(fns)
    return Checkpoint(**fields, save_fn=save_fn, load_fn=load_fn)
