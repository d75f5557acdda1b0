"""The worker's side of a remote trial: :class:`RemoteTrial` and the wire format.

One protocol serves worker processes and Ray tasks. Messages are tuples sent over a
``multiprocessing.connection`` (TCP, authenticated with the driver's random key):

=========================================  ===============================================
worker -> driver                           driver -> worker
=========================================  ===============================================
``("hello", token, info)`` first message   ``("init", func_blob)`` (process workers)
``("ready",)`` / ``("init-failed", tb)``   ``("run", TrialTask)``
``("call", name, args, kwargs)``           ``("ok", result)`` / ``("error", exc_blob)``
``("get", name)``  (a property)            ``("stop",)`` (process workers)
``("done", value)`` / ``("raised", exc_blob, traceback_text)``
=========================================  ===============================================

Exceptions and the objective travel as pickles made with cloudpickle when it is
installed (it comes with Ray), so that lambdas and closures work; with the standard
pickle otherwise. An exception that cannot be pickled travels as a
:class:`RemoteError` holding its type name and message.
"""

from __future__ import annotations

import gc
import os
import pickle
import socket
import sys
import threading
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from hpo_core._devices import free_cuda_cache, local_device
from hpo_core._validation import as_real
from hpo_core.distributed._base import TrialTask
from hpo_core.exceptions import HpoError

__all__ = ["DriverLost", "nodelay", "RemoteError", "RemoteTraceback", "RemoteTrial", "dumps", "load_exception", "run_task"]

try:
    import cloudpickle as _cloudpickle
except ImportError:  # pragma: no cover - cloudpickle comes with ray
    _cloudpickle = None


def nodelay(conn: Connection) -> Connection:
    """Turn off Nagle's algorithm on ``conn``'s TCP socket and return it.

    The protocol sends small messages, some back to back (the end of the key handshake,
    then the hello): with Nagle on, the second waits for the peer's delayed ACK, 40 ms
    on Linux, which made every Ray trial 40 ms longer.
    """
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not a TCP socket
        pass
    finally:
        sock.close()
    return conn


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` with cloudpickle when installed (lambdas, closures), else pickle."""
    if _cloudpickle is not None:
        return _cloudpickle.dumps(obj)  # type: ignore[no-any-return]
    return pickle.dumps(obj)


class RemoteError(HpoError):
    """Stands for an exception of a worker that could not be pickled (its type and message)."""


class RemoteTraceback(Exception):
    """The worker's traceback, attached as ``__cause__`` of an exception it raised."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb.rstrip()}\n"""'


class DriverLost(BaseException):
    """The driver closed the connection (it ended or died): the worker stops the trial.

    A BaseException, so that an objective's ``except Exception`` does not swallow it.
    """


def dump_exception(e: BaseException) -> bytes:
    """Pickle ``e`` so that it loads again, or a :class:`RemoteError` standing for it."""
    try:
        blob = dumps(e)
        pickle.loads(blob)
        return blob
    except Exception:  # noqa: BLE001 - an exception with a custom __init__, a lock inside...
        return pickle.dumps(RemoteError(f"{type(e).__module__}.{type(e).__qualname__}: {e}"))


def load_exception(blob: bytes, tb: str | None = None) -> BaseException:
    """The exception in ``blob`` (a :class:`RemoteError` if it cannot be loaded here),
    with the worker's traceback ``tb`` as its ``__cause__``."""
    try:
        e = pickle.loads(blob)
        if not isinstance(e, BaseException):
            raise TypeError(type(e).__name__)
    except Exception as err:  # noqa: BLE001 - e.g. its class exists only in the worker
        e = RemoteError(f"an exception that could not be loaded in the driver ({err})")
    if tb:
        e.__cause__ = RemoteTraceback(tb)
    return e  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """A number as a Python float where it is one (tensors on any device, NumPy
    scalars), so that the driver needs neither CUDA nor the array library; anything
    else as it is (the driver's ``tell`` or ``report`` says what is wrong with it)."""
    if type(value) is float or type(value) is int:
        return value
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    try:
        return as_real(value, "value")
    except (TypeError, ValueError):
        if torch is not None and isinstance(value, torch.Tensor):
            return value.tolist()
        return value


def plain_values(value: Any) -> Any:
    """What the driver receives for an objective's return value."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return _plain(value)


class RemoteTrial:
    """The trial an objective receives in a worker process or a Ray task.

    It behaves like :class:`hpo_core.Trial`: every call (``suggest_*``, ``report``,
    ``should_prune``, ``set_user_attr``, and the properties ``params``,
    ``distributions``, ``user_attrs``, ``intermediate_values``, ``datetime_start``) is
    forwarded to the driver's real trial, where the sampler and pruner run, and its
    result or exception comes back. Define-by-run works as with a local trial.

    Attributes:
        number: The trial's number.
        device: The device this worker was placed on, named as this process sees it:
            ``"cuda:0"`` (the one GPU ``CUDA_VISIBLE_DEVICES`` shows it) or ``"cpu"``;
            None when ``optimize`` got no ``devices`` (for Ray tasks holding GPUs through
            ``resources_per_trial``, ``"cuda:0"``). The driver's name for it is in the
            trial's ``system_attrs["device"]``.
        checkpoint: What to resume from (``TrialTask.checkpoint``); None for a fresh trial.

    There is no ``trial.study``: the study lives in the driver. Act on it from a
    callback (``optimize(callbacks=...)``), which runs in the driver.

    Example:
        >>> import hpo_core
        >>> study = hpo_core.create_study()
        >>> def objective(trial):  # a Trial in threads, a RemoteTrial in worker processes
        ...     x = trial.suggest_float("x", -5, 5)
        ...     trial.report(x**2, step=0)
        ...     return x**2
        >>> study.optimize(objective, n_trials=4, n_jobs=2, executor="process")
        >>> len(study.trials)
        4
    """

    def __init__(self, conn: Connection, task: TrialTask, device: str | None = None):
        self._conn = conn
        self._lock = threading.Lock()  # the objective's own threads may share the trial
        self._trial_id = task.trial_id
        self.number = task.number
        self.checkpoint = task.checkpoint
        self.device = device if device is not None else (
            local_device(task.device) if task.device is not None else None)

    def _request(self, msg: tuple[Any, ...]) -> Any:
        with self._lock:
            try:
                self._conn.send(msg)
                reply = self._conn.recv()
            except (EOFError, OSError) as e:
                raise DriverLost(f"the driver closed the connection ({e or type(e).__name__})") from None
        if reply[0] == "ok":
            return reply[1]
        raise load_exception(reply[1])

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._request(("call", name, args, kwargs))

    @property
    def trial_id(self) -> int:
        return self._trial_id

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        """Suggest a float in ``[low, high]``: :meth:`hpo_core.Trial.suggest_float`."""
        return self._call("suggest_float", name, low, high, step=step, log=log)  # type: ignore[no-any-return]

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """Suggest an int in ``[low, high]``: :meth:`hpo_core.Trial.suggest_int`."""
        return self._call("suggest_int", name, low, high, step=step, log=log)  # type: ignore[no-any-return]

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """Suggest one of ``choices``: :meth:`hpo_core.Trial.suggest_categorical`."""
        return self._call("suggest_categorical", name, choices)

    def report(self, value: float | Sequence[float], step: int) -> None:
        """Report an intermediate value, or one per objective: :meth:`hpo_core.Trial.report`
        (tensors are turned into floats here, so the driver needs no GPU)."""
        self._call("report", plain_values(value), step)

    def should_prune(self) -> bool:
        """Ask the driver's pruner: :meth:`hpo_core.Trial.should_prune`."""
        return bool(self._call("should_prune"))

    def set_user_attr(self, key: str, value: Any) -> None:
        self._call("set_user_attr", key, value)

    def set_system_attr(self, key: str, value: Any) -> None:
        self._call("set_system_attr", key, value)

    @property
    def params(self) -> dict[str, Any]:
        return self._request(("get", "params"))  # type: ignore[no-any-return]

    @property
    def distributions(self) -> dict[str, Any]:
        return self._request(("get", "distributions"))  # type: ignore[no-any-return]

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._request(("get", "user_attrs"))  # type: ignore[no-any-return]

    @property
    def intermediate_values(self) -> dict[int, float]:
        return self._request(("get", "intermediate_values"))  # type: ignore[no-any-return]

    @property
    def datetime_start(self) -> Any:
        return self._request(("get", "datetime_start"))

    @property
    def study(self) -> Any:
        raise AttributeError(
            "RemoteTrial has no `study`: the study, its sampler and storage stay in the "
            "driver process. Act on the study from a callback (optimize(callbacks=...))."
        )

    def __repr__(self) -> str:
        return f"RemoteTrial(number={self.number})"


def run_task(conn: Connection, func: Any, task: TrialTask, device: str | None = None) -> None:
    """Run ``func`` on a :class:`RemoteTrial` for ``task`` and report the outcome.

    Raises:
        DriverLost: the driver went away; the worker should end.
    """
    trial = RemoteTrial(conn, task, device)
    try:
        try:
            value = func(trial)
        except DriverLost:
            raise
        except BaseException as e:  # noqa: BLE001 - every outcome goes to the driver
            msg: tuple[Any, ...] = ("raised", dump_exception(e), traceback.format_exc())
        else:
            msg = ("done", plain_values(value))
        try:
            conn.send(msg)
        except (pickle.PicklingError, TypeError, AttributeError) as e:  # an unpicklable return value
            err = TypeError(f"the objective's return value {value!r} cannot be sent to the driver: {e}")
            conn.send(("raised", dump_exception(err), ""))
        except (EOFError, OSError) as e:
            raise DriverLost(f"the driver closed the connection ({e})") from None
    finally:
        del trial
        if task.gc_after_trial:
            gc.collect()
        free_cuda_cache()
