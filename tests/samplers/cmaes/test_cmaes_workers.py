"""Worker processes sharing one CMA-ES run through a real SQLite file."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import hpo_core
from hpo_core.samplers.cmaes import _run
from hpo_core.samplers.cmaes._populations import GENERATION_ATTR, STATE_ATTR

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "storages"))
from _workers import WAIT_FOR_GO, run_together, spawn  # noqa: E402  (tests/storages/_workers.py)

pytest.importorskip("cmaes", reason="CmaEsSampler needs `pip install 'hpo_core[cmaes]'`")

WORKER = """
    import sys, logging
    import hpo_core
    from hpo_core.samplers import CmaEsSampler
    hpo_core.logging.set_verbosity(logging.WARNING)
    import pathlib, time
    url, worker, n, sync = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), pathlib.Path(sys.argv[4])
    sampler = CmaEsSampler(seed=worker, popsize=6)
    study = hpo_core.create_study(storage=url, study_name="cma", load_if_exists=True, sampler=sampler)
    # Start together: each worker says it is ready, then waits for the test's go, so
    # that a loaded machine starting one process late does not leave another alone.
    WAIT_FOR_GO
    def objective(trial):
        trial.set_user_attr("worker", worker)
        time.sleep(0.005)  # trials of the workers interleave
        return sum((trial.suggest_float(f"x{i}", -5, 5) - 1) ** 2 for i in range(4))
    study.optimize(objective, n_trials=n)
"""
WORKER = WORKER.replace("    WAIT_FOR_GO\n", WAIT_FOR_GO.lstrip("\n"))  # start with the other workers


@pytest.mark.slow
def test_cmaes_processes_share_one_run_through_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cma.db'}"
    hpo_core.create_study(storage=url, study_name="cma")
    run_together(WORKER, url, 60, tmp_path)
    study = hpo_core.load_study(study_name="cma", storage=url)
    trials = study.trials
    assert len(trials) == 180
    run = _run.decode(study.system_attrs[STATE_ATTR], np.random.RandomState(0))
    assert run is not None
    # One shared run: about 180 / 6 generations (three separate runs would reach ~10).
    assert run.generation >= 20, run.generation
    gens = study.view.sync().numeric_column(GENERATION_ATTR)
    assert gens is not None
    by_gen: dict[int, set[int]] = {}
    for t, g in zip(trials, gens[:, 0].tolist()):
        if g == g:
            by_gen.setdefault(int(g), set()).add(t.user_attrs["worker"])
    # Populations mix the workers' trials (the workers start together; how many
    # generations mix still depends on how a loaded machine schedules them).
    assert sum(len(workers) > 1 for workers in by_gen.values()) >= 2
    assert study.best_value < 1.0

    # A restarted worker resumes the stored run.
    proc = spawn(WORKER, url, "7", "12", str(tmp_path))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    again = _run.decode(hpo_core.load_study(study_name="cma", storage=url).system_attrs[STATE_ATTR],
                        np.random.RandomState(0))
    assert again is not None and again.generation >= run.generation + 1
