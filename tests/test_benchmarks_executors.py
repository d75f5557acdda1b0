"""Smoke test of benchmarks/executors.py: a tiny throughput run and its README section."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load() -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("executors")


def test_executors_benchmark_throughput_and_report() -> None:
    bench = _load()
    args = argparse.Namespace(workers=[1, 2], rounds=2, repeats=1, ray_repeats=1, tune_repeats=1, ray_trials=10)
    rows = bench.throughput(args, lambda msg: None)
    assert [(r["kind"], r["workers"], r["n"]) for r in rows] == [
        ("threads", 1, 2), ("threads", 2, 4), ("processes", 1, 2), ("processes", 2, 4)]
    assert all(0 < r["eff_busy"] <= 1.05 and r["wall"] >= r["busy"] for r in rows)
    ray_res = {"init": 3.0, "hpo": [1.0, 1.2, 0.9], "tune": [50.0]}
    text = bench.report(args, "python benchmarks/executors.py", rows, ray_res, (1.0, 1.0, 1.0))
    assert "| processes | 2 | 4 |" in text and "| 1.00 | 10 | 1.00, 1.20, 0.90 |" in text
    assert "Ray Tune + `OptunaSearch`" in text and "2 cores" in text
