"""The library's logger (``"hpo_core"``), with Optuna 5.0's ``optuna.logging`` functions.

By default the ``"hpo_core"`` logger prints INFO lines (one per finished trial) to
stderr through its own handler, in Optuna's format (``[I 2026-12-06 18:00:00,000]
Trial 0 finished with value: ...``), and does not propagate to the root logger. The
level constants, :func:`get_verbosity` / :func:`set_verbosity`, the default handler and
propagation switches are Optuna's, so ``optuna.logging.set_verbosity(
optuna.logging.WARNING)`` runs with the import changed.

Example:
    >>> import hpo_core
    >>> hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    >>> hpo_core.logging.get_verbosity() == hpo_core.logging.WARNING
    True
    >>> hpo_core.logging.set_verbosity(hpo_core.logging.INFO)
"""

from __future__ import annotations

import logging
import sys
import threading
from logging import CRITICAL, DEBUG, ERROR, FATAL, INFO, WARN, WARNING

__all__ = [
    "CRITICAL", "DEBUG", "ERROR", "FATAL", "INFO", "WARN", "WARNING",
    "disable_default_handler", "disable_propagation", "enable_default_handler", "enable_propagation",
    "get_logger", "get_verbosity", "set_verbosity",
]

_LIBRARY = "hpo_core"
_lock = threading.Lock()
_handler: logging.Handler | None = None


def _root() -> logging.Logger:
    return logging.getLogger(_LIBRARY)


def _configure() -> None:
    """Give the library's logger its stderr handler, INFO level and no propagation (once)."""
    global _handler
    with _lock:
        if _handler is not None:
            return
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("[%(levelname)1.1s %(asctime)s] %(message)s"))
        root = _root()
        root.addHandler(_handler)
        root.setLevel(logging.INFO)
        root.propagate = False


def get_logger(name: str | None = None) -> logging.Logger:
    """The logger ``name`` (default: the library's, ``"hpo_core"``).

    Optuna's names map onto ours, so that handlers an Optuna script attaches reach this
    library's records: ``"optuna"`` is ``"hpo_core"`` and ``"optuna.x"`` is
    ``"hpo_core.x"``; any other name is :func:`logging.getLogger`'s.

    Example:
        >>> get_logger("optuna") is get_logger() is get_logger("hpo_core")
        True
    """
    _configure()
    if name is None or name == "optuna":
        name = _LIBRARY
    elif name.startswith("optuna."):
        name = _LIBRARY + name[len("optuna"):]
    return logging.getLogger(name)


def get_verbosity() -> int:
    """The level of the library's logger (e.g. :data:`INFO`, the default)."""
    _configure()
    return _root().getEffectiveLevel()


def set_verbosity(verbosity: int) -> None:
    """Set the library logger's level: ``set_verbosity(WARNING)`` silences the per-trial
    INFO lines."""
    _configure()
    _root().setLevel(verbosity)


def disable_default_handler() -> None:
    """Stop printing the library's records to stderr (other handlers still get them)."""
    _configure()
    assert _handler is not None
    _root().removeHandler(_handler)


def enable_default_handler() -> None:
    """Print the library's records to stderr again (the default)."""
    _configure()
    assert _handler is not None
    _root().addHandler(_handler)


def disable_propagation() -> None:
    """Stop passing the library's records to the root logger (the default)."""
    _configure()
    _root().propagate = False


def enable_propagation() -> None:
    """Pass the library's records on to the root logger's handlers too (disable the
    default handler to avoid printing them twice)."""
    _configure()
    _root().propagate = True


_configure()
