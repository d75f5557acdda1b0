"""Integrations with training libraries; each library is imported on first use.

- PyTorch: :class:`TorchObjective` (device, per-trial seeding, per-epoch pruning, memory
  released after each trial), :func:`trial_device`, :func:`seed_everything`,
  :func:`trial_seed`; a learning-rate range test, :func:`find_lr` and :class:`LRRange`,
  whose range an objective reads back with :func:`suggest_lr`.
- PyTorch Lightning: :class:`PyTorchLightningPruningCallback`.
- scikit-learn: :class:`OptunaSearchCV` (also importable as ``HpoSearchCV``).
- XGBoost and LightGBM: :class:`XGBoostPruningCallback`, :class:`LightGBMPruningCallback`.
- MLflow: :class:`MLflowCallback`.
- Optuna: :class:`OptunaSampler` runs any sampler of ours inside ``optuna.create_study``;
  :func:`from_optuna` and :func:`to_optuna` copy studies between Optuna's storages and ours.

The names and arguments are optuna-integration's where it has them. ``import
hpo_core.integration`` imports none of these libraries: a name loads its module (and its
library) when first used, and a missing library raises an ImportError naming the
``integration`` extra (``pip install 'hpo_core[integration]'``).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TorchObjective": "_torch",
    "seed_everything": "_torch",
    "trial_device": "_torch",
    "trial_seed": "_torch",
    "LRRange": "_lr_finder",
    "find_lr": "_lr_finder",
    "suggest_lr": "_lr_finder",
    "PyTorchLightningPruningCallback": "_lightning",
    "OptunaSearchCV": "_sklearn",
    "HpoSearchCV": "_sklearn",
    "XGBoostPruningCallback": "_xgboost",
    "LightGBMPruningCallback": "_lightgbm",
    "MLflowCallback": "_mlflow",
    "OptunaSampler": "_optuna_sampler",
    "from_optuna": "_optuna_studies",
    "to_optuna": "_optuna_studies",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpo_core.integration' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hpo_core.integration.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
