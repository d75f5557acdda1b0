"""examples/torch_cnn.py runs end to end with tiny settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hpo_core.trial import TrialState

pytest.importorskip("torch", reason="the example trains a PyTorch CNN")

_PATH = Path(__file__).resolve().parents[2] / "examples" / "torch_cnn.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("torch_cnn_example", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_torch_cnn_runs_with_tiny_settings(capsys: pytest.CaptureFixture[str]) -> None:
    example = _load()
    study = example.main(["--n-trials", "3", "--epochs", "2", "--n-images", "48", "--image-size", "8"])
    assert len(study.trials) == 3
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    low, high = study.user_attrs["lr_range:lr"]
    assert all(low <= t.params["lr"] <= high for t in study.trials)
    assert "best validation accuracy" in capsys.readouterr().out


def test_example_images_have_two_balanced_classes() -> None:
    x, y = _load().make_images(10, 8, seed=0)
    assert tuple(x.shape) == (10, 3, 8, 8) and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert int(y.sum()) == 5
