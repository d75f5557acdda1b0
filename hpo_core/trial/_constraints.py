"""Constraint values of a trial, kept where Optuna 5.0 keeps them: in the trial's system
attributes, one ``"constraints:<key>"`` entry per :meth:`set_constraint` call, plus the
older list under ``"constraints"`` that a sampler's ``constraints_func`` stores (its
entries read as keys ``"0"``, ``"1"``, ...). A trial is feasible when every constraint
value is <= 0. The history keeps them as the typed column ``numeric["constraints"]``
(one column per key) that samplers, pruners and ``best_trial`` read."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

from hpo_core.exceptions import HpoWarning

__all__ = ["CONSTRAINTS_KEY", "CONSTRAINT_PREFIX", "ConstraintAttrs", "check_constraint", "constraints_of"]

#: The system attribute of the list a sampler's ``constraints_func`` returned.
CONSTRAINTS_KEY = "constraints"
#: The prefix of the system attribute of one named constraint (``set_constraint``).
CONSTRAINT_PREFIX = "constraints:"


def constraints_of(system_attrs: Mapping[str, Any]) -> dict[str, float]:
    """``{key: value}`` of the constraints in ``system_attrs`` (Optuna's merge: the list's
    entries as ``"0"``, ``"1"``, ..., then the named ones, which win on a clash)."""
    out: dict[str, float] = {}
    con = system_attrs.get(CONSTRAINTS_KEY)
    if con is not None:
        for i, c in enumerate(con):
            out[str(i)] = c
    n = len(CONSTRAINT_PREFIX)
    for key, value in system_attrs.items():
        if key.startswith(CONSTRAINT_PREFIX):
            out[key[n:]] = value
    return out


def check_constraint(key: str, value: Any, system_attrs: Mapping[str, Any]) -> tuple[str, float] | None:
    """The system attribute ``(name, value)`` that ``set_constraint(key, value)`` stores,
    or None (with a warning, as Optuna) when ``key`` is already set.

    Raises:
        TypeError: if ``value`` cannot be cast to float (Optuna's message).
        ValueError: if ``value`` is NaN.
    """
    try:
        value = float(value)  # anything float() takes, as Optuna
    except (TypeError, ValueError):
        raise TypeError(
            f"The `value` argument is of type '{type(value)}' but supposed to be a float."
        ) from None
    if math.isnan(value):
        raise ValueError(f"Attempted to set a constraint for {key!r}, but NaN is not allowed.")
    name = f"{CONSTRAINT_PREFIX}{key}"
    if name in system_attrs:
        warnings.warn(
            f"The constraint value is ignored because this constraint `{key=}` is already set.",
            HpoWarning,
            stacklevel=3,
        )
        return None
    return name, value


class ConstraintAttrs:
    """Mixin of :class:`FrozenTrial` and :class:`FixedTrial`: ``constraints`` and
    ``set_constraint`` over the object's own ``system_attrs`` dict."""

    __slots__ = ()
    system_attrs: dict[str, Any]

    @property
    def constraints(self) -> dict[str, float]:
        """``{key: value}`` of the trial's constraints (feasible when all are <= 0)."""
        return constraints_of(self.system_attrs)

    def set_constraint(self, key: str, value: float) -> None:
        """Set constraint ``key`` to ``value`` (<= 0 is feasible) in ``system_attrs``;
        a second call for the same key is ignored with a warning (as Optuna's)."""
        entry = check_constraint(key, value, self.system_attrs)
        if entry is not None:
            self.system_attrs[entry[0]] = entry[1]
