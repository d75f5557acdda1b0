"""Undo of the replay state's changes of one batch (see
:meth:`~hpo_core.storages._journal._replay.ReplayState.apply`)."""

from __future__ import annotations

from typing import Any

__all__ = ["Undo"]


class Undo:
    """The changes one batch made to the replay state, to put it back.

    Lists that only grow are truncated to their length at their first change; items
    set below that length, set members added and object attributes are logged one by
    one; small dicts (studies, names, running trials, attributes) are copied once.
    """

    def __init__(self) -> None:
        self._log: list[tuple[Any, ...]] = []
        self._lens: dict[int, tuple[list[Any], int]] = {}
        self._dicts: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}

    def grow(self, lst: list[Any]) -> None:
        """Call before appending to ``lst``."""
        if id(lst) not in self._lens:
            self._lens[id(lst)] = (lst, len(lst))

    def set_item(self, lst: list[Any], i: int, value: Any) -> None:
        saved = self._lens.get(id(lst))
        if saved is None or i < saved[1]:
            self._log.append(("item", lst, i, lst[i]))
        lst[i] = value

    def keep(self, d: dict[Any, Any]) -> dict[Any, Any]:
        """Call before changing ``d``; returns ``d``."""
        if id(d) not in self._dicts:
            self._dicts[id(d)] = (d, d.copy())
        return d

    def add(self, s: set[Any], value: Any) -> None:
        if value not in s:
            self._log.append(("add", s, value))
            s.add(value)

    def set_attr(self, obj: Any, name: str, value: Any) -> None:
        self._log.append(("attr", obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def rollback(self) -> None:
        for entry in reversed(self._log):
            if entry[0] == "item":
                entry[1][entry[2]] = entry[3]
            elif entry[0] == "add":
                entry[1].discard(entry[2])
            else:
                setattr(entry[1], entry[2], entry[3])
        for lst, n in self._lens.values():
            del lst[n:]
        for d, copy in self._dicts.values():
            d.clear()
            d.update(copy)
