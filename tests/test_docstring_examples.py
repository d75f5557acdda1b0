"""Every ``Example:`` in hpo_core's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import hpo_core

_MODULES = sorted(m.name for m in pkgutil.walk_packages(hpo_core.__path__, "hpo_core."))
# Modules that need an optional dependency to import at all.
_OPTIONAL = {
    "hpo_core.kernels._jax": "jax",
    "hpo_core.kernels._jax_gp": "jax",
    "hpo_core.integration._torch": "torch",
    "hpo_core.integration._lr_finder": "torch",
    "hpo_core.integration._lightning": "lightning",
    "hpo_core.integration._sklearn": "sklearn",
    "hpo_core.integration._xgboost": "xgboost",
    "hpo_core.integration._lightgbm": "lightgbm",
    "hpo_core.integration._mlflow": "mlflow",
    "hpo_core.integration._optuna_sampler": "optuna",
    "hpo_core.integration._optuna_studies": "optuna",
}


@pytest.mark.parametrize("name", _MODULES)
def test_docstring_examples_run(name: str) -> None:
    if name in _OPTIONAL:
        pytest.importorskip(_OPTIONAL[name], reason=f"{name} needs the optional {_OPTIONAL[name]} package")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see the output)"


def test_docstring_examples_exist() -> None:
    # The parametrised test above passes vacuously for a module without examples; the
    # package as a whole has them (samplers, study, storages, kernels).
    attempted = 0
    for name in ("hpo_core.samplers.tpe._sampler", "hpo_core.study._study", "hpo_core.kernels"):
        attempted += doctest.testmod(importlib.import_module(name), report=False).attempted
    assert attempted >= 10
