"""Worker processes sharing NSGA-II generations through a real SQLite file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import hpo_core

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "storages"))
from _workers import WAIT_FOR_GO, run_together, spawn  # noqa: E402  (tests/storages/_workers.py)

WORKER = """
    import sys, logging
    import hpo_core
    from hpo_core.samplers import NSGAIISampler
    hpo_core.logging.set_verbosity(logging.WARNING)
    import pathlib, time
    url, worker, n, sync = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), pathlib.Path(sys.argv[4])
    sampler = NSGAIISampler(population_size=8, seed=worker)
    study = hpo_core.load_study(storage=url, study_name="nsga", sampler=sampler)
    # Start together: each worker says it is ready, then waits for the test's go, so
    # that a loaded machine starting one process late does not leave another alone.
    WAIT_FOR_GO
    def objective(trial):
        trial.set_user_attr("worker", worker)
        time.sleep(0.005)  # trials of the workers interleave
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_int("y", 0, 10)
        c = trial.suggest_categorical("c", ["a", "b"])
        return x + y / 10 + (c == "b"), (1 - x) + y / 10
    study.optimize(objective, n_trials=n)
"""
WORKER = WORKER.replace("    WAIT_FOR_GO\n", WAIT_FOR_GO.lstrip("\n"))  # start with the other workers


@pytest.mark.slow
def test_nsga_processes_share_generations_through_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nsga.db'}"
    hpo_core.create_study(storage=url, study_name="nsga", directions=["minimize", "minimize"])
    run_together(WORKER, url, 40, tmp_path)
    study = hpo_core.load_study(study_name="nsga", storage=url)
    trials = study.trials
    assert len(trials) == 120 and all(t.state == hpo_core.TrialState.COMPLETE for t in trials)
    gens = [t.system_attrs["generation"] for t in trials]
    # One shared sequence of generations: ~120 / 8 of them (three separate runs reach ~5),
    # never decreasing by more than the trials running at once.
    assert max(gens) >= 10, max(gens)
    by_gen: dict[int, set[int]] = {}
    for t, g in zip(trials, gens):
        by_gen.setdefault(g, set()).add(t.user_attrs["worker"])
    # Generations mix the workers (they start together; how many generations mix still
    # depends on how a loaded machine schedules them).
    assert sum(len(w) > 1 for w in by_gen.values()) >= 2
    attrs = study.system_attrs
    top = max(g for g in range(1, max(gens) + 1) if attrs.get(f"NSGAIISampler:parent:{g}") is not None)
    parents = attrs[f"NSGAIISampler:parent:{top}"]
    assert len(parents) == 8 and all(gens[p] < top for p in parents)

    # A worker started later continues the same generations.
    proc = spawn(WORKER, url, "7", "16", str(tmp_path))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    later = [t.system_attrs["generation"] for t in hpo_core.load_study(study_name="nsga", storage=url).trials[120:]]
    assert min(later) >= max(gens) and max(later) >= max(gens) + 1
