"""Limits and the JSON rule that every storage applies at its boundary.

What a storage accepts, and what it gives back, does not depend on the backend: a value
the in-memory storage takes is one SQLite, PostgreSQL and MySQL take, and it comes
back the same from all of them.

Names (study names, parameter names, attribute keys) are ``str`` of 1 to
:data:`MAX_NAME_LENGTH` characters (the RDB key columns are ``String(512)``), valid
Unicode, without the NUL character (PostgreSQL text cannot hold it). Steps of
intermediate values are ints in ``[0, 2**63 - 1]`` (a 64-bit column).

Attribute values (and lists of objective values) follow one JSON rule:

- accepted: ``dict`` with ``str`` keys, ``list``, ``tuple``, ``str``, ``int`` in the
  signed 64-bit range ``[-2**63, 2**63 - 1]``, ``float`` (NaN and infinities
  included), ``bool``, ``None``, and NumPy scalars of those kinds; subclasses are
  stored as their base type. Anything else (``object()``, complex numbers, sets,
  bytes, NumPy arrays, dicts with non-str keys) is a TypeError naming the value's
  path; nesting deeper than :data:`MAX_JSON_DEPTH` containers, an int outside 64 bits
  or a string that is not valid Unicode (a lone surrogate) is a ValueError.
- given back as JSON gives it back: tuples as lists, NumPy scalars as Python numbers,
  subclasses as their base type. :func:`normalize_json` returns exactly that without
  going through text, for storages that keep values in memory.
- stored as standard JSON (RFC 8259) that any reader parses: NaN, ``inf`` and
  ``-inf`` become the tagged objects ``{"$float": "NaN"}``, ``{"$float":
  "Infinity"}`` and ``{"$float": "-Infinity"}`` (plain ``json.dumps`` writes bare
  ``NaN``/``Infinity`` tokens, which JavaScript and ``jq`` reject).
- escape: so that a user dict never reads back as a tag, every *one-key* dict whose key
  starts with ``$`` is stored with one more ``$`` in front of the key
  (``{"$float": "x"}`` is stored as ``{"$$float": "x"}``); decoding removes one ``$``
  from such keys. Dicts with two or more keys are stored as they are.

:func:`decode_json` also reads text written before this rule (plain ``json.dumps``,
``NaN``/``Infinity`` tokens included), so existing databases stay readable; the only
difference is an old one-key dict whose key started with ``$$``, which loses one ``$``.
Integers are limited to 64 bits rather than JSON's unbounded ones so that values fit
the integer types of other readers (64-bit databases' JSON functions; JavaScript still
reads ints beyond ``2**53`` inexactly) and Python's limit on int-to-text conversion
(4,300 digits) can never make a stored value unreadable.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

import numpy as np

from hpo_core._validation import format_error

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_NAME_LENGTH",
    "MAX_STEP",
    "check_name",
    "check_step",
    "decode_json",
    "encode_json",
    "normalize_json",
    "to_float",
]

MAX_NAME_LENGTH = 512
MAX_STEP = 2**63 - 1
# Containers (lists, dicts) nested in one value. Deep enough for any configuration,
# far from Python's recursion limit (about 1,000 frames), which a value nested ~990
# deep used to reach in every process that read it (copying, printing, comparing).
MAX_JSON_DEPTH = 64
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1

_TAG = "$float"
_NONFINITE_TO_TEXT = {math.inf: "Infinity", -math.inf: "-Infinity"}
_TEXT_TO_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_JSON_KINDS = "JSON-serializable (a dict with str keys, list, tuple, str, int, float, bool or None)"
_NAME_KINDS = f"a str of 1 to {MAX_NAME_LENGTH} characters (valid Unicode, no NUL character)"


class _Shown:
    """Stands for a value in an error message: ``repr`` gives ``text`` verbatim."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _short(value: str) -> Any:
    """A long string shortened for an error message, with its length."""
    if len(value) <= 60:
        return value
    return _Shown(f"{value[:40]!r}... ({len(value)} characters)")


def _valid_unicode(s: str) -> bool:
    # isascii() is O(1) in CPython; only non-ASCII text pays for the encode.
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from os.fsdecode of bad bytes
        return False
    return True


def check_name(value: Any, what: str) -> str:
    """Check a study name, parameter name or attribute key, and return it as a ``str``.

    Args:
        value: The name.
        what: How the message names it, e.g. ``"study_name"`` or ``"user_attrs key"``.

    Raises:
        TypeError: ``value`` is not a ``str``.
        ValueError: empty, longer than :data:`MAX_NAME_LENGTH` characters, or holding a
            NUL character or a lone surrogate.
    """
    if not isinstance(value, str):
        raise TypeError(format_error(what, _NAME_KINDS, value))
    if not 1 <= len(value) <= MAX_NAME_LENGTH or "\x00" in value or not _valid_unicode(value):
        raise ValueError(format_error(what, _NAME_KINDS, _short(value)))
    return str(value)


def check_step(step: Any, what: str = "step") -> int:
    """Check the step of an intermediate value: an int in ``[0, 2**63 - 1]``.

    Python ints and NumPy integers are accepted (returned as ``int``); bools and floats
    are not.

    Raises:
        TypeError: not an int.
        ValueError: outside ``[0, 2**63 - 1]``.
    """
    allowed = f"an int in the range [0, {MAX_STEP}]"
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError(format_error(what, allowed, step))
    v = int(step)
    if not 0 <= v <= MAX_STEP:
        raise ValueError(format_error(what, allowed, step))
    return v


def to_float(value: Any, what: str) -> float:
    """An objective or intermediate value as a ``float``; NaN and infinities pass.

    Ints of any size become the nearest float (``2**63`` -> ``9.223372036854776e18``);
    one beyond the float range (about ``1.8e308``) is a ValueError, not the bare
    OverflowError of ``float()``.

    Raises:
        TypeError: a bool, or a value that is not a real number.
        ValueError: an int too large for a float.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(format_error(what, "a number", value))
    try:
        return float(value)
    except OverflowError as e:
        shown = _Shown(f"an int of {int(value).bit_length()} bits") if isinstance(value, numbers.Integral) else value
        raise ValueError(format_error(what, "a number within the float range (about 1.8e308)", shown)) from e


def _walk(value: Any, what: str, path: str, depth: int, tagged: bool) -> Any:
    """Check ``value`` against the JSON rule; return it as decoded (or, with ``tagged``,
    in the form that ``json.dumps`` writes as the stored text)."""
    t = type(value)
    if t is str:
        if _valid_unicode(value):
            return value
        raise ValueError(format_error(what + path, "valid Unicode text", _short(value)))
    if value is None or t is bool:
        return value
    if t is float:
        if math.isfinite(value) or not tagged:
            return value
        return {_TAG: "NaN" if value != value else _NONFINITE_TO_TEXT[value]}
    if t is int:
        if _INT_MIN <= value <= _INT_MAX:
            return value
        raise ValueError(format_error(
            what + path, "an int in the signed 64-bit range [-2**63, 2**63 - 1] (store larger ones as str or float)",
            _Shown(f"an int of {value.bit_length()} bits") if value.bit_length() > 200 else value))
    if isinstance(value, (dict, list, tuple)):
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(format_error(
                what, f"nested at most {MAX_JSON_DEPTH} containers (lists, tuples, dicts) deep",
                _Shown(f"a value nested deeper (at {what + path})" if len(path) <= 80 else "a value nested deeper")))
        if isinstance(value, dict):
            return _walk_dict(value, what, path, depth + 1, tagged)
        return [_walk(v, what, f"{path}[{i}]", depth + 1, tagged) for i, v in enumerate(value)]
    # Subclasses and NumPy scalars are stored as their base type.
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return _walk(str(value), what, path, depth, tagged)
    if isinstance(value, (int, np.integer)):
        return _walk(int(value), what, path, depth, tagged)
    if isinstance(value, (float, np.floating)):
        return _walk(float(value), what, path, depth, tagged)
    allowed = _JSON_KINDS
    if isinstance(value, np.ndarray):
        allowed += "; convert arrays with .tolist()"
    raise TypeError(format_error(what + path, allowed, value))


def _walk_dict(value: dict[Any, Any], what: str, path: str, depth: int, tagged: bool) -> dict[str, Any]:
    out = {}
    for k, v in value.items():
        if type(k) is not str:
            if not isinstance(k, str):
                raise TypeError(format_error(f"{what}{path} key", "a str (JSON object keys are strings)", k))
            k = str(k)
        if not _valid_unicode(k):
            raise ValueError(format_error(f"{what}{path} key", "valid Unicode text", _short(k)))
        out[k] = _walk(v, what, f"{path}[{k!r}]", depth, tagged)
    if tagged and len(out) == 1:
        (k,) = out
        if k.startswith("$"):  # the escape: a user dict must never read back as a tag
            return {"$" + k: out[k]}
    return out


def encode_json(value: Any, what: str) -> str:
    """The stored JSON text of an attribute value (or a list of objective values).

    Args:
        value: The value; see the module docstring for what is accepted.
        what: How messages name it, e.g. ``"user_attrs['lr']"``.

    Returns:
        Standard JSON text, with NaN and infinities as ``{"$float": ...}`` tags.

    Raises:
        TypeError: a value of a kind JSON cannot hold (its path is named).
        ValueError: nested deeper than :data:`MAX_JSON_DEPTH`, an int outside 64 bits,
            or text that is not valid Unicode.
    """
    return json.dumps(_walk(value, what, "", 0, True), ensure_ascii=False, allow_nan=False,
                      check_circular=False, separators=(",", ":"))


def _decode_object(d: dict[str, Any]) -> Any:
    # Called by the JSON decoder bottom-up, once per object: values are decoded already.
    if len(d) != 1:
        return d
    ((k, v),) = d.items()
    if not k.startswith("$"):
        return d
    if k.startswith("$$"):
        return {k[1:]: v}
    if k == _TAG and type(v) is str and v in _TEXT_TO_NONFINITE:
        return _TEXT_TO_NONFINITE[v]
    return d  # an unknown tag, or a one-key dict written before the escape existed


def decode_json(text: str) -> Any:
    """The value stored as ``text`` by :func:`encode_json` (or by plain ``json.dumps``).

    ``decode_json(encode_json(v, what)) == normalize_json(v, what)`` for every accepted
    ``v`` (NaN compares unequal to itself, but comes back as NaN).

    Raises:
        ValueError: ``text`` is not JSON, or is nested too deeply for Python to read.
    """
    try:
        return json.loads(text, object_hook=_decode_object)
    except RecursionError as e:
        raise ValueError(f"Stored JSON text is nested too deeply to read: {text[:80]!r}...") from e


def normalize_json(value: Any, what: str) -> Any:
    """``decode_json(encode_json(value, what))``, computed without the text.

    For storages that keep values in memory, so that they accept exactly what a
    database storage accepts and give back the same values. The result is a new object
    that shares no container with ``value``.

    Raises:
        TypeError, ValueError: as :func:`encode_json`.
    """
    return _walk(value, what, "", 0, False)
