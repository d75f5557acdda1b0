"""The dashboard end to end in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium; ``.ci/run`` installs them): the studies page,
the history plot, a trial told by another process appearing without a reload, the
table's filters, the Pareto front, and no request leaving the server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import hpo_core

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "no headless Chromium: apt-get install chromium chromium-driver (.ci/run does)",
        allow_module_level=True,
    )
pytest.importorskip("selenium", reason="the browser tests drive Chromium with selenium: pip install selenium")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

TIMEOUT = 60.0


def new_browser(width: int = 1400, height: int = 1600) -> Any:
    """Headless Chromium with its network log on (``performance`` entries)."""
    options = Options()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = new_browser()
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(browser: Any, script: str, timeout: float = TIMEOUT) -> Any:
    """The first truthy value of ``script`` (a JavaScript expression) within ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        value = browser.execute_script("try { return " + script + "; } catch (e) { return null; }")
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(
                f"timed out waiting for {script!r}; browser log: {browser.get_log('browser')}"
            )
        time.sleep(0.05)


def requested_urls(browser: Any) -> set[str]:
    """Every URL the page asked for, from Chromium's network log."""
    urls = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    return urls


def test_browser_studies_page_lists_studies(server: Any, browser: Any) -> None:
    browser.get(server.url)
    names = wait_for(browser, "window.hpoDash.studies")
    assert sorted(names) == ["multi", "single"]
    links = browser.find_elements(By.CSS_SELECTOR, "#studies a.study-link")
    assert sorted(a.text for a in links) == ["multi", "single"]
    links[[a.text for a in links].index("single")].click()
    wait_for(browser, "window.hpoDash.historyDrawnAt !== null")
    assert browser.current_url.endswith("#/study/single")


def test_browser_study_page_draws_history_and_no_external_request(
    server: Any, browser: Any, storage_url: str
) -> None:
    browser.get(server.url + "#/study/single")
    wait_for(browser, "window.hpoDash.historyDrawnAt !== null")
    study = hpo_core.load_study(study_name="single", storage=storage_url)
    complete = [t for t in study.trials if t.state == hpo_core.TrialState.COMPLETE]
    xs = browser.execute_script("return Array.from(document.getElementById('history').data[0].x)")
    assert xs == [t.number for t in complete]
    best_y = browser.execute_script("return Array.from(document.getElementById('history').data[1].y)")
    assert best_y[-1] == study.best_value
    # the other plots and the table arrive after the history
    wait_for(
        browser,
        "window.hpoDash.figures.parallel && window.hpoDash.figures.importances "
        "&& window.hpoDash.figures.intermediate && window.hpoDash.tableTotal !== null",
    )
    assert browser.find_element(By.ID, "importances").find_elements(By.CSS_SELECTOR, ".main-svg")
    assert browser.execute_script("return document.getElementById('parallel').data[0].type") == "parcoords"
    urls = requested_urls(browser)
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(u.endswith("/static/plotly.min.js") for u in urls)
    external = [u for u in urls | set(resources) if not (u.startswith(server.url) or u.startswith("data:"))]
    assert external == []


def test_browser_trial_told_elsewhere_appears_without_reload(
    server: Any, browser: Any, storage_url: str
) -> None:
    browser.get(server.url + "#/study/single")
    wait_for(browser, "window.hpoDash.historyDrawnAt !== null")
    wait_for(browser, "document.getElementById('live').textContent === 'live'")
    browser.execute_script("window.notReloaded = true")
    code = (
        "import hpo_core\n"
        "hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)\n"
        f"s = hpo_core.load_study(study_name='single', storage={storage_url!r})\n"
        "t = s.ask({'x': hpo_core.distributions.FloatDistribution(-5, 5)})\n"
        "s.tell(t, -7.25)\n"
        "print(t.number)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    number = int(out.stdout.strip())
    wait_for(browser, f"window.hpoDash.seen[{number}]")
    assert browser.execute_script("return window.notReloaded") is True
    data = browser.execute_script(
        "const d = document.getElementById('history').data;"
        "return [Array.from(d[0].x), Array.from(d[0].y), Array.from(d[1].y)]"
    )
    assert number in data[0] and data[1][data[0].index(number)] == -7.25
    assert data[2][-1] == -7.25  # the new best value
    wait_for(browser, f"document.getElementById('n-trials').textContent === '{number + 1}'")


def test_browser_table_filters_by_state_and_range(server: Any, browser: Any, storage_url: str) -> None:
    trials = hpo_core.load_study(study_name="single", storage=storage_url).trials
    browser.get(server.url + "#/study/single")
    wait_for(browser, "window.hpoDash.tableTotal === 60")

    def apply(action: Callable[[], None], total: int) -> list[list[str]]:
        loads = browser.execute_script("return window.hpoDash.tableLoads")
        action()
        browser.find_element(By.ID, "apply-filter").click()
        wait_for(browser, f"window.hpoDash.tableLoads > {loads}")
        assert browser.execute_script("return window.hpoDash.tableTotal") == total
        rows = browser.find_elements(By.CSS_SELECTOR, "#trials-table tbody tr")
        return [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]

    pruned = [t.number for t in trials if t.state == hpo_core.TrialState.PRUNED]
    rows = apply(
        lambda: browser.find_element(By.CSS_SELECTOR, "#filter-states input[value=PRUNED]").click(),
        len(pruned),
    )
    header = [
        th.get_attribute("data-column") for th in browser.find_elements(By.CSS_SELECTOR, "#trials-table th")
    ]
    assert [int(r[0]) for r in rows] == pruned
    assert {r[header.index("state")] for r in rows} == {"PRUNED"}

    def x_range() -> None:
        browser.find_element(By.CSS_SELECTOR, "#filter-states input[value=PRUNED]").click()
        browser.find_element(By.CSS_SELECTOR, "#range-column option[value=x]").click()
        browser.find_element(By.ID, "range-low").send_keys("-1")
        browser.find_element(By.ID, "range-high").send_keys("1.5")

    inside = [t.number for t in trials if -1 <= t.params["x"] <= 1.5]
    rows = apply(x_range, len(inside))
    assert [int(r[0]) for r in rows] == inside
    assert all(-1 <= float(r[header.index("params_x")]) <= 1.5 for r in rows)


def test_browser_multi_objective_pareto_front(server: Any, browser: Any, storage_url: str) -> None:
    browser.get(server.url + "#/study/multi")
    wait_for(browser, "window.hpoDash.figures.pareto")
    traces = browser.execute_script(
        "return document.getElementById('pareto')._fullData.map(t => [t.name, Array.from(t.x), Array.from(t.y)])"
    )
    best = {name: (x, y) for name, x, y in traces}["Best Trial"]
    study = hpo_core.load_study(study_name="multi", storage=storage_url)
    front = sorted(tuple(t.values or ()) for t in study.best_trials)
    assert sorted(zip(*best)) == front
    # one objective's history at a time; the selector switches it
    wait_for(browser, "window.hpoDash.historyDrawnAt !== null")
    browser.find_element(By.CSS_SELECTOR, "#objective option[value='1']").click()
    want = [(t.values or [0.0, 0.0])[1] for t in study.trials if t.state == hpo_core.TrialState.COMPLETE]
    wait_for(
        browser,
        f"document.getElementById('history').data[0].y.length === {len(want)} && "
        f"document.getElementById('history').data[0].y[0] === {want[0]!r}",
    )


def test_browser_screenshot_of_a_study(server: Any, browser: Any, tmp_path: Any) -> None:
    browser.get(server.url + "#/study/single")
    wait_for(browser, "window.hpoDash.figures.intermediate && window.hpoDash.tableTotal !== null")
    path = os.path.join(tmp_path, "study.png")
    assert browser.save_screenshot(path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
