"""What ``dashboard.py`` and its optuna-dashboard anchor share: the eight-parameter space
and objective of the studies, headless Chromium (selenium), waiting for a value the page
records, and the summary of the timings (median, min-max).
"""

from __future__ import annotations

import shutil
import statistics
import time
from typing import Any

import numpy as np

from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

__all__ = ["SPACE", "browser", "objective_of", "summary", "wait_for"]

SPACE = {
    "x0": FloatDistribution(-5.0, 5.0),
    "x1": FloatDistribution(-5.0, 5.0),
    "x2": FloatDistribution(0.0, 1.0),
    "x3": FloatDistribution(0.0, 1.0),
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "dropout": FloatDistribution(0.0, 0.5),
    "layers": IntDistribution(1, 8),
    "optimizer": CategoricalDistribution(["adam", "sgd", "rmsprop", "adagrad"]),
}


def objective_of(X: np.ndarray) -> np.ndarray:
    """(n, 8) internal values -> (n,) losses with clearly different parameter weights."""
    return (
        X[:, 0] ** 2
        + 0.5 * (X[:, 1] - 1) ** 2
        + 2.0 * X[:, 2]
        + 0.1 * X[:, 3]
        + 0.3 * (np.log10(X[:, 4]) + 3) ** 2
        + 0.2 * X[:, 5]
        + 0.05 * X[:, 6]
        + np.array([0.0, 0.8, 0.3, 0.5])[X[:, 7].astype(int)]
    )


def browser(width: int = 1400, height: int = 1000) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )


def wait_for(driver: Any, script: str, timeout: float = 120.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        v = driver.execute_script("try { return " + script + "; } catch (e) { return null; }")
        if v:
            return v
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {script!r}: {driver.get_log('browser')}")
        time.sleep(0.05)  # the page records its own times; polling fast only takes its CPU


def summary(ms: list[float]) -> str:
    return f"{statistics.median(ms):,.0f} ({min(ms):,.0f}-{max(ms):,.0f})"
