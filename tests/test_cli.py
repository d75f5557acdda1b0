from __future__ import annotations

from pathlib import Path

import pytest

import hpo_core
from hpo_core.__main__ import kernel_ridge_cv_mse, main


def test_cli_demo_runs_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "--storage", url, "--n-trials", "6", "--seed", "0", "--quiet"]) == 0
    assert "6 trials (6 new" in capsys.readouterr().out
    # The resumed run passes the 10 startup trials, so its last trials come from TPE
    # reading the history back from the file.
    assert main(["demo", "--storage", url, "--n-trials", "8", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "14 trials (8 new" in out and "Best trial #" in out
    study = hpo_core.load_study(study_name="kernel-ridge-demo", storage=url)
    assert all(t.state == hpo_core.TrialState.COMPLETE for t in study.trials)
    assert study.best_value == min(t.value for t in study.trials)


def test_cli_demo_objective_is_real_model() -> None:
    from hpo_core.__main__ import _make_data

    X, y = _make_data()
    good = kernel_ridge_cv_mse(X, y, kind="rbf", alpha=1e-2, gamma=0.5)
    bad = kernel_ridge_cv_mse(X, y, kind="rbf", alpha=1e3, gamma=0.5)
    assert good < 0.05 < bad  # a well-regularized fit beats a crushed one


def test_cli_rejects_bad_n_trials(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--n-trials", "0"])
    assert "--n-trials" in capsys.readouterr().err
