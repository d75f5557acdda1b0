"""MLflowCallback writes one run per trial into a real local MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest

import hpo_core

mlflow = pytest.importorskip("mlflow", reason="the MLflow callback needs mlflow (pip install 'hpo_core[integration]')")
from hpo_core.integration import MLflowCallback  # noqa: E402


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # A local file store: no server, nothing from the network. MLflow 3 keeps it behind
    # this switch (it recommends SQLite, whose first migration takes ~10 s).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    previous = mlflow.get_tracking_uri()
    yield (tmp_path / "mlruns").as_uri()
    mlflow.set_tracking_uri(previous)


def _objective(trial):  # type: ignore[no-untyped-def]
    x = trial.suggest_float("x", -1.0, 1.0)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    trial.set_user_attr("note", f"kind {kind}")
    for step in range(3):
        trial.report(x**2 + 1.0 / (step + 1), step)
    if trial.number == 2:
        raise hpo_core.TrialPruned()
    return x**2


def _runs(uri: str, name: str) -> list:  # type: ignore[type-arg]
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id])
    return sorted(runs, key=lambda r: int(r.data.tags["number"]))


def test_mlflow_callback_writes_one_run_per_trial(uri: str) -> None:
    study = hpo_core.create_study(study_name="mlflow-test", pruner=hpo_core.pruners.NopPruner())
    study.set_user_attr("dataset", "toy")
    study.optimize(_objective, n_trials=3, callbacks=[MLflowCallback(tracking_uri=uri, metric_name="loss")])
    runs = _runs(uri, "mlflow-test")
    assert [r.info.run_name for r in runs] == ["0", "1", "2"]
    for run, trial in zip(runs, study.trials):
        assert run.data.params == {"x": str(trial.params["x"]), "kind": trial.params["kind"]}
        assert run.data.tags["state"] == trial.state.name
        assert run.data.tags["direction"] == "MINIMIZE"
        assert run.data.tags["note"] == trial.user_attrs["note"]  # tag_trial_user_attrs
        assert "dataset" not in run.data.tags  # tag_study_user_attrs is off
        assert run.data.tags["x_distribution"].startswith("FloatDistribution")
        history = mlflow.tracking.MlflowClient(tracking_uri=uri).get_metric_history(run.info.run_id, "intermediate_loss")
        assert {m.step: m.value for m in history} == pytest.approx(trial.intermediate_values)
    assert runs[0].data.metrics["loss"] == pytest.approx(study.trials[0].value)
    # A pruned trial's value is its last report, as in Optuna 5.0, and is logged as such.
    pruned = study.trials[2]
    assert runs[2].data.tags["state"] == "PRUNED"
    assert runs[2].data.metrics["loss"] == pytest.approx(pruned.intermediate_values[max(pruned.intermediate_values)])


def test_mlflow_callback_multi_objective_names_and_study_tags(uri: str) -> None:
    study = hpo_core.create_study(study_name="mlflow-mo", directions=["minimize", "maximize"])
    study.set_user_attr("dataset", "toy")
    cb = MLflowCallback(tracking_uri=uri, tag_study_user_attrs=True, tag_trial_user_attrs=False)
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 2.0), n_trials=2, callbacks=[cb])
    run = _runs(uri, "mlflow-mo")[0]
    assert set(run.data.metrics) == {"value_0", "value_1"}
    assert run.data.tags["dataset"] == "toy"
    assert run.data.tags["direction"] == "['MINIMIZE', 'MAXIMIZE']"
    with pytest.raises(ValueError, match="2 objective values, but 3 names"):
        study.optimize(lambda t: (1.0, 2.0), n_trials=1, callbacks=[MLflowCallback(tracking_uri=uri, metric_name=["a", "b", "c"])])


def test_mlflow_track_in_mlflow_logs_into_the_trials_run(uri: str) -> None:
    cb = MLflowCallback(tracking_uri=uri)

    @cb.track_in_mlflow()
    def objective(trial):  # type: ignore[no-untyped-def]
        mlflow.log_metric("extra", 42.0)
        return trial.suggest_float("x", 0, 1)

    study = hpo_core.create_study(study_name="mlflow-track")
    study.optimize(objective, n_trials=2, callbacks=[cb])
    runs = _runs(uri, "mlflow-track")
    assert len(runs) == 2  # the callback completed the objective's runs, not new ones
    assert all(r.data.metrics["extra"] == 42.0 and "value" in r.data.metrics for r in runs)
    assert [t.system_attrs["mlflow_run_id"] for t in study.trials] == [r.info.run_id for r in runs]


def test_mlflow_callback_rejects_a_bad_metric_name() -> None:
    with pytest.raises(TypeError, match="metric_name"):
        MLflowCallback(metric_name=3)  # type: ignore[arg-type]
