"""Lazy and optional imports with install hints."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]


def import_optional(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the pip extra to install.

    Args:
        module: Importable module name, e.g. ``"pandas"``.
        extra: The hpo_core extra providing it, e.g. ``"pandas"``.
        feature: What needs it, for the message, e.g. ``"Study.trials_dataframe"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"{feature} needs the optional dependency `{module}`, which is not installed. "
            f"Install it with `pip install 'hpo_core[{extra}]'`."
        ) from e
