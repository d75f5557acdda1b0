"""A live web dashboard of the studies in a storage (``hpo-core dashboard <storage>``).

The page lists the studies; a study's page draws its optimization history, updated
as trials finish (the server pushes them to the page with Server-Sent Events), the
parameter importances, parallel coordinates, intermediate values, the Pareto front of a
multi-objective study, and a trial table filtered by state and by value or parameter
ranges. It stays responsive at 100,000 trials: the server reads the study's columnar
history, sends columns rather than trial objects, samples the plots (see
:mod:`hpo_core.dashboard._data`) and cuts the table into pages.

The server is the standard library's ``ThreadingHTTPServer``; it needs plotly
(``pip install 'hpo_core[dashboard]'``), whose bundled ``plotly.min.js`` it serves, so
that the page loads nothing from the internet. It binds 127.0.0.1 by default.

Example:
    >>> from hpo_core.dashboard import start_server
    >>> server = start_server("sqlite:///example.db", port=0)  # doctest: +SKIP
    >>> server.url  # doctest: +SKIP
    'http://127.0.0.1:40215/'
    >>> server.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from typing import Any

from hpo_core._validation import check_bool, check_int, format_error
from hpo_core.dashboard._server import DashboardServer

__all__ = ["DashboardServer", "run_server", "start_server"]


def _make(storage: Any, host: Any, port: Any) -> DashboardServer:
    if not isinstance(host, str) or not host:
        raise TypeError(format_error("host", "a host name or address (str)", host))
    check_int("port", port, low=0, high=65535)
    return DashboardServer(storage, host, port)


def run_server(storage: Any, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the dashboard of ``storage`` until interrupted (optuna-dashboard's name).

    Args:
        storage: A database URL (``sqlite:///x.db``) or a storage object
            (``RDBStorage``, ``JournalStorage``, ``InMemoryStorage``).
        host: The address to bind; the default 127.0.0.1 serves this machine only.
        port: The port; 0 picks a free one.
    """
    server = _make(storage, host, port)
    threading.Thread(target=server.warm, name="hpo-dashboard-warm", daemon=True).start()
    print(f"hpo-core dashboard: serving {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()


def start_server(
    storage: Any, host: str = "127.0.0.1", port: int = 8080, *, warm: bool = True
) -> DashboardServer:
    """Serve the dashboard of ``storage`` from a background thread and return the server
    (its ``url``; ``stop()`` ends it). With ``warm``, the studies' histories are loaded
    before this returns, so that the first page does not wait for them.

    Args:
        storage: As for :func:`run_server`.
        host: As for :func:`run_server`.
        port: As for :func:`run_server`.
        warm: Load every study before returning.
    """
    check_bool("warm", warm)
    server = _make(storage, host, port)
    if warm:
        server.warm()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="hpo-dashboard", daemon=True
    ).start()
    return server
