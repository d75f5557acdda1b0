"""Shared pieces of the scenario scripts: the database fixtures of the storage tests
(loaded from ``tests/storages/conftest.py`` under another module name, so that both
directories keep their own ``conftest``) and a runner for worker processes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "_storage_fixtures", Path(__file__).resolve().parents[1] / "storages" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_storage_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_storage_fixtures)

postgres_url = _storage_fixtures.postgres_url

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_workers(script: str, args: list[str], *, n_workers: int, timeout: float = 90.0) -> list[str]:
    """Start ``n_workers`` Python processes running ``script`` (the same file in several
    terminals, as a user would) with ``args``, wait for all and return their stdout.

    Raises AssertionError with a worker's stderr when one exits non-zero.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args, str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(n_workers)
    ]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, f"worker exited with {p.returncode}:\n{err[-3000:]}"
        outputs.append(out)
    return outputs


@pytest.fixture
def run_workers() -> Callable[..., list[str]]:
    """Runs worker processes: ``run_workers(script, args, n_workers=3)`` (see
    :func:`_run_workers`)."""
    return _run_workers
