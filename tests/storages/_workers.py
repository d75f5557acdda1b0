"""Worker processes for the storage tests: start a script with this checkout on its
path, and wait for a marker file it writes (used by the multi-process test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """``python -c code args...`` (dedented), with this checkout first on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120.0) -> None:
    """Wait until ``path`` exists; fail (killing ``proc``) if it exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker never wrote {path.name}")
        time.sleep(0.02)


# A worker script's lines that make it start with its siblings: it writes ``ready<worker>``
# into the directory ``sync`` and waits for ``go`` there (see :func:`run_together`).
WAIT_FOR_GO = """
    (sync / f"ready{worker}").touch()
    while not (sync / "go").exists():
        time.sleep(0.01)
"""


def run_together(code: str, url: str, n_trials: int, sync: Path, workers: int = 3) -> None:
    """Start ``workers`` copies of ``code`` (argv: url, worker, n_trials, sync), wait until
    each has written its ready file, let them go together and check they all succeed: so
    that a loaded machine starting one process late does not leave another alone."""
    procs = [spawn(code, url, str(w), str(n_trials), str(sync)) for w in range(workers)]
    for w, p in enumerate(procs):
        wait_for(sync / f"ready{w}", p)
    (sync / "go").touch()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
