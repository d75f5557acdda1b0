"""Dashboard timings in headless Chromium (issue 16): the first page of a 100,000-trial
study, and the delay from ``tell`` to the new trial on the page.

A SQLite study of ``--trials`` COMPLETE trials (eight parameters: five floats, one of
them log-scale, an int and a categorical) is written in batches with ``ask_array`` /
``tell_array``; ``hpo-core dashboard`` serves the file from its own process, as a user
starts it. Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by selenium)
then measures:

* **first draw**: navigation start to the optimization-history plot drawn
  (``window.hpoDash.historyDrawnAt``, ``performance.now()`` when ``Plotly.react``
  resolved), in a fresh browser (empty cache: plotly.min.js, 4.8 MB, is fetched and
  compiled) and on a reload in the same browser (cached), ``--runs`` times each;
* **tell to page**: ``--tells`` times, this process asks and tells a trial on the same
  file; the page records the wall-clock time at which the pushed trial was drawn
  (``window.hpoDash.seen``); the delay is that time minus the time just before
  ``tell``. The server checks the study for new trials every 0.1 s while a page
  listens, and pushes them (Server-Sent Events).

Medians, with the minimum and maximum. With ``--screenshots DIR`` it also saves the
pictures of docs/dashboard.md (the studies page, the 100,000-trial study, a
multi-objective study, a pruned study's intermediate values)::

    nice python benchmarks/dashboard.py --screenshots docs/images      # README figures
    nice python benchmarks/dashboard.py --trials 2000 --runs 2 --tells 5 --no-readme

Writes ``benchmarks/results/dashboard.json`` and the README section (``--no-readme``
to skip).

The space, objective, browser and timing summary live in ``_dashboard_harness.py``, the
optuna-dashboard anchor in ``_dashboard_anchor.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402
from _dashboard_anchor import ANCHOR_STUDY, fill_anchor_ours, run_anchor  # noqa: E402
from _dashboard_harness import SPACE, browser, objective_of, summary, wait_for  # noqa: E402

import hpo_core  # noqa: E402

RESULTS = Path(__file__).with_name("results") / "dashboard.json"
STUDY = "bench-100k"


def fill(url: str, n_trials: int) -> float:
    """Write the big study; seconds taken."""
    start = time.perf_counter()
    study = hpo_core.create_study(
        study_name=STUDY, storage=url, sampler=hpo_core.samplers.RandomSampler(seed=0)
    )
    left = n_trials
    while left:
        k = min(left, 10_000)
        batch = study.ask_array(SPACE, k)
        study.tell_array(batch, objective_of(batch.params))
        left -= k
    return time.perf_counter() - start


def fill_demos(url: str) -> None:
    """Two small real studies for the screenshots: TPE with the median pruner and
    reports at 20 steps; NSGA-II on two objectives."""

    def train(t: hpo_core.Trial) -> float:
        lr = t.suggest_float("lr", 1e-4, 1e-1, log=True)
        width = t.suggest_int("width", 16, 256, log=True)
        act = t.suggest_categorical("activation", ["relu", "tanh", "gelu"])
        floor = 0.05 + 0.2 * abs(np.log10(lr) + 2.2) + 20 / width + (0.1 if act == "tanh" else 0.0)
        loss = 2.0
        for step in range(20):
            loss = floor + (loss - floor) * (0.75 + 0.1 * abs(np.log10(lr) + 2.2) / 2)
            t.report(loss, step)
            if t.should_prune():
                raise hpo_core.TrialPruned()
        return loss

    pruned = hpo_core.create_study(
        study_name="demo-pruned",
        storage=url,
        sampler=hpo_core.samplers.TPESampler(seed=0),
        pruner=hpo_core.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3),
    )
    pruned.optimize(train, n_trials=120)

    def two(t: hpo_core.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0.0, 1.0)
        y = t.suggest_float("y", 0.0, 1.0)
        z = t.suggest_float("z", 0.0, 1.0)
        g = 1 + 4 * (y + z) / 2
        return x, g * (1 - np.sqrt(x / g))

    multi = hpo_core.create_study(
        study_name="demo-multi",
        storage=url,
        directions=["minimize", "minimize"],
        sampler=hpo_core.samplers.NSGAIISampler(seed=0, population_size=40),
    )
    multi.set_metric_names(["error", "latency"])
    multi.optimize(two, n_trials=600)


def start_server(url: str) -> tuple[subprocess.Popen[str], str, float]:
    """``hpo-core dashboard URL --port 0`` in its own process; its address, and the
    seconds until the big study's summary came back (its history loaded from SQLite)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpo_core", "dashboard", url, "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    address = line.split("serving ")[1].split()[0]
    import urllib.request

    with urllib.request.urlopen(f"{address}api/study?name={STUDY}", timeout=600) as r:
        r.read()
    return proc, address, time.perf_counter() - start


def first_draws(address: str, runs: int, study: str = STUDY) -> dict[str, list[float]]:
    """Milliseconds from navigation start to the history plot: fresh browser and reload."""
    out: dict[str, list[float]] = {
        "cold": [],
        "warm": [],
        "plotly_cold": [],
        "data_cold": [],
        "preview_cold": [],
        "preview_warm": [],
    }
    page = f"{address}#/study/{study}"
    for _ in range(runs):
        d = browser()
        try:
            d.get(page)
            out["cold"].append(float(wait_for(d, "window.hpoDash.historyDrawnAt")))
            out["plotly_cold"].append(float(d.execute_script("return window.hpoDash.plotlyLoadedAt")))
            out["data_cold"].append(float(d.execute_script("return window.hpoDash.historyDataAt")))
            out["preview_cold"].append(_first_picture(d))
            d.get("about:blank")
            d.get(page)
            out["warm"].append(float(wait_for(d, "window.hpoDash.historyDrawnAt")))
            out["preview_warm"].append(_first_picture(d))
        finally:
            d.quit()
    return out


def _first_picture(d: Any) -> float:
    """When the history was first on screen: the canvas picture drawn before plotly.js
    loaded, or the plotly plot when plotly.js came first."""
    v = d.execute_script(
        "return window.hpoDash.historyPreviewAt === undefined ? window.hpoDash.historyDrawnAt "
        ": window.hpoDash.historyPreviewAt"
    )
    return float(v)


def tell_latencies(url: str, address: str, n: int) -> list[float]:
    """Milliseconds from just before ``tell`` to the trial drawn on an open page."""
    study = hpo_core.load_study(study_name=STUDY, storage=url)
    d = browser()
    rng = np.random.default_rng(1)
    out = []
    try:
        d.get(f"{address}#/study/{STUDY}")
        wait_for(d, "window.hpoDash.historyDrawnAt")
        wait_for(d, "document.getElementById('live').textContent === 'live'")
        for _ in range(n):
            t = study.ask(SPACE)
            x = np.array([[SPACE[k].to_internal_repr(t.params[k]) for k in SPACE]])
            value = float(objective_of(x)[0])
            time.sleep(float(rng.uniform(0.2, 0.5)))  # not in phase with the server's 0.1 s checks
            t0 = time.time()
            study.tell(t, value)
            seen = wait_for(d, f"window.hpoDash.seen[{t.number}]", timeout=60)
            out.append(float(seen) - t0 * 1000.0)
    finally:
        d.quit()
    return out


def screenshots(address: str, folder: Path) -> list[str]:
    """The pictures of docs/dashboard.md."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    d = browser(1400, 1000)
    try:
        d.get(address)
        wait_for(d, "window.hpoDash.studies")
        d.set_window_size(1400, 420)
        saved.append(str(folder / "dashboard_studies.png"))
        d.save_screenshot(saved[-1])
        for name, file, height in (
            (STUDY, "dashboard_study.png", 2300),
            ("demo-multi", "dashboard_multi.png", 1150),
            ("demo-pruned", "dashboard_pruned.png", 2300),
        ):
            d.set_window_size(1400, height)
            d.get("about:blank")
            d.get(f"{address}#/study/{name}")
            wait_for(
                d,
                "window.hpoDash.figures.intermediate && window.hpoDash.figures.parallel "
                "&& window.hpoDash.tableTotal !== null",
            )
            time.sleep(1.0)  # plotly's transitions
            saved.append(str(folder / file))
            d.save_screenshot(saved[-1])
        # the pruned study's intermediate values, and its table filtered to PRUNED trials
        from selenium.webdriver.common.by import By

        card = d.execute_script(
            "const c = document.getElementById('intermediate').parentElement; c.scrollIntoView(); return c"
        )
        saved.append(str(folder / "dashboard_intermediate.png"))
        card.screenshot(saved[-1])
        loads = d.execute_script("return window.hpoDash.tableLoads")
        d.find_element(By.CSS_SELECTOR, "#filter-states input[value=PRUNED]").click()
        d.find_element(By.CSS_SELECTOR, "#range-column option[value=lr]").click()
        d.find_element(By.ID, "range-high").send_keys("0.01")
        d.find_element(By.ID, "page-size").find_element(By.CSS_SELECTOR, "option[value='10']").click()
        wait_for(d, f"window.hpoDash.tableLoads > {loads}")
        time.sleep(0.5)
        card = d.execute_script(
            "const c = document.getElementById('trials-table').closest('section'); "
            "c.scrollIntoView(); return c"
        )
        saved.append(str(folder / "dashboard_table.png"))
        card.screenshot(saved[-1])
    finally:
        d.quit()
    return saved


def report(res: dict[str, Any]) -> str:
    d, n = res["draws"], res["n_trials"]
    return "\n".join(
        [
            f"`nice python benchmarks/dashboard.py {res['args']}`, git {res['git']}. Milliseconds, median "
            f"(min-max) of {len(d['cold'])} runs (first draw) and {len(res['tells'])} trials (tell to page); "
            "headless Chromium and the server on the same machine, which is shared with other jobs.",
            "",
            res["machine"],
            f"- Chromium: {res['chromium']}; load average during the run: {res['load']}",
            "",
            "| measure | target | hpo_core |",
            "| --- | --- | --- |",
            f"| fresh browser ({n:,} trials): the history first on screen (canvas picture while plotly.js loads) "
            f"| 2,000 | {summary(d['preview_cold'])} |",
            f"| fresh browser: the interactive plotly history plot drawn | 2,000 | {summary(d['cold'])} |",
            f"| - of which: the history's columns arrived | | {summary(d['data_cold'])} |",
            f"| - of which: plotly.min.js (4.8 MB) fetched and run | | {summary(d['plotly_cold'])} |",
            f"| reload (cached): the history first on screen | 2,000 | {summary(d['preview_warm'])} |",
            f"| reload (cached): the interactive plotly history plot drawn | 2,000 | {summary(d['warm'])} |",
            f"| `tell` to the trial drawn on the open page | 1,000 | {summary(res['tells'])} |",
            "",
            f"Writing the study ({n:,} trials, `ask_array`/`tell_array` in batches of 10,000): "
            f"{res['fill_s']:.1f} s. Starting `hpo-core dashboard` until the study's summary came back "
            f"(its history read from SQLite once): {res['server_ready_s']:.1f} s; later pages read it from memory "
            "and sync only the changes.",
            "",
            anchor_report(res),
        ]
    )


def anchor_report(res: dict[str, Any]) -> str:
    a = res["anchor"]
    if "draws" not in a:
        return "optuna-dashboard: " + a.get("skipped", "not run (--anchor-trials 0).")
    n = res["anchor_trials"]
    ours = a["ours"]
    ratio = statistics.median(a["draws"]) / statistics.median(ours["cold"])
    tell_ratio = statistics.median(a["tells"]) / statistics.median(res["tells"])
    return "\n".join(
        [
            f"Anchor: optuna-dashboard {_common.version('optuna-dashboard')} (it serves its own JavaScript bundle, "
            f"so it also works offline) on an Optuna SQLite study of the same {n:,} trials (Optuna's `add_trials`: "
            f"{a['fill_s']:.0f} s; its server answered after {a['ready_s']:.1f} s), fresh browser each run. Its "
            "first plot is timed when a plotly plot of the page first holds points (a script injected before the "
            "page's own); a told trial, when its number first appears in a plot. optuna-dashboard fetches the "
            "study again on a timer; hpo_core's server pushes.",
            "",
            f"| measure ({n:,} trials) | hpo_core | optuna-dashboard | ratio |",
            "| --- | --- | --- | --- |",
            f"| first plot, fresh browser | {summary(ours['cold'])} | {summary(a['draws'])} | {ratio:.1f}x |",
            f"| first picture, fresh browser | {summary(ours['preview_cold'])} | - | |",
            f"| `tell` to the trial on the page (hpo_core: the {res['n_trials']:,}-trial study above) "
            f"| {summary(res['tells'])} | {summary(a['tells'])} | {tell_ratio:.1f}x |",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument(
        "--runs", type=int, default=5, help="fresh browsers for the first draw (default: %(default)s)"
    )
    ap.add_argument(
        "--tells", type=int, default=20, help="trials told while the page is open (default: %(default)s)"
    )
    ap.add_argument("--screenshots", type=Path, default=None, help="save the docs' pictures in this folder")
    ap.add_argument(
        "--anchor-trials",
        type=int,
        default=10_000,
        help="optuna-dashboard's study size (0: none; default: %(default)s)",
    )
    ap.add_argument("--anchor-runs", type=int, default=3)
    ap.add_argument("--anchor-tells", type=int, default=5)
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()
    git = _common.git_rev()
    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    tmp = tempfile.mkdtemp(prefix="hpo_dashboard_bench_")
    url = f"sqlite:///{tmp}/bench.db"
    try:
        fill_s = fill(url, args.trials)
        print(f"wrote {args.trials:,} trials in {fill_s:.1f} s", flush=True)
        if args.screenshots is not None:
            fill_demos(url)
        anchor: dict[str, Any] = {}
        try:
            import optuna_dashboard  # noqa: F401
        except ImportError:
            args.anchor_trials = 0
            anchor["skipped"] = "optuna-dashboard is not installed (pip install optuna-dashboard)."
        if args.anchor_trials:
            fill_anchor_ours(url, args.anchor_trials)
        proc, address, ready_s = start_server(url)
        print(f"server at {address}, ready in {ready_s:.1f} s", flush=True)
        try:
            draws = first_draws(address, args.runs)
            print("first draw (ms):", {k: summary(v) for k, v in draws.items()}, flush=True)
            tells = tell_latencies(url, address, args.tells)
            print("tell to page (ms):", summary(tells), flush=True)
            if args.screenshots is not None:
                print("saved", screenshots(address, args.screenshots), flush=True)
            if args.anchor_trials:
                anchor["ours"] = first_draws(address, args.anchor_runs, ANCHOR_STUDY)
                print(
                    "ours at the anchor's size (ms):",
                    {k: summary(v) for k, v in anchor["ours"].items()},
                    flush=True,
                )
                try:
                    anchor.update(run_anchor(tmp, args))
                except Exception as e:  # noqa: BLE001 - the anchor is optional; say why it is missing
                    anchor["skipped"] = f"failed ({type(e).__name__}: {e})."
                    print("optuna-dashboard:", anchor["skipped"], flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    chromium = subprocess.run(
        [shutil.which("chromium") or "chromium", "--version"], capture_output=True, text=True
    ).stdout.strip()
    argv = " ".join(sys.argv[1:])
    res = {
        "args": argv,
        "git": git,
        "n_trials": args.trials,
        "anchor_trials": args.anchor_trials,
        "fill_s": fill_s,
        "server_ready_s": ready_s,
        "draws": draws,
        "tells": tells,
        "chromium": chromium,
        "load": " / ".join(f"{a:.1f}" for a in load) + f" (1, 5, 15 min, at the end; {os.cpu_count()} cores)",
        "machine": _common.machine_info(["plotly", "selenium"]),
        "anchor": anchor,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1))
    text = report(res)
    print(text)
    if not args.no_readme:
        _common.write_section(_common.README, "dashboard", text)


if __name__ == "__main__":
    main()
