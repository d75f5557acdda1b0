"""Scenario: the recipes of Optuna's tutorial: callbacks, specifying parameters by hand,
ask-and-tell, reusing the best trial, copying a study, the journal storage and the
Wilcoxon pruner."""

from __future__ import annotations

import numpy as np
import pytest

import hpo_core as optuna
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from hpo_core.storages import JournalStorage
from hpo_core.storages.journal import JournalFileBackend
from hpo_core.study import MaxTrialsCallback
from hpo_core.trial import FixedTrial, TrialState


def quadratic(trial):
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


# --- callbacks ------------------------------------------------------------------------


class StopWhenTrialKeepBeingPruned:
    """Stops the study after ``threshold`` pruned trials in a row."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self._consecutive_pruned_count = 0

    def __call__(self, study, trial):
        if trial.state == TrialState.PRUNED:
            self._consecutive_pruned_count += 1
        else:
            self._consecutive_pruned_count = 0
        if self._consecutive_pruned_count >= self.threshold:
            study.stop()


def test_callbacks_stop_the_study_after_consecutive_pruned_trials() -> None:
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number >= 4:
            raise optuna.TrialPruned()
        return x

    seen = []
    study = optuna.create_study()
    study.optimize(
        objective,
        n_trials=50,
        callbacks=[lambda study, trial: seen.append((trial.number, trial.state)), StopWhenTrialKeepBeingPruned(3)],
    )
    assert len(study.trials) == 7
    assert seen == [(t.number, t.state) for t in study.trials]
    assert [t.state for t in study.trials[-3:]] == [TrialState.PRUNED] * 3


def test_callbacks_max_trials_callback_counts_complete_trials_of_every_worker(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 'max.db'}"
    study = optuna.create_study(storage=storage, study_name="capped")

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if x > 0.7:
            raise optuna.TrialPruned()
        return x

    callback = MaxTrialsCallback(6, states=(TrialState.COMPLETE,))
    study.optimize(objective, n_trials=100, callbacks=[callback])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 6
    assert study.trials[-1].state == TrialState.COMPLETE  # stopped right after the 6th
    n_before = len(study.trials)
    # A later worker on the same study runs one trial, then its callback sees the cap
    # (callbacks run after each trial, as in Optuna).
    again = optuna.load_study(study_name="capped", storage=storage)
    again.optimize(objective, n_trials=100, callbacks=[callback])
    assert len(again.trials) == n_before + 1


# --- specifying parameters by hand ----------------------------------------------------


def lightgbm_like_objective(trial):
    bagging_fraction = trial.suggest_float("bagging_fraction", 0.4, 1.0)
    bagging_freq = trial.suggest_int("bagging_freq", 0, 7)
    min_child_samples = trial.suggest_int("min_child_samples", 5, 100)
    return abs(bagging_fraction - 0.75) + abs(bagging_freq - 5) / 7 + abs(min_child_samples - 20) / 100


def test_by_hand_enqueue_trial_evaluates_known_good_points_first() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial({"bagging_fraction": 1.0, "bagging_freq": 0, "min_child_samples": 20})
    study.enqueue_trial({"bagging_fraction": 0.75, "bagging_freq": 5})  # the rest is sampled
    study.optimize(lightgbm_like_objective, n_trials=5)

    first, second = study.trials[:2]
    assert first.params == {"bagging_fraction": 1.0, "bagging_freq": 0, "min_child_samples": 20}
    assert (second.params["bagging_fraction"], second.params["bagging_freq"]) == (0.75, 5)
    assert 5 <= second.params["min_child_samples"] <= 100
    assert len(study.trials) == 5


def test_by_hand_add_trial_teaches_the_sampler_past_results() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=3))
    distributions = {
        "bagging_fraction": FloatDistribution(0.4, 1.0),
        "bagging_freq": IntDistribution(0, 7),
        "min_child_samples": IntDistribution(5, 100),
    }
    rng = np.random.default_rng(0)
    for _ in range(10):
        params = {
            "bagging_fraction": float(rng.uniform(0.4, 1.0)),
            "bagging_freq": int(rng.integers(0, 8)),
            "min_child_samples": int(rng.integers(5, 101)),
        }
        value = lightgbm_like_objective(FixedTrial(params))
        study.add_trial(optuna.create_trial(params=params, distributions=distributions, value=value))
    study.add_trials([optuna.trial.create_trial(state=TrialState.FAIL, params={}, distributions={})])
    assert len(study.trials) == 11
    assert study.best_value == min(t.value for t in study.trials[:10])

    study.optimize(lightgbm_like_objective, n_trials=10)
    assert [t.number for t in study.trials] == list(range(21))
    assert study.best_value <= min(t.value for t in study.trials[:10])


# --- ask-and-tell ---------------------------------------------------------------------


def test_ask_and_tell_with_a_scikit_learn_model() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, random_state=0)

    study = optuna.create_study(direction="maximize")
    for _ in range(8):
        trial = study.ask()
        C = trial.suggest_float("C", 1e-7, 10.0, log=True)
        solver = trial.suggest_categorical("solver", ("lbfgs", "liblinear"))
        clf = LogisticRegression(C=C, solver=solver, max_iter=200).fit(X_train, y_train)
        study.tell(trial, clf.score(X_valid, y_valid))

    assert len(study.trials) == 8
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert study.best_value > 0.7


def test_ask_and_tell_define_and_run_and_pruning_by_hand() -> None:
    distributions = {
        "C": FloatDistribution(1e-7, 10.0, log=True),
        "solver": CategoricalDistribution(("lbfgs", "liblinear")),
    }
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=1.0))
    for _ in range(5):
        trial = study.ask(distributions)  # parameters are already there
        assert set(trial.params) == {"C", "solver"}
        study.tell(trial, float(np.log10(trial.params["C"])) ** 2)

    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    trial.report(2.0, 0)
    assert trial.should_prune()
    study.tell(trial, state=TrialState.PRUNED)
    failed = study.ask()
    study.tell(failed.number, state=TrialState.FAIL)  # tell by number

    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 5 + [TrialState.PRUNED, TrialState.FAIL]
    with pytest.raises(RuntimeError):
        study.tell(failed.number, 1.0)  # already finished
    study.tell(failed.number, 1.0, skip_if_finished=True)


# --- reusing the best trial -----------------------------------------------------------


def test_reuse_best_trial_replays_the_objective_with_its_parameters() -> None:
    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        n = trial.suggest_int("n", 1, 5)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        return (x - 2) ** 2 + n + (0 if kind == "a" else 1)

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=20)

    best = study.best_trial
    assert objective(best) == pytest.approx(best.value)
    assert objective(FixedTrial(study.best_params)) == pytest.approx(study.best_value)
    # A FixedTrial rejects a parameter it was not given.
    with pytest.raises(ValueError):
        objective(FixedTrial({"x": 1.0}))


# --- copying a study and the journal storage ------------------------------------------


def test_copy_study_from_sqlite_to_a_journal_file(tmp_path) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    study = optuna.create_study(storage=source, study_name="original", direction="maximize")
    study.set_user_attr("owner", "lab")
    study.optimize(lambda t: -quadratic(t), n_trials=6)

    journal = JournalStorage(JournalFileBackend(str(tmp_path / "journal.log")))
    optuna.copy_study(from_study_name="original", from_storage=source, to_storage=journal, to_study_name="copy")

    copied = optuna.load_study(study_name="copy", storage=journal)
    assert copied.direction == optuna.study.StudyDirection.MAXIMIZE
    assert copied.user_attrs == {"owner": "lab"}
    assert [(t.params, t.values, t.state) for t in copied.trials] == [
        (t.params, t.values, t.state) for t in study.trials
    ]
    assert copied.best_params == study.best_params


def test_journal_storage_is_shared_through_its_file(tmp_path, run_workers) -> None:
    path = tmp_path / "journal.log"
    storage = JournalStorage(JournalFileBackend(str(path)))
    optuna.create_study(storage=storage, study_name="journal")

    worker = (
        "import sys\n"
        "import hpo_core as optuna\n"
        "from hpo_core.storages import JournalStorage\n"
        "from hpo_core.storages.journal import JournalFileBackend\n"
        "optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
        "storage = JournalStorage(JournalFileBackend(sys.argv[1]))\n"
        "study = optuna.load_study(study_name='journal', storage=storage)\n"
        "study.optimize(lambda t: (t.suggest_float('x', -10, 10) - 2) ** 2, n_trials=5)\n"
    )
    run_workers(worker, [str(path)], n_workers=2)

    # A fresh reader replays the log from the file.
    reread = optuna.load_study(study_name="journal", storage=JournalStorage(JournalFileBackend(str(path))))
    assert len(reread.trials) == 10
    assert sorted(t.number for t in reread.trials) == list(range(10))
    assert all(t.state == TrialState.COMPLETE for t in reread.trials)


# --- the Wilcoxon pruner --------------------------------------------------------------


def test_wilcoxon_pruner_stops_configurations_that_lose_on_most_folds() -> None:
    rng = np.random.default_rng(0)
    fold_difficulty = rng.uniform(0.5, 1.5, size=20)  # one "problem instance" per fold

    def objective(trial):
        shift = trial.suggest_float("shift", -3, 3)
        # The study's instances are visited in a shuffled order per trial, as the pruner's
        # documentation recommends; the step is the instance's index.
        order = np.random.default_rng(trial.number).permutation(len(fold_difficulty))
        losses = []
        for i in order:
            loss = fold_difficulty[i] * (1 + shift**2)
            losses.append(loss)
            trial.report(loss, int(i))
            if trial.should_prune():
                # Return the mean so far instead of raising TrialPruned, so the sampler
                # still learns from the trial.
                return float(np.mean(losses))
        return float(np.mean(losses))

    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=3),
    )
    study.optimize(objective, n_trials=25)

    evaluated = [len(t.intermediate_values) for t in study.trials]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert sum(n < len(fold_difficulty) for n in evaluated) >= 5  # stopped early
    assert min(evaluated) >= 3  # never before n_startup_steps
    assert abs(study.best_params["shift"]) < 1.0
