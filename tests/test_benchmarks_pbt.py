"""Smoke tests of ``benchmarks/pbt.py`` (PBT against random search with the same epochs).

Tiny configurations only; skipped, saying why, without PyTorch or scikit-learn.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load() -> Any:
    pytest.importorskip("torch", reason="benchmarks/pbt.py trains PyTorch models")
    pytest.importorskip("sklearn", reason="benchmarks/pbt.py reads scikit-learn's digits")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("pbt")


@pytest.mark.parametrize("synch", [True, False])
def test_pbt_benchmark_spends_the_same_epochs_and_reports(tmp_path: Path, synch: bool) -> None:
    bench = _load()
    task = bench.Task(0)
    pbt = bench.run_pbt(task, 3, 4, 2, synch, tmp_path)
    rs = bench.run_random(task, 3, 4)
    assert rs["epochs"] == 12 and (pbt["epochs"] == 12 if synch else pbt["epochs"] >= 12)
    assert len(pbt["lr_schedule"]) == 4 and 0.0 < pbt["val_loss"] < 10.0 and 0.0 < rs["test_acc"] <= 1.0
    args = type("Args", (), {"seeds": 1, "population": 3, "epochs": 4, "interval": 2, "asynchronous": not synch})()
    text = bench.report([{"seed": 0, "pbt": pbt, "random": rs}], args, 1.0)
    assert "| PBT |" in text and "paired by seed" in text
    bench.plot([{"seed": 0, "pbt": pbt, "random": rs}], tmp_path / "pbt.png")
    assert (tmp_path / "pbt.png").stat().st_size > 0


def test_pbt_benchmark_runs_pb2_with_the_same_budget(tmp_path: Path) -> None:
    bench = _load()
    task = bench.Task(0)
    row = {"seed": 0, "pbt": bench.run_pbt(task, 3, 4, 2, True, tmp_path),
           "random": bench.run_random(task, 3, 4), "pb2": bench.run_pbt(task, 3, 4, 2, True, tmp_path, method="pb2")}
    assert row["pb2"]["epochs"] == row["pbt"]["epochs"] == 12 and 0.0 < row["pb2"]["val_loss"] < 10.0
    args = type("Args", (), {"seeds": 1, "population": 3, "epochs": 4, "interval": 2, "asynchronous": False,
                             "first_seed": 0, "pb2": True})()
    text = bench.report([row], args, 1.0)
    assert "| PB2 |" in text and "PB2 minus PBT" in text and "--pb2" in text
