"""PBT in driver threads: exploit and explore with real checkpoint files (PyTorch on CPU),
synchronous and asynchronous schedules, seeds, failures, schedules and replay, arguments."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the PBT tests train small PyTorch models")

from _training import always_fails, train_linear, train_or_fail, weights_sum  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core import FloatDistribution, TrialState  # noqa: E402
from hpo_core.exceptions import FailedTrialWarning, HpoWarning  # noqa: E402
from hpo_core.pbt import PBT, best_trial, replay, schedule  # noqa: E402

MUTATIONS = {"lr": FloatDistribution(1e-3, 0.5, log=True)}


def _study(seed: int = 0) -> hpo_core.Study:
    return hpo_core.create_study(direction="minimize", sampler=hpo_core.samplers.RandomSampler(seed=seed))


def _info(t: hpo_core.FrozenTrial) -> dict[str, Any]:
    return t.system_attrs["pbt"]  # type: ignore[no-any-return]


def _run(tmp_path: Path, func: Any = train_linear, *, synch: bool = False, n_jobs: int = 1, seed: int = 0,
         **kwargs: Any) -> hpo_core.Study:
    study = _study(seed)
    pbt = PBT(perturbation_interval=2, hyperparam_mutations=MUTATIONS, synch=synch, seed=seed,
              resample_probability=kwargs.pop("resample_probability", 0.25))
    pbt.run(study, func, population_size=4, n_steps=kwargs.pop("n_steps", 8), n_jobs=n_jobs,
            checkpoint_dir=tmp_path / "ckpt", save_fn=torch.save, load_fn=torch.load, **kwargs)
    return study


def _schedule_rows(study: hpo_core.Study) -> list[tuple[Any, ...]]:
    return [(t.number, t.state.name, t.value, t.params.get("lr"), _info(t)["member"], _info(t)["start"],
             _info(t)["stop"], _info(t)["parent"], _info(t)["donor"]) for t in study.trials]


def test_pbt_exploit_loads_the_donors_checkpoint_file(tmp_path: Path) -> None:
    study = _run(tmp_path, keep_checkpoints=True, resample_probability=0.0)
    trials = {t.number: t for t in study.trials}
    exploits = [t for t in trials.values() if _info(t)["donor"] is not None]
    assert exploits, "a population of 4 over 4 perturbation points exploits at least once"
    for t in exploits:
        parent = trials[_info(t)["parent"]]
        assert _info(parent)["member"] == _info(t)["donor"] != _info(t)["member"]
        assert _info(t)["start"] == _info(parent)["stop"]  # it resumed at the donor's step
        saved = torch.load(os.path.join(_info(parent)["checkpoint"], "checkpoint.pkl"))
        assert saved["step"] == _info(t)["start"]
        assert t.user_attrs["loaded"] == pytest.approx(weights_sum(saved))  # the donor's weights, from its file
        # Explore: the donor's lr times 1.2 or 0.8 (resample_probability=0), clipped to the range.
        factors = {round(t.params["lr"] / parent.params["lr"], 9)}
        assert factors <= {1.2, 0.8} or t.params["lr"] in (1e-3, 0.5)
        assert t.params["momentum"] == parent.params["momentum"]  # unmutated: copied with the checkpoint


def test_pbt_members_continue_from_their_own_checkpoint(tmp_path: Path) -> None:
    study = _run(tmp_path)
    trials = {t.number: t for t in study.trials}
    for t in trials.values():
        info = _info(t)
        if info["parent"] is None:
            assert info["start"] == 0 and "loaded" not in t.user_attrs
        elif info["donor"] is None:
            parent = trials[info["parent"]]
            assert _info(parent)["member"] == info["member"] and t.params == parent.params
    assert all(t.state == TrialState.COMPLETE for t in trials.values())
    assert sorted(_info(t)["stop"] for t in trials.values()).count(8) == 4  # every member finished


def test_pbt_deletes_checkpoints_no_member_needs(tmp_path: Path) -> None:
    study = _run(tmp_path)
    kept = sorted(p.name for p in (tmp_path / "ckpt").iterdir() if p.name != ".partial")
    finals = sorted(f"trial-{t.number}" for t in study.trials if _info(t)["stop"] == 8)
    assert kept == finals  # the last checkpoint of each member, nothing else
    assert not list((tmp_path / "ckpt" / ".partial").iterdir())


def test_pbt_synchronous_perturbs_all_members_at_the_same_step(tmp_path: Path) -> None:
    study = _run(tmp_path, synch=True, n_jobs=2)
    trials = study.trials
    stops = [_info(t)["stop"] for t in trials]
    assert stops == sorted(stops) == [2] * 4 + [4] * 4 + [6] * 4 + [8] * 4  # round after round
    for t in trials:
        assert _info(t)["stop"] - _info(t)["start"] == 2


def test_pbt_asynchronous_does_not_wait_for_slow_members(tmp_path: Path) -> None:
    def uneven(trial: Any) -> float:
        if trial.checkpoint.member == 0:
            time.sleep(0.6)
        return train_linear(trial)

    study = _run(tmp_path, uneven, n_jobs=2, n_steps=6)
    done = sorted(study.trials, key=lambda t: t.datetime_complete)  # type: ignore[arg-type,return-value]
    order = [(_info(t)["member"], _info(t)["stop"]) for t in done]
    slow_first = order.index((0, 2))
    # Fast members reached step 4 while member 0 was still in its first segment.
    assert any(m != 0 and s >= 4 for m, s in order[:slow_first])
    assert {m for m, s in order if s == 6} == {0, 1, 2, 3}


def test_pbt_same_seed_same_run(tmp_path: Path) -> None:
    a = _schedule_rows(_run(tmp_path / "a", synch=True, n_jobs=2, seed=3))
    b = _schedule_rows(_run(tmp_path / "b", synch=True, n_jobs=2, seed=3))
    c = _schedule_rows(_run(tmp_path / "c", synch=True, n_jobs=2, seed=4))
    assert a == b and a != c
    d = _schedule_rows(_run(tmp_path / "d", seed=5))
    e = _schedule_rows(_run(tmp_path / "e", seed=5))
    assert d == e


def test_pbt_pruned_failed_and_out_of_memory_segments_do_not_stop_the_run(tmp_path: Path) -> None:
    with pytest.warns(FailedTrialWarning):
        study = _run(tmp_path, train_or_fail)
    states = {t.number: t.state for t in study.trials}
    assert states[1] == TrialState.PRUNED and states[3] == states[6] == TrialState.FAIL
    assert "MemoryError" in study.trials[3].system_attrs["fail_reason"]
    assert study.trials[3].system_attrs["out_of_memory"] is True
    assert "out_of_memory" not in study.trials[6].system_attrs
    finished = {_info(t)["member"] for t in study.trials if t.state == TrialState.COMPLETE and _info(t)["stop"] == 8}
    assert finished == {0, 1, 2, 3}  # every member recovered and trained to the end


def test_pbt_member_failing_every_segment_leaves_the_population(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FailedTrialWarning)
        with pytest.warns(HpoWarning, match="member 1 failed 3 segments in a row"):
            study = _run(tmp_path, always_fails, max_failures=2)
    member1 = [t for t in study.trials if _info(t)["member"] == 1]
    assert len(member1) == 3 and all(t.state == TrialState.FAIL for t in member1)
    assert best_trial(study) is not None and _info(best_trial(study))["stop"] == 8  # type: ignore[arg-type]


def test_pbt_schedule_and_replay_reproduce_the_winner(tmp_path: Path) -> None:
    study = _run(tmp_path, synch=True, n_jobs=2, seed=1)
    best = best_trial(study)
    assert best is not None
    assert best.value == min(float(t.value) for t in study.trials if _info(t)["stop"] == 8)  # type: ignore[arg-type]
    steps = schedule(study)
    assert [(s.start, s.stop) for s in steps] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert steps[-1].trial == best.number and steps[-1].value == best.value
    again = replay(train_linear, steps, checkpoint_dir=tmp_path / "replay", save_fn=torch.save, load_fn=torch.load)
    assert again.value == pytest.approx(best.value, rel=1e-6)
    assert again.params == steps[-1].params and again.system_attrs["pbt"]["replay"] is True


def test_pbt_replay_records_its_trials_apart(tmp_path: Path) -> None:
    study = _run(tmp_path, seed=2, n_steps=4)
    steps = schedule(study, best_trial(study))
    replay(train_linear, steps, study=study, checkpoint_dir=tmp_path / "replay", save_fn=torch.save,
           load_fn=torch.load)
    replayed = [t for t in study.trials if _info(t)["replay"]]
    assert [t.params["lr"] for t in replayed] == [s.params["lr"] for s in steps]
    assert schedule(study) == steps  # replays are not segments of the run


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    ({"perturbation_interval": 0}, ValueError, "perturbation_interval"),
    ({"perturbation_interval": 1.5}, TypeError, "perturbation_interval"),
    ({"burn_in_period": -1}, ValueError, "burn_in_period"),
    ({"hyperparam_mutations": {}}, ValueError, "hyperparam_mutations"),
    ({"hyperparam_mutations": {"lr": []}}, ValueError, "hyperparam_mutations"),
    ({"hyperparam_mutations": {"lr": 0.1}}, TypeError, "hyperparam_mutations"),
    ({"hyperparam_mutations": [("lr", [0.1])]}, TypeError, "hyperparam_mutations"),
    ({"quantile_fraction": 0.6}, ValueError, "quantile_fraction"),
    ({"resample_probability": -0.1}, ValueError, "resample_probability"),
    ({"perturbation_factors": ()}, ValueError, "perturbation_factors"),
    ({"perturbation_factors": (1.2, -0.8)}, ValueError, "perturbation_factors"),
    ({"perturbation_factors": 1.2}, TypeError, "perturbation_factors"),
    ({"custom_explore_fn": "explore"}, TypeError, "custom_explore_fn"),
    ({"synch": 1}, TypeError, "synch"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_pbt_rejects_bad_arguments(kwargs: dict[str, Any], exc: type[Exception], name: str) -> None:
    args: dict[str, Any] = {"perturbation_interval": 2, "hyperparam_mutations": MUTATIONS, **kwargs}
    with pytest.raises(exc, match=f"PBT: `{name}"):
        PBT(**args)


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    ({"population_size": 0}, ValueError, "population_size"),
    ({"n_steps": 0}, ValueError, "n_steps"),
    ({"n_jobs": 0}, ValueError, "n_jobs"),
    ({"max_failures": -1}, ValueError, "max_failures"),
    ({"save_fn": "torch.save"}, TypeError, "save_fn"),
    ({"checkpoint_dir": 3}, TypeError, "checkpoint_dir"),
    ({"executor": "cluster"}, ValueError, "executor"),
])
def test_pbt_run_rejects_bad_arguments(kwargs: dict[str, Any], exc: type[Exception], name: str,
                                       tmp_path: Path) -> None:
    args: dict[str, Any] = {"population_size": 2, "n_steps": 2, "checkpoint_dir": tmp_path, **kwargs}
    with pytest.raises(exc, match=f"`{name}`"):
        PBT(perturbation_interval=1, hyperparam_mutations=MUTATIONS).run(_study(), train_linear, **args)


def test_pbt_run_needs_a_single_objective_study() -> None:
    study = hpo_core.create_study(directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="`study`"):
        PBT(perturbation_interval=1, hyperparam_mutations=MUTATIONS).run(study, train_linear, population_size=2,
                                                                         n_steps=2)
    with pytest.raises(TypeError, match="`func`"):
        PBT(perturbation_interval=1, hyperparam_mutations=MUTATIONS).run(_study(), None, population_size=2,  # type: ignore[arg-type]
                                                                         n_steps=2)


def test_pbt_burn_in_delays_the_first_perturbation(tmp_path: Path) -> None:
    study = _study()
    PBT(perturbation_interval=2, burn_in_period=5, hyperparam_mutations=MUTATIONS, seed=0).run(
        study, train_linear, population_size=3, n_steps=9, checkpoint_dir=tmp_path, save_fn=torch.save,
        load_fn=torch.load)
    firsts = sorted({(_info(t)["start"], _info(t)["stop"]) for t in study.trials if _info(t)["donor"] is None
                     and _info(t)["parent"] is None})
    assert firsts == [(0, 5)]  # Ray: the first perturbation at max(interval, burn_in)
    assert all(_info(t)["start"] >= 5 for t in study.trials if _info(t)["donor"] is not None)


def test_pbt_schedule_of_every_member_ends_at_its_last_segment(tmp_path: Path) -> None:
    study = _run(tmp_path, synch=True, n_jobs=2, seed=1)
    for member in range(4):
        steps = schedule(study, member=member)
        assert steps[-1].member == member and steps[-1].stop == 8 and steps[0].start == 0
        assert all(a.stop == b.start for a, b in zip(steps, steps[1:]))  # one unbroken lineage
    with pytest.raises(ValueError, match="`member`"):
        schedule(study, member=9)
    with pytest.raises(ValueError, match="`member`"):
        schedule(study, study.trials[-1], member=0)
    with pytest.raises(ValueError, match="`trial`"):
        schedule(study, 10_000)
    with pytest.raises(TypeError, match="`trial`"):
        schedule(study, "best")  # type: ignore[arg-type]


def test_pbt_places_segments_on_devices(tmp_path: Path) -> None:
    def on_device(trial: Any) -> float:
        trial.set_user_attr("device", trial.device)
        return train_linear(trial)

    study = _run(tmp_path, on_device, n_jobs=2, devices=["cpu", "cpu"])
    assert {t.user_attrs["device"] for t in study.trials} == {"cpu"}
    assert {t.system_attrs["device"] for t in study.trials} == {"cpu"}
    with pytest.raises(ValueError, match="`n_jobs`"):
        _run(tmp_path / "b", n_jobs=3, devices=["cpu", "cpu"])


def test_pbt_on_sqlite_reads_back_after_load_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pbt.db'}"
    study = hpo_core.create_study(direction="minimize", storage=url, study_name="pbt")
    PBT(perturbation_interval=2, hyperparam_mutations={**MUTATIONS, "momentum": [0.0, 0.5, 0.9]}, seed=0,
        synch=True).run(study, train_linear, population_size=3, n_steps=6, n_jobs=2, checkpoint_dir=tmp_path / "c",
                        save_fn=torch.save, load_fn=torch.load)
    loaded = hpo_core.load_study(study_name="pbt", storage=url)
    assert schedule(loaded) == schedule(study) and len(schedule(loaded)) == 3
    assert best_trial(loaded).number == best_trial(study).number  # type: ignore[union-attr]
