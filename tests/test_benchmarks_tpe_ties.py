"""Smoke tests of ``benchmarks/tpe_ties.py`` (Optuna's TPE with its tie orders against hpo_core's).

Tiny configurations only; skipped, saying why, without Optuna.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load() -> Any:
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[benchmark,quality]')")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("tpe_ties")


@pytest.fixture(autouse=True)
def _restore_optuna_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The script swaps the ``np`` of Optuna's Parzen estimator module: undone after each test."""
    optuna = pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[benchmark,quality]')")
    del optuna
    from optuna.samplers._tpe import parzen_estimator

    monkeypatch.setattr(parzen_estimator, "np", parzen_estimator.np)


def test_tpe_ties_runs_every_sampler_and_reports() -> None:
    ties = _load()
    results = {f"{s}|syn_log_int|0|12": ties.run(s, "syn_log_int", 0, 12) for s in ties.SAMPLERS}
    for best in results.values():
        assert list(best) == ["3", "6", "12"] and best["12"] <= best["6"] <= best["3"]
    text = ties.report(results, ["syn_log_int"], [0], 12, 12, list(ties.SAMPLERS))
    assert "| syn_log_int | 1 |" in text and "`hpo_tpe` against `optuna_tpe`" in text


def test_tpe_ties_argsort_shims_order_ties_as_documented() -> None:
    ties = _load()
    a = np.array([10.0, 1.0, 10.0, 10.0, 2.0])
    np.testing.assert_array_equal(ties.NumpyStableArgsort("numpy").argsort(a), [1, 4, 0, 2, 3])
    hashed = ties._NumpyHashedArgsort("numpy").argsort(a)
    np.testing.assert_array_equal(a[hashed], np.sort(a))  # a sort, ties in a hashed order
    np.testing.assert_array_equal(hashed, ties._NumpyHashedArgsort("numpy").argsort(a))  # deterministic


def test_tpe_ties_shim_is_reset_between_jobs() -> None:
    ties = _load()
    from optuna.samplers._tpe import parzen_estimator

    ties.run("optuna_tpe_stable_ties", "syn_log_int", 0, 11)
    assert isinstance(parzen_estimator.np, ties.NumpyStableArgsort)
    ties.run("optuna_tpe", "syn_log_int", 0, 11)
    assert parzen_estimator.np is np
