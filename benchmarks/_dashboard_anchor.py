"""The anchor of ``dashboard.py``: optuna-dashboard over an Optuna SQLite study of the same
trials, in the same headless Chromium, its first plot and its delay from ``tell`` to the
page timed by a script injected before the page's own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

import numpy as np
from _dashboard_harness import SPACE, browser, objective_of, summary, wait_for

import hpo_core
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

__all__ = ["ANCHOR_STUDY", "fill_anchor_ours", "run_anchor"]

ANCHOR_STUDY = "bench-anchor"
# Injected before any page script: records when a plotly plot first holds points, and
# when a wanted trial number first appears in one (the page polls; nothing is pushed).
_WATCH = """
(function () {
  window.__firstPlot = null; window.__want = null; window.__seenAt = null;
  function has(n) {
    for (const g of document.querySelectorAll('.js-plotly-plot')) {
      for (const t of (g._fullData || [])) {
        if (!t.x || !t.x.length) continue;
        if (n === null) return true;
        for (let i = t.x.length - 1; i >= 0; i--) if (t.x[i] === n) return true;
      }
    }
    return false;
  }
  function tick() {
    if (window.__firstPlot === null && has(null)) window.__firstPlot = performance.now();
    if (window.__want !== null && window.__seenAt === null && has(window.__want)) window.__seenAt = Date.now();
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""


def _anchor_trials(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(n, 8) internal values and (n,) objective values, the same for both dashboards."""
    rng = np.random.default_rng(seed)
    cols = []
    for d in SPACE.values():
        if isinstance(d, CategoricalDistribution):
            cols.append(rng.integers(0, len(d.choices), n).astype(float))
        elif isinstance(d, IntDistribution):
            cols.append(rng.integers(d.low, d.high + 1, n).astype(float))
        elif isinstance(d, FloatDistribution) and d.log:
            cols.append(np.exp(rng.uniform(np.log(d.low), np.log(d.high), n)))
        elif isinstance(d, FloatDistribution):
            cols.append(rng.uniform(d.low, d.high, n))
    X = np.stack(cols, axis=1)
    return X, objective_of(X)


def fill_anchor_ours(url: str, n: int) -> None:
    from hpo_core.distributions import SearchSpace

    X, y = _anchor_trials(n)
    study = hpo_core.create_study(study_name=ANCHOR_STUDY, storage=url)
    space = SearchSpace(SPACE) if not isinstance(SPACE, SearchSpace) else SPACE
    study.add_trials(
        hpo_core.trial.create_trial(params=dict(zip(space.names, row)), distributions=SPACE, value=float(v))
        for row, v in zip(space.external_rows(X), y)
    )


def fill_anchor_optuna(url: str, n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        k: optuna.distributions.json_to_distribution(hpo_core.distributions.distribution_to_json(d))
        for k, d in SPACE.items()
    }
    X, y = _anchor_trials(n)
    names = list(SPACE)
    start = time.perf_counter()
    study = optuna.create_study(study_name=ANCHOR_STUDY, storage=url)
    trials = []
    for row, v in zip(X.tolist(), y.tolist()):
        params = {k: dists[k].to_external_repr(x) for k, x in zip(names, row)}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=v))
    study.add_trials(trials)
    return time.perf_counter() - start


def start_optuna_dashboard(url: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from optuna_dashboard._cli import main; sys.exit(main())",
            url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    end = time.monotonic() + 600
    while True:
        try:
            with urllib.request.urlopen(base + "api/studies", timeout=600) as r:
                r.read()
            return proc, base
        except OSError:
            if time.monotonic() > end or proc.poll() is not None:
                raise
            time.sleep(0.2)


def watched_browser() -> Any:
    d = browser()
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH})
    return d


def anchor_draws(page: str, runs: int) -> list[float]:
    """ms from navigation start until a plotly plot of the page first holds points."""
    out = []
    for _ in range(runs):
        d = watched_browser()
        try:
            d.get(page)
            out.append(float(wait_for(d, "window.__firstPlot", timeout=600)))
        finally:
            d.quit()
    return out


def anchor_tells(storage_url: str, page: str, n: int) -> list[float]:
    """ms from just before ``tell`` (Optuna) to the trial in a plot of the open page."""
    import optuna

    study = optuna.load_study(study_name=ANCHOR_STUDY, storage=storage_url)
    dists = {
        k: optuna.distributions.json_to_distribution(hpo_core.distributions.distribution_to_json(d))
        for k, d in SPACE.items()
    }
    rng = np.random.default_rng(3)
    out = []
    d = watched_browser()
    try:
        d.get(page)
        wait_for(d, "window.__firstPlot", timeout=600)
        for _ in range(n):
            t = study.ask(dists)
            x = np.array([[dists[k].to_internal_repr(t.params[k]) for k in SPACE]])
            time.sleep(float(rng.uniform(0.2, 0.5)))
            d.execute_script(f"window.__want = {t.number}; window.__seenAt = null;")
            t0 = time.time()
            study.tell(t, float(objective_of(x)[0]))
            seen = wait_for(d, "window.__seenAt", timeout=120)
            out.append(float(seen) - t0 * 1000.0)
    finally:
        d.quit()
    return out


def run_anchor(tmp: str, args: argparse.Namespace) -> dict[str, Any]:
    """optuna-dashboard over an Optuna SQLite study of ``--anchor-trials`` trials."""
    ourl = f"sqlite:///{tmp}/optuna.db"
    out: dict[str, Any] = {"fill_s": fill_anchor_optuna(ourl, args.anchor_trials)}
    start = time.perf_counter()
    proc, base = start_optuna_dashboard(ourl)
    out["ready_s"] = time.perf_counter() - start
    try:
        page = f"{base}dashboard/studies/1"
        out["draws"] = anchor_draws(page, args.anchor_runs)
        print("optuna-dashboard first plot (ms):", summary(out["draws"]), flush=True)
        out["tells"] = anchor_tells(ourl, page, args.anchor_tells)
        print("optuna-dashboard tell to page (ms):", summary(out["tells"]), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out
