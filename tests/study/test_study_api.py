from __future__ import annotations

from pathlib import Path

import pytest

import hpo_core
from hpo_core import FloatDistribution, IntDistribution, TrialState
from hpo_core.exceptions import DuplicatedStudyError, StudyNotFoundError


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return None if request.param == "memory" else f"sqlite:///{tmp_path / 's.db'}"


@pytest.mark.parametrize(
    "kwargs, match, exc",
    [
        ({"direction": "up"}, "direction", ValueError),
        ({"direction": "minimize", "directions": ["minimize"]}, "not both", ValueError),
        ({"directions": []}, "directions", ValueError),
        ({"directions": ["minimize", "sideways"]}, r"directions\[1\]", ValueError),
        ({"storage": 3}, "storage", TypeError),
        ({"storage": "not-a-url"}, "url", ValueError),
        ({"sampler": "tpe"}, "sampler", TypeError),
        ({"pruner": object()}, "pruner", TypeError),
        ({"study_name": 5}, "study_name", TypeError),
        ({"load_if_exists": "yes"}, "load_if_exists", TypeError),
    ],
)
def test_create_study_rejects_bad_arguments(kwargs: dict, match: str, exc: type) -> None:
    with pytest.raises(exc, match=match):
        hpo_core.create_study(**kwargs)


def test_create_study_duplicate_and_load_if_exists(storage: str | None) -> None:
    if storage is None:
        storage = hpo_core.storages.InMemoryStorage()  # type: ignore[assignment]
    a = hpo_core.create_study(storage=storage, study_name="s")
    a.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    with pytest.raises(DuplicatedStudyError, match="'s'"):
        hpo_core.create_study(storage=storage, study_name="s")
    b = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
    assert len(b.trials) == 3
    with pytest.raises(ValueError, match="directions"):
        hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True, direction="maximize")


def test_create_study_load_if_exists_without_direction_keeps_the_stored_one() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    hpo_core.create_study(storage=storage, study_name="s", direction="maximize")
    loaded = hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True)
    assert loaded.directions == [hpo_core.StudyDirection.MAXIMIZE]
    with pytest.raises(ValueError, match="directions"):
        hpo_core.create_study(storage=storage, study_name="s", load_if_exists=True, direction="minimize")


def test_load_delete_and_summaries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(StudyNotFoundError, match="missing"):
        hpo_core.load_study(study_name="missing", storage=url)
    s = hpo_core.create_study(storage=url, study_name="one", direction="maximize")
    s.set_user_attr("owner", "me")
    s.optimize(lambda t: t.suggest_int("n", 0, 9), n_trials=5)
    loaded = hpo_core.load_study(study_name=None, storage=url)
    assert loaded.study_name == "one" and loaded.user_attrs == {"owner": "me"}
    assert loaded.best_value == max(t.value for t in s.trials)
    hpo_core.create_study(storage=url, study_name="two")
    with pytest.raises(ValueError, match="study_name"):
        hpo_core.load_study(study_name=None, storage=url)
    summaries = {x.study_name: x for x in hpo_core.get_all_study_summaries(url)}
    assert summaries["one"].n_trials == 5 and summaries["one"].user_attrs == {"owner": "me"}
    assert summaries["one"].best_trial.value == loaded.best_value
    hpo_core.delete_study(study_name="one", storage=url)
    assert [x.study_name for x in hpo_core.get_all_study_summaries(url)] == ["two"]


def test_best_trial_single_objective(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage, direction="maximize")
    with pytest.raises(ValueError, match="No trial is complete"):
        study.best_trial
    for v in (1.0, 5.0, 3.0):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        study.tell(t, v)
    assert study.best_value == 5.0 and study.best_trial.number == 1
    assert set(study.best_params) == {"x"}


def test_best_trials_is_pareto_front(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage, directions=["minimize", "maximize"])
    points = [(1, 1), (2, 3), (3, 3), (0, 0), (2, 2), (4, 5)]
    for a, b in points:
        study.tell(study.ask(), [a, b])
    front = sorted(tuple(t.values) for t in study.best_trials)
    assert front == [(0, 0), (1, 1), (2, 3), (4, 5)]
    with pytest.raises(RuntimeError, match="best_trials"):
        study.best_trial
    with pytest.raises(RuntimeError, match="directions"):
        study.direction


def test_enqueue_trial_fixes_params(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage)
    study.enqueue_trial({"x": 0.25, "n": 3}, user_attrs={"why": "baseline"})
    study.enqueue_trial({"x": 0.25, "n": 3}, skip_if_exists=True)  # already queued
    study.enqueue_trial({"x": 5.0})  # outside the range: sampled instead, with a warning
    seen = []

    def objective(t: hpo_core.Trial) -> float:
        x, n = t.suggest_float("x", 0, 1), t.suggest_int("n", 0, 9)
        seen.append((x, n))
        return x + n

    with pytest.warns(hpo_core.exceptions.HpoWarning, match="outside"):
        study.optimize(objective, n_trials=3)
    assert seen[0] == (0.25, 3) and 0 <= seen[1][0] <= 1
    assert study.trials[0].user_attrs == {"why": "baseline"}
    assert study.trials[0].state == TrialState.COMPLETE
    study.enqueue_trial({"x": 0.25, "n": 3}, skip_if_exists=True)  # already ran
    assert len(study.trials) == 3


def test_enqueue_with_fixed_distributions(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage)
    study.enqueue_trial({"x": 0.5})
    t = study.ask({"x": FloatDistribution(0, 1), "n": IntDistribution(0, 3)})
    assert t.params["x"] == 0.5


def test_add_trials_warm_start(storage: str | None) -> None:
    study = hpo_core.create_study(storage=storage)
    dists = {"x": FloatDistribution(0, 1)}
    study.add_trials([hpo_core.create_trial(value=v, params={"x": v}, distributions=dists) for v in (0.3, 0.1)])
    study.add_trial(hpo_core.create_trial(state=TrialState.FAIL, params={"x": 0.9}, distributions=dists))
    assert study.best_params == {"x": 0.1}
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2 + [TrialState.FAIL]
    with pytest.raises(ValueError, match="params"):
        hpo_core.create_trial(value=1.0, params={"x": 2.0}, distributions=dists)
    with pytest.raises(ValueError, match="values"):
        hpo_core.create_trial(state=TrialState.COMPLETE, params={}, distributions={})
    with pytest.raises(TypeError, match="trial"):
        study.add_trial({"x": 1})  # type: ignore[arg-type]


def test_trials_dataframe(storage: str | None) -> None:
    pd = pytest.importorskip("pandas")
    study = hpo_core.create_study(storage=storage, sampler=hpo_core.samplers.RandomSampler(seed=0))

    def objective(t: hpo_core.Trial) -> float:
        kind = t.suggest_categorical("kind", ["a", "b"])
        n = t.suggest_int("n", 1, 5)
        t.set_user_attr("k", kind * 2)
        if t.number == 2:
            raise hpo_core.TrialPruned()
        return n + (t.suggest_float("lr", 1e-3, 1, log=True) if kind == "a" else 0.0)

    study.optimize(objective, n_trials=8)
    df = study.trials_dataframe()
    assert len(df) == 8
    assert {"number", "value", "params_kind", "params_n", "user_attrs_k", "state", "duration"} <= set(df.columns)
    assert df["state"].tolist()[2] == "PRUNED"
    assert df["params_n"].dtype == "Int64"
    assert set(df["params_kind"]) <= {"a", "b"}
    done = df[df["state"] == "COMPLETE"]  # the pruned trial stopped before `lr`
    assert (done["params_lr"].isna() == (done["params_kind"] == "b")).all()
    mi = study.trials_dataframe(multi_index=True)
    assert ("params", "n") in mi.columns
    with pytest.raises(ValueError, match="attrs"):
        study.trials_dataframe(attrs=("bogus",))
    assert isinstance(df, pd.DataFrame)


def test_study_user_attrs_must_be_json(tmp_path: Path) -> None:
    study = hpo_core.create_study(storage=f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(TypeError, match="JSON"):
        study.set_user_attr("k", object())
    with pytest.raises(TypeError, match="key"):
        study.set_user_attr(1, "v")  # type: ignore[arg-type]


def test_suggest_categorical_reuses_distribution_and_keeps_choice_types() -> None:
    study = hpo_core.create_study()
    t1, t2 = study.ask(), study.ask()
    t1.suggest_categorical("c", ["a", "b"])
    t2.suggest_categorical("c", ["a", "b"])
    assert t1.distributions["c"] is t2.distributions["c"]
    # 1, 1.0 and True compare equal but are different choices.
    values = [study.ask().suggest_categorical(f"v{k}", [choice]) for k, choice in enumerate([1, 1.0, True])]
    assert [type(v) for v in values] == [int, float, bool]
    with pytest.raises(ValueError, match="choices"):
        study.ask().suggest_categorical("bad", [float("nan")])
    with pytest.raises(TypeError, match="choices"):
        study.ask().suggest_categorical("bad", ["a", ["list"]])
