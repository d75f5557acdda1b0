"""TPESampler against Optuna 5.0's TPE, on the same observations.

Pins hpo_core's Parzen estimator to ``optuna.samplers._tpe.parzen_estimator._ParzenEstimator``
(the log-densities of the good and bad mixtures at the same points, per parameter and
joint, for every kind of parameter and every estimator option), the good/bad split to
Optuna's ``_split_trials`` with the default gamma, and the proposal to Optuna's argmax of
``log l - log g`` over the same candidates, for every available kernel backend.

One documented difference (see ``hpo_core/samplers/tpe/_parzen.py`` and
``benchmarks/README.md``): observations with equal values in a dimension take their
neighbour-distance bandwidths in trial order (a stable sort), where Optuna takes them in
the order of NumPy's default ``argsort``, which is not stable and depends on the CPU's
sort kernels. The bandwidths are the same multiset; only their assignment to the tied
observations differs. The exact comparisons below therefore give Optuna a stable argsort
(``optuna_stable_ties``); ``test_tied_observations_*`` assert the difference itself.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="optuna is not installed: these tests compare with Optuna 5.0's TPE")
if int(optuna.__version__.split(".")[0]) != 5:
    pytest.skip(f"the parity tests pin Optuna 5.x's TPE, but optuna {optuna.__version__} is installed",
                allow_module_level=True)

import optuna.distributions as od  # noqa: E402
from optuna.samplers._tpe import parzen_estimator as optuna_pe  # noqa: E402
from optuna.samplers._tpe.sampler import (  # noqa: E402
    _split_trials,
    default_gamma,
    default_gamma_multiobjective,
)
from optuna.samplers._tpe.sampler import default_weights as optuna_default_weights  # noqa: E402

import hpo_core  # noqa: E402
from hpo_core import distributions as hd  # noqa: E402
from hpo_core import kernels  # noqa: E402
from hpo_core.kernels import _reference_tpe, _reference_tpe_propose  # noqa: E402
from hpo_core.samplers import TPESampler  # noqa: E402
from hpo_core.samplers.tpe import _parzen  # noqa: E402
from hpo_core.testing.optuna_parity import NumpyStableArgsort  # noqa: E402

# Same math in both libraries: only rounding differs (the atol is for log-values near 0).
RTOL, ATOL = 1e-9, 1e-12

# (Optuna distribution, hpo_core distribution) of each kind of parameter.
KINDS: dict[str, tuple[Any, Any]] = {
    "float": (od.FloatDistribution(-3.0, 5.0), hd.FloatDistribution(-3.0, 5.0)),
    "log_float": (od.FloatDistribution(1e-3, 10.0, log=True), hd.FloatDistribution(1e-3, 10.0, log=True)),
    "step_float": (od.FloatDistribution(-1.0, 1.0, step=0.25), hd.FloatDistribution(-1.0, 1.0, step=0.25)),
    "int": (od.IntDistribution(0, 10), hd.IntDistribution(0, 10)),
    "log_int": (od.IntDistribution(1, 100, log=True), hd.IntDistribution(1, 100, log=True)),
    "step_int": (od.IntDistribution(-4, 20, step=4), hd.IntDistribution(-4, 20, step=4)),
    "cat": (od.CategoricalDistribution(["a", "b", "c", "d"]), hd.CategoricalDistribution(["a", "b", "c", "d"])),
}
DISCRETE = ["int", "log_int", "step_int", "cat"]
# (prior_weight, consider_endpoints, consider_magic_clip); prior_weight 0 is "no prior"
# (Optuna 5 removed consider_prior: the prior is always there, with this weight).
OPTIONS = [(1.0, False, True), (1.0, True, True), (0.5, False, False), (3.0, True, False), (0.0, False, True)]


@pytest.fixture
def optuna_stable_ties(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optuna_pe, "np", NumpyStableArgsort("numpy"))


@pytest.fixture(params=[b for b in kernels.BACKENDS if b != "jax"])
def backend(request: pytest.FixtureRequest) -> Any:
    """Each backend with the product-mixture kernels (JAX has none)."""
    if request.param not in kernels.available_backends():
        pytest.skip(f"backend {request.param!r} is not available here")
    return kernels.get_backend(request.param)


# ---------------------------------------------------------------------------- helpers
def _draw(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) internal values of ``kind``: grid points (with ties) for discrete kinds."""
    dist = KINDS[kind][1]
    if kind == "cat":
        return rng.integers(0, len(dist.choices), n).astype(float)
    if dist.step is not None or kind in ("int", "log_int"):
        step = dist.step or 1
        grid = dist.low + step * np.arange(int(round((dist.high - dist.low) / step)) + 1)
        if kind == "log_int":  # log-uniform-ish, as TPE's draws are
            return np.unique(np.round(np.geomspace(dist.low, dist.high, 60)))[rng.integers(0, 25, n)].astype(float)
        return rng.choice(grid, n).astype(float)
    if dist.log:
        return np.exp(rng.uniform(math.log(dist.low), math.log(dist.high), n))
    return rng.uniform(dist.low, dist.high, n)


def _points(kinds: list[str], rng: np.random.Generator, n: int = 40) -> np.ndarray:
    """(n + 2, d) points: the lowest and highest grid point / bound, then random ones."""
    cols = []
    for kind in kinds:
        dist = KINDS[kind][1]
        lo, hi = (0.0, len(dist.choices) - 1.0) if kind == "cat" else (float(dist.low), float(dist.high))
        cols.append(np.concatenate(([lo, hi], _draw(kind, n, rng))))
    return np.column_stack(cols)


def _optuna_estimator(kinds: list[str], obs: np.ndarray, weights: np.ndarray, options: tuple[float, bool, bool]) -> Any:
    prior_weight, endpoints, magic_clip = options
    params = optuna_pe._ParzenEstimatorParameters(prior_weight, magic_clip, endpoints, optuna_default_weights, True)
    space = {k: KINDS[k][0] for k in kinds}
    return optuna_pe._ParzenEstimator({k: obs[:, j] for j, k in enumerate(kinds)}, space, params,
                                      predetermined_weights=weights.copy())


def _optuna_log_pdf(est: Any, kinds: list[str], points: np.ndarray) -> np.ndarray:
    return est.log_pdf({k: points[:, j] for j, k in enumerate(kinds)})  # type: ignore[no-any-return]


class _Ours:
    """hpo_core's estimator of ``kinds`` for internal observations ``obs`` (columns in kinds' order)."""

    def __init__(self, kinds: list[str], obs: np.ndarray, weights: np.ndarray, options: tuple[float, bool, bool]):
        self.space = hd.SearchSpace({k: KINDS[k][1] for k in kinds})
        self.sa = sa = _parzen.space_arrays(self.space)
        self.options = options
        dn = len(sa.num)
        X = obs[:, sa.order]  # numeric columns first
        T = X[:, :dn].copy()
        T[:, sa.is_log] = np.log(T[:, sa.is_log])
        prior_weight, endpoints, magic_clip = options
        self.mixture = _reference_tpe_propose._tpe_estimator(
            np.clip(T, sa.lo, sa.hi), X[:, dn:], weights, sa.lo, sa.hi, sa.cat_sizes, sa.cat_offsets,
            prior_weight, endpoints, magic_clip,
        )

    def log_pdf(self, points: np.ndarray, backend: Any = _reference_tpe) -> np.ndarray:
        """Log density at internal ``points`` (columns in kinds' order): densities for
        continuous dimensions, masses of the bins [x - step/2, x + step/2] for discrete ones."""
        sa, dn = self.sa, len(self.sa.num)
        V = points[:, sa.order]
        half = 0.5 * sa.step
        XL, XH = V[:, :dn] - half, V[:, :dn] + half
        XL[:, sa.is_log], XH[:, sa.is_log] = np.log(XL[:, sa.is_log]), np.log(XH[:, sa.is_log])
        mus, sigmas, w, P = self.mixture
        with np.errstate(divide="ignore"):  # zero weights and probabilities (prior_weight 0)
            log_w, log_P = np.log(w), np.log(P)
        return backend.log_pdf_product_mixture(  # type: ignore[no-any-return]
            XL, XH, sa.step > 0, np.ascontiguousarray(V[:, dn:]), mus, sigmas, log_w, sa.lo, sa.hi, log_P,
            sa.cat_offsets,
        )


def _assert_same_log_pdf(kinds: list[str], obs: np.ndarray, weights: np.ndarray, options: tuple[float, bool, bool],
                         points: np.ndarray, backend: Any = _reference_tpe) -> None:
    expected = _optuna_log_pdf(_optuna_estimator(kinds, obs, weights, options), kinds, points)
    actual = _Ours(kinds, obs, weights, options).log_pdf(points, backend)
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def _observations(kinds: list[str], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([_draw(k, n, rng) for k in kinds]).reshape(n, len(kinds))


# ------------------------------------------------------------------ the estimator's densities
@pytest.mark.usefixtures("optuna_stable_ties")
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 40])
@pytest.mark.parametrize("kind", list(KINDS))
def test_log_pdf_per_parameter_equals_optuna(kind: str, n: int, options: tuple[float, bool, bool], seed: int) -> None:
    obs = _observations([kind], n, seed)
    points = _points([kind], np.random.default_rng(seed + 100))
    _assert_same_log_pdf([kind], obs, optuna_default_weights(n), options, points)


@pytest.mark.usefixtures("optuna_stable_ties")
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 30])
@pytest.mark.parametrize("kinds", [list(KINDS), DISCRETE, ["int", "cat"], ["log_float", "step_int", "cat"]],
                         ids=["all", "discrete", "int_cat", "mixed"])
def test_log_pdf_joint_equals_optuna(kinds: list[str], n: int, options: tuple[float, bool, bool], seed: int) -> None:
    obs = _observations(kinds, n, seed)
    points = _points(kinds, np.random.default_rng(seed + 100))
    _assert_same_log_pdf(kinds, obs, optuna_default_weights(n), options, points)


@pytest.mark.usefixtures("optuna_stable_ties")
@pytest.mark.parametrize("kinds", [["int"], ["cat"], DISCRETE, list(KINDS)], ids=["int", "cat", "discrete", "all"])
def test_log_pdf_with_weights_equals_optuna(kinds: list[str], seed: int) -> None:
    """Non-uniform observation weights (as the bad group's recency ramp, or any ``weights``)."""
    rng = np.random.default_rng(seed)
    obs = _observations(kinds, 60, seed)
    points = _points(kinds, rng)
    for weights in (optuna_default_weights(60), rng.random(60) + 0.01):
        _assert_same_log_pdf(kinds, obs, weights, (1.0, False, True), points)


@pytest.mark.usefixtures("optuna_stable_ties")
@pytest.mark.parametrize("options", [(1.0, False, True), (0.0, False, True)])
def test_log_pdf_every_backend_equals_optuna(backend: Any, options: tuple[float, bool, bool], seed: int) -> None:
    """The compiled densities (with their exact skipping of negligible components) at
    Optuna's values, on the good- and bad-sized groups of a discrete and a mixed space."""
    for kinds in (DISCRETE, list(KINDS)):
        for n in (1, 4, 60):
            obs = _observations(kinds, n, seed)
            points = _points(kinds, np.random.default_rng(seed + 7), 60)
            _assert_same_log_pdf(kinds, obs, optuna_default_weights(n), options, points, backend)


# ------------------------------------------------------------------ tied observations
def test_tied_observations_take_bandwidths_in_trial_order(seed: int) -> None:
    """The documented difference: among observations with equal values, the bandwidths go
    in trial order (stable sort). Optuna's default argsort may assign the same bandwidths
    to the tied observations in another order, so per dimension the multisets agree."""
    kinds = DISCRETE[:3]
    obs = _observations(kinds, 30, seed)
    ours = _Ours(kinds, obs, np.ones(30), (1.0, False, True)).mixture[1][:-1]  # (30, 3), kinds' order
    native = _optuna_estimator(kinds, obs, np.ones(30), (1.0, False, True))._mixture_distribution.distributions
    for j in range(len(kinds)):
        theirs = native[j].sigma[:-1]
        for value in np.unique(obs[:, j]):
            tied = obs[:, j] == value
            np.testing.assert_allclose(np.sort(ours[tied, j]), np.sort(theirs[tied]), rtol=1e-12)
    # A single parameter with equal weights: the same mixture whatever the order, so the
    # densities agree with Optuna's unpatched estimator too.
    obs1 = _observations(["int"], 30, seed)
    points = _points(["int"], np.random.default_rng(seed))
    _assert_same_log_pdf(["int"], obs1, np.ones(30), (1.0, False, True), points)


def test_tied_observations_with_stable_ties_in_optuna_are_the_same_estimator(optuna_stable_ties: None) -> None:
    obs = np.array([[10.0, 1.0], [1.0, 2.0], [10.0, 3.0], [10.0, 0.0], [2.0, 2.0]])
    kinds = ["int", "cat"]
    ours = _Ours(kinds, obs, np.ones(5), (1.0, False, True)).mixture[1][:, 0]
    theirs = _optuna_estimator(kinds, obs, np.ones(5), (1.0, False, True))._mixture_distribution.distributions[0].sigma
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    # Sorted: 1 (row 1), 2 (row 4), 10 (rows 0, 2, 3 in trial order); bins widen the
    # bounds to [-0.5, 10.5]; magic clip floor 11 / 7; the extremes use their inner gap.
    np.testing.assert_allclose(ours, [8.0, 11 / 7, 11 / 7, 11 / 7, 8.0, 11.0], rtol=1e-15)


# ------------------------------------------------------------------ the good/bad split
_O_STATE = {"COMPLETE": optuna.trial.TrialState.COMPLETE, "PRUNED": optuna.trial.TrialState.PRUNED,
            "RUNNING": optuna.trial.TrialState.RUNNING, "FAIL": optuna.trial.TrialState.FAIL}


def _history(seed: int, n: int, n_objectives: int, constrained: bool | str) -> list[dict[str, Any]]:
    """Trials as plain dicts: params on a discrete grid, values with ties, some PRUNED with
    0-3 reports (NaN among them) with one objective, RUNNING and FAIL ones, constraint values."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        state = rng.choice(["COMPLETE"] * 6 + ["PRUNED", "RUNNING", "FAIL"])
        rec: dict[str, Any] = {"state": str(state),
                               "params": {"a": int(rng.integers(0, 11)), "b": str(rng.choice(["x", "y", "z"]))}}
        if state == "COMPLETE":
            rec["values"] = [float(rng.integers(0, 8)) for _ in range(n_objectives)]
        if state == "PRUNED" and n_objectives == 1:  # (multi-objective trials cannot report)
            reports = {int(s): float(rng.integers(0, 5)) for s in rng.choice(6, rng.integers(0, 4), replace=False)}
            if reports and rng.random() < 0.3:
                reports[max(reports)] = math.nan
            rec["intermediate"] = reports
        if constrained and state in ("COMPLETE", "PRUNED"):
            rec["constraints"] = [float(rng.choice([-1.0, 0.0, 0.5, 2.0])), float(rng.choice([-1.0, 0.0, 1.0]))]
            if constrained == "partial" and rng.random() < 0.3:  # a trial without constraints: feasible
                del rec["constraints"]
        out.append(rec)
    return out


def _o_dists() -> dict[str, Any]:
    return {"a": od.IntDistribution(0, 10), "b": od.CategoricalDistribution(["x", "y", "z"])}


def _h_dists() -> dict[str, Any]:
    return {"a": hd.IntDistribution(0, 10), "b": hd.CategoricalDistribution(["x", "y", "z"])}


def _optuna_study(history: list[dict[str, Any]], directions: list[str]) -> Any:
    study = optuna.create_study(directions=directions)
    for rec in history:
        study.add_trial(optuna.trial.create_trial(
            state=_O_STATE[rec["state"]], values=rec.get("values"), params=rec["params"], distributions=_o_dists(),
            intermediate_values=rec.get("intermediate"),
            system_attrs={"constraints": rec["constraints"]} if "constraints" in rec else None,
        ))
    return study


def _hpo_study(history: list[dict[str, Any]], directions: list[str], sampler: TPESampler) -> Any:
    study = hpo_core.create_study(directions=directions, sampler=sampler)
    for rec in history:
        study.add_trial(hpo_core.create_trial(
            state=getattr(hpo_core.TrialState, rec["state"]), values=rec.get("values"), params=rec["params"],
            distributions=_h_dists(), intermediate_values=rec.get("intermediate"),
            system_attrs={"constraints": rec["constraints"]} if "constraints" in rec else None,
        ))
    return study


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The arguments of every kernels.tpe_propose call."""
    calls: list[tuple[Any, ...]] = []
    propose = kernels.tpe_propose

    def spy(*args: Any, **kwargs: Any) -> np.ndarray:
        calls.append(args)
        return propose(*args, **kwargs)

    monkeypatch.setattr(kernels, "tpe_propose", spy)
    return calls


@pytest.mark.parametrize("constrained", [False, True, "partial"], ids=["plain", "constraints", "some-without"])
@pytest.mark.parametrize("directions", [["minimize"], ["maximize"], ["minimize", "maximize"],
                                        ["minimize", "minimize", "maximize"]], ids=["min", "max", "mo2", "mo3"])
@pytest.mark.parametrize("n", [20, 60, 300])
def test_split_and_weights_equal_optuna(captured: list[tuple[Any, ...]], directions: list[str], n: int,
                                        constrained: bool | str, seed: int) -> None:
    """The good and bad rows (and their weights) of the next proposal are Optuna 5's
    ``_split_trials`` groups with the default gamma: COMPLETE trials by value (ties by
    number) or by non-domination rank and hypervolume, then PRUNED ones by their last
    report, then infeasible ones by violation; RUNNING trials always bad (constant liar)."""
    history = _history(seed, n, len(directions), constrained)
    o_study = _optuna_study(history, directions)
    sampler = TPESampler(seed=seed, constraints_func=(lambda t: [0.0]) if constrained else None)
    h_study = _hpo_study(history, directions, sampler)
    trial = h_study.ask()
    trial.suggest_int("a", 0, 10)
    assert captured, "TPE did not run"
    rows, n_below, weights = captured[-1][1], captured[-1][2], captured[-1][4]

    trials = [t for t in o_study.get_trials(deepcopy=False) if t.state != optuna.trial.TrialState.FAIL]
    n_finished = sum(t.state != optuna.trial.TrialState.RUNNING for t in trials)
    gamma = default_gamma if len(directions) == 1 else default_gamma_multiobjective
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's warnings about old-format constraints
        below, above = _split_trials(o_study, trials, gamma(n_finished))
    assert rows[:n_below].tolist() == [t.number for t in below]
    assert rows[n_below:].tolist() == [t.number for t in above]
    n_above = len(rows) - n_below
    w_below = optuna_default_weights(n_below) if len(directions) == 1 else np.ones(n_below)
    np.testing.assert_allclose(weights, np.concatenate((w_below, optuna_default_weights(n_above))), rtol=1e-15)


# ------------------------------------------------------------------ the proposal
def _propose_inputs(kinds: list[str], n_below: int, n_above: int, seed: int,
                    options: tuple[float, bool, bool]) -> tuple[Any, ...]:
    """(obs, w, ours_good, ours_bad, optuna_good, optuna_bad) for random groups."""
    obs = _observations(kinds, n_below + n_above, seed)
    w = np.concatenate((optuna_default_weights(n_below), optuna_default_weights(n_above)))
    parts = (slice(0, n_below), slice(n_below, None))
    ours = [_Ours(kinds, obs[p], w[p], options) for p in parts]
    theirs = [_optuna_estimator(kinds, obs[p], w[p], options) for p in parts]
    return obs, w, ours, theirs


def _assert_chose_optunas_candidate(acq: np.ndarray, candidates: np.ndarray, chosen: np.ndarray) -> None:
    """``chosen`` is the first maximiser of Optuna's ``acq`` over ``candidates`` (the same
    value: duplicates of the best candidate may come first), unless another candidate is
    within rounding of the maximum (then any of those). Continuous values drawn by a
    compiled backend may differ from the reference's draws by rounding (~1e-16)."""
    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.allclose(a, b, rtol=1e-12, atol=1e-14))

    best = int(np.argmax(acq))
    if np.isinf(acq[best]):
        near = acq == acq[best]
    else:
        near = acq >= acq[best] - 1e-9 * max(1.0, abs(acq[best]))
    if all(same(candidates[i], candidates[best]) for i in np.flatnonzero(near)):
        np.testing.assert_allclose(chosen, candidates[best], rtol=1e-12, atol=1e-14)
    else:
        assert any(same(chosen, candidates[i]) for i in np.flatnonzero(near))


@pytest.mark.usefixtures("optuna_stable_ties")
@pytest.mark.parametrize("options", [(1.0, False, True), (0.5, True, False), (0.0, False, True)])
@pytest.mark.parametrize("groups", [(1, 0), (1, 9), (3, 27), (10, 90)])
@pytest.mark.parametrize("kinds", [DISCRETE, list(KINDS), ["int"], ["cat"], ["log_int"]],
                         ids=["discrete", "all", "int", "cat", "log_int"])
def test_same_choice_among_optunas_candidates(kinds: list[str], groups: tuple[int, int],
                                              options: tuple[float, bool, bool], seed: int) -> None:
    """Candidates drawn by Optuna from its l(x): ours (every backend's densities) and
    Optuna's acquisition choose the same one."""
    obs, w, ours, theirs = _propose_inputs(kinds, *groups, seed, options)
    sample = theirs[0].sample(np.random.RandomState(seed), 24)
    candidates = np.column_stack([sample[k] for k in kinds])
    acq_o = theirs[0].log_pdf(sample) - theirs[1].log_pdf(sample)
    for name in kernels.available_backends():
        if name == "jax":
            continue
        be = kernels.get_backend(name)
        with np.errstate(invalid="ignore"):
            acq_h = ours[0].log_pdf(candidates, be) - ours[1].log_pdf(candidates, be)
        finite = np.isfinite(acq_o)
        np.testing.assert_allclose(acq_h[finite], acq_o[finite], rtol=RTOL, atol=1e-10)
        np.testing.assert_array_equal(acq_h[~finite], acq_o[~finite])
        _assert_chose_optunas_candidate(acq_o, candidates, candidates[int(np.argmax(acq_h))])


@pytest.mark.usefixtures("optuna_stable_ties")
@pytest.mark.parametrize("options", [(1.0, False, True), (0.5, True, False), (0.0, False, True)])
@pytest.mark.parametrize("groups", [(1, 0), (1, 9), (3, 27), (10, 90), (25, 400)])
@pytest.mark.parametrize("kinds", [DISCRETE, list(KINDS), ["int"], ["cat"], ["log_int"], ["step_float"]],
                         ids=["discrete", "all", "int", "cat", "log_int", "step_float"])
def test_tpe_propose_chooses_optunas_argmax_of_its_candidates(backend: Any, kinds: list[str], groups: tuple[int, int],
                                                              options: tuple[float, bool, bool], seed: int) -> None:
    """``tpe_propose`` (what TPESampler calls) from the history's columns: its candidates
    (drawn from our l, snapped to the grid) scored by Optuna's estimators; it returns
    Optuna's choice among them."""
    obs, w, ours, theirs = _propose_inputs(kinds, *groups, seed, options)
    sa = ours[0].sa
    dn = len(sa.num)
    u = np.random.default_rng(seed + 11).random((24, 1 + len(kinds)))
    prior_weight, endpoints, magic_clip = options
    chosen = backend.tpe_propose(
        obs, np.arange(len(obs)), groups[0], sa.order, w, u, sa.lo, sa.hi, sa.is_log, sa.step, sa.low, sa.high,
        sa.cat_offsets, sa.cat_sizes, prior_weight, endpoints, magic_clip,
    )
    candidates = _reference_tpe_propose._tpe_candidates(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], ours[0].mixture,
                                                sa.lo, sa.hi, sa.is_log, sa.step, sa.low, sa.high,
                                                sa.cat_offsets, sa.cat_sizes)
    # Back to the kinds' column order for Optuna.
    cand = np.empty_like(candidates)
    cand[:, sa.order] = candidates
    sample = {k: cand[:, j] for j, k in enumerate(kinds)}
    acq_o = theirs[0].log_pdf(sample) - theirs[1].log_pdf(sample)
    chosen_kinds = np.empty_like(chosen)
    chosen_kinds[sa.order] = chosen
    _assert_chose_optunas_candidate(acq_o, cand, chosen_kinds)


def test_candidates_are_distributed_as_optunas(seed: int) -> None:
    """Our draws from l (inverse CDFs of uniforms, snapped to the grid) and Optuna's
    (``rng.choice`` of a component, then its truncated normal) have the same distribution
    on a discrete space: per-parameter frequencies agree (chi-squared, 50,000 draws)."""
    stats = pytest.importorskip("scipy.stats", reason="scipy is not installed")
    kinds = DISCRETE + ["step_float"]
    _, _, ours, theirs = _propose_inputs(kinds, 6, 40, seed, (1.0, False, True))
    sa, dn, m = ours[0].sa, len(ours[0].sa.num), 50_000
    u = np.random.default_rng(seed).random((m, 1 + len(kinds)))
    cand = _reference_tpe_propose._tpe_candidates(u[:, 0], u[:, 1 : 1 + dn], u[:, 1 + dn :], ours[0].mixture, sa.lo, sa.hi,
                                          sa.is_log, sa.step, sa.low, sa.high, sa.cat_offsets, sa.cat_sizes)
    ours_kinds = np.empty_like(cand)
    ours_kinds[:, sa.order] = cand
    sample = theirs[0].sample(np.random.RandomState(seed), m)
    for j, k in enumerate(kinds):
        values = np.union1d(ours_kinds[:, j], sample[k])
        table = np.array([[np.sum(np.isclose(x, v)) for v in values] for x in (ours_kinds[:, j], sample[k])])
        assert stats.chi2_contingency(table[:, table.sum(axis=0) > 0])[1] > 1e-4, k


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("k", [1, 3, 8, 15])
def test_hypervolume_subset_selection_equals_optuna(m: int, k: int, seed: int) -> None:
    """Greedy HSSP on one front with many copies of each point (integer values): the same
    rows as Optuna 5's ``_solve_hssp`` (distinct points first, then copies by index)."""
    from optuna._hypervolume.hssp import _solve_hssp
    from optuna.samplers._tpe.sampler import _get_reference_point

    from hpo_core.samplers.tpe._split import _solve_hssp as ours

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 6, (12, m)).astype(float)
    front = base[kernels.get_backend("numpy").is_pareto_front(base)]
    points = front[rng.integers(0, len(front), 20)]  # copies of the front's points
    if k >= len(points):
        pytest.skip("k must be below the number of points")
    expected = np.sort(_solve_hssp(points, np.arange(len(points)), k, _get_reference_point(points)))
    np.testing.assert_array_equal(ours(points, k), expected)
