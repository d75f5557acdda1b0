"""``LegacyStream`` under its NSGA name; it lives in :mod:`hpo_core.samplers._optuna_stream`."""

from hpo_core.samplers._optuna_stream import LegacyStream

__all__ = ["LegacyStream"]
