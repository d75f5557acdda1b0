"""Test modules have unique file names: pytest imports them by base name (no packages
under tests/), so two ``test_x.py`` in different folders stop the whole run at
collection."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_test_module_names_are_unique() -> None:
    names = Counter(p.name for d in ("tests", "benchmarks") for p in (ROOT / d).rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []
