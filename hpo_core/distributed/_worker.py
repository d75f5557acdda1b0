"""A ProcessExecutor worker: ``python -m hpo_core.distributed._worker``, started by the driver.

It reads one JSON line from stdin (the driver's address, key and this worker's token),
connects back, loads the objective, then runs the trials the driver sends until told to
stop or the driver goes away. Ctrl-C is the driver's to handle: the worker ignores
SIGINT and is stopped by the driver.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import traceback
from multiprocessing.connection import Client

from hpo_core.distributed._remote import DriverLost, nodelay, run_task


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    info = json.loads(sys.stdin.readline())
    sys.stdin.close()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the objective may read stdin; it gets EOF
    conn = nodelay(Client(tuple(info["address"]), family="AF_INET", authkey=bytes.fromhex(info["authkey"])))
    conn.send(("hello", info["token"], {"pid": os.getpid()}))
    try:
        msg = conn.recv()
        func = pickle.loads(msg[1])
    except (EOFError, OSError):
        return 0
    except BaseException:  # noqa: BLE001 - the driver says what went wrong
        conn.send(("init-failed", traceback.format_exc()))
        return 1
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return 0
        if msg[0] != "run":
            return 0
        try:
            run_task(conn, func, msg[1])
        except DriverLost:
            return 0


if __name__ == "__main__":
    sys.exit(main())
