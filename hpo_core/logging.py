"""The library's logger (``"hpo_core"``): INFO lines per finished trial by default."""

from __future__ import annotations

import logging
import sys

__all__ = ["get_logger", "set_verbosity", "disable_default_handler"]

_handler: logging.Handler | None = None


def _configure() -> None:
    global _handler
    logger = logging.getLogger("hpo_core")
    if _handler is None:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("[%(levelname)s %(asctime)s] %(message)s"))
        logger.addHandler(_handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def get_logger() -> logging.Logger:
    return logging.getLogger("hpo_core")


def set_verbosity(level: int) -> None:
    """E.g. ``set_verbosity(logging.WARNING)`` to silence per-trial lines."""
    logging.getLogger("hpo_core").setLevel(level)


def disable_default_handler() -> None:
    """Stop printing to stderr; records then propagate to the root logger."""
    global _handler
    logger = logging.getLogger("hpo_core")
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler = None
    logger.propagate = True


_configure()
