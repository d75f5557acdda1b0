"""The driver's side of remote trials: the listening socket and the trial server.

:class:`Hub` listens on a TCP port with a random key (``multiprocessing.connection``
authenticates every connection with it, HMAC challenge both ways); each worker process
or Ray task connects back and names itself with a token the driver gave it. One
acceptor thread routes the connections to the driver threads waiting for them.

:func:`serve_trial` runs in a driver thread: it answers a remote objective's calls on
the real :class:`~hpo_core.Trial` until the objective reports its outcome. The wire
format is in :mod:`hpo_core.distributed._remote`.
"""

from __future__ import annotations

import pickle
import secrets
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from typing import TYPE_CHECKING, Any

from hpo_core.distributed._remote import dump_exception, load_exception, nodelay
from hpo_core.exceptions import WorkerLostError

if TYPE_CHECKING:
    from hpo_core.trial import Trial

__all__ = ["Hub", "Outcome", "serve_trial"]

_POLL = 0.2  # seconds between liveness checks while waiting for a worker
_HELLO_TIMEOUT = 10.0

# What a remote trial may call on the driver's Trial; nothing else is reachable.
_METHODS = frozenset({
    "suggest_float", "suggest_int", "suggest_categorical", "report", "should_prune",
    "set_user_attr", "set_system_attr",
})
_PROPERTIES = frozenset({"params", "distributions", "user_attrs", "intermediate_values", "datetime_start"})

#: ``lost(wait)``: None while the worker lives, else why it is gone; may block up to
#: ``wait`` seconds for a dying worker to finish dying (to read its exit code).
Lost = Callable[[float], "str | None"]


class Hub:
    """A listening socket that remote trials connect back to.

    Args:
        host: The interface to listen on (``"127.0.0.1"`` for this machine's workers).
        advertise: The host name workers connect to; ``host`` when None.
    """

    def __init__(self, host: str = "127.0.0.1", advertise: str | None = None):
        self.authkey = secrets.token_bytes(32)
        self._listener = Listener((host, 0), family="AF_INET", authkey=self.authkey)
        port = self._listener.address[1]
        self.address: tuple[str, int] = (advertise or host, port)
        self._cond = threading.Condition()
        self._expected: set[str] = set()
        self._arrived: dict[str, tuple[Connection, dict[str, Any]]] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="hpo_core-hub", daemon=True)
        self._thread.start()

    def expect(self) -> str:
        """A new token for a worker about to start; it must say it in its hello."""
        token = secrets.token_hex(16)
        with self._cond:
            self._expected.add(token)
        return token

    def _accept_loop(self) -> None:
        while True:
            try:
                conn = nodelay(self._listener.accept())
            except Exception:  # noqa: BLE001 - a bad key, a client gone mid-handshake, or closed
                if self._closed:
                    return
                continue
            if self._closed:
                conn.close()
                return
            try:
                hello = conn.recv() if conn.poll(_HELLO_TIMEOUT) else None
            except Exception:  # noqa: BLE001
                hello = None
            token = hello[1] if isinstance(hello, tuple) and len(hello) == 3 and hello[0] == "hello" else None
            with self._cond:
                if token in self._expected:
                    assert isinstance(hello, tuple) and isinstance(token, str)
                    self._expected.discard(token)
                    self._arrived[token] = (conn, dict(hello[2]))
                    self._cond.notify_all()
                    continue
            conn.close()

    def wait(self, token: str, lost: Lost, timeout: float | None = None) -> tuple[Connection, dict[str, Any]]:
        """The connection of the worker with ``token``, once it said hello.

        Raises:
            WorkerLostError: ``lost`` says the worker is gone, or ``timeout`` passed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                if token not in self._arrived:
                    self._cond.wait(_POLL)
                if token in self._arrived:
                    return self._arrived.pop(token)
            reason = lost(0.0)
            if reason is None and deadline is not None and time.monotonic() > deadline:
                reason = f"the worker did not connect back within {timeout:g} s"
            if reason is not None:
                self.forget(token)
                raise WorkerLostError(reason)

    def forget(self, token: str) -> None:
        """Stop waiting for ``token`` (its worker is gone)."""
        with self._cond:
            self._expected.discard(token)
            arrived = self._arrived.pop(token, None)
        if arrived is not None:
            arrived[0].close()

    def close(self) -> None:
        """Stop listening. Idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            arrived, self._arrived = list(self._arrived.values()), {}
        try:  # wake the acceptor, blocked in accept()
            Client(self.address, family="AF_INET", authkey=self.authkey).close()
        except Exception:  # noqa: BLE001
            pass
        self._listener.close()
        self._thread.join(timeout=2.0)
        for conn, _ in arrived:
            conn.close()


class Outcome:
    """What a remote objective reported: its value, or the exception it raised."""

    __slots__ = ("value", "error")

    def __init__(self, value: Any = None, error: BaseException | None = None):
        self.value = value
        self.error = error

    def result(self) -> Any:
        """The value, or raise the objective's exception (with its remote traceback)."""
        if self.error is not None:
            raise self.error
        return self.value


def _recv(conn: Connection, lost: Lost) -> Any:
    try:
        while not conn.poll(_POLL):
            reason = lost(0.0)
            if reason is not None:
                raise WorkerLostError(reason)
        return conn.recv()
    except (EOFError, OSError):
        raise WorkerLostError(lost(5.0) or "the connection to the worker closed") from None


def serve_trial(conn: Connection, trial: Trial, lost: Lost) -> Outcome:
    """Answer the remote objective's calls on ``trial`` until it reports back.

    Raises:
        WorkerLostError: the worker died (``lost`` says how) or closed the connection.
    """
    while True:
        msg = _recv(conn, lost)
        kind = msg[0]
        if kind == "done":
            return Outcome(value=msg[1])
        if kind == "raised":
            return Outcome(error=load_exception(msg[1], msg[2]))
        try:
            if kind == "call" and msg[1] in _METHODS:
                reply: tuple[Any, ...] = ("ok", getattr(trial, msg[1])(*msg[2], **msg[3]))
            elif kind == "get" and msg[1] in _PROPERTIES:
                reply = ("ok", getattr(trial, msg[1]))
            else:
                raise AttributeError(f"a remote trial cannot call {msg[:2]!r}")
        except Exception as e:  # noqa: BLE001 - raised in the objective, where it belongs
            reply = ("error", dump_exception(e))
        try:
            try:
                conn.send(reply)
            except (pickle.PicklingError, TypeError, AttributeError) as e:  # an unpicklable result
                conn.send(("error", dump_exception(TypeError(f"{msg[1]!r} returned an unpicklable value: {e}"))))
        except (EOFError, OSError):
            raise WorkerLostError(lost(5.0) or "the connection to the worker closed") from None
