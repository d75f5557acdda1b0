"""Optuna's deprecated journal names, kept so that old Optuna code runs: each is the
class of :mod:`hpo_core.storages.journal` it was renamed to, and warns with Optuna's
FutureWarning when constructed.

- ``hpo_core.storages.JournalFileStorage`` -> ``journal.JournalFileBackend``;
- ``hpo_core.storages.JournalRedisStorage`` -> ``journal.JournalRedisBackend``;
- ``hpo_core.storages.BaseJournalLogStorage`` -> ``journal.BaseJournalBackend``;
- ``hpo_core.storages.JournalFileOpenLock`` / ``JournalFileSymlinkLock``: the import
  path is deprecated, the classes live on in ``hpo_core.storages.journal``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, TypeVar

from hpo_core._deprecation import deprecation_message
from hpo_core.storages._journal._base import BaseJournalBackend
from hpo_core.storages._journal._file import JournalFileBackend
from hpo_core.storages._journal._lock import JournalFileOpenLock as _OpenLock
from hpo_core.storages._journal._lock import JournalFileSymlinkLock as _SymlinkLock
from hpo_core.storages._journal._redis import JournalRedisBackend

__all__ = [
    "BaseJournalLogStorage",
    "JournalFileOpenLock",
    "JournalFileStorage",
    "JournalFileSymlinkLock",
    "JournalRedisStorage",
]

C = TypeVar("C", bound=type)


def _deprecated(name: str, instead: str) -> Any:
    """Make a class warn (FutureWarning, Optuna's text) each time it is constructed;
    its signature stays its base's."""

    def decorate(cls: C) -> C:
        init = cls.__init__  # type: ignore[misc]

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            warnings.warn(deprecation_message(name, "4.0.0", instead=instead), FutureWarning, stacklevel=2)
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        return cls

    return decorate


@_deprecated("JournalFileStorage", "Use `hpo_core.storages.journal.JournalFileBackend` instead.")
class JournalFileStorage(JournalFileBackend):
    """Deprecated name of :class:`~hpo_core.storages.journal.JournalFileBackend`."""


@_deprecated("JournalRedisStorage", "Use `hpo_core.storages.journal.JournalRedisBackend` instead.")
class JournalRedisStorage(JournalRedisBackend):
    """Deprecated name of :class:`~hpo_core.storages.journal.JournalRedisBackend`."""


@_deprecated("BaseJournalLogStorage", "Use `hpo_core.storages.journal.BaseJournalBackend` instead.")
class BaseJournalLogStorage(BaseJournalBackend):
    """Deprecated name of :class:`~hpo_core.storages.journal.BaseJournalBackend`: a
    backend that subclasses it warns when constructed."""


@_deprecated(
    "The import path `hpo_core.storages.JournalFileOpenLock`",
    "Use `hpo_core.storages.journal.JournalFileOpenLock` instead.",
)
class JournalFileOpenLock(_OpenLock):
    """:class:`~hpo_core.storages.journal.JournalFileOpenLock` by its deprecated path."""


@_deprecated(
    "The import path `hpo_core.storages.JournalFileSymlinkLock`",
    "Use `hpo_core.storages.journal.JournalFileSymlinkLock` instead.",
)
class JournalFileSymlinkLock(_SymlinkLock):
    """:class:`~hpo_core.storages.journal.JournalFileSymlinkLock` by its deprecated path."""
