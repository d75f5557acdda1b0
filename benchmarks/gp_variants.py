"""Screen of GPSampler variants against the current GP and Optuna 5.0's, seed by seed (issue 11).

Each variant runs ``quality.py``'s define-by-run loop (``_runners._ask_tell_loop``) on the
same problems, seeds and trial counts; every run's values and parameters are stored, so the
best value at any budget can be read back. A variant is a change made for the run by
replacing functions of ``hpo_core.samplers.gp`` (screening only: the library is not
edited), or an Optuna sampler:

- ``base``: ``GPSampler(seed=s)`` as it is.
- ``optuna_gp``: Optuna 5.0's ``GPSampler(seed=s)`` (the anchor).
- ``nowarp``: outputs standardised by their mean and standard deviation (Optuna's
  ``_standardize_values``) instead of ``_model.warp_outputs``.
- ``oprior``: the hyperparameters fit under Optuna's prior (``_model._log_prior``'s
  ``prior="optuna"``).
- ``grid``: the coordinate search over an int or stepped parameter tries every grid value
  (up to 1,024 of them) instead of the neighbours within two steps (Optuna searches the
  whole grid: exhaustively up to 16 values, by a line search beyond).
- ``geo``: the coordinate search over an int or stepped parameter tries the grid values
  1, 2, 4, 8, ... steps away on either side and both ends of the range (O(log n) of them)
  instead of those within two steps.
- ``incumbent``: the best observed point is always one of the local-search starts (as in
  Optuna's ``optimize_acqf_mixed``).
- ``roulette``: the local-search starts are the best candidate, 8 drawn with probability
  proportional to their acquisition (EI), and with ``incumbent`` the best observed point
  (Optuna's choice) instead of the 10 best candidates.
- ``nopert``: no Gaussian perturbations of the best points among the candidates (Sobol only).
- Combinations join names with ``+`` (``grid+incumbent``).

``--startup optuna`` gives every variant the first 10 trials that Optuna 5.0's
GPSampler draws with the same seed (its ``RandomSampler(seed=s)``; enqueued), so that the
comparison with ``optuna_gp`` differs only in the model phase; ``own`` (default) leaves the
startup to the sampler.

``acq`` isolates the acquisition search on ``mlp_digits``: for the stored runs of
``base`` (``--startup optuna``) it fits Optuna's GP on the first n trials (n = 12, 16, 20,
24; the joint space: ``n_layers``, ``width_0``, ``dropout``, ``lr``, ``optimizer``), then
maximises that GP's log EI with Optuna's ``optimize_acqf_mixed`` and with hpo_core's
``_optimize.maximize`` (under the variant's patches, on hpo_core's candidates, the same
hyperparameters) and counts the states where either finds the higher value.

Usage::

    nice python benchmarks/gp_variants.py run base,grid mlp_digits 0-29 --trials 25
    python benchmarks/gp_variants.py cmp grid base mlp_digits 0-29 --budgets 15,20,25
    nice python benchmarks/gp_variants.py acq geo 0-29
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _problems  # noqa: E402
import _runners  # noqa: E402

OUT = HERE / "results" / "gp_variants.json"
PATCHES = ("nowarp", "oprior", "grid", "geo", "incumbent", "roulette", "nopert")
_GRID_MAX = 1024


# ----------------------------------------------------------------------------- patches
def _standardize(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).copy()
    finite = np.isfinite(v)
    if not finite.all():
        v = np.clip(v, v[finite].min() if finite.any() else 0.0, v[finite].max() if finite.any() else 0.0)
    return (v - v.mean()) / max(1e-10, float(v.std()))  # type: ignore[no-any-return]


@contextlib.contextmanager
def patched(names: list[str]) -> Iterator[None]:
    """Replace the GP functions the variant ``names`` change; restore them afterwards."""
    import functools

    from hpo_core.samplers.gp import _model, _optimize

    saved: list[tuple[Any, str, Any]] = []

    def swap(obj: Any, attr: str, new: Any) -> None:
        saved.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, new)

    if "nowarp" in names:
        swap(_model, "warp_outputs", _standardize)
    if "oprior" in names:
        swap(_model, "fit_model", functools.partial(_model.fit_model, prior="optuna"))
    if "grid" in names:
        original = _optimize._neighbours

        def neighbours(coords: Any, z: np.ndarray) -> np.ndarray:
            base = original(coords, z)
            space = coords.space
            x = coords.to_internal(z[None])[0]
            rows = []
            for j in np.flatnonzero(coords.discrete):
                n = int(round((space.high[j] - space.low[j]) / space.step[j])) + 1
                if n > _GRID_MAX:
                    continue
                grid = space.low[j] + space.step[j] * np.arange(n)
                grid = grid[np.abs(grid - x[j]) > 2.5 * space.step[j]]  # the rest: in base
                block = np.repeat(x[None], len(grid), axis=0)
                block[:, j] = grid
                rows.append(block)
            if not rows:
                return base
            return np.concatenate([base, coords.to_model(np.concatenate(rows))])

        swap(_optimize, "_neighbours", neighbours)
    if "geo" in names:
        original_nb = _optimize._neighbours

        def neighbours_geo(coords: Any, z: np.ndarray) -> np.ndarray:
            base = original_nb(coords, z)
            space = coords.space
            x = coords.to_internal(z[None])[0]
            rows = []
            for j in np.flatnonzero(coords.discrete):
                n = int(round((space.high[j] - space.low[j]) / space.step[j])) + 1
                i = int(round((x[j] - space.low[j]) / space.step[j]))
                offsets = 2 ** np.arange(2, max(2, int(n).bit_length()))  # 4, 8, ...: 1, 2 in base
                idx = np.concatenate([i - offsets, i + offsets, [0, n - 1]])
                idx = np.unique(idx[(idx >= 0) & (idx < n) & (np.abs(idx - i) > 2)])
                if len(idx) == 0:
                    continue
                block = np.repeat(x[None], len(idx), axis=0)
                block[:, j] = space.low[j] + space.step[j] * idx
                rows.append(block)
            if not rows:
                return base
            return np.concatenate([base, coords.to_model(np.concatenate(rows))])

        swap(_optimize, "_neighbours", neighbours_geo)
    if "incumbent" in names:
        original_draw = _optimize.draw_candidates

        def draw(coords: Any, rng: Any, n: int, incumbents: np.ndarray) -> np.ndarray:
            Z = original_draw(coords, rng, n, incumbents)
            if len(incumbents):  # the best observed point itself, as the first candidate
                Z = np.concatenate([incumbents[:1], Z])
            return Z

        swap(_optimize, "draw_candidates", draw)
    if "nopert" in names:
        inner_draw = _optimize.draw_candidates

        def draw_sobol(coords: Any, rng: Any, n: int, incumbents: np.ndarray) -> np.ndarray:
            Z = inner_draw(coords, rng, n, incumbents[:0])
            return np.concatenate([incumbents[:1], Z]) if "incumbent" in names and len(incumbents) else Z

        if "incumbent" in names:
            _optimize.draw_candidates = saved[-1][2]  # undo the incumbent patch: drawn here
            saved.pop()
            inner_draw = _optimize.draw_candidates
        swap(_optimize, "draw_candidates", draw_sobol)
    if "roulette" in names:
        swap(_optimize, "maximize", functools.partial(_maximize_roulette, first_is_incumbent="incumbent" in names))
    try:
        yield
    finally:
        for obj, attr, old in reversed(saved):
            setattr(obj, attr, old)


def _maximize_roulette(acq: Any, coords: Any, Z: np.ndarray, *, n_starts: int = 10, max_iter: int = 50,
                       max_rounds: int = 3, taken: frozenset[bytes] = frozenset(),
                       first_is_incumbent: bool = False) -> np.ndarray:
    """``_optimize.maximize`` (a copy) with Optuna's starts: the best candidate, the
    incumbent (row 0 of Z with ``incumbent``), the rest drawn by roulette on exp(log EI)."""
    from hpo_core.samplers.gp import _optimize as o

    if len(coords.continuous):
        taken = frozenset()
    values = acq(Z, False)[0]
    values = o._drop_taken(np.where(np.isnan(values), -np.inf, values), coords, Z, taken)
    best = int(np.argmax(values))
    best_z, best_v = Z[best], float(values[best])
    if n_starts == 0:
        return best_z  # type: ignore[no-any-return]
    rng = np.random.default_rng(abs(hash(Z.tobytes())) % (2**32))
    fixed = [best] + ([0] if first_is_incumbent and best != 0 else [])
    probs = np.exp(values - values[best])
    probs[fixed] = 0.0
    k = min(n_starts - len(fixed), int(np.count_nonzero(probs > 0)))
    extra = list(rng.choice(len(Z), size=k, replace=False, p=probs / probs.sum())) if k > 0 else []
    starts = np.array(fixed + extra, dtype=np.intp)
    S, V = Z[starts].copy(), values[starts].copy()
    cont = coords.continuous
    active = np.arange(len(S))
    for _ in range(max_rounds):
        if len(cont) and len(active):
            S_new, V_new = o._local_continuous(acq, S[active], cont, max_iter)
            better = V_new > V[active]
            S[active[better]], V[active[better]] = S_new[better], V_new[better]
        nbs = [o._neighbours(coords, S[i]) for i in active]
        counts = np.array([len(nb) for nb in nbs])
        if not counts.any():
            break
        all_nbs = np.concatenate(nbs)
        nv = acq(all_nbs, False)[0]
        nv = o._drop_taken(np.where(np.isnan(nv), -np.inf, nv), coords, all_nbs, taken)
        moved = []
        for j, (lo, hi) in enumerate(zip(np.cumsum(counts) - counts, np.cumsum(counts))):
            i = int(active[j])
            if hi > lo:
                kk = lo + int(np.argmax(nv[lo:hi]))
                if nv[kk] > V[i]:
                    S[i], V[i] = nbs[j][kk - lo], nv[kk]
                    moved.append(i)
        if not moved:
            break
        active = np.array(moved, dtype=np.intp)
    i = int(np.argmax(V))
    return S[i] if V[i] > best_v else best_z  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- runs
def optuna_startup(problem: _problems.Problem, seed: int, n: int) -> list[dict[str, Any]]:
    """The parameters of the first ``n`` trials of Optuna's GPSampler(seed) on ``problem``
    (its RandomSampler(seed=seed); the values do not matter to it)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        problem.suggest(trial)
        out.append(dict(trial.params))
        study.tell(trial, 0.0)
    return out


def run_one(variant: str, problem_name: str, seed: int, n_trials: int, startup: str) -> dict[str, Any]:
    _runners.limit_threads()
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("hpo_core").setLevel(logging.ERROR)  # the independent-sampling notes
    problem = _problems.problem_by_name(problem_name)
    evaluate = problem.make(seed)
    _runners.limit_threads()
    names = variant.split("+")
    params: list[dict[str, Any]] = []

    def recorded(p: dict[str, Any]) -> float:
        params.append({k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in p.items()})
        return float(evaluate(p))

    t0 = time.perf_counter()
    if names == ["optuna_gp"]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed))
        values, _ = _runners._ask_tell_loop(study, problem, recorded, n_trials)
    else:
        import hpo_core

        bad = [n for n in names if n != "base" and n not in PATCHES]
        if bad:
            raise ValueError(f"unknown variant part(s) {bad}; known: base, optuna_gp, {', '.join(PATCHES)}")
        study = hpo_core.create_study(sampler=hpo_core.samplers.GPSampler(seed=seed))
        if startup == "optuna":
            for p in optuna_startup(problem, seed, 10):
                study.enqueue_trial(p)
        with patched(names):
            values, _ = _runners._ask_tell_loop(study, problem, recorded, n_trials)
    return {"variant": variant, "problem": problem_name, "seed": seed, "n_trials": n_trials,
            "startup": startup, "values": values, "params": params,
            "wall_s": round(time.perf_counter() - t0, 3)}


def key(variant: str, problem: str, seed: int, n_trials: int, startup: str) -> str:
    return f"{variant}|{problem}|{seed}|{n_trials}|{startup}"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def store(path: Path, rec: dict[str, Any]) -> None:
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(path)
        data[key(rec["variant"], rec["problem"], rec["seed"], rec["n_trials"], rec["startup"])] = rec
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


# ----------------------------------------------------------------------------- compare
def best_at(data: dict[str, Any], variant: str, problem: str, seeds: list[int], n_trials: int,
            startup: str, budget: int) -> dict[int, float]:
    out = {}
    for s in seeds:
        rec = data.get(key(variant, problem, s, n_trials, startup))
        if rec is not None:
            out[s] = float(np.min(rec["values"][:budget]))
    return out


def compare(data: dict[str, Any], a: str, b: str, problems: list[str], seeds: list[int], n_trials: int,
            startups: tuple[str, str], budgets: list[int]) -> str:
    from scipy.stats import wilcoxon

    lines = [f"| problem | budget | seeds | {a} better | {b} better | ties | median {a} | median {b} "
             f"| mean {a} | mean {b} | Wilcoxon p |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for problem in problems:
        for budget in budgets:
            xa = best_at(data, a, problem, seeds, n_trials, startups[0], budget)
            xb = best_at(data, b, problem, seeds, n_trials, startups[1], budget)
            common = sorted(set(xa) & set(xb))
            if not common:
                continue
            va, vb = np.array([xa[s] for s in common]), np.array([xb[s] for s in common])
            d = va - vb
            d[np.abs(d) < 1e-6 * np.maximum(np.abs(va), 1e-12)] = 0.0  # float noise of the objective
            wa, wb = int((d < 0).sum()), int((d > 0).sum())
            p = float(wilcoxon(d).pvalue) if (d != 0).any() else 1.0
            lines.append(f"| {problem} | {budget} | {len(common)} | {wa} | {wb} | {len(common) - wa - wb} "
                         f"| {np.median(va):.5g} | {np.median(vb):.5g} | {va.mean():.5g} | {vb.mean():.5g} "
                         f"| {p:.3g} |")
    return "\n".join(lines)


def acq_search(data: dict[str, Any], variant: str, seeds: list[int]) -> str:
    """The ``acq`` subcommand (module docstring): counts of the higher log EI found."""
    import optuna.distributions as od
    import torch
    from optuna._gp import acqf as oacqf
    from optuna._gp import gp as ogp
    from optuna._gp import optim_mixed
    from optuna._gp import prior as oprior
    from optuna._gp import search_space as oss

    from hpo_core.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
        SearchSpace,
    )
    from hpo_core.samplers.gp import _acquisition, _model, _optimize

    space = SearchSpace({"n_layers": IntDistribution(1, 3), "width_0": IntDistribution(16, 256, log=True),
                         "dropout": FloatDistribution(0.0, 0.5), "lr": FloatDistribution(1e-4, 1e-1, log=True),
                         "optimizer": CategoricalDistribution(["adam", "sgd"])})
    ospace = oss.SearchSpace({"n_layers": od.IntDistribution(1, 3), "width_0": od.IntDistribution(16, 256, log=True),
                              "dropout": od.FloatDistribution(0.0, 0.5),
                              "lr": od.FloatDistribution(1e-4, 1e-1, log=True),
                              "optimizer": od.CategoricalDistribution(["adam", "sgd"])})
    coords = _optimize.SpaceCoords(space)
    gaps = []
    with patched(variant.split("+")):
        for seed in seeds:
            rec = data.get(key("base", "mlp_digits", seed, 25, "optuna"))
            if rec is None:
                continue
            for n in (12, 16, 20, 24):
                X = coords.to_model(np.array([[len(p["widths"]), p["widths"][0], p["dropout"], p["lr"],
                                               float(p["optimizer"] == "sgd")] for p in rec["params"][:n]]))
                v = -np.array(rec["values"][:n])
                y = (v - v.mean()) / v.std()
                g = ogp.fit_kernel_params(X=X, Y=y, is_categorical=coords.is_cat, log_prior=oprior.default_log_prior,
                                          minimum_noise=oprior.DEFAULT_MINIMUM_NOISE_VAR, deterministic_objective=False)
                acq_o = oacqf.LogEI(gpr=g, search_space=ospace, threshold=y.max())
                _, v_o = optim_mixed.optimize_acqf_mixed(
                    acq_o, warmstart_normalized_params_array=X[np.argmax(y)][None], n_preliminary_samples=2048,
                    n_local_search=10, tol=1e-4, rng=np.random.RandomState(seed * 100 + n))
                theta = np.concatenate([np.log(g.inverse_squared_lengthscales.numpy()),
                                        [math.log(g.kernel_scale.item()), math.log(g.noise_var.item())]])
                model = _model.fit_model(X, y, coords.is_cat, theta, refit=False)
                assert model is not None

                def acq(Z: np.ndarray, grad: bool = True, m: Any = model, best: float = float(y.max())) -> Any:
                    return _acquisition.acquisition("logei", *m.posterior(Z, grad=grad), best=best, beta=2.0)

                Z = _optimize.draw_candidates(coords, np.random.default_rng(seed * 100 + n), 2048,
                                              X[np.argsort(-y, kind="stable")[:5]])
                z = _optimize.maximize(acq, coords, Z, n_starts=10)
                with torch.no_grad():
                    gaps.append(float(v_o) - float(acq_o.eval_acqf_no_grad(z[None])[0]))
    gaps_a = np.array(gaps)
    return (f"{variant}: {len(gaps_a)} states; Optuna's search higher by > 1e-3 in {(gaps_a > 1e-3).sum()}, "
            f"hpo_core's in {(gaps_a < -1e-3).sum()}; median gap {np.median(gaps_a):.2g}, mean {gaps_a.mean():.3g}")


def _ints(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run variants (cached per variant, problem, seed, trials, startup)")
    r.add_argument("variants")
    r.add_argument("problems")
    r.add_argument("seeds")
    r.add_argument("--trials", type=int, default=25)
    r.add_argument("--startup", choices=("own", "optuna"), default="own")
    r.add_argument("--out", type=Path, default=OUT)
    c = sub.add_parser("cmp", help="compare variant A with B seed by seed")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("problems")
    c.add_argument("seeds")
    c.add_argument("--trials", type=int, default=25)
    c.add_argument("--startup", default="own", help="A's startup, or A's,B's (e.g. optuna,own)")
    c.add_argument("--budgets", default="25")
    c.add_argument("--out", type=Path, default=OUT)
    q = sub.add_parser("acq", help="the acquisition search alone on mlp_digits (see above)")
    q.add_argument("variant")
    q.add_argument("seeds")
    q.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    if args.cmd == "acq":
        print(acq_search(load(args.out), args.variant, _ints(args.seeds)))
        return 0
    if args.cmd == "run":
        data = load(args.out)
        for problem in args.problems.split(","):
            for variant in args.variants.split(","):
                for seed in _ints(args.seeds):
                    startup = "own" if variant == "optuna_gp" else args.startup
                    if key(variant, problem, seed, args.trials, startup) in data:
                        continue
                    rec = run_one(variant, problem, seed, args.trials, startup)
                    store(args.out, rec)
                    print(f"{variant} {problem} {seed}: best {min(rec['values']):.5g} ({rec['wall_s']} s)",
                          flush=True)
        return 0
    s = args.startup.split(",")
    startups = (s[0], s[-1])
    print(compare(load(args.out), args.a, args.b, args.problems.split(","), _ints(args.seeds), args.trials,
                  startups, _ints(args.budgets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
