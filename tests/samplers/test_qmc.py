from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import hpo_core
from hpo_core.distributions import FloatDistribution, SearchSpace
from hpo_core.samplers import QMCSampler
from hpo_core.testing import SamplerContract


class TestQMCSamplerContract(SamplerContract):
    def make_sampler(self, seed: int) -> QMCSampler:
        return QMCSampler(seed=seed, warn_independent_sampling=False)


@pytest.mark.parametrize("qmc_type", ["sobol", "halton"])
def test_qmc_fills_space_better_than_random(qmc_type: str) -> None:
    from scipy.stats import qmc

    space = SearchSpace({f"x{i}": FloatDistribution(0.0, 1.0) for i in range(3)})
    study = hpo_core.create_study(sampler=QMCSampler(qmc_type=qmc_type, seed=0))
    X = study.ask_array(space, 256).params
    rand = np.random.default_rng(0).random((256, 3))
    assert qmc.discrepancy(X) < qmc.discrepancy(rand)


def test_qmc_point_depends_on_trial_number_only() -> None:
    space = SearchSpace({"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)})
    a = hpo_core.create_study(sampler=QMCSampler(seed=3))
    batch = a.ask_array(space, 10).params
    b = hpo_core.create_study(sampler=QMCSampler(seed=3))
    one_by_one = np.array([[t.params["x"], t.params["y"]] for t in (b.ask(space) for _ in range(10))])
    np.testing.assert_array_equal(batch, one_by_one)


def test_qmc_sequence_seed_shared_through_study() -> None:
    storage = hpo_core.storages.InMemoryStorage()
    space = SearchSpace({"x": FloatDistribution(0.0, 1.0)})
    s1 = hpo_core.create_study(storage=storage, study_name="q", sampler=QMCSampler())
    s2 = hpo_core.load_study(study_name="q", storage=storage, sampler=QMCSampler())
    xs = [s.ask(space).params["x"] for s in (s1, s2, s1, s2)]
    assert len(set(xs)) == 4  # one sequence, no repeats across the two workers


def test_qmc_rejects_unknown_type() -> None:
    with pytest.raises(ValueError, match="qmc_type"):
        QMCSampler(qmc_type="lattice")


def test_qmc_signature_and_defaults_are_optunas() -> None:
    optuna = pytest.importorskip("optuna")
    ours = inspect.signature(QMCSampler.__init__).parameters
    theirs = inspect.signature(optuna.samplers.QMCSampler.__init__).parameters
    assert list(ours) == list(theirs)
    assert all(ours[n].default == p.default for n, p in theirs.items())


def test_qmc_unscrambled_sobol_is_optunas_sequence() -> None:
    """As Optuna's: the first trial goes to the independent sampler, then trial i takes
    point i - 1 of the sequence, with a fixed space and define-by-run alike."""
    optuna = pytest.importorskip("optuna")
    for fixed in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = optuna.create_study(sampler=optuna.samplers.QMCSampler())
        ours = hpo_core.create_study(sampler=QMCSampler())
        for study, lib in ((ours, hpo_core), (theirs, optuna)):
            space = {"x": lib.distributions.FloatDistribution(-1.0, 1.0),
                     "y": lib.distributions.FloatDistribution(0, 10)}
            if fixed:
                for _ in range(9):
                    study.tell(study.ask(space), 0.0)
            else:
                study.optimize(lambda t: t.suggest_float("x", -1, 1) + t.suggest_float("y", 0, 10), n_trials=9)
        assert [t.params for t in ours.trials][1:] == [t.params for t in theirs.trials][1:]
        assert ours.trials[1].params == {"x": -1.0, "y": 0.0}


def test_qmc_independent_sampler_samples_outside_the_joint_space() -> None:
    study = hpo_core.create_study(sampler=QMCSampler(independent_sampler=hpo_core.samplers.TPESampler(seed=0),
                                                     warn_independent_sampling=False, seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + (t.suggest_float("y", 0, 1) if t.number % 2 else 0),
                   n_trials=6)
    assert sum("y" in t.params for t in study.trials) == 3
    with pytest.raises(TypeError, match="independent_sampler"):
        QMCSampler(independent_sampler="random")  # type: ignore[arg-type]
