"""Smoke test of ``benchmarks/optuna_adapter.py`` (our TPE inside Optuna against our native
ask and Optuna's TPE): a tiny run of every path, its table and ratios.

Skipped, saying why, without Optuna.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_optuna_adapter_benchmark_times_every_path(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[benchmark]')")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    bench = importlib.import_module("optuna_adapter")
    args = bench.parse_args(["--size", "40", "--window", "6", "--min-window", "3", "--cell-budget", "1"])
    cells = bench.measure(list(bench.PATHS), args, list(zip(bench.random_params(40, seed=1), [0.5] * 40)))
    assert all(c.error is None for c in cells.values()), {p: c.error for p, c in cells.items()}
    assert all(len(c.total_ns) >= 3 for c in cells.values())
    for path in ("adapter_space", "adapter_dbr", "optuna_tpe", "optuna_random"):
        # The split: time inside the sampler is part of the ask+tell.
        assert 0 < cells[path].median_us("part") <= cells[path].median_us()
    text = bench.table(cells, args)
    assert "adapter ask+tell / native ask+tell" in text and "Optuna TPE ask+tell / adapter" in text
    with pytest.raises(SystemExit):
        bench.parse_args(["--paths", "nope"])
    capsys.readouterr()
