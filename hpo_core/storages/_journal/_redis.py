"""The journal in Redis: one list per journal, appended with ``RPUSH`` (atomic: every
entry of one append lands at once and in order) and read by index with ``LRANGE``.

A Redis that restarts or fails over does not stop the workers: every call is retried
with backoff while the server cannot be reached, for up to ``reconnect_timeout`` seconds.
An append whose answer was lost may have landed; so each append carries an id in its
first entry (``"_a"``), and a retried append is a script that pushes only when the
journal's last entries do not hold that id already. (redis-py's own retries are
turned off: they would push such an append twice.) Keep the server's data on disk
(``appendonly yes``) if the journal must outlive a restart.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from hpo_core._imports import import_optional
from hpo_core._validation import check_bool, check_int, check_real, format_error
from hpo_core.exceptions import StorageError
from hpo_core.storages._journal._base import BaseJournalBackend, BaseJournalSnapshot

__all__ = ["JournalRedisBackend"]

_logger = logging.getLogger("hpo_core")

_CHUNK = 10_000  # entries per LRANGE
T = TypeVar("T")
# How far back a retried append looks for its id: further than other workers can
# append while one waits to retry (the server was away meanwhile, or just blinked).
_RECHECK = 10_000
# KEYS[1]: the log; ARGV[1]: the id as it appears in the entry's JSON; ARGV[2..]: entries.
_CHECKED_PUSH = """
local tail = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[2]), -1)
for _, item in ipairs(tail) do
    if string.find(item, ARGV[1], 1, true) then return 0 end
end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
return 1
"""


class JournalRedisBackend(BaseJournalBackend, BaseJournalSnapshot):
    """A journal kept in a Redis server (redis-py), for workers on several machines.

    The log is the list ``<prefix>:hpo_core:journal`` and the snapshot the string
    ``<prefix>:hpo_core:snapshot``. Needs ``pip install "hpo_core[redis]"``.

    Args:
        url: The server, e.g. ``"redis://localhost:6379"`` (password and database
            number optional: ``"redis://:pw@host:6379/0"``).
        use_cluster: Connect to a Redis Cluster. The log is one key, so appends stay
            atomic there too.
        prefix: Prefix of the keys, so that several journals share one server.
        reconnect_timeout: Seconds a read or an append keeps retrying, with backoff,
            while the server cannot be reached (a restart, a failover) before it raises
            StorageError (default 300, as ``RDBStorage``). Keyword-only; Optuna's
            backend has no such argument.

    Example:
        >>> import hpo_core
        >>> from hpo_core.storages.journal import JournalRedisBackend, JournalStorage
        >>> storage = JournalStorage(JournalRedisBackend("redis://localhost:6379", prefix="demo"))  # doctest: +SKIP
        >>> study = hpo_core.create_study(storage=storage, study_name="demo", load_if_exists=True)  # doctest: +SKIP
    """

    def __init__(self, url: str, use_cluster: bool = False, prefix: str = "", *,
                 reconnect_timeout: float = 300.0) -> None:
        if not isinstance(url, str):
            raise TypeError(format_error("url", "a Redis URL such as 'redis://localhost:6379'", url, owner="JournalRedisBackend"))
        check_bool("use_cluster", use_cluster, owner="JournalRedisBackend")
        if not isinstance(prefix, str):
            raise TypeError(format_error("prefix", "a str", prefix, owner="JournalRedisBackend"))
        self._url = url
        self._use_cluster = use_cluster
        self._prefix = prefix
        self.reconnect_timeout: float = check_real(  # type: ignore[assignment]
            "reconnect_timeout", reconnect_timeout, low=0.0, owner="JournalRedisBackend")
        self._connect()

    def _connect(self) -> None:
        redis = import_optional("redis", extra="redis", feature="JournalRedisBackend")
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        no_retry = Retry(NoBackoff(), 0)  # retries are ours (see the module docstring)
        if self._use_cluster:
            self._redis = redis.RedisCluster.from_url(self._url, retry=no_retry)
        else:
            self._redis = redis.Redis.from_url(self._url, retry=no_retry)
        self._transient = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._checked_push = self._redis.register_script(_CHECKED_PUSH)
        self._log_key = f"{self._prefix}:hpo_core:journal"
        self._snapshot_key = f"{self._prefix}:hpo_core:snapshot"

    def _call(self, fn: Callable[[bool], T], what: str) -> T:
        """``fn(retried)``, retried while the server cannot be reached (BusyLoadingError,
        a server loading its data after a restart, is a ConnectionError)."""
        deadline = None
        delay = 0.01
        while True:
            try:
                return fn(deadline is not None)
            except self._transient as e:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.reconnect_timeout
                    _logger.warning("Lost the connection to Redis at %s during %s (%s); retrying for up to %g s.",
                                    self._url, what, e, self.reconnect_timeout)
                if now > deadline:
                    raise StorageError(f"JournalRedisBackend: {what} failed: the Redis server at {self._url} "
                                       f"stayed unreachable for {self.reconnect_timeout:g} s ({e}).") from e
                time.sleep(min(delay * (1 + random.random()), max(deadline - now, 0.0)))
                delay = min(2 * delay, 2.0)

    def __getstate__(self) -> dict[str, Any]:
        return {"_url": self._url, "_use_cluster": self._use_cluster, "_prefix": self._prefix,
                "reconnect_timeout": self.reconnect_timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"reconnect_timeout": 300.0, **state})
        self._connect()

    def __repr__(self) -> str:
        return f"JournalRedisBackend({self._url!r}, use_cluster={self._use_cluster}, prefix={self._prefix!r})"

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        check_int("log_number_from", log_number_from, low=0)
        return self._read(int(log_number_from))

    def _read(self, number: int) -> Iterator[dict[str, Any]]:
        while True:
            raw = self._call(functools.partial(self._lrange, number), "a read")
            for item in raw:
                try:
                    entry = json.loads(item)
                except ValueError:
                    entry = None
                if type(entry) is not dict:
                    _logger.warning("Journal %s: entry %d is damaged; it is skipped.", self._log_key, number)
                    entry = {}
                yield entry
                number += 1
            if len(raw) < _CHUNK:
                return

    def _lrange(self, start: int, _retried: bool) -> list[bytes]:
        return self._redis.lrange(self._log_key, start, start + _CHUNK - 1)  # type: ignore[no-any-return]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if not logs:
            return
        append_id = uuid.uuid4().hex
        items = [json.dumps({**log, "_a": append_id} if k == 0 else log, separators=(",", ":"),
                            ensure_ascii=False).encode("utf-8") for k, log in enumerate(logs)]

        def push(retried: bool) -> None:
            if retried:  # the lost attempt may have landed: push only if it did not
                self._checked_push(keys=[self._log_key], args=[f'"_a":"{append_id}"', _RECHECK, *items])
            else:
                self._redis.rpush(self._log_key, *items)

        self._call(push, "an append")

    def save_snapshot(self, snapshot: bytes) -> None:
        self._call(lambda _: self._redis.set(self._snapshot_key, snapshot), "a snapshot")

    def load_snapshot(self) -> bytes | None:
        data = self._call(lambda _: self._redis.get(self._snapshot_key), "reading the snapshot")
        return None if data is None else bytes(data)
