"""The journal's operations: one JSON object per storage write.

Every entry has ``"op"`` (its kind) and ``"w"``, the token of the storage object that
wrote it (one per object and process); entries whose writer waits for the outcome also
carry ``"n"``, a number unique within that writer. Fields by kind (``sid`` a study id,
``tid`` a trial id, ``t`` the writer's clock in POSIX seconds):

=================  ==============================================================
``study``          ``name``, ``dirs`` (direction codes), ``t``
``delete_study``   ``sid``
``study_attr``     ``sid``, ``kind``, ``key``, ``v`` (JSON text)
``trials``         ``sid``, ``k`` (count), ``t``, ``owner``, ``hb`` (a first
                   heartbeat at ``t``), optional ``x`` (a joint parameter row:
                   ``names``, ``d``, ``v``)
``template``       ``sid``, ``state``, ``vals``, ``ts``, ``tc``, ``p``, ``ua``,
                   ``sa`` (key -> JSON text), ``iv`` ([step, JSON text]), ``owner``
``claim``          ``sid``, ``t``, ``owner``, ``hb``
``params``         ``trials``: [[tid, rows], ...] (``suggest_*`` flushed late)
``params_block``   ``ids``, ``names``, ``d``, ``x`` (one row per trial)
``state``          ``tid``, ``state``, ``vals`` (JSON text or null), ``t``, ``p``,
                   and ``owner``, ``hb`` when it sets RUNNING
``states``         ``ids``, ``state``, ``vals`` (one JSON text per trial or null),
                   ``t``, ``p``: [[tid, rows], ...]
``report``         ``tid``, ``step``, ``v`` (JSON text), ``p``
``trial_attr``     ``tid``, ``kind``, ``key``, ``v`` (JSON text), ``p``
``reserve``        ``sid``, ``key``
``heartbeat``      ``ids``, ``t``
``stale``          ``ids``, ``reasons``, ``t``
=================  ==============================================================

Parameter rows (``p``, ``rows``) are ``[name, internal value, distribution key]``. A
distribution is named by a key, a hash of its JSON text; an entry defines the keys its
writer has not seen defined in the log yet in ``"defs"`` (key -> JSON text). A
writer's entry always follows the entries it has read, so every reader meets a key's
definition before its first use. Attribute values are stored as the JSON text of
:func:`~hpo_core.storages._checks.encode_json` (NaN and infinities as tagged objects),
the text every storage stores; so are objective and reported values unless they are
all finite, the common case, stored as plain JSON numbers (read without a decoder of
their own).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from hpo_core.distributions import BaseDistribution, distribution_to_json
from hpo_core.storages._checks import decode_json, encode_json

__all__ = ["Row", "add_defs", "decode_numbers", "dist_key", "encode_numbers", "encode_rows", "key_of"]

# A parameter suggested one at a time: (name, internal value, distribution key).
Row = tuple[str, float, str]


@functools.lru_cache(maxsize=4096)
def dist_key(dist: BaseDistribution) -> tuple[str, str]:
    """``(key, JSON text)`` of a distribution; the key is 12 hex digits of BLAKE2b of
    the text (48 bits: a collision among a study's distributions is out of reach)."""
    text = distribution_to_json(dist)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest(), text


def add_defs(op: dict[str, Any], keys: Iterable[str], known: Mapping[str, Any]) -> None:
    """Add to ``op["defs"]`` the distributions of ``keys`` not ``known`` (defined in
    the log already)."""
    defs = None
    for key in keys:
        if key not in known:
            if defs is None:
                defs = op.setdefault("defs", {})
            defs[key] = _TEXTS[key]


# key -> JSON text of every distribution keyed in this process.
_TEXTS: dict[str, str] = {}


def key_of(dist: BaseDistribution) -> str:
    """The key of ``dist`` (remembering its text for :func:`add_defs`)."""
    key, text = dist_key(dist)
    if key not in _TEXTS:
        _TEXTS[key] = text
    return key


def encode_rows(rows: list[Row]) -> list[list[Any]]:
    """Pending ``suggest_*`` rows as JSON lists."""
    return [[name, value, key] for name, value, key in rows]


def encode_numbers(value: float | list[float], what: str) -> Any:
    """Objective values (a list) or a reported value (a float, or a list of them):
    JSON numbers when all finite, else the tagged JSON text of ``encode_json``."""
    if type(value) is float:
        return value if math.isfinite(value) else encode_json(value, what)
    if all(type(v) is float and math.isfinite(v) for v in value):  # type: ignore[union-attr]
        return list(value)  # type: ignore[arg-type]
    return encode_json(value, what)


def decode_numbers(stored: Any) -> Any:
    """The value stored by :func:`encode_numbers`."""
    return decode_json(stored) if type(stored) is str else stored
