"""``benchmarks/tpe_variants.py``: the screen of TPE variants against the plain TPE (issue 11)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from hpo_core.kernels import _backends

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def test_plain_run_is_quality_runs_and_skipseen_repeats_less(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    tv, quality = _load("tpe_variants"), _load("quality")
    rec = quality.run_one("hpo_tpe:skip_evaluated=False", "tab_enet_diabetes", 0, 50)  # the plain TPE
    before = os.environ.get("HPO_CORE_BACKEND")
    try:  # run_one picks the backend through the environment and patches the NumPy kernels
        os.environ["HPO_CORE_BACKEND"] = before or ""
        runs = dict(tv.run_one((v, "tab_enet_diabetes", 0, 50)) for v in ("base", "skipseen", "catsharp"))
    finally:
        if before is None:
            os.environ.pop("HPO_CORE_BACKEND", None)
        else:
            os.environ["HPO_CORE_BACKEND"] = before
        tv.patch_reference("base")  # the NumPy reference kernels as they were
        _backends._reset_default()
    base, skip = runs["base|tab_enet_diabetes|0|50"], runs["skipseen|tab_enet_diabetes|0|50"]
    # The plain variant is quality.py's hpo_tpe run without skip_evaluated (regret = best value - f_opt).
    f_opt = _load("_problems").problem_by_name("tab_enet_diabetes").f_opt
    common = sorted(set(base["best"]) & set(rec["best"]))
    assert common == ["25", "50"]
    assert [base["best"][c] for c in common] == pytest.approx(
        [rec["best"][c] - f_opt for c in common], abs=1e-12
    )
    assert [base["distinct"][c] for c in common] == [rec["distinct"][c] for c in common]
    # Skipping evaluated candidates leaves fewer repeats on this 462-point table.
    assert base["distinct"]["50"] < 50 and skip["distinct"]["50"] > base["distinct"]["50"]
    out = tmp_path / "v.json"
    tv.store(out, runs)
    text = tv.compare("skipseen", "base", "discrete", 50, out)
    assert "skipseen against base on discrete (50 trials)" in text and "@ 25: wins" in text
    assert "base: repeated configurations @ 25 / 50: " in text
