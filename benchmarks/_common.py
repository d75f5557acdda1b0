"""Helpers shared by the TPE benchmark scripts: machine description and README sections."""

from __future__ import annotations

import datetime
import functools
import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

README = Path(__file__).with_name("README.md")
ROOT = Path(__file__).resolve().parent.parent


def rss_bytes() -> int | None:
    """Current resident set size (Linux ``/proc``); None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def version(dist: str) -> str:
    """Installed version of the distribution ``dist``, or ``"not installed"``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@functools.lru_cache(maxsize=None)
def git_rev() -> str:
    """Short commit of the working tree, flagged when hpo_core/ has uncommitted changes.

    Cached: the first call in a process names the code that process runs (call it
    when hpo_core is imported; the tree may move on while a long run goes). With
    uncommitted changes the name ends with a hash of ``git diff HEAD -- hpo_core``,
    so runs from the same snapshot carry the same name.
    """
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        diff = subprocess.run(["git", "-C", str(ROOT), "diff", "HEAD", "--", "hpo_core"],
                              capture_output=True, check=True).stdout
        untracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--others", "--exclude-standard",
                                    "--", "hpo_core"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff and not untracked:
        return rev
    digest = hashlib.sha1(diff + untracked).hexdigest()[:8]
    return f"{rev} + uncommitted changes in hpo_core/ (diff {digest})"


def cpu_name() -> str:
    """CPU model from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(dists: Sequence[str]) -> str:
    """Markdown bullet list: date, CPU, OS, Python and the versions of ``dists``."""
    import numpy as np

    versions = [f"hpo_core {version('hpo_core')} (git {git_rev()})", f"numpy {np.__version__}"]
    versions += [f"{d} {version(d)}" for d in dists]
    return "\n".join([
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- CPU: {cpu_name()} ({platform.machine()}), `os.cpu_count()` = {os.cpu_count()}",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        "- Versions: " + ", ".join(versions),
    ])


def write_section(path: Path, marker: str, body: str) -> None:
    """Replace the text between ``<!-- marker:start -->`` and ``<!-- marker:end -->``.

    The section is appended at the end of the file when the markers are absent; the
    rest of the file is left as it is.
    """
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    section = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def fmt_sci(x: float) -> str:
    """A regret or a loss in three significant digits (``0`` stays ``0``)."""
    if x != x:
        return "nan"
    if x == 0:
        return "0"
    return f"{x:.2e}" if abs(x) < 1e-2 or abs(x) >= 1e4 else f"{x:.3g}"
