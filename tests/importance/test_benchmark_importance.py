"""Smoke test of ``benchmarks/importance.py`` on tiny studies; skipped without Optuna."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load() -> Any:
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[benchmark]')")
    pytest.importorskip("sklearn", reason="needs scikit-learn (pip install -e '.[importance]')")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("importance")


def test_benchmark_importance_compares_every_evaluator(tmp_path: Path) -> None:
    bench = _load()
    out = tmp_path / "importance.json"
    rows = bench.main(["--fanova-trials", "40", "--ped-trials", "60", "--repeats", "1",
                       "--optuna-ped-repeats", "1", "--out", str(out), "--no-readme"])
    assert [r["evaluator"] for r in rows] == ["ped_anova", "fanova", "mdi"]
    for r in rows:
        assert r["spearman"] == pytest.approx(1.0)
        assert r["max_abs_diff"] < 1e-9
    assert json.loads(out.read_text())["rows"][0]["n_trials"] == 60
    assert "| ped_anova | 60 x 8 |" in bench.report(rows, "cmd")
