"""BruteForceSampler: exhaustive define-by-run search, compared with Optuna's."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import hpo_core
from hpo_core.samplers import BruteForceSampler
from hpo_core.trial import TrialState


def conditional(trial: Any) -> float:
    c = trial.suggest_categorical("c", ["float", "int", "none"])
    if c == "float":
        return float(trial.suggest_float("x", 1, 3, step=0.5))
    if c == "int":
        a = trial.suggest_int("a", 1, 3)
        return float(a + trial.suggest_int("b", a, 3))
    return 0.0


def configurations(trials: list[Any]) -> list[tuple[tuple[str, Any], ...]]:
    return sorted(tuple(sorted(t.params.items())) for t in trials)


def test_enumerates_a_conditional_space_once_and_stops() -> None:
    study = hpo_core.create_study(sampler=BruteForceSampler(seed=0))
    study.optimize(conditional)  # no n_trials: the sampler stops the study
    got = configurations(study.trials)
    assert len(got) == len(set(got)) == 5 + 6 + 1
    assert study.sampler.is_exhausted(study)


def test_same_configurations_as_optuna() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = optuna.create_study(sampler=optuna.samplers.BruteForceSampler(seed=0))
    theirs.optimize(conditional)
    ours = hpo_core.create_study(sampler=BruteForceSampler(seed=0))
    ours.optimize(conditional)
    assert configurations(ours.trials) == configurations(theirs.trials)


def test_seed_fixes_the_order() -> None:
    orders = []
    for seed in (3, 3, 4):
        study = hpo_core.create_study(sampler=BruteForceSampler(seed=seed))
        study.optimize(conditional)
        orders.append([tuple(sorted(t.params.items())) for t in study.trials])
    assert orders[0] == orders[1] and sorted(orders[0]) == sorted(orders[2]) and orders[0] != orders[2]


def test_failed_trials_close_their_branch() -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_int("x", 0, 5)
        if x % 2:
            raise RuntimeError("odd")
        return float(x)

    study = hpo_core.create_study(sampler=BruteForceSampler(seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, catch=(RuntimeError,))
    assert sorted(t.params["x"] for t in study.trials) == list(range(6))
    assert sum(t.state == TrialState.FAIL for t in study.trials) == 3


def test_continuous_float_is_rejected_with_its_name() -> None:
    study = hpo_core.create_study(sampler=BruteForceSampler())
    with pytest.raises(ValueError, match=r"BruteForceSampler: parameter `lr` needs finitely many values"):
        study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=1, catch=())


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"seed": -1}, "seed"), ({"avoid_premature_stop": 1}, "avoid_premature_stop")]
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises((TypeError, ValueError), match=name):
        BruteForceSampler(**kwargs)


def test_ask_and_tell_and_waiting_trials() -> None:
    """Ask-and-tell with a fixed trial enqueued: the enqueued configuration is not re-run."""
    study = hpo_core.create_study(sampler=BruteForceSampler(seed=0))
    study.enqueue_trial({"x": 2})
    seen = []
    for _ in range(4):
        t = study.ask()
        seen.append(t.suggest_int("x", 0, 3))
        study.tell(t, 0.0)
    assert sorted(seen) == [0, 1, 2, 3] and seen[0] == 2


def test_two_threads_on_a_sqlite_file_cover_the_space(tmp_path: Path) -> None:
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'b.db'}", sampler=BruteForceSampler(seed=0))
    study.optimize(
        lambda t: float(t.suggest_int("x", 0, 9) + t.suggest_int("y", 0, 2)), n_jobs=2, n_trials=60
    )
    done = {tuple(sorted(t.params.items())) for t in study.trials if t.state == TrialState.COMPLETE}
    assert len(done) == 30  # every configuration; a few duplicates are allowed between workers
    assert len(study.trials) < 45  # and it stopped by itself


@pytest.mark.parametrize("seed", range(4))
def test_running_branches_are_not_drawn_unless_strict_and_never_end_the_search(seed: int) -> None:
    for strict in (False, True):
        study = hpo_core.create_study(sampler=BruteForceSampler(seed=seed, avoid_premature_stop=strict))
        running = study.ask()
        r = running.suggest_int("x", 0, 2)  # left RUNNING
        first = study.ask()
        f = first.suggest_int("x", 0, 2)
        if not strict:
            assert f != r  # a branch a running trial holds is not drawn
        study.tell(first, 0.0)
        assert not study.sampler.is_exhausted(study)
        for _ in range(3):
            t = study.ask()
            t.suggest_int("x", 0, 2)
            study.tell(t, 0.0)
        # Every value but the running trial's may be finished: not over until it ends.
        assert not study.sampler.is_exhausted(study) or r in {t.params["x"] for t in study.trials[1:]}
        study.tell(running, 1.0)
        assert study.sampler.is_exhausted(study)
