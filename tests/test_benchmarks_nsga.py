"""Smoke tests of ``benchmarks/nsga.py``: the problem formulas on their Pareto fronts, and
tiny overhead and quality runs. Skipped, saying why, without Optuna or rustuna."""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load() -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("nsga")


@pytest.mark.parametrize("which", [1, 2, 3, 4])
def test_zdt_on_the_pareto_front(which: int) -> None:
    nsga = _load()
    f, bounds = nsga.PROBLEMS[f"zdt{which}"][0]
    assert len(bounds) == 10
    for x1 in (0.0, 0.25, 0.81):
        x = np.zeros(10)
        x[0] = x1
        f1, f2 = f(x)  # g = 1 on the front (x_i = 0 for i > 0)
        expected = {1: 1 - math.sqrt(x1), 2: 1 - x1**2, 3: 1 - math.sqrt(x1) - x1 * math.sin(10 * math.pi * x1),
                    4: 1 - math.sqrt(x1)}[which]
        assert f1 == x1 and f2 == pytest.approx(expected)


@pytest.mark.parametrize("which", [1, 2, 3, 4])
def test_dtlz_on_the_pareto_front(which: int) -> None:
    nsga = _load()
    f, bounds = nsga.PROBLEMS[f"dtlz{which}"][0]
    assert len(bounds) == (7 if which == 1 else 12)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = np.full(len(bounds), 0.5)  # g = 0 on the front
        x[:2] = rng.random(2)
        F = np.array(f(x))
        assert F.shape == (3,) and (F >= 0).all()
        if which == 1:
            assert F.sum() == pytest.approx(0.5)  # the linear front
        else:
            assert (F**2).sum() == pytest.approx(1.0)  # the unit sphere
    x = np.full(len(bounds), 0.9)
    assert sum(np.array(f(x)) ** 2) > 1.0  # off the front


def test_overhead_tiny_run_and_table() -> None:
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[benchmark]')")
    pytest.importorskip("rustuna", reason="needs rustuna (pip install -e '.[benchmark]')")
    nsga = _load()
    args = argparse.Namespace(sizes="20,60", window=10, paths="hpo_nsga2,optuna_nsga2,rustuna_nsga2,hpo_nsga3")
    res = nsga.overhead(args)
    assert set(res["cells"]) == {"hpo_nsga2", "optuna_nsga2", "rustuna_nsga2", "hpo_nsga3"}
    table = nsga.overhead_table(res)
    assert "N = 60" in table and "rustuna NSGA-II / hpo_core" in table


def test_quality_tiny_run_and_table() -> None:
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[benchmark]')")
    nsga = _load()
    args = argparse.Namespace(problems="zdt1,dtlz2", samplers=",".join(nsga.SAMPLERS), trials=30, seeds=2)
    res = nsga.quality(args)
    assert all(len(v) == 2 and min(v) >= 0 for p in res["hv"].values() for v in p.values())
    table = nsga.quality_table(res)
    assert "mean rank over problems" in table and "hpo_core NSGA-II vs Optuna NSGA-II" in table
