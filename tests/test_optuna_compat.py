"""docs/optuna_compat.md is the table docs/optuna_compat.py writes from the installed
Optuna: regenerated whenever the public API changes, every missing name has a reason."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="optuna is not installed: the table is built from Optuna 5.0's public names")

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "optuna_compat.py"


def _module():
    spec = importlib.util.spec_from_file_location("optuna_compat", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def test_table_is_up_to_date() -> None:
    # A fresh interpreter: the API as a user imports it, whatever earlier tests did to
    # this process's modules.
    import subprocess

    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"run: python docs/optuna_compat.py\n{done.stderr[-2000:]}"


def test_every_row_says_what_or_why() -> None:
    rows = _module().table()
    assert len(rows) > 150
    for row in rows:
        assert row.status in ("same", "different", "missing")
        if row.status != "same":
            assert row.detail, row
    names = {(r.module, r.name): r.status for r in rows}
    assert names[("optuna.study", "MaxTrialsCallback")] == "same"
    assert names[("optuna", "copy_study")] == "same"
    # Same arguments, different behaviour at the defaults (docs/optuna_compat.py BEHAVIOUR).
    assert names[("optuna.pruners", "SuccessiveHalvingPruner")] == "different"
