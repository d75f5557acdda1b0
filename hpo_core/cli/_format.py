"""Output of the study commands: records of named columns as a table, JSON, YAML or bare
values (``-f``), nested (``params: {x: 1}``) or flattened (``params_x``), as Optuna's."""

from __future__ import annotations

import datetime
import json
from typing import Any

from hpo_core._imports import import_optional

__all__ = ["DATETIME_FORMAT", "Column", "format_records", "plain"]

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
Column = tuple[str, str]  # ("params", "x"); ("number", "") for a column that does not nest


def plain(value: Any) -> Any:
    """``value`` as JSON and YAML write it: numbers, None, lists, dicts, else text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    return str(value)


def _rows(records: list[dict[Column, Any]], columns: list[Column], flatten: bool) -> tuple[list[dict[str, Any]], list[str]]:
    header: list[str] = []
    for top, sub in columns:
        name = f"{top}_{sub}" if flatten and sub else top
        if name not in header:
            header.append(name)
    rows = []
    for record in records:
        row: dict[str, Any] = {}
        for (top, sub), value in ((c, record[c]) for c in columns if c in record):
            if not sub:
                row[top] = plain(value)
            elif flatten:
                row[f"{top}_{sub}"] = plain(value)
            else:
                row.setdefault(top, {})[sub] = plain(value)
        rows.append(row)
    return rows, header


def _table(rows: list[dict[str, Any]], header: list[str]) -> str:
    cells = [[("" if (v := row.get(h)) is None else json.dumps(v) if isinstance(v, (dict, list)) else str(v))
              for h in header] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |", line]
    for r in cells:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    out.append(line)
    return "\n".join(out)


def format_records(records: list[dict[Column, Any]] | dict[Column, Any], columns: list[Column], fmt: str,
                   flatten: bool = False) -> str:
    """Render ``records`` (one dict gives one object in JSON and YAML) in ``fmt``:
    ``table``, ``json``, ``yaml`` or ``value`` (the values of a row, space-separated).

    Example:
        >>> print(format_records([{("number", ""): 0, ("params", "x"): 1.5}],
        ...                      [("number", ""), ("params", "x")], "json", flatten=True))
        [{"number": 0, "params_x": 1.5}]
    """
    single = isinstance(records, dict)
    rows, header = _rows([records] if isinstance(records, dict) else records, columns, flatten)
    if fmt == "json":
        return json.dumps(rows[0] if single else rows)
    if fmt == "yaml":
        yaml = import_optional("yaml", extra="cli", feature="hpo-core -f yaml")
        return str(yaml.safe_dump(rows[0] if single else rows, sort_keys=False)).rstrip("\n")
    if fmt == "value":
        return "\n".join(" ".join(str(row.get(h, "")) for h in header) for row in rows)
    return _table(rows, header)
