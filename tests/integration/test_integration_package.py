"""hpo_core.integration: lazy names and the install hint of a missing library."""

from __future__ import annotations

import importlib
import sys

import pytest

import hpo_core
import hpo_core.integration as integration


def test_integration_lists_its_names_and_rejects_others() -> None:
    assert {"TorchObjective", "find_lr", "OptunaSearchCV", "MLflowCallback"} <= set(integration.__all__)
    assert set(integration.__all__) <= set(dir(integration))
    assert hpo_core.integration is integration
    with pytest.raises(AttributeError, match="NoSuchCallback"):
        integration.NoSuchCallback  # noqa: B018


@pytest.mark.parametrize(
    ("module", "library"),
    [("_torch", "torch"), ("_lightning", "lightning.pytorch"), ("_xgboost", "xgboost"),
     ("_lightgbm", "lightgbm"), ("_mlflow", "mlflow"), ("_sklearn", "sklearn.base")],
)
def test_integration_missing_library_names_the_extra(module: str, library: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, f"hpo_core.integration.{module}", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'hpo_core\[integration\]'"):
        importlib.import_module(f"hpo_core.integration.{module}")
