"""``hpo-core worker``: real worker processes on one SQLite file, and its errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import hpo_core
from hpo_core import TrialState
from hpo_core.__main__ import main

ROOT = Path(__file__).resolve().parents[2]

OBJECTIVES = """
    import os, pathlib, time

    def quadratic(trial):
        x = trial.suggest_float("x", -5, 5)
        trial.set_user_attr("pid", os.getpid())
        time.sleep(0.02)
        return (x - 2) ** 2

    def hangs(trial):
        trial.suggest_float("x", 0, 1)
        pathlib.Path("started").write_text("in a trial")
        time.sleep(600)

    NOT_CALLABLE = 3
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "objectives.py").write_text(textwrap.dedent(OBJECTIVES))
    return tmp_path


def _worker(workdir: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "hpo_core", "worker", "--storage", url, "--study", "s", *args],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_worker_cli_several_workers_share_one_study(workdir: Path) -> None:
    url = f"sqlite:///{workdir / 's.db'}"
    hpo_core.create_study(storage=url, study_name="s")
    procs = [_worker(workdir, url, "--objective", "objectives:quadratic", "--n-trials", "8",
                     "--seed", str(k), "--quiet") for k in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    trials = hpo_core.load_study(study_name="s", storage=url).trials
    assert [t.number for t in trials] == list(range(24))  # none lost, numbers dense
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["pid"] for t in trials}) == 3


def test_worker_cli_sigterm_fails_the_running_trial_at_once(workdir: Path) -> None:
    url = f"sqlite:///{workdir / 't.db'}"
    hpo_core.create_study(storage=url, study_name="s")
    p = _worker(workdir, url, "--objective", "objectives:hangs", "--n-trials", "1", "--quiet")
    deadline = time.monotonic() + 120
    while not (workdir / "started").exists():
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM
    [trial] = hpo_core.load_study(study_name="s", storage=url).trials
    assert trial.state == TrialState.FAIL and "SystemExit" in trial.system_attrs["fail_reason"]


@pytest.mark.parametrize(
    "objective, message",
    [
        ("objectives", "--objective must be MODULE:FUNCTION"),
        ("no_such_module:f", "cannot import module 'no_such_module'"),
        ("objectives:missing", "module 'objectives' has no attribute 'missing'"),
        ("objectives:NOT_CALLABLE", "'NOT_CALLABLE' is a int, not a function"),
    ],
)
def test_worker_cli_bad_objective_says_what_is_wrong(
    workdir: Path, objective: str, message: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the command adds the directory
    url = f"sqlite:///{workdir / 'b.db'}"
    hpo_core.create_study(storage=url, study_name="s")
    assert main(["worker", "--storage", url, "--study", "s", "--objective", objective]) == 2
    assert message in capsys.readouterr().err
    sys.modules.pop("objectives", None)


def test_worker_cli_missing_study_says_how_to_create_it(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "path", list(sys.path))
    url = f"sqlite:///{workdir / 'm.db'}"
    assert main(["worker", "--storage", url, "--study", "nope", "--objective", "objectives:quadratic"]) == 2
    err = capsys.readouterr().err
    assert "no study named 'nope'" in err and "create_study(study_name='nope'" in err
    sys.modules.pop("objectives", None)


def test_worker_cli_runs_in_process_with_a_sampler(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "path", list(sys.path))
    url = f"sqlite:///{workdir / 'r.db'}"
    hpo_core.create_study(storage=url, study_name="s")
    args = ["worker", "--storage", url, "--study", "s", "--objective", "objectives:quadratic", "--quiet"]
    assert main([*args, "--n-trials", "3", "--sampler", "random", "--seed", "1"]) == 0
    assert main([*args, "--timeout", "0.2", "--sampler", "qmc"]) == 0
    trials = hpo_core.load_study(study_name="s", storage=url).trials
    assert len(trials) > 3 and all(t.state == TrialState.COMPLETE for t in trials)
    sys.modules.pop("objectives", None)


def test_worker_cli_rejects_bad_numbers(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{workdir / 'n.db'}"
    assert main(["worker", "--storage", url, "--study", "s", "--objective", "a:b", "--n-trials", "0"]) == 2
    assert "--n-trials must be >= 1" in capsys.readouterr().err
