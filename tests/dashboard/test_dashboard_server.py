"""The dashboard's HTTP API over a real SQLite study: studies, history, the live event
stream, the trial table's filters and pages, the figures, the bind address, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core.dashboard import start_server
from hpo_core.dashboard._data import MAX_POINTS


def get(server: Any, path: str, **params: Any) -> Any:
    query = urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(
        server.url + path.lstrip("/") + ("?" + query if query else ""), timeout=30
    ) as r:
        return json.loads(r.read())


def get_error(server: Any, path: str, **params: Any) -> tuple[int, str]:
    with pytest.raises(urllib.error.HTTPError) as e:
        get(server, path, **params)
    return e.value.code, json.loads(e.value.read())["error"]


def test_dashboard_binds_loopback_by_default(storage_url: str) -> None:
    srv = start_server(storage_url, port=0, warm=False)
    try:
        assert srv.server_address[0] == "127.0.0.1"
        assert srv.url.startswith("http://127.0.0.1:")
    finally:
        srv.stop()


def test_dashboard_rejects_bad_arguments(storage_url: str) -> None:
    with pytest.raises(ValueError, match="port"):
        start_server(storage_url, port=70000)
    with pytest.raises(TypeError, match="host"):
        start_server(storage_url, host=None)  # type: ignore[arg-type]


def test_dashboard_lists_studies(server: Any) -> None:
    studies = {s["name"]: s for s in get(server, "/api/studies")["studies"]}
    assert set(studies) == {"single", "multi"}
    assert studies["single"]["n_trials"] == 60
    assert studies["multi"]["directions"] == ["minimize", "minimize"]


def test_dashboard_serves_page_and_bundled_plotly(server: Any) -> None:
    with urllib.request.urlopen(server.url, timeout=30) as r:
        html = r.read().decode()
    assert "/static/plotly.min.js" in html and "http://" not in html and "https://" not in html
    import plotly

    with open(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"), "rb") as f:
        bundled = f.read()
    with urllib.request.urlopen(server.url + "static/plotly.min.js", timeout=30) as r:
        assert r.read() == bundled
    for bad in ("static/../_data.py", "static/nothing.js", "api/nothing"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server.url + bad, timeout=30)
        assert e.value.code == 404


def test_dashboard_history_is_the_complete_trials_and_best_line(server: Any, storage_url: str) -> None:
    study = hpo_core.load_study(study_name="single", storage=storage_url)
    complete = [t for t in study.trials if t.state == hpo_core.TrialState.COMPLETE]
    h = get(server, "/api/history", name="single")
    assert h["numbers"] == [t.number for t in complete]
    assert h["values"] == [t.value for t in complete]
    best, line = float("inf"), []
    for t in complete:
        assert t.value is not None
        if t.value < best:
            best = t.value
            line.append(t.number)
    assert h["best_numbers"] == line and h["best_values"][-1] == study.best_value


def test_dashboard_history_samples_large_studies_keeping_improvements(tmp_path: Any) -> None:
    from hpo_core.distributions import FloatDistribution

    url = f"sqlite:///{tmp_path / 'large.db'}"
    study = hpo_core.create_study(
        study_name="large", storage=url, sampler=hpo_core.samplers.RandomSampler(seed=0)
    )
    batch = study.ask_array({"x": FloatDistribution(0.0, 1.0)}, 5_000)
    values = np.abs(batch.params[:, 0] - 0.5)
    study.tell_array(batch, values)
    srv = start_server(url, port=0)
    try:
        h = get(srv, "/api/history", name="large")
    finally:
        srv.stop()
    best = np.minimum.accumulate(values)
    improvements = np.flatnonzero(np.r_[True, best[1:] < best[:-1]])
    assert h["n_complete"] == 5_000
    assert MAX_POINTS <= len(h["numbers"]) <= MAX_POINTS + len(improvements)
    assert h["best_numbers"] == improvements.tolist()
    assert set(improvements.tolist()) <= set(h["numbers"])


def read_events(url: str, out: list[dict[str, Any]], want: int) -> None:
    with urllib.request.urlopen(url, timeout=30) as r:
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if len(out) >= want:
                    return


def test_dashboard_pushes_trials_told_from_another_process(server: Any, storage_url: str) -> None:
    cursor = get(server, "/api/history", name="single")["cursor"]
    events: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=read_events,
        daemon=True,
        args=(f"{server.url}api/events?name=single&cursor={cursor}", events, 1),
    )
    reader.start()
    code = (
        "import hpo_core, sys\n"
        "hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)\n"
        f"s = hpo_core.load_study(study_name='single', storage={storage_url!r})\n"
        "t = s.ask({'x': hpo_core.distributions.FloatDistribution(-5, 5)})\n"
        "s.tell(t, -123.5)\n"
        "print(t.number)\n"
    )
    number = int(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
        ).stdout.strip()
    )
    reader.join(timeout=60)
    assert events, "no event arrived"
    e = events[0]
    assert e["numbers"] == [number] and e["states"] == ["COMPLETE"] and e["values"] == [[-123.5]]
    assert e["n_trials"] == 61 and e["cursor"] == cursor + 1


def test_dashboard_table_filters_by_state_and_ranges(server: Any, storage_url: str) -> None:
    trials = hpo_core.load_study(study_name="single", storage=storage_url).trials
    pruned = [t.number for t in trials if t.state == hpo_core.TrialState.PRUNED]
    t = get(server, "/api/trials", name="single", states="PRUNED")
    assert t["total"] == len(pruned) and t["columns"]["number"] == pruned
    assert set(t["columns"]["state"]) == {"PRUNED"}

    want = [
        x.number
        for x in trials
        if x.state == hpo_core.TrialState.COMPLETE and 0 <= x.params["x"] <= 2.5 and x.params["c"] == "a"
    ]
    t = get(server, "/api/trials", name="single", states="COMPLETE", range="x:0:2.5", choice="c:a")
    assert t["columns"]["number"] == want
    assert all(0 <= v <= 2.5 for v in t["columns"]["params_x"]) and set(t["columns"]["params_c"]) == {"a"}

    open_high = [
        x.number
        for x in trials
        if x.state == hpo_core.TrialState.COMPLETE and x.value is not None and x.value >= 5.0
    ]
    assert (
        get(server, "/api/trials", name="single", range="value:5:", size=200)["columns"]["number"]
        == open_high
    )


def test_dashboard_table_sorts_and_pages(server: Any, storage_url: str) -> None:
    trials = hpo_core.load_study(study_name="single", storage=storage_url).trials
    complete = sorted(
        (t for t in trials if t.state == hpo_core.TrialState.COMPLETE), key=lambda t: -t.params["lr"]
    )
    pages = [
        get(server, "/api/trials", name="single", states="COMPLETE", sort="lr", desc=1, page=p, size=10)
        for p in range(5)
    ]
    numbers = [n for p in pages for n in p["columns"]["number"]]
    assert numbers == [t.number for t in complete]
    assert pages[0]["total"] == len(complete) and len(pages[0]["columns"]["number"]) == 10
    first = pages[0]["columns"]
    assert first["params_n"][0] == complete[0].params["n"] and first["value"][0] == complete[0].value


def test_dashboard_table_rejects_bad_queries(server: Any) -> None:
    code, msg = get_error(server, "/api/trials", name="single", states="DONE")
    assert code == 400 and "states" in msg
    code, msg = get_error(server, "/api/trials", name="single", range="nothing:0:1")
    assert code == 400 and "nothing" in msg
    code, msg = get_error(server, "/api/trials", name="single", size=1000)
    assert code == 400 and "size" in msg
    code, msg = get_error(server, "/api/study", name="absent")
    assert code == 404 and "absent" in msg


def test_dashboard_figures(server: Any, storage_url: str) -> None:
    imp = get(server, "/api/figure", name="single", kind="importances")
    assert sorted(imp["data"][0]["y"]) == ["c", "lr", "n", "x"]
    par = get(server, "/api/figure", name="single", kind="parallel")
    assert par["data"][0]["type"] == "parcoords"
    inter = get(server, "/api/figure", name="single", kind="intermediate")
    assert len(inter["data"]) > 0
    study = hpo_core.load_study(study_name="multi", storage=storage_url)
    front = get(server, "/api/figure", name="multi", kind="pareto")
    best = [t for t in front["data"] if t["name"] == "Best Trial"][0]
    assert len(best["x"] if isinstance(best["x"], list) else best["x"]["bdata"]) > 0
    assert len(study.best_trials) > 0
    code, msg = get_error(server, "/api/figure", name="single", kind="contour")
    assert code == 400 and "kind" in msg


def test_cli_dashboard_serves_a_storage(storage_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpo_core", "dashboard", storage_url, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + (
            proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
        )
        url = line.split("serving ")[1].split()[0]
        with urllib.request.urlopen(url + "api/studies", timeout=60) as r:
            assert {s["name"] for s in json.loads(r.read())["studies"]} == {"single", "multi"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_dashboard_help_names_its_arguments() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hpo_core", "dashboard", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--host" in out and "--port" in out and "127.0.0.1" in out and "STORAGE" in out


def test_dashboard_pushes_trials_told_from_another_thread() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    study = hpo_core.create_study(study_name="threads", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    srv = start_server(storage, port=0)
    try:
        cursor = get(srv, "/api/history", name="threads")["cursor"]
        events: list[dict[str, Any]] = []
        url = f"{srv.url}api/events?name=threads&cursor={cursor}"
        reader = threading.Thread(target=read_events, args=(url, events, 1), daemon=True)
        reader.start()
        teller = threading.Thread(
            target=lambda: study.optimize(lambda t: 5.0 + t.suggest_float("x", 0, 1), n_trials=2)
        )
        teller.start()
        teller.join(timeout=60)
        reader.join(timeout=60)
    finally:
        srv.stop()
    assert events and events[0]["numbers"][0] == 3
    assert all(v > 5.0 for v in events[0]["values"][0])


def test_dashboard_events_resume_after_last_event_id(server: Any, storage_url: str) -> None:
    study = hpo_core.load_study(study_name="single", storage=storage_url)
    cursor = get(server, "/api/history", name="single")["cursor"]
    for value in (1.0, 2.0, 3.0):
        t = study.ask({"x": hpo_core.distributions.FloatDistribution(-5, 5)})
        study.tell(t, value)
    # A reconnecting EventSource sends the id of the last event it got: here, after the first trial.
    request = urllib.request.Request(
        f"{server.url}api/events?name=single&cursor={cursor}", headers={"Last-Event-ID": str(cursor + 1)}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        for raw in r:
            line = raw.decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                break
    assert event["values"] == [[2.0, 3.0]] and event["cursor"] == cursor + 3


def test_dashboard_study_deleted_and_recreated(server: Any, storage_url: str) -> None:
    assert get(server, "/api/study", name="single")["n_trials"] == 60
    hpo_core.delete_study(study_name="single", storage=storage_url)
    codes = []
    for _ in range(100):  # the server syncs at most every 0.1 s
        try:
            get(server, "/api/trials", name="single")
        except urllib.error.HTTPError as e:
            codes.append(e.code)
            break
        time.sleep(0.05)
    assert codes == [404]
    study = hpo_core.create_study(study_name="single", storage=storage_url)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert get(server, "/api/study", name="single")["n_trials"] == 2
    assert get(server, "/api/trials", name="single")["total"] == 2
