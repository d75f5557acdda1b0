"""The dashboard's HTTP server: the standard library's ``ThreadingHTTPServer``.

Routes (all GET):

* ``/`` the page (``static/index.html``), ``/static/<file>`` its script and style, and
  ``/static/plotly.min.js`` from the plotly Python package, so that the page loads
  nothing from the internet.
* ``/api/studies``: the studies; ``/api/study?name=``: one study's summary.
* ``/api/history?name=&objective=``: the optimization history's points and best line
  with a cursor; ``/api/events?name=&cursor=``: Server-Sent Events, one ``trials``
  event per batch of trials finished after the cursor, pushed as the server sees them
  (it syncs the study every :data:`PUSH_INTERVAL` seconds while a page listens; the
  storages hand out only the changes since the last sync).
* ``/api/trials?name=&states=&range=&choice=&sort=&desc=&page=&size=``: one page of
  the trial table; ``/api/figure?name=&kind=&objective=``: a plotly figure as JSON.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import hpo_core
from hpo_core.dashboard._data import PAGE_SIZES, StudyState, TableQuery
from hpo_core.exceptions import StudyNotFoundError
from hpo_core.logging import get_logger

__all__ = ["DashboardServer"]

_logger = get_logger(__name__)
PUSH_INTERVAL = 0.1
KEEPALIVE = 15.0
_STATIC = os.path.join(os.path.dirname(__file__), "static")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def _plotly_js() -> str:
    try:
        import plotly
    except ImportError as e:
        raise ImportError("the dashboard needs plotly: pip install 'hpo_core[dashboard]'") from e
    path = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
    if not os.path.isfile(path):
        raise ImportError(f"plotly's bundled plotly.min.js is missing ({path}); reinstall plotly.")
    return path


class _BadRequest(Exception):
    pass


class DashboardServer(ThreadingHTTPServer):
    """The dashboard over one storage; :func:`hpo_core.dashboard.run_server` builds it.

    Attributes:
        url: ``http://host:port/`` where it listens.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(self, storage: Any, host: str, port: int) -> None:
        self.storage = hpo_core.storages.get_storage(storage)
        self.plotly_path = _plotly_js()
        self.stopping = threading.Event()
        self._states: dict[str, StudyState] = {}
        self._states_lock = threading.Lock()
        self.warmed = threading.Event()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        h, p = str(self.server_address[0]), int(self.server_address[1])
        self.url = f"http://{'[' + h + ']' if ':' in h else h}:{p}/"

    def study(self, name: str) -> StudyState:
        """The :class:`StudyState` of ``name`` (loaded once; KeyError when absent)."""
        with self._states_lock:
            state = self._states.get(name)
            if state is None:
                try:
                    study = hpo_core.load_study(study_name=name, storage=self.storage)
                except StudyNotFoundError:
                    raise KeyError(name) from None
                state = self._states[name] = StudyState(study)
            return state

    def forget(self, name: str) -> None:
        """Drop the loaded state of study ``name`` (if any)."""
        with self._states_lock:
            self._states.pop(name, None)

    def warm(self) -> None:
        """Load every study's history (a large SQLite study takes seconds the first time)."""
        try:
            for s in hpo_core.get_all_study_summaries(self.storage, include_best_trial=False):
                if self.stopping.is_set():
                    return
                self.study(s.study_name)
        except Exception:  # noqa: BLE001 - warming is an optimization; requests load on demand
            _logger.warning("dashboard: loading the studies in advance failed", exc_info=True)
        finally:
            self.warmed.set()

    def stop(self) -> None:
        """Stop serving (ends the event streams) and close the socket."""
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        _logger.debug("dashboard: " + format, *args)

    # ------------------------------------------------------------------ replies
    def _send(self, body: bytes, ctype: str, status: int = 200, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=86400" if cache else "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), allow_nan=False)
        self._send(text.encode(), "application/json", status)

    def _file(self, path: str, ctype: str, cache: bool) -> None:
        with open(path, "rb") as f:
            self._send(f.read(), ctype, cache=cache)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            self._route(url.path, q)
        except KeyError as e:
            # A study deleted meanwhile: load it afresh next time (a new one may take its name).
            self.server.forget(q.get("name", [""])[0])
            self._json({"error": f"not found: {e.args[0] if e.args else url.path}"}, HTTPStatus.NOT_FOUND)
        except _BadRequest as e:
            self._json({"error": str(e)}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # noqa: BLE001 - a storage error (a study deleted meanwhile, a database gone)
            _logger.warning("dashboard: %s failed", url.path, exc_info=True)
            try:
                self._json({"error": f"{type(e).__name__}: {e}"}, HTTPStatus.INTERNAL_SERVER_ERROR)
            except OSError:
                pass

    def _route(self, path: str, q: dict[str, list[str]]) -> None:
        srv = self.server
        if path in ("/", "/index.html"):
            return self._file(os.path.join(_STATIC, "index.html"), _TYPES[".html"], cache=False)
        if path == "/static/plotly.min.js":
            return self._file(srv.plotly_path, _TYPES[".js"], cache=True)
        if path.startswith("/static/"):
            name = path[len("/static/") :]
            ext = os.path.splitext(name)[1]
            if "/" in name or name.startswith(".") or ext not in _TYPES:
                raise KeyError(path)
            full = os.path.join(_STATIC, name)
            if not os.path.isfile(full):
                raise KeyError(path)
            return self._file(full, _TYPES[ext], cache=False)
        if path == "/api/studies":
            studies = hpo_core.get_all_study_summaries(srv.storage, include_best_trial=False)
            return self._json(
                {
                    "studies": [
                        {
                            "name": s.study_name,
                            "directions": [d.name.lower() for d in s.directions],
                            "n_trials": s.n_trials,
                            "datetime_start": s.datetime_start.isoformat(" ", "seconds")
                            if s.datetime_start
                            else None,
                        }
                        for s in studies
                    ]
                }
            )
        if path not in ("/api/study", "/api/history", "/api/trials", "/api/figure", "/api/events"):
            raise KeyError(path)
        state = srv.study(_one(q, "name"))
        if path == "/api/study":
            state.refresh(min_interval=PUSH_INTERVAL)
            return self._json(state.meta())
        if path == "/api/history":
            return self._json(state.history_payload(_int(q, "objective", 0, 0, state.n_objectives - 1)))
        if path == "/api/trials":
            state.refresh(min_interval=PUSH_INTERVAL)
            query = _table_query(q)
            try:
                return self._json(state.table(query))
            except KeyError as e:
                raise _BadRequest(
                    f"no column {e.args[0]!r} in study {state.study.study_name!r} (`range`, "
                    "`choice` and `sort` take number, value, value_<i>, duration or a parameter)."
                ) from None
        if path == "/api/figure":
            state.refresh(min_interval=PUSH_INTERVAL)
            kind = _one(q, "kind")
            if kind not in ("importances", "parallel", "intermediate", "pareto"):
                raise _BadRequest(
                    f"`kind` must be importances, parallel, intermediate or pareto, but got {kind!r}."
                )
            return self._json(state.figure(kind, _int(q, "objective", 0, 0, state.n_objectives - 1)))
        last = self.headers.get("Last-Event-ID")  # a reconnecting EventSource resumes there
        return self._events(state, int(last) if last and last.isdigit() else _int(q, "cursor", 0, 0, None))

    def _events(self, state: StudyState, cursor: int) -> None:
        """Server-Sent Events: a ``trials`` event whenever trials finished after ``cursor``."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(b"retry: 1000\n\n")
        self.wfile.flush()
        last_write = time.monotonic()
        srv = self.server
        while not srv.stopping.is_set():
            state.refresh(min_interval=PUSH_INTERVAL)
            if state.cursor > cursor:
                payload = state.update_payload(cursor)
                cursor = payload["cursor"]
                data = json.dumps(payload, separators=(",", ":"), allow_nan=False)
                self.wfile.write(f"event: trials\nid: {cursor}\ndata: {data}\n\n".encode())
                self.wfile.flush()
                last_write = time.monotonic()
            elif time.monotonic() - last_write > KEEPALIVE:
                self.wfile.write(b": keep-alive\n\n")  # finds a closed page, keeps proxies open
                self.wfile.flush()
                last_write = time.monotonic()
            srv.stopping.wait(PUSH_INTERVAL)


def _one(q: dict[str, list[str]], key: str, default: str | None = None) -> str:
    v = q.get(key)
    if not v:
        if default is None:
            raise _BadRequest(f"`{key}` is missing.")
        return default
    return v[0]


def _int(q: dict[str, list[str]], key: str, default: int, low: int, high: int | None) -> int:
    text = _one(q, key, str(default))
    try:
        v = int(text)
    except ValueError:
        raise _BadRequest(f"`{key}` must be an int, but got {text!r}.") from None
    if v < low or (high is not None and v > high):
        raise _BadRequest(
            f"`{key}` must be an int in the range [{low}, {high if high is not None else 'inf'}], "
            f"but got {v}."
        )
    return v


def _float_or_none(text: str, key: str) -> float | None:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise _BadRequest(f"`{key}` bounds must be numbers, but got {text!r}.") from None


def _table_query(q: dict[str, list[str]]) -> TableQuery:
    """``states=COMPLETE,PRUNED``, ``range=column:low:high`` (repeatable, a bound may be
    empty), ``choice=param:label`` (repeatable), ``sort``, ``desc=1``, ``page``, ``size``."""
    states = [s for s in _one(q, "states", "").split(",") if s]
    known = {s.name for s in hpo_core.TrialState}
    bad = [s for s in states if s.upper() not in known]
    if bad:
        raise _BadRequest(f"`states` must be names among {sorted(known)}, but got {bad}.")
    ranges: dict[str, tuple[float | None, float | None]] = {}
    for r in q.get("range", []):
        name, _, rest = r.rpartition(":")
        name, _, low = name.rpartition(":")
        if not name:
            raise _BadRequest(f"`range` must be column:low:high, but got {r!r}.")
        ranges[name] = (_float_or_none(low, "range"), _float_or_none(rest, "range"))
    choices = {}
    for c in q.get("choice", []):
        name, sep, label = c.partition(":")
        if not sep:
            raise _BadRequest(f"`choice` must be param:label, but got {c!r}.")
        choices[name] = label
    size = _int(q, "size", 50, 1, max(PAGE_SIZES))
    return TableQuery(
        states=states or None,
        ranges=ranges,
        choices=choices,
        sort=_one(q, "sort", "number"),
        descending=_one(q, "desc", "0") == "1",
        page=_int(q, "page", 0, 0, None),
        size=size,
    )
