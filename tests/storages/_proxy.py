"""A TCP proxy that loses one answer: the failure mode of a database whose connection
drops right after it received a command (used by test_reconnect.py and
test_journal_redis_outage.py)."""

from __future__ import annotations

import socket
import threading
import time


class CuttingProxy:
    """Forwards TCP between clients and ``(host, port)``. Armed, it passes the next
    client message containing ``marker`` to the server, lets the server act on it, and
    cuts both sides before the server's answer reaches the client."""

    def __init__(self, host: str, port: int, marker: bytes):
        self._target = (host, port)
        self._marker = marker
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.armed = threading.Event()
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            held = threading.Event()  # set: the server's answers on this link are dropped
            threading.Thread(target=self._pump, args=(client, server, True, held), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False, held), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, to_server: bool, held: threading.Event) -> None:
        try:
            while data := src.recv(65536):
                cut = to_server and self.armed.is_set() and self._marker in data
                if cut:
                    self.armed.clear()
                    held.set()
                if to_server or not held.is_set():
                    dst.sendall(data)
                if cut:
                    time.sleep(0.5)  # the server acts on it; its answer is dropped
                    for sock in (src, dst):
                        sock.shutdown(socket.SHUT_RDWR)
                    self.cut.set()
                    return
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                sock.close()

    def close(self) -> None:
        self._listener.close()
