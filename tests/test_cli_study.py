"""The study commands of ``hpo-core`` on a real SQLite file, in this process and, for ask
and tell, in separate processes (the trial outlives the process that asked for it)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hpo_core
from hpo_core.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
SPACE = json.dumps({"x": {"name": "FloatDistribution", "attributes": {"low": 0, "high": 1, "step": None, "log": False}},
                    "n": {"name": "IntDistribution", "attributes": {"low": 1, "high": 4, "step": 1, "log": False}}})


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "hpo_core", *argv], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _filled(url: str) -> hpo_core.Study:
    study = hpo_core.create_study(study_name="s", storage=url, direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 4), n_trials=5)
    return study


def test_ask_and_tell_from_separate_processes(url: str) -> None:
    assert _run("create-study", "--storage", url, "--study-name", "s").stdout.strip() == "s"
    asked = _run("ask", "--storage", url, "--study-name", "s", "--search-space", SPACE,
                 "--sampler", "RandomSampler", "--sampler-kwargs", '{"seed": 0}')
    assert asked.returncode == 0, asked.stderr
    record = json.loads(asked.stdout)
    assert record["number"] == 0 and 0 <= record["params"]["x"] <= 1 and 1 <= record["params"]["n"] <= 4
    # The asking process is gone; listing the trials (another process) leaves it RUNNING.
    listed = _run("trials", "--storage", url, "--study-name", "s", "-f", "json")
    assert json.loads(listed.stdout)[0]["state"] == "RUNNING"
    told = _run("tell", "--storage", url, "--study-name", "s", "--trial-number", "0", "--values", "1.25")
    assert told.returncode == 0, told.stderr
    trial = hpo_core.load_study(study_name="s", storage=url).trials[0]
    assert trial.state == hpo_core.TrialState.COMPLETE and trial.value == 1.25
    assert trial.params == record["params"]


def test_study_commands(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    study = _filled(url)
    capsys.readouterr()
    assert main(["studies", "--storage", url, "-f", "json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["name"] == "s" and summary["direction"] == ["MAXIMIZE"] and summary["n_trials"] == 5
    assert main(["--storage", url, "study-names"]) == 0  # the storage before the command, as in Optuna
    assert capsys.readouterr().out.strip() == "s"
    assert main(["study", "set-user-attr", "--storage", url, "--study-name", "s", "-k", "team", "--value", "ml"]) == 0
    assert hpo_core.load_study(study_name="s", storage=url).user_attrs == {"team": "ml"}
    assert main(["best-trial", "--storage", url, "--study-name", "s", "-f", "json", "--flatten"]) == 0
    best = json.loads(capsys.readouterr().out)
    assert best["number"] == study.best_trial.number and best["params_x"] == study.best_params["x"]
    assert main(["trials", "--storage", url, "--study-name", "s", "-f", "yaml"]) == 0
    assert capsys.readouterr().out.count("state: COMPLETE") == 5
    assert main(["trials", "--storage", url, "--study-name", "s"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("+--") and "| number |" in table[1] and len(table) == 5 + 4
    assert main(["best-trials", "--storage", url, "--study-name", "s", "-f", "value"]) == 0
    assert capsys.readouterr().out.split()[0] == str(study.best_trial.number)
    assert main(["create-study", "--storage", url, "--study-name", "s", "--skip-if-exists"]) == 0
    assert main(["create-study", "--storage", url, "--study-name", "s"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["delete-study", "--storage", url, "--study-name", "s"]) == 0
    assert hpo_core.get_all_study_names(url) == []


def test_export_csv_and_json(url: str, tmp_path: Path) -> None:
    study = _filled(url)
    out = tmp_path / "trials.csv"
    assert main(["export", "--storage", url, "--study-name", "s", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [int(r["number"]) for r in rows] == list(range(5))
    assert [float(r["params_x"]) for r in rows] == [t.params["x"] for t in study.trials]
    assert [float(r["value"]) for r in rows] == [t.value for t in study.trials]
    out_json = tmp_path / "trials.json"
    assert main(["export", "--storage", url, "--study-name", "s", "-f", "json", "-o", str(out_json)]) == 0
    data = json.loads(out_json.read_text())
    assert [d["params"]["n"] for d in data] == [t.params["n"] for t in study.trials]


def test_plot_writes_an_image_and_a_page(url: str, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install 'hpo_core[visualization]')")
    _filled(url)
    png = tmp_path / "history.png"
    assert main(["plot", "--storage", url, "--study-name", "s", "--kind", "optimization_history", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    pytest.importorskip("plotly", reason="plotly is not installed (pip install 'hpo_core[visualization]')")
    page = tmp_path / "slice.html"
    assert main(["plot", "--storage", url, "--study-name", "s", "--kind", "slice", "-o", str(page)]) == 0
    assert "plotly" in page.read_text()[:200_000].lower()


def test_errors_name_the_problem(url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HPO_CORE_STORAGE", raising=False)
    monkeypatch.delenv("OPTUNA_STORAGE", raising=False)
    assert main(["trials", "--study-name", "s"]) == 2
    assert "no storage given" in capsys.readouterr().err
    assert main(["trials", "--storage", url, "--study-name", "nope"]) == 2
    assert "no study named 'nope'" in capsys.readouterr().err
    hpo_core.create_study(study_name="s", storage=url)
    assert main(["ask", "--storage", url, "--study-name", "s", "--sampler", "NoSuchSampler"]) == 2
    assert "--sampler" in capsys.readouterr().err
    monkeypatch.setenv("HPO_CORE_STORAGE", url)  # the environment names the storage
    assert main(["study-names"]) == 0
    assert capsys.readouterr().out.strip() == "s"


def test_version_and_help_name_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"hpo-core {hpo_core.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: hpo-core") and "best-trials" in out and "export" in out


def test_detach_trials_rejects_a_non_bool() -> None:
    with pytest.raises(TypeError, match="detach_trials: `detached`"):
        hpo_core.storages.detach_trials("yes")  # type: ignore[arg-type]
