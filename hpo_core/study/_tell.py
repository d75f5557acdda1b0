"""Checking what an objective or a user passes to ``tell``."""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo_core._validation import as_real
from hpo_core.trial._state import TrialState

__all__ = ["check_values"]


def _elements(values: Any) -> list[Any] | None:
    """The elements of an array or tensor with ``ndim >= 1``; None for anything else."""
    torch = sys.modules.get("torch")  # a tensor implies torch is imported already
    if torch is not None and isinstance(values, torch.Tensor):
        # 0-d tensors, each converted by as_real (detached: it may require grad).
        return list(values.detach().reshape(-1)) if values.dim() > 0 else None
    if getattr(values, "ndim", 0) == 0 or isinstance(values, np.generic):
        return None
    try:  # NumPy, JAX, ... arrays
        return np.asarray(values).reshape(-1).tolist()  # type: ignore[no-any-return]
    except (TypeError, ValueError, RuntimeError):
        return None


def check_values(values: Any, n_objectives: int) -> tuple[list[float] | None, str | None]:
    """Turn an objective's return value into a list of floats.

    Accepts what Optuna accepts (it calls ``float()`` on each value): Python and NumPy
    numbers, 0-d NumPy arrays, PyTorch scalars and tensors (``requires_grad`` included),
    and sequences, arrays or tensors of ``n_objectives`` of those. Bools, strings and
    NaN are refused.

    Returns:
        ``(values, None)`` when usable, else ``(None, reason)``: the trial is then
        marked FAIL and ``reason`` is the warning text.
    """
    bad_type = (
        f"the objective must return a number or a sequence of {n_objectives} numbers, "
        f"but returned {values!r}"
    )
    if values is None or isinstance(values, (str, bytes, bool, np.bool_)):
        return None, bad_type
    if isinstance(values, numbers.Real):
        seq: Sequence[Any] = (values,)
    elif isinstance(values, Sequence):
        seq = values
    else:
        elements = _elements(values)
        if elements is None:  # a scalar of another type: a 0-d array or tensor, Decimal
            try:
                return _finite_or_inf([as_real(values, "value")], n_objectives)
            except (TypeError, ValueError):
                return None, bad_type
        seq = elements
    if len(seq) != n_objectives:
        return None, (
            f"the study has {n_objectives} objective(s) but {len(seq)} value(s) were "
            f"given: {list(seq)!r}"
        )
    out = []
    for v in seq:
        try:
            out.append(as_real(v, "value"))
        except (TypeError, ValueError):
            return None, f"the value {v!r} is not a number"
    return _finite_or_inf(out, n_objectives)


def _finite_or_inf(out: list[float], n_objectives: int) -> tuple[list[float] | None, str | None]:
    if len(out) != n_objectives:
        return None, (
            f"the study has {n_objectives} objective(s) but {len(out)} value(s) were "
            f"given: {out!r}"
        )
    if any(math.isnan(f) for f in out):
        return None, f"the objective value is NaN (values {out!r})"
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
