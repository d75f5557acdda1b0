"""Finishing trials: ``Study.tell`` and ``Study.tell_array``, and checking what an
objective or a user passes to them."""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo_core._validation import as_real, format_error
from hpo_core.exceptions import FailedTrialWarning, UpdateFinishedTrialError
from hpo_core.samplers import BaseSampler
from hpo_core.study._ask import TrialBatch, batch_trials
from hpo_core.study._stale import failed_as_stale
from hpo_core.trial import Trial
from hpo_core.trial._state import TrialState

if TYPE_CHECKING:
    from hpo_core.study._study import Study

__all__ = ["check_state", "check_values", "tell", "tell_array"]

_COMPLETE = TrialState.COMPLETE
_COMPLETE_INT = int(TrialState.COMPLETE)


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


def tell(
    study: Study,
    trial: Trial | int,
    values: float | Sequence[float] | None,
    state: TrialState | None,
    skip_if_finished: bool,
) -> None:
    """:meth:`Study.tell`: finish a trial (a NaN or a wrong number of values marks it
    FAIL with a warning)."""
    if type(trial) is Trial:
        trial_id = trial._trial_id
        if (
            state is None
            and type(values) is float
            and values == values  # not NaN
            and study._n_objectives == 1
            and type(study.sampler).after_trial is BaseSampler.after_trial
        ):
            # Tight-loop path: nothing to validate further, nothing to notify.
            try:
                study._storage.set_trial_state_values(trial_id, _COMPLETE_INT, (values,))
            except UpdateFinishedTrialError:
                if not skip_if_finished and not failed_as_stale(study, trial_id, f"its value {values!r}"):
                    raise
            return
    else:
        trial, trial_id = _trial_from_number(study, trial)
    if state is None:
        state = _COMPLETE
    elif state is not _COMPLETE:
        state = check_state(state)
    if state is _COMPLETE:
        if type(values) is float and values == values and study._n_objectives == 1:
            vals: list[float] | None = [values]
        else:
            if values is None:
                raise ValueError(
                    "`values` must be given for a COMPLETE trial, but got None; pass "
                    "state=TrialState.FAIL or TrialState.PRUNED otherwise."
                )
            vals, reason = check_values(values, study._n_objectives)
            if vals is None:
                warnings.warn(
                    f"Trial {trial.number} is marked FAIL: {reason}.",
                    FailedTrialWarning,
                    stacklevel=3,  # the caller of Study.tell
                )
                state = TrialState.FAIL
                study._storage.set_trial_attr(trial_id, "system", "fail_reason", reason)
    else:
        if values is not None and state == TrialState.FAIL:
            raise ValueError(format_error("values", "None for a FAIL trial", values))
        vals = None
    try:
        study.sampler.after_trial(study, trial, state, vals)
    except BaseException:
        if getattr(study._thread_local, "fail_on_error", False):
            raise  # optimize ends the trial as FAIL, with the error as its fail_reason
        _store_state(study, trial_id, state, vals, skip_if_finished)
        raise
    _store_state(study, trial_id, state, vals, skip_if_finished)


def _store_state(
    study: Study, trial_id: int, state: TrialState, vals: list[float] | None, skip_if_finished: bool
) -> None:
    try:
        study._storage.set_trial_state_values(trial_id, state, vals)
    except UpdateFinishedTrialError:
        what = f"its value(s) {vals!r}" if vals is not None else f"its end as {state.name}"
        if not skip_if_finished and not failed_as_stale(study, trial_id, what):
            raise


def _trial_from_number(study: Study, trial: Any) -> tuple[Trial, int]:
    if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)):
        raise TypeError(format_error("trial", "a Trial or a trial number (int)", trial))
    try:
        trial_id = study._storage.get_trial_id_from_number(study._study_id, int(trial))
    except KeyError:
        raise ValueError(format_error("trial", "the number of a trial of this study", trial)) from None
    return Trial(study, trial_id, int(trial)), trial_id


def tell_array(
    study: Study, batch: TrialBatch, values: np.ndarray | Sequence[float], state: TrialState
) -> None:
    """:meth:`Study.tell_array`: finish the trials of ``batch`` (FAIL where a row holds
    a NaN, with one warning for the batch)."""
    state = check_state(state)
    n, m = len(batch), study._n_objectives
    if state != _COMPLETE:
        try:
            _after_batch(study, batch, np.full(n, int(state)), None)
        finally:  # as in tell: a failing after_trial does not leave the batch RUNNING
            study._storage.set_trials_state_values(batch.trial_ids, state, None)
        return
    V = np.asarray(values, dtype=np.float64)
    if V.ndim == 1 and m == 1:
        V = V[:, None]
    if V.shape != (n, m):
        raise ValueError(format_error("values", f"an array of shape ({n},) or ({n}, {m})", f"shape {V.shape}"))
    bad = np.isnan(V).any(axis=1)
    try:
        _after_batch(study, batch, np.where(bad, int(TrialState.FAIL), int(state)), V)
    finally:
        _store_batch(study, batch, state, V, bad)


def _store_batch(study: Study, batch: TrialBatch, state: TrialState, V: np.ndarray, bad: Any) -> None:
    """Store the end of a batch: FAIL where ``bad`` (n,) (a NaN value), else ``state``
    with its row of V (n, m)."""
    n = len(batch)
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} of {n} trials in the batch returned NaN and are marked FAIL.",
            FailedTrialWarning,
            stacklevel=4,  # the caller of Study.tell_array
        )
        study._storage.set_trials_state_values(batch.trial_ids[bad], TrialState.FAIL, None)
        study._storage.set_trials_state_values(batch.trial_ids[~bad], state, V[~bad])
    else:
        study._storage.set_trials_state_values(batch.trial_ids, state, V)


def _after_batch(study: Study, batch: TrialBatch, states: np.ndarray, V: np.ndarray | None) -> None:
    """The sampler's ``after_trial`` for each trial of a batch (skipped for samplers
    that do not override it: the tight loop pays nothing)."""
    sampler = study.sampler
    if type(sampler).after_trial is BaseSampler.after_trial:
        return
    for k, trial in enumerate(batch_trials(study, batch)):
        st = TrialState(int(states[k]))
        vals = V[k].tolist() if V is not None and st == _COMPLETE else None
        sampler.after_trial(study, trial, st, vals)
