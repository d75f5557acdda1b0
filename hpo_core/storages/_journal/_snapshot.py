"""Snapshots of the replayed journal: the :class:`ReplayState` after ``log_pos`` entries,
pickled behind a header, so that opening a long journal reads only the entries after
the snapshot.

A snapshot names the entry it ends with by a digest of that entry (its canonical
JSON). When a storage opens the journal it reads that entry back and compares: a
snapshot of another journal, or of a journal that was since replaced or cut short, is
not used. Every failure to use a snapshot (damaged bytes, another format, a digest
that does not match) falls back to replaying the whole journal, with a warning.

Snapshots are pickles: load them only from journals you trust, as you would the
journal itself.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from typing import Any

from hpo_core.storages._journal._replay import ReplayState

__all__ = ["FORMAT", "dump", "entry_digest", "load"]

_MAGIC = b"hpo_core journal snapshot\n"
#: Version of the snapshot layout (the pickled classes included); a snapshot of
#: another version is not loaded.
FORMAT = 1


def entry_digest(entry: dict[str, Any]) -> str:
    """A digest of one journal entry, the same whichever backend stored it."""
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def dump(state: ReplayState) -> bytes:
    """The snapshot of ``state`` (the caller holds the lock that keeps it still): the
    magic line, a JSON header line, then the pickled state."""
    last = None if state.last_entry is None else entry_digest(state.last_entry)
    header = json.dumps({"format": FORMAT, "log_pos": state.log_pos, "last": last}).encode() + b"\n"
    return _MAGIC + header + pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def load(data: bytes) -> tuple[ReplayState, str | None]:
    """The state saved by :func:`dump` and the digest of its last entry.

    Raises:
        ValueError: ``data`` is not a snapshot of this format, or is damaged.
    """
    if not data.startswith(_MAGIC):
        raise ValueError("not an hpo_core journal snapshot")
    end = data.find(b"\n", len(_MAGIC))
    try:
        header = json.loads(data[len(_MAGIC) : end])
    except ValueError:
        header = None
    if end < 0 or not isinstance(header, dict):
        raise ValueError("damaged snapshot header")
    if header.get("format") != FORMAT:
        raise ValueError(f"snapshot format {header.get('format')!r}; this hpo_core reads format {FORMAT}")
    try:
        state = pickle.loads(memoryview(data)[end + 1 :])
    except Exception as e:  # noqa: BLE001 - any unpickling failure means a damaged snapshot
        raise ValueError(f"damaged snapshot ({type(e).__name__}: {e})") from e
    if not isinstance(state, ReplayState) or state.log_pos != header.get("log_pos"):
        raise ValueError("damaged snapshot (its state does not match its header)")
    return state, header.get("last")
