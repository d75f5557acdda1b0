"""Scenario: user attributes (notes a user keeps on a study and its trials) and system
attributes (what the library keeps there itself)."""

from __future__ import annotations

import pytest

import hpo_core as optuna
from hpo_core.trial import TrialState


def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    trial.set_user_attr("train_accuracy", 0.5 + abs(x) / 4)
    trial.set_user_attr("tags", ["baseline", "small"])
    trial.set_user_attr("config", {"optimizer": "sgd", "epochs": 3})
    return x**2


@pytest.mark.parametrize("storage_kind", ["memory", "sqlite"])
def test_attributes_user_attrs_of_study_and_trials_round_trip(tmp_path, storage_kind: str) -> None:
    storage = None if storage_kind == "memory" else f"sqlite:///{tmp_path / 'attrs.db'}"
    study = optuna.create_study(storage=storage, study_name="attrs")
    study.set_user_attr("contributors", ["Akiba", "Sano"])
    study.set_user_attr("dataset", "MNIST")
    study.optimize(objective, n_trials=5)

    assert study.user_attrs == {"contributors": ["Akiba", "Sano"], "dataset": "MNIST"}
    for t in study.trials:
        assert t.user_attrs["train_accuracy"] == pytest.approx(0.5 + abs(t.params["x"]) / 4)
        assert t.user_attrs["tags"] == ["baseline", "small"]
        assert t.user_attrs["config"] == {"optimizer": "sgd", "epochs": 3}
    if storage is not None:
        loaded = optuna.load_study(study_name="attrs", storage=storage)
        assert loaded.user_attrs == study.user_attrs
        assert [t.user_attrs for t in loaded.trials] == [t.user_attrs for t in study.trials]


def test_attributes_user_attrs_of_a_running_trial_and_the_dataframe() -> None:
    pytest.importorskip("pandas")
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr("stage", "warmup")
    assert trial.user_attrs == {"stage": "warmup"}
    trial.set_user_attr("stage", "done")  # a later value replaces the earlier one
    study.tell(trial, 1.0)

    assert study.trials[0].user_attrs == {"stage": "done"}
    df = study.trials_dataframe()
    assert df["user_attrs_stage"].tolist() == ["done"]


def test_attributes_system_attrs_record_what_the_library_did() -> None:
    study = optuna.create_study()
    study.enqueue_trial({"x": 0.25})
    study.optimize(objective, n_trials=2)

    enqueued, sampled = study.trials
    assert enqueued.params["x"] == 0.25
    # Optuna marks an enqueued trial's fixed parameters in its system attributes.
    assert enqueued.system_attrs.get("fixed_params") == {"x": 0.25}
    assert "fixed_params" not in sampled.system_attrs
    assert all(isinstance(t.system_attrs, dict) for t in study.trials)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
