"""The journal in Redis: one list per journal, appended with ``RPUSH`` (atomic: every
entry of one append lands at once and in order) and read by index with ``LRANGE``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from hpo_core._imports import import_optional
from hpo_core._validation import check_bool, check_int, format_error
from hpo_core.storages._journal._base import BaseJournalBackend, BaseJournalSnapshot

__all__ = ["JournalRedisBackend"]

_logger = logging.getLogger("hpo_core")

_CHUNK = 10_000  # entries per LRANGE


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

    Example:
        >>> import hpo_core
        >>> from hpo_core.storages.journal import JournalRedisBackend, JournalStorage
        >>> storage = JournalStorage(JournalRedisBackend("redis://localhost:6379", prefix="demo"))  # doctest: +SKIP
        >>> study = hpo_core.create_study(storage=storage, study_name="demo", load_if_exists=True)  # doctest: +SKIP
    """

    def __init__(self, url: str, use_cluster: bool = False, prefix: str = "") -> None:
        if not isinstance(url, str):
            raise TypeError(format_error("url", "a Redis URL such as 'redis://localhost:6379'", url, owner="JournalRedisBackend"))
        check_bool("use_cluster", use_cluster, owner="JournalRedisBackend")
        if not isinstance(prefix, str):
            raise TypeError(format_error("prefix", "a str", prefix, owner="JournalRedisBackend"))
        self._url = url
        self._use_cluster = use_cluster
        self._prefix = prefix
        self._connect()

    def _connect(self) -> None:
        redis = import_optional("redis", extra="redis", feature="JournalRedisBackend")
        if self._use_cluster:
            self._redis = redis.RedisCluster.from_url(self._url)
        else:
            self._redis = redis.Redis.from_url(self._url)
        self._log_key = f"{self._prefix}:hpo_core:journal"
        self._snapshot_key = f"{self._prefix}:hpo_core:snapshot"

    def __getstate__(self) -> dict[str, Any]:
        return {"_url": self._url, "_use_cluster": self._use_cluster, "_prefix": self._prefix}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._connect()

    def __repr__(self) -> str:
        return f"JournalRedisBackend({self._url!r}, use_cluster={self._use_cluster}, prefix={self._prefix!r})"

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        check_int("log_number_from", log_number_from, low=0)
        return self._read(int(log_number_from))

    def _read(self, number: int) -> Iterator[dict[str, Any]]:
        while True:
            raw = self._redis.lrange(self._log_key, number, number + _CHUNK - 1)
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

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if logs:
            self._redis.rpush(self._log_key, *[
                json.dumps(log, separators=(",", ":"), ensure_ascii=False).encode("utf-8") for log in logs])

    def save_snapshot(self, snapshot: bytes) -> None:
        self._redis.set(self._snapshot_key, snapshot)

    def load_snapshot(self) -> bytes | None:
        data = self._redis.get(self._snapshot_key)
        return None if data is None else bytes(data)
