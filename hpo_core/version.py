"""The installed version of hpo_core (as ``optuna.version``): ``hpo_core.version.__version__``."""

__version__ = "0.1.0"
