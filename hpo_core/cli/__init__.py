"""The ``hpo-core`` command line (also ``python -m hpo_core``), over the public API only.

Optuna's commands with Optuna's names and arguments (``studies``, ``study-names``,
``create-study``, ``delete-study``, ``study set-user-attr``, ``trials``, ``best-trial``,
``best-trials``, ``ask``, ``tell``; ``--storage``, ``-f value|json|table|yaml``,
``--flatten``), and ours: ``export`` (CSV or JSON), ``plot`` (an image or an HTML page),
``worker`` (one worker of a shared study) and ``demo``. See :func:`hpo_core.__main__.main`.
"""

from hpo_core.cli._commands import add_study_commands, run_study_command
from hpo_core.cli._worker import CommandError, add_worker_parser, load_objective, run_worker

__all__ = [
    "CommandError", "add_study_commands", "add_worker_parser", "load_objective", "run_study_command", "run_worker",
]
