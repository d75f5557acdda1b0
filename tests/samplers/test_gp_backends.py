"""GPSampler's ``backend``: the GP math on each kernel backend equals the default (the NumPy reference)."""

from __future__ import annotations

import math
import pickle
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import hpo_core
from hpo_core import kernels
from hpo_core.distributions import FloatDistribution, SearchSpace
from hpo_core.kernels import _backends
from hpo_core.samplers.gp import GPSampler, _model
from hpo_core.trial import Trial

_GP_BACKENDS = ("numpy", "numba", "jax")
_MISSING_REASON = {
    "numpy": "",
    "numba": "numba is not importable",
    "jax": "jax is not installed (pip install 'hpo_core[jax]')",
}


def _require(name: str) -> ModuleType:
    if name not in kernels.available_backends():
        pytest.skip(_MISSING_REASON[name])
    return kernels.get_backend(name)


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.jax] if name == "jax" else [])
                        for name in _GP_BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend with GP kernels in turn; the ones not installed here are skipped."""
    _require(request.param)
    return str(request.param)


def _mixed_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two continuous dimensions and a 4-category one, with a duplicated point."""
    rng = np.random.default_rng(seed)
    X = np.column_stack((rng.random(n), rng.random(n), rng.integers(0, 4, n)))
    X[5] = X[2]
    y = np.sin(6.0 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * X[:, 2] + 0.05 * rng.normal(size=n)
    return X, (y - y.mean()) / y.std(), np.array([False, False, True])


def _assert_same_posterior(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    # rtol 1e-8, atol 1e-10 on O(1) values: the reference expands r^2 (an absolute error
    # of about 1e-16 |sqrt(rho) x|^2), the compiled backends take exact differences and
    # sum in another order, and the variance a - k_q K^-1 k_q^T keeps an absolute error of
    # about cond(K) * a * 1e-16 (measured 1e-12 here), which is large relative to the
    # variance at a training point (about the noise, 1e-3).
    for g, w, name in zip(got, want, ("mean", "var", "dmean", "dvar")):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10, err_msg=name)


def test_gp_backend_posterior_equals_the_default_path(backend: str) -> None:
    module = kernels.get_backend(backend)
    X, y, is_cat = _mixed_data(40, seed=4)
    theta = np.array([math.log(3.0), math.log(0.5), math.log(2.0), 0.3, math.log(1e-3)])
    default = _model.fit_model(X, y, is_cat, theta, refit=False)
    model = _model.fit_model(X, y, is_cat, theta, refit=False, kernel_module=module)
    assert default is not None and model is not None and model.kernel_module is module
    rng = np.random.default_rng(5)
    Xq = np.column_stack((rng.random(50), rng.random(50), rng.integers(0, 4, 50)))
    Xq[0] = X[3]  # at a training point: the smallest variance
    _assert_same_posterior(model.posterior(Xq), default.posterior(Xq))
    # Pending points keep the backend, and the conditioned posteriors agree too.
    Xp = Xq[40:43]
    pending = _model.condition_on_pending(model, Xp)
    assert pending.kernel_module is module
    _assert_same_posterior(pending.posterior(Xq), _model.condition_on_pending(default, Xp).posterior(Xq))


def test_gp_backend_fit_theta_equals_the_default_path(backend: str) -> None:
    module = kernels.get_backend(backend)
    X, y, is_cat = _mixed_data(40, seed=6)
    theta0 = _model.default_theta(3)
    want = _model.fit_theta(X, y, is_cat, theta0)
    got = _model.fit_theta(X, y, is_cat, theta0, kernel_module=module)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert not np.allclose(want, theta0)  # the fit moved: the comparison means something


def test_gp_backend_model_pickles(backend: str) -> None:
    X, y, is_cat = _mixed_data(20, seed=7)
    model = _model.fit_model(X, y, is_cat, _model.default_theta(3), kernel_module=kernels.get_backend(backend))
    assert model is not None
    restored = pickle.loads(pickle.dumps(model))
    assert restored.kernel_module is kernels.get_backend(backend)
    Xq = X[:4] + 0.01
    for g, w in zip(restored.posterior(Xq), model.posterior(Xq)):
        np.testing.assert_array_equal(g, w)


def _objective(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 0, 20)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return (x - 1.3) ** 2 + 0.05 * (n - 7) ** 2 + (c != "b")


def _study_params(backend: str | None, n_trials: int) -> list[dict[str, Any]]:
    sampler = GPSampler(seed=0, backend=backend, n_startup_trials=5, n_candidates=256, n_starts=3)
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=n_trials)
    return [t.params for t in study.trials]


def test_gp_backend_study_follows_the_default_path(backend: str) -> None:
    # The backends agree with the reference to ~1e-12, but L-BFGS-B (hyperparameters and
    # acquisition) turns that into proposals that differ by ~1e-8 and the difference
    # grows slowly along the study (measured: 4e-6 in x at trial 20). So the first 15
    # trials (10 of them GP proposals) are compared: ints and categories exactly, floats
    # to 1e-5 (1e-6 of their range). A discrete value flipping would be a real divergence.
    want = _study_params(None, 15)
    got = _study_params(backend, 15)
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g["n"], g["c"]) == (w["n"], w["c"]), f"trial {i}: {g} != {w}"
        assert g["x"] == pytest.approx(w["x"], abs=1e-5), f"trial {i}: {g} != {w}"


def _constraint(trial: Any) -> list[float]:
    return [trial.params["x"] - 2.0]


def test_gp_backend_serves_constraint_multi_objective_and_pending_models(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every GPModel a 2-objective constrained study builds, pending-conditioned ones
    # included, carries the backend, and the NumPy reference's GP kernels are never called.
    module = _require("numba")
    reference = kernels.get_backend("numpy")
    built: list[tuple[int, ModuleType | None]] = []  # (rows, backend) of every model
    init = _model.GPModel.__init__

    def spy_init(self: _model.GPModel, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        built.append((len(self.X), self.kernel_module))

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the NumPy reference was used")

    monkeypatch.setattr(_model.GPModel, "__init__", spy_init)
    for name in ("matern52", "gp_log_marginal_likelihood", "gp_posterior"):
        monkeypatch.setattr(reference, name, forbidden)
    sampler = GPSampler(seed=1, backend="numba", n_startup_trials=4, n_candidates=64, n_starts=1,
                        constraints_func=_constraint)
    space = SearchSpace({"x": FloatDistribution(-5.0, 5.0), "y": FloatDistribution(-5.0, 5.0)})
    study = hpo_core.create_study(directions=["minimize", "minimize"], sampler=sampler)
    for _ in range(7):
        t = study.ask(space)
        study.tell(t, (t.params["x"] ** 2, (t.params["y"] - 1.0) ** 2))
    study.ask(space, n=2)  # the second proposal sees the first as RUNNING: a pending point
    # Five GP asks (on 4, 5, 6, 7 and 7 COMPLETE trials), each fitting two objective
    # models and one constraint model; the last also conditions both objective models on
    # the pending trial (8 rows).
    assert sorted(rows for rows, _ in built) == [4] * 3 + [5] * 3 + [6] * 3 + [7] * 6 + [8] * 2
    assert all(k is module for _, k in built)


def test_gp_default_backend_is_the_numpy_reference() -> None:
    X, y, is_cat = _mixed_data(20, seed=3)
    model = _model.fit_model(X, y, is_cat, _model.default_theta(3))
    assert model is not None and model.kernel_module is kernels.get_backend("numpy")
    assert GPSampler()._kernel_module is None  # resolved by _model to the reference


def test_gp_sampler_rejects_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="backend"):
        GPSampler(backend="cuda")
    with pytest.raises(ValueError, match="backend"):
        GPSampler(backend="cext")  # no GP kernels in the C++ extension


def test_gp_sampler_missing_backend_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if jax were not installed: the sampler raises at once, not at its first GP ask.
    monkeypatch.setitem(_backends._loaded, "jax", None)
    monkeypatch.setitem(_backends._load_errors, "jax", ImportError("No module named 'jax'"))
    with pytest.raises(ImportError, match=r"hpo_core\[jax\]"):
        GPSampler(backend="jax")


@pytest.mark.jax
def test_gp_sampler_with_jax_pickles_and_keeps_working() -> None:
    _require("jax")
    sampler = GPSampler(seed=0, backend="jax", n_startup_trials=5, n_candidates=256, n_starts=3)
    study = hpo_core.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=8)
    restored = pickle.loads(pickle.dumps(sampler))
    assert restored._backend == "jax" and restored._kernel_module is kernels.get_backend("jax")
    resumed = hpo_core.create_study(sampler=restored)
    for t in study.trials:
        resumed.add_trial(t)
    resumed.optimize(_objective, n_trials=3)
    new = resumed.trials[-3:]
    assert all(t.state.name == "COMPLETE" for t in new)
    assert all(-5.0 <= t.params["x"] <= 5.0 and t.params["c"] in ("a", "b", "c") for t in new)
