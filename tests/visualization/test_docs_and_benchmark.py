"""docs/visualization.md's images exist; benchmarks/plots.py runs end to end (tiny)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_docs_visualization_images_exist() -> None:
    text = (ROOT / "docs" / "visualization.md").read_text()
    images = re.findall(r"\]\((images/[^)]+\.png)\)", text)
    assert len(images) >= 18
    for rel in images:
        assert (ROOT / "docs" / rel).is_file(), rel


@pytest.mark.slow
def test_benchmark_plots_tiny_run(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    pytest.importorskip("plotly")
    pytest.importorskip("matplotlib")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import plots
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    out = tmp_path / "plots.json"
    plots.main(["--sizes", "30", "--steps", "2", "--repeats", "1", "--no-readme", "--results", str(out)])
    results = json.loads(out.read_text())
    row = results["times"]["30"]
    assert all(f"{name}|hpo_core plotly" in row and f"{name}|Optuna matplotlib" in row for name in plots.PLOTS)
    assert "| `plot_contour` |" in plots.report(results)
