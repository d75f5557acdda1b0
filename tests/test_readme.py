"""README.md's Python snippets run as written, each on its own in a fresh namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

_README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCKS = re.findall(r"```python\n(.*?)```", _README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_snippets() -> None:
    assert len(_BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(_BLOCKS)))
def test_readme_snippet_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _BLOCKS[index]
    if "trials_dataframe" in code:
        pytest.importorskip("pandas", reason="the snippet calls trials_dataframe(), which needs pandas")
    if "import optuna" in code:
        pytest.importorskip(
            "optuna", reason="the snippet runs our samplers inside Optuna (pip install 'hpo_core[optuna]')"
        )
    monkeypatch.chdir(tmp_path)  # files the snippet writes (SQLite studies) go here
    namespace: dict[str, object] = {"__name__": f"readme_snippet_{index}"}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)  # noqa: S102


_SHELL = [b for b in re.findall(r"```bash\n(.*?)```", _README.read_text(encoding="utf-8"), flags=re.S)
          if b.lstrip().startswith("hpo-core ")]


def test_readme_has_command_line_snippet() -> None:
    assert _SHELL


@pytest.mark.parametrize("index", range(len(_SHELL)))
def test_readme_command_line_snippet_runs(index: int, tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("hpo-core") is None:
        pytest.skip("the hpo-core command is not on PATH (pip install the package)")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _SHELL[index]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "trials.csv").read_text().count("\n") == 2  # the header and the told trial
