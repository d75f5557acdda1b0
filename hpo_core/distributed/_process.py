"""ProcessExecutor: objectives in worker processes of this machine, the sampler in the driver.

Each slot has one long-lived worker process, started with ``python -m
hpo_core.distributed._worker`` (a fresh interpreter: no fork of the driver's threads,
database connections or CUDA context) and the driver's ``sys.path``, working directory
and environment, plus ``CUDA_VISIBLE_DEVICES`` for the slot's device. The worker
connects back to the driver's :class:`~hpo_core.distributed._hub.Hub`, receives the
pickled objective once, then runs one :class:`TrialTask` after another. A worker that
dies fails its trial (:class:`~hpo_core.exceptions.WorkerLostError`) and a new one
takes its slot for the next trial.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hpo_core._devices import visible_devices
from hpo_core._validation import check_real, format_error
from hpo_core.distributed._base import BaseExecutor, ExecutorSession, TrialTask
from hpo_core.distributed._hub import Hub, serve_trial
from hpo_core.distributed._remote import dumps
from hpo_core.exceptions import WorkerLostError

if TYPE_CHECKING:
    from hpo_core.study import Study
    from hpo_core.trial import Trial

__all__ = ["ProcessExecutor"]

_HINTS = {
    signal.SIGKILL: "; the kernel's out-of-memory killer sends it",
    signal.SIGSEGV: "; a crash in native code",
    signal.SIGABRT: "; an abort in native code",
    signal.SIGBUS: "; a crash in native code",
}


def describe_exit(code: int) -> str:
    """``proc.returncode`` in words: "killed by SIGKILL (9; ...)", "exited with code 3"."""
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"killed by signal {-code}"
        return f"killed by {sig.name} ({-code}{_HINTS.get(sig, '')})"
    return f"exited with code {code}"


def pickle_func(func: Callable[..., Any], owner: str) -> bytes:
    """``func`` pickled for the workers, or a TypeError naming ``func``."""
    try:
        return dumps(func)
    except Exception as e:
        hint = ("anything cloudpickle can pickle: no locks, open files, connections or studies "
                "in its closure")
        try:
            import cloudpickle  # noqa: F401
        except ImportError:
            hint = "a module-level function (`pip install cloudpickle` for lambdas and closures)"
        raise TypeError(format_error("func", f"picklable to run in other processes ({hint})", func, owner=owner)
                        + f" Pickling failed with {type(e).__name__}: {e}") from e


class ProcessExecutor(BaseExecutor):
    """Run each trial's objective in a worker process; the sampler stays in the driver.

    ``optimize(..., n_jobs=k, executor=ProcessExecutor())`` (or ``executor="process"``)
    starts ``k`` worker processes, one per slot, and stops them when it returns. The
    objective is pickled once (with cloudpickle when installed, so lambdas and closures
    work) and receives a :class:`~hpo_core.distributed.RemoteTrial`.

    Args:
        start_timeout: Seconds a new worker may take to start and load the objective.
        env: Extra environment variables for the workers.

    Example:
        >>> import hpo_core
        >>> from hpo_core.distributed import ProcessExecutor
        >>> study = hpo_core.create_study()
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4, n_jobs=2,
        ...                executor=ProcessExecutor())
        >>> sorted({t.state.name for t in study.trials})
        ['COMPLETE']
    """

    def __init__(self, *, start_timeout: float = 120.0, env: Mapping[str, str] | None = None):
        self.start_timeout = check_real("start_timeout", start_timeout, low=0.0, low_open=True,
                                        owner="ProcessExecutor")
        if env is not None and not (isinstance(env, Mapping) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
            raise TypeError(format_error("env", "a mapping of str to str or None", env, owner="ProcessExecutor"))
        self.env = dict(env or {})

    def _open(self, study: Study, func: Callable[..., Any], slots: list[str | None],
              gc_after_trial: bool) -> ExecutorSession:
        return _ProcessSession(pickle_func(func, "ProcessExecutor"), slots, gc_after_trial, self)

    def __repr__(self) -> str:
        return f"ProcessExecutor(start_timeout={self.start_timeout!r})"


class _Worker:
    """One worker process and its connection."""

    def __init__(self, proc: subprocess.Popen[bytes], token: str):
        self.proc = proc
        self.token = token
        self.conn: Any = None
        self.stopped = False  # by abort(): its trial failed because optimize was interrupted

    def lost(self, wait: float, number: int | None = None) -> str | None:
        if self.stopped:
            return "the worker process was stopped because optimize was interrupted"
        try:
            code = self.proc.wait(wait) if wait > 0 else self.proc.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return None if wait <= 0 else f"the worker process (pid {self.proc.pid}) closed its connection"
        what = f" running trial {number}" if number is not None else ""
        return (f"the worker process (pid {self.proc.pid}){what} died: {describe_exit(code)}. "
                "A new worker process takes its place.")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.conn is not None:
            self.conn.close()


def _child_env(extra: Mapping[str, str], device: str | None) -> dict[str, str]:
    env = {**os.environ, **extra}
    # The driver's import path, so that the objective's module (a script's directory,
    # a test module) imports in the worker as it does here.
    path = [p or os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible_devices(device)
    return env


class _ProcessSession(ExecutorSession):
    def __init__(self, func_blob: bytes, slots: list[str | None], gc_after_trial: bool,
                 executor: ProcessExecutor):
        super().__init__(slots, gc_after_trial=gc_after_trial)
        self._blob = func_blob
        self._executor = executor
        self._lock = threading.Lock()
        self._closed = False
        self._hub = Hub()
        self._workers: list[_Worker | None] = [None] * len(slots)
        started: list[_Worker] = []
        try:
            for i in range(len(slots)):  # start all, then wait for all
                started.append(self._spawn(i))
            for i, w in enumerate(started):
                self._handshake(w)
                self._workers[i] = w
        except BaseException:
            for w in started:
                w.kill()
            self._hub.close()
            raise

    def _spawn(self, slot: int) -> _Worker:
        token = self._hub.expect()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hpo_core.distributed._worker"],
            stdin=subprocess.PIPE, env=_child_env(self._executor.env, self.slots[slot]),
        )
        assert proc.stdin is not None
        # The key goes through a pipe, not the command line or the environment.
        line = {"address": list(self._hub.address), "authkey": self._hub.authkey.hex(), "token": token}
        proc.stdin.write(json.dumps(line).encode() + b"\n")
        proc.stdin.close()
        return _Worker(proc, token)

    def _handshake(self, w: _Worker) -> None:
        def lost(wait: float) -> str | None:
            return w.lost(wait)

        try:
            w.conn, _ = self._hub.wait(w.token, lost, timeout=self._executor.start_timeout)
            w.conn.send(("init", self._blob))
            reply = w.conn.recv() if w.conn.poll(self._executor.start_timeout) else ("init-failed", "timed out")
        except (WorkerLostError, EOFError, OSError) as e:
            w.kill()
            raise RuntimeError(
                f"ProcessExecutor: a worker process could not start ({e or type(e).__name__}; "
                f"{describe_exit(w.proc.returncode)}); its output is above."
            ) from None
        if reply[0] != "ready":
            w.kill()
            raise RuntimeError(
                "ProcessExecutor: `func` could not be loaded in a worker process. A function is "
                "pickled by reference to its module, which the worker imports with the driver's "
                f"sys.path; the worker said:\n{reply[1]}"
            )

    def run_task(self, slot: int, trial: Trial, task: TrialTask) -> Any:
        with self._lock:
            if self._closed:
                raise WorkerLostError("the worker process was stopped because optimize was interrupted")
            w = self._workers[slot]
        if w is None or w.proc.poll() is not None:
            if w is not None:
                w.kill()
            w = self._spawn(slot)
            self._handshake(w)
            with self._lock:
                self._workers[slot] = w
        try:
            w.conn.send(("run", task))
            outcome = serve_trial(w.conn, trial, lambda wait: w.lost(wait, task.number))
        except BaseException as e:
            # The worker is dead, or in the middle of a trial the driver gave up on
            # (interrupted): either way it will not run another.
            w.kill()
            if isinstance(e, (EOFError, OSError)):
                raise WorkerLostError(w.lost(5.0, task.number) or str(e)) from None
            raise
        return outcome.result()

    def abort(self) -> None:
        with self._lock:
            self._closed = True
            workers = [w for w in self._workers if w is not None]
        for w in workers:
            w.stopped = True
        interrupted: BaseException | None = None
        for w in workers:
            try:
                if w.proc.poll() is None:
                    w.proc.kill()
            except BaseException as e:  # noqa: BLE001 - a second Ctrl-C: stop the others first
                interrupted = interrupted or e
        if interrupted is not None:
            raise interrupted

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = [w for w in self._workers if w is not None], [None] * len(self.slots)
        for w in workers:
            if w.proc.poll() is None and not w.stopped:
                try:
                    w.conn.send(("stop",))
                except (EOFError, OSError):
                    pass
        for w in workers:
            try:
                w.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                pass
            w.kill()
        self._hub.close()
