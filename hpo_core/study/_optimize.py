"""The ``Study.optimize`` loop: threads, executors, devices, timeouts, callbacks, failures.

The loop runs ``n_jobs`` driver threads; each asks a trial, runs the objective on it
and tells the outcome, so the sampler always works in this process. Where the
objective runs is the executor's business:

- ``executor=None`` (or ``"thread"``): in the driver thread itself;
- an executor object (``hpo_core.distributed.ProcessExecutor``, ``RayExecutor``; the
  names ``"process"`` and ``"ray"`` are registered by :mod:`hpo_core.distributed`,
  which sits above this module): the driver thread hands the trial to the executor's
  session and serves the remote objective's calls until it reports back.

The interface an executor object offers this loop (duck-typed here; the abstract
classes and their documentation are in ``hpo_core.distributed``)::

    session = executor.open(study, func, slots=[device or None, ...], gc_after_trial=bool)
    session.run(slot, trial)  # blocks; the objective's value, or raises its exception
                              # (or WorkerLostError when the worker died)
    session.abort()           # optimize was interrupted: end the running trials now
    session.close()

With ``devices``, driver thread ``i`` holds device slot ``i`` (:mod:`hpo_core._devices`)
for all its trials; the device is recorded in each trial's system attrs (``device``).

Heartbeats are the storage's (one thread per process beats every RUNNING trial it owns,
:mod:`hpo_core.storages._heartbeat`); stale trials of other workers are checked when
the loop starts and before asks (:mod:`hpo_core.study._stale`)."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from hpo_core._devices import device_slots, free_cuda_cache, is_out_of_memory
from hpo_core._validation import (
    check_bool,
    check_callable,
    check_int,
    check_real,
    format_error,
)
from hpo_core.exceptions import (
    FailedTrialWarning,
    TrialPruned,
    UpdateFinishedTrialError,
    WorkerLostError,
)
from hpo_core.study._progress import ProgressBar
from hpo_core.study._stale import fail_stale_trials, failed_as_stale
from hpo_core.trial import FrozenTrial, Trial, TrialState

if TYPE_CHECKING:
    from hpo_core.study._study import Study

__all__ = ["optimize", "register_executor"]

_logger = logging.getLogger("hpo_core")

# Executors by name, filled by hpo_core.distributed when it is imported (hpo_core's
# __init__ imports it, so the names exist whenever hpo_core does).
_EXECUTORS: dict[str, Callable[[], Any]] = {}


def register_executor(name: str, factory: Callable[[], Any]) -> None:
    """Make ``optimize(executor=name)`` use ``factory()`` (an executor with default settings)."""
    _EXECUTORS[name] = factory


def _resolve_executor(executor: Any) -> Any:
    """None for threads, else an object with ``open`` (see the module docstring)."""
    if executor is None or executor == "thread":
        return None
    names = ", ".join(repr(n) for n in ["thread", *sorted(_EXECUTORS)])
    allowed = f"None, one of {names}, or an executor object (hpo_core.distributed.BaseExecutor)"
    if isinstance(executor, str):
        if executor not in _EXECUTORS:
            raise ValueError(format_error("executor", allowed, executor))
        return _EXECUTORS[executor]()
    if isinstance(executor, type) or not callable(getattr(executor, "open", None)):
        raise TypeError(format_error("executor", allowed, executor))
    return executor


def _slots(n_jobs: int, devices: Any, trials_per_device: Any) -> list[str | None]:
    """One entry per driver thread: its device, or None without ``devices``."""
    placed = device_slots(devices, trials_per_device)
    if placed is None:
        return [None] * ((os.cpu_count() or 1) if n_jobs == -1 else n_jobs)
    if n_jobs == -1:
        return list(placed)
    if n_jobs > len(placed):
        raise ValueError(format_error(
            "n_jobs", f"-1 or an int in the range [1, {len(placed)}] (len(devices) * trials_per_device) "
            "when `devices` is given", n_jobs))
    return list(placed[:n_jobs])


class _Budget:
    """Shared across threads: how many trials may still start, and until when."""

    def __init__(self, n_trials: int | None, timeout: float | None):
        self._lock = threading.Lock()
        self._left = n_trials
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self.done = 0

    def take(self, study: Study) -> bool:
        with self._lock:
            if study._stop_flag:
                return False
            if self._deadline is not None and time.monotonic() >= self._deadline:
                return False
            if self._left is not None:
                if self._left <= 0:
                    return False
                self._left -= 1
            return True


def _check_args(
    func: Any, n_trials: Any, timeout: Any, n_jobs: Any, catch: Any, callbacks: Any,
    gc_after_trial: Any, show_progress_bar: Any,
) -> tuple[tuple[type[BaseException], ...], list[Callable[..., None]], int]:
    check_callable("func", func)
    check_int("n_trials", n_trials, low=0, allow_none=True)
    check_real("timeout", timeout, low=0.0, allow_none=True)
    check_int("n_jobs", n_jobs)
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(format_error("n_jobs", "an int >= 1, or -1 for one per CPU", n_jobs))
    if isinstance(catch, type):
        catch = (catch,)
    try:
        catch = tuple(catch)
    except TypeError:
        raise TypeError(format_error("catch", "an exception class or a tuple of them", catch)) from None
    for c in catch:
        if not (isinstance(c, type) and issubclass(c, BaseException)):
            raise TypeError(format_error("catch", "an exception class or a tuple of them", catch))
    cbs = list(callbacks or [])
    for i, cb in enumerate(cbs):
        check_callable(f"callbacks[{i}]", cb)
    check_bool("gc_after_trial", gc_after_trial)
    check_bool("show_progress_bar", show_progress_bar)
    return catch, cbs, n_jobs


def optimize(
    study: Study,
    func: Callable[[Trial], Any],
    *,
    n_trials: int | None,
    timeout: float | None,
    n_jobs: int,
    catch: Iterable[type[Exception]] | type[Exception],
    callbacks: Iterable[Callable[[Study, FrozenTrial], None]] | None,
    gc_after_trial: bool,
    show_progress_bar: bool,
    executor: Any = None,
    devices: Any = None,
    trials_per_device: Any = 1,
) -> None:
    catch_t, cbs, n_jobs = _check_args(
        func, n_trials, timeout, n_jobs, catch, callbacks, gc_after_trial, show_progress_bar
    )
    slots = _slots(n_jobs, devices, trials_per_device)
    runner = _resolve_executor(executor)
    study._stop_flag = False
    fail_stale_trials(study, force=True)
    session = None
    if runner is not None:
        # Starts the workers and ships them `func`: a func that cannot be pickled or
        # loaded fails here, before any trial.
        session = runner.open(study, func, slots=slots, gc_after_trial=gc_after_trial)
        catch_t = (*catch_t, WorkerLostError)  # a dead worker fails its trial only
    budget = _Budget(n_trials, timeout)  # the timeout counts from when the workers are ready
    bar = ProgressBar(n_trials, timeout) if show_progress_bar else None

    def worker(slot: int) -> None:
        device = slots[slot]
        objective = _slot_objective(func, session, slot, device)
        while budget.take(study):
            if study.sampler.is_exhausted(study):
                study.stop()
                break
            frozen = _run_trial(study, objective, catch_t, device)
            if bar is not None:
                bar.update(study)
            for cb in cbs:
                cb(study, frozen)
            if gc_after_trial:
                gc.collect()
            if device is not None and session is None:
                free_cuda_cache()  # the workers of an executor free their own

    try:
        if len(slots) == 1:
            worker(0)
        else:
            _run_threads(study, worker, len(slots), session)
    except BaseException:
        if session is not None:
            session.abort()
        raise
    finally:
        if session is not None:
            session.close()
        if bar is not None:
            bar.close()


def _slot_objective(func: Callable[[Trial], Any], session: Any, slot: int,
                    device: str | None) -> Callable[[Trial], Any]:
    """What a driver thread calls on each of its trials."""
    if session is not None:
        return lambda trial: session.run(slot, trial)
    if device is None:
        return func

    def placed(trial: Trial) -> Any:
        trial.device = device
        return func(trial)

    return placed


def _run_threads(study: Study, worker: Callable[[int], None], n: int, session: Any) -> None:
    """Run ``worker(0) ... worker(n - 1)`` on threads; raise the first error among them."""
    pool = ThreadPoolExecutor(max_workers=n)
    try:
        futures = [pool.submit(worker, i) for i in range(n)]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            # This thread was interrupted (Ctrl-C): remote trials end now, their workers
            # stopped; thread trials finish their run (a thread cannot be stopped).
            study.stop()
            if session is not None:
                session.abort()
            raise
        if any(f.done() and f.exception() is not None for f in futures):
            study.stop()  # let the other threads finish their trial and end
        wait(futures)
        for f in futures:
            f.result()
    finally:
        pool.shutdown(wait=True)


def record_failure(trial: Trial, error: BaseException) -> bool:
    """In the ``except`` block of a failed trial: write its ``fail_reason`` (the
    traceback; a dead worker's message, which says all there is) and, if it ran out of
    memory, ``out_of_memory``. Returns whether it did. A storage that is down leaves
    them unwritten; the state written next reports the outage."""
    reason = str(error) if isinstance(error, WorkerLostError) else traceback.format_exc()
    oom = is_out_of_memory(error)
    try:
        trial.set_system_attr("fail_reason", reason)
        if oom:
            trial.set_system_attr("out_of_memory", True)
    except Exception:  # noqa: BLE001
        pass
    return oom


def _run_trial(
    study: Study,
    func: Callable[[Trial], Any],
    catch: tuple[type[BaseException], ...],
    device: str | None = None,
) -> FrozenTrial:
    trial = study.ask()
    state = TrialState.FAIL
    values: Any = None
    error: BaseException | None = None
    stale = release = False
    try:
        if device is not None:
            trial.set_system_attr("device", device)
        values = func(trial)
        state = TrialState.COMPLETE
    except TrialPruned:
        state = TrialState.PRUNED
    except UpdateFinishedTrialError as e:
        # The objective wrote to its trial after a peer failed it as stale (this worker
        # was paused): warn and go on; anything else is a real error.
        stale = failed_as_stale(study, trial._trial_id, "the rest of its run")
        if not stale:
            error = e
    except BaseException as e:  # noqa: BLE001 - every failure is recorded, then handled below
        error = e
        oom = record_failure(trial, e)
        if oom:
            # A trial too big for the device fails alone: its memory is released below,
            # once the error (whose traceback's frames hold its tensors) is dropped, and
            # the study goes on, whatever ``catch`` is.
            warnings.warn(
                f"Trial {trial.number} ran out of memory ({type(e).__name__}: {str(e)[:200]}); it is marked "
                "FAIL and the study goes on.",
                FailedTrialWarning,
                stacklevel=3,
            )
            error = None
            release = True
        elif isinstance(e, Exception):
            warnings.warn(
                f"Trial {trial.number} failed with {type(e).__name__}: {e}",
                FailedTrialWarning,
                stacklevel=3,
            )
    finally:
        if not stale:
            _finish(study, trial, state, values)
    if release:  # out of memory: the handled error, its frames and tensors are gone now
        gc.collect()
        free_cuda_cache()
    frozen = study._storage.get_trial(trial._trial_id)
    _log_trial(study, frozen)
    if error is not None and not isinstance(error, catch):
        raise error
    return frozen


def _finish(study: Study, trial: Trial, state: TrialState, values: Any) -> None:
    """Tell the trial's outcome. Whatever goes wrong in ``tell`` (a sampler's
    ``after_trial``, a storage error), the trial still ends, as FAIL with the error in
    its ``fail_reason`` attribute, before the error propagates."""
    local = study._thread_local
    local.fail_on_error = True  # a failing after_trial: tell leaves the state to us
    try:
        if state == TrialState.COMPLETE and values is None:
            reason = "the objective returned None instead of a value"
            warnings.warn(f"Trial {trial.number} is marked FAIL: {reason}.", FailedTrialWarning, stacklevel=4)
            trial.set_system_attr("fail_reason", reason)
            study.tell(trial, state=TrialState.FAIL)
        elif state == TrialState.COMPLETE:
            study.tell(trial, values)
        else:
            study.tell(trial, state=state)
    except BaseException as e:
        try:
            trial.set_system_attr("fail_reason", f"tell raised {type(e).__name__}: {e}")
        except Exception:  # noqa: BLE001 - finished already, or the storage is down
            pass
        try:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            pass  # tell stored a state before it raised (a failing storage write)
        raise
    finally:
        local.fail_on_error = False


def _log_trial(study: Study, frozen: FrozenTrial) -> None:
    if not _logger.isEnabledFor(logging.INFO):
        return
    # Optuna 5.0's lines, word for word, so that logs read and parse the same.
    if frozen.state == TrialState.COMPLETE and frozen.values is not None:
        names = study._metric_names_for_logs()
        values: Any = frozen.values if names is None else dict(zip(names, frozen.values))
        if len(study.directions) > 1:
            _logger.info(f"Trial {frozen.number} finished with values: {values} and parameters: "
                         f"{frozen.params}.")
            return
        value = frozen.values[0] if names is None else values
        msg = f"Trial {frozen.number} finished with value: {value} and parameters: {frozen.params}."
        try:
            best = study.best_trial
            msg += f" Best is trial {best.number} with value: {best.value}."
        except ValueError:
            pass
        _logger.info(msg)
    elif frozen.state == TrialState.PRUNED:
        _logger.info(f"Trial {frozen.number} pruned. ")
    else:
        _logger.info("Trial %d finished as %s.", frozen.number, frozen.state.name)
