"""Checking what an objective or a user passes to ``tell``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo_core.trial._state import TrialState

__all__ = ["check_values"]


def check_values(values: Any, n_objectives: int) -> tuple[list[float] | None, str | None]:
    """Turn an objective's return value into a list of floats.

    Returns:
        ``(values, None)`` when usable, else ``(None, reason)``: the trial is then
        marked FAIL and ``reason`` is the warning text.
    """
    bad_type = (
        f"the objective must return a number or a sequence of {n_objectives} numbers, "
        f"but returned {values!r}"
    )
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        seq: Sequence[Any] = (values,)
    elif values is None or isinstance(values, (str, bytes, bool)):
        return None, bad_type
    elif isinstance(values, Sequence):
        seq = values
    else:  # NumPy arrays (0-d included), tensors with __float__, ...
        try:
            seq = np.asarray(values, dtype=np.float64).reshape(-1).tolist()
        except (TypeError, ValueError):
            return None, bad_type
    if len(seq) != n_objectives:
        return None, (
            f"the study has {n_objectives} objective(s) but {len(seq)} value(s) were "
            f"given: {list(seq)!r}"
        )
    out = []
    for v in seq:
        if isinstance(v, bool) or not isinstance(v, (numbers.Real,)):
            try:
                v = float(v)
            except (TypeError, ValueError):
                return None, f"the value {v!r} is not a number"
        f = float(v)
        if math.isnan(f):
            return None, f"the objective value is NaN (values {list(seq)!r})"
        out.append(f)
    return out, None


def check_state(state: Any) -> TrialState:
    """The states ``tell`` accepts: COMPLETE, PRUNED and FAIL."""
    try:
        s = TrialState(state)
    except ValueError:
        s = None
    if s not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
        raise ValueError(
            "`state` must be one of TrialState.COMPLETE, TrialState.PRUNED, "
            f"TrialState.FAIL or None, but got {state!r}."
        )
    return s
