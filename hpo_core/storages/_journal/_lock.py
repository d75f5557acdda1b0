"""File locks that work where ``fcntl`` locks do not (NFS): the lock is a file that only
one process can create.

:class:`JournalFileSymlinkLock` creates ``<file>.lock`` as a symbolic link
(``symlink(2)`` fails if the name exists; atomic on NFSv2 and later);
:class:`JournalFileOpenLock` creates it with ``open(O_CREAT | O_EXCL)`` (atomic on
NFSv3 and later). Both name their holder in the lock file (``host:pid:start/token``,
the symlink's target or the file's text).

A lock left behind by a process that died holding it is broken:

- at once, when its holder names a process of this host that no longer exists
  (:func:`~hpo_core.storages._base.is_local_worker_dead`);
- otherwise once the lock file is older than ``grace_period`` seconds (holders on
  other hosts; None never breaks it). A holder keeps the lock for the time of one
  append, far below any sensible grace period.

Breaking is itself race-free between waiters: a waiter renames the lock file to a
name of its own (``rename(2)`` is atomic, so exactly one waiter gets it), checks that
what it renamed is the stale lock it examined (same inode and modification time) and
deletes it; if another waiter had already replaced the stale lock by a live one, the
live one is linked back under the lock name.
"""

from __future__ import annotations

import abc
import itertools
import logging
import os
import random
import time
import uuid
from typing import Any

from hpo_core._validation import check_real, format_error
from hpo_core.storages._base import is_local_worker_dead, worker_id

__all__ = ["BaseJournalFileLock", "JournalFileOpenLock", "JournalFileSymlinkLock", "LOCK_FILE_SUFFIX"]

_logger = logging.getLogger("hpo_core")

LOCK_FILE_SUFFIX = ".lock"
# Waiting for a lock: sleeps grow from 0.5 ms to 50 ms, jittered.
_FIRST_SLEEP, _MAX_SLEEP = 5e-4, 5e-2
# Names each acquisition: unique within the process (the holder is ``host:pid:start``).
_TOKENS = itertools.count()


def _check_grace(grace_period: Any, owner: str) -> float | None:
    return check_real("grace_period", grace_period, low=0.0, low_open=True, allow_none=True, owner=owner)


class BaseJournalFileLock(abc.ABC):
    """A lock shared by processes through the file system."""

    @abc.abstractmethod
    def acquire(self) -> bool:
        """Wait until this process holds the lock; returns True."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lock back."""


class _LockFile(BaseJournalFileLock):
    """The waiting, breaking and releasing shared by the two locks; subclasses say how
    the lock file is created, examined and linked back."""

    _owner_name = "JournalFileLock"

    def __init__(self, filepath: str, grace_period: float | None = 30) -> None:
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(format_error("filepath", "a path (str or os.PathLike)", filepath, owner=self._owner_name))
        self._target = os.fspath(filepath)
        self._lock_file = self._target + LOCK_FILE_SUFFIX
        self.grace_period = _check_grace(grace_period, self._owner_name)
        self._held: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._target!r}, grace_period={self.grace_period!r})"

    # ------------------------------------------------------------ per kind
    @abc.abstractmethod
    def _create(self, token: str) -> bool:
        """Create the lock file naming ``token``; False if it exists."""

    @abc.abstractmethod
    def _examine(self, path: str) -> tuple[os.stat_result, str] | None:
        """The stat and the holder named in the lock file ``path``; None if it is gone."""

    @abc.abstractmethod
    def _link_back(self, src: str) -> None:
        """Put the lock file ``src`` back under the lock name, failing if one exists."""

    # ------------------------------------------------------------ shared
    def acquire(self) -> bool:
        token = f"{worker_id()}/{next(_TOKENS)}"
        sleep = _FIRST_SLEEP
        while not self._create(token):
            self._break_if_stale()
            time.sleep(sleep * (0.5 + random.random()))
            sleep = min(2 * sleep, _MAX_SLEEP)
        self._held = token
        return True

    def release(self) -> None:
        token, self._held = self._held, None
        seen = self._examine(self._lock_file)
        if seen is not None and token is not None and seen[1] != token:
            # Broken while held (this process was stopped longer than the grace
            # period): the lock file now belongs to another process.
            _logger.warning("The journal lock %s was broken while this process held it; the other "
                            "holder keeps it.", self._lock_file)
            return
        try:
            os.unlink(self._lock_file)
        except FileNotFoundError:
            pass

    def _break_if_stale(self) -> None:
        seen = self._examine(self._lock_file)
        if seen is None:
            return
        st, holder = seen
        dead = is_local_worker_dead(holder.rpartition("/")[0] or None)
        age = time.time() - st.st_mtime
        if not dead and (self.grace_period is None or age <= self.grace_period):
            return
        aside = f"{self._lock_file}.{uuid.uuid4().hex[:12]}.broken"
        try:
            os.rename(self._lock_file, aside)
        except FileNotFoundError:
            return  # released, or another waiter broke it
        now = self._examine(aside)
        if now is not None and (now[0].st_ino, now[0].st_mtime_ns) != (st.st_ino, st.st_mtime_ns):
            # Another waiter broke the stale lock and took a new one before our rename:
            # give the live lock back (if nobody took the name meanwhile).
            try:
                self._link_back(aside)
            except OSError:
                pass
        else:
            why = f"its holder {holder} is gone" if dead else f"it is {age:.0f} s old (grace period {self.grace_period:g} s)"
            _logger.warning("Broke the journal lock %s: %s.", self._lock_file, why)
        try:
            os.unlink(aside)
        except FileNotFoundError:
            pass


class JournalFileSymlinkLock(_LockFile):
    """Lock for a journal file on any file system, NFSv2 and later included.

    The lock is a symbolic link ``<filepath>.lock`` whose target names the holder;
    creating a symbolic link fails if the name exists, atomically.

    Args:
        filepath: The file the lock protects (the journal file).
        grace_period: Seconds after which a lock file left by a process on another
            host is broken; None never breaks it. A lock whose holder was a process of
            this host that is gone is broken at once.
    """

    _owner_name = "JournalFileSymlinkLock"

    def _create(self, token: str) -> bool:
        try:
            os.symlink(token, self._lock_file)
        except FileExistsError:
            return False
        return True

    def _examine(self, path: str) -> tuple[os.stat_result, str] | None:
        try:
            return os.lstat(path), os.readlink(path)
        except (FileNotFoundError, OSError):
            return None

    def _link_back(self, src: str) -> None:
        os.link(src, self._lock_file, follow_symlinks=False)


class JournalFileOpenLock(_LockFile):
    """Lock for a journal file on local file systems and NFSv3 and later.

    The lock is a file ``<filepath>.lock`` created with ``open(O_CREAT | O_EXCL)``,
    which fails if it exists, atomically; the file holds the holder's name.

    Args:
        filepath: The file the lock protects (the journal file).
        grace_period: Seconds after which a lock file left by a process on another
            host is broken; None never breaks it. A lock whose holder was a process of
            this host that is gone is broken at once.
    """

    _owner_name = "JournalFileOpenLock"

    def _create(self, token: str) -> bool:
        try:
            fd = os.open(self._lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, token.encode())
        finally:
            os.close(fd)
        return True

    def _examine(self, path: str) -> tuple[os.stat_result, str] | None:
        try:
            with open(path, "rb") as f:
                return os.fstat(f.fileno()), f.read(1024).decode(errors="replace")
        except (FileNotFoundError, OSError):
            return None

    def _link_back(self, src: str) -> None:
        os.link(src, self._lock_file)
