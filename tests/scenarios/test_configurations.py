"""Scenario: search spaces defined by running Python code (conditionals, loops over
layers, the ``suggest_*`` variants with ``step`` and ``log``)."""

from __future__ import annotations

import math

import hpo_core as optuna
from hpo_core.distributions import CategoricalDistribution, FloatDistribution, IntDistribution


def _fake_model_loss(classifier: str, params: dict) -> float:
    if classifier == "SVC":
        return abs(math.log10(params["svc_c"]) - 1.0)
    return abs(params["rf_max_depth"] - 8) / 8


def conditional_objective(trial):
    classifier = trial.suggest_categorical("classifier", ["SVC", "RandomForest"])
    if classifier == "SVC":
        trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
    else:
        trial.suggest_int("rf_max_depth", 2, 32, log=True)
    return _fake_model_loss(classifier, trial.params)


def test_configurations_conditional_parameters_exist_only_on_their_branch() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(conditional_objective, n_trials=30)

    branches = {t.params["classifier"] for t in study.trials}
    assert branches == {"SVC", "RandomForest"}
    for t in study.trials:
        if t.params["classifier"] == "SVC":
            assert set(t.params) == {"classifier", "svc_c"}
            assert 1e-10 <= t.params["svc_c"] <= 1e10
            assert t.distributions["svc_c"] == FloatDistribution(1e-10, 1e10, log=True)
        else:
            assert set(t.params) == {"classifier", "rf_max_depth"}
            assert 2 <= t.params["rf_max_depth"] <= 32
            assert isinstance(t.params["rf_max_depth"], int)
            assert t.distributions["rf_max_depth"] == IntDistribution(2, 32, log=True)
    assert study.best_value < 0.5


def layered_objective(trial):
    n_layers = trial.suggest_int("n_layers", 1, 3)
    widths = [trial.suggest_int(f"n_units_l{i}", 4, 128, log=True) for i in range(n_layers)]
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    # The running trial lists its parameters in the order they were suggested.
    assert list(trial.params) == ["n_layers", *(f"n_units_l{i}" for i in range(n_layers)), "dropout"]
    # A made-up "validation error": prefers two layers of about 32 units and little dropout.
    return abs(n_layers - 2) + sum(abs(math.log2(w) - 5) for w in widths) / n_layers + dropout


def test_configurations_loop_over_layers_suggests_one_width_per_layer() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    study.optimize(layered_objective, n_trials=30)

    for t in study.trials:
        n_layers = t.params["n_layers"]
        assert {k for k in t.params if k.startswith("n_units_l")} == {f"n_units_l{i}" for i in range(n_layers)}
        assert math.isclose(t.params["dropout"] * 10, round(t.params["dropout"] * 10), abs_tol=1e-9)
    assert {t.params["n_layers"] for t in study.trials} == {1, 2, 3}


def test_configurations_stored_trial_params_keep_the_suggestion_order() -> None:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    study.optimize(layered_objective, n_trials=30)
    for t in study.trials:
        n_layers = t.params["n_layers"]
        assert list(t.params) == ["n_layers", *(f"n_units_l{i}" for i in range(n_layers)), "dropout"]


def every_variant_objective(trial):
    optimizer = trial.suggest_categorical("optimizer", ["MomentumSGD", "Adam"])
    use_bias = trial.suggest_categorical("use_bias", [True, False])
    activation = trial.suggest_categorical("activation", [None, "relu", 3])
    num_layers = trial.suggest_int("num_layers", 1, 3)
    num_channels = trial.suggest_int("num_channels", 32, 512, log=True)
    num_units = trial.suggest_int("num_units", 10, 100, step=5)
    dropout_rate = trial.suggest_float("dropout_rate", 0.0, 1.0)
    learning_rate = trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True)
    drop_path_rate = trial.suggest_float("drop_path_rate", 0.0, 1.0, step=0.1)
    # Integral floats are accepted as int bounds, as in Optuna.
    half = trial.suggest_int("half", 1, 20 / 2)
    trial.set_user_attr("summary", f"{optimizer}/{use_bias}/{activation}")
    return num_layers + num_channels / 512 + num_units / 100 + dropout_rate + learning_rate + drop_path_rate + half


def test_configurations_suggest_variants_respect_type_step_and_log() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    study.optimize(every_variant_objective, n_trials=40)

    for t in study.trials:
        p = t.params
        assert p["optimizer"] in ("MomentumSGD", "Adam")
        assert p["use_bias"] in (True, False) and isinstance(p["use_bias"], bool)
        assert p["activation"] in (None, "relu", 3)
        assert isinstance(p["num_layers"], int) and 1 <= p["num_layers"] <= 3
        assert isinstance(p["num_channels"], int) and 32 <= p["num_channels"] <= 512
        assert p["num_units"] % 5 == 0 and 10 <= p["num_units"] <= 100
        assert 0.0 <= p["dropout_rate"] <= 1.0
        assert 1e-5 <= p["learning_rate"] <= 1e-2
        assert math.isclose(p["drop_path_rate"] * 10, round(p["drop_path_rate"] * 10), abs_tol=1e-9)
        assert isinstance(p["half"], int) and 1 <= p["half"] <= 10
        assert t.distributions["activation"] == CategoricalDistribution([None, "relu", 3])
        assert t.distributions["num_units"] == IntDistribution(10, 100, step=5)
        assert t.distributions["drop_path_rate"] == FloatDistribution(0.0, 1.0, step=0.1)
    # Log scale: with 40 draws over three decades, the small end is well represented.
    assert sum(t.params["learning_rate"] < 1e-4 for t in study.trials) >= 5
    assert {t.params["activation"] for t in study.trials} == {None, "relu", 3}


def test_configurations_same_name_twice_returns_the_first_value() -> None:
    def objective(trial):
        a = trial.suggest_float("x", 0, 1)
        b = trial.suggest_float("x", 0, 1)
        assert a == b
        return a

    study = optuna.create_study()
    study.optimize(objective, n_trials=3)
    assert all(set(t.params) == {"x"} for t in study.trials)
