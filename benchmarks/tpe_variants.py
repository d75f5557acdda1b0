"""Screen of TPE variants against the plain TPE, seed by seed (issue 11).

Each variant runs the same studies as the plain ``TPESampler`` (same problems, seeds and
trials; ``quality.py``'s define-by-run loop) and is compared run by run: wins, losses and
ties of the best regret at 25 / 50 / 100 (/ 200) trials, a two-sided Wilcoxon test of the
log-regret differences pooled over the problems, and the problems better or worse after
Holm over the suite. The share of repeated configurations is stored per run.

Variants (``VARIANTS``):

- ``base``: ``TPESampler(seed=s)`` (the default, C++ kernels where built) with
  ``skip_evaluated=False`` where the library has it (the plain TPE of the screen; the
  default since applies the ``skipseen`` rule below);
- ``uniform_w`` / ``shuffled_w``: ``weights=`` all ones / the recency ramp in a random order;
- ``norepeat4``: when a joint proposal (2+ parameters, the intersection space) equals an
  evaluated configuration, propose again, up to 4 times;
- ``halfbins``, ``catsharp``, ``skipseen``: a change inside the proposal, made by replacing
  functions of the NumPy reference kernels for the run (``HPO_CORE_BACKEND=numpy``; screening
  only, the library is not changed): rustuna's bin masses of int and stepped parameters
  (normalised over ``[low, high]``, end bins halved); a categorical kernel with off-category
  mass ``prior_weight / (k c)`` instead of ``prior_weight / k``; the best of the candidates
  that is not one of the gathered observations (all-discrete spaces of 2+ parameters; the
  plain choice when every candidate is);
- ``candN`` / ``schedN_T``: ``n_ei_candidates=N`` throughout / from the trial after the
  first ``T`` (24 before); ``lhs``: the candidates' uniforms as a Latin hypercube;
  ``gamma15`` / ``gamma_sqrt``: good groups of ``min(ceil(0.15 n), 25)`` / hyperopt's
  ``min(ceil(0.25 sqrt(n)), 25)`` trials. All without a change of the library.
- ``clipn`` (patched reference): the magic clip's bandwidth floor counted from every
  observation of the ask, so the good group's kernels narrow as the bad group's do;
  ``clipnc``: the same in continuous dimensions only (ints and steps keep the group's floor);
  ``clipsqrt``: ``TPESampler(magic_clip_count="geometric")``, the good group's floor
  counting ``floor(sqrt(n_below * n))`` observations in continuous dimensions.

Suites: ``discrete`` (100 trials), ``bbob5`` / ``bbob10`` (200) and ``sklearn`` (the
model-tuning tasks of ``quality.py``, 100 trials; their optimum unknown, the "regret" is the
loss itself).

``--tree`` runs the ``hpo_core`` (and ``benchmarks``) of another directory, e.g. a ``git
archive`` of a commit, so that a shared working tree's uncommitted changes cannot leak in.

Usage::

    python benchmarks/tpe_variants.py run base,skipseen discrete 0-29 --workers 2
    python benchmarks/tpe_variants.py run base,uniform_w bbob10 0-9
    python benchmarks/tpe_variants.py cmp skipseen discrete        # against base
"""

from __future__ import annotations

import argparse
import fcntl
import inspect
import json
import multiprocessing as mp
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "tpe_variants.json"
VARIANTS = ("base", "uniform_w", "shuffled_w", "norepeat4", "halfbins", "catsharp", "skipseen",
            "cand64", "cand128", "sched64_50", "sched128_50", "sched128_100", "sched64_100", "lhs",
            "gamma15", "gamma_sqrt", "clipn", "clipnc", "clipsqrt")
PATCHED = ("halfbins", "catsharp", "skipseen", "clipn", "clipnc")  # run on the patched NumPy reference
PROBLEMS_DISCRETE = "discrete"


def _use_tree() -> None:
    """Import hpo_core and the benchmark helpers from ``$TPE_VARIANTS_TREE`` when set (the
    editable install's import hook would otherwise always pick the installed checkout)."""
    tree = os.environ.get("TPE_VARIANTS_TREE")
    if tree:
        sys.meta_path[:] = [
            f for f in sys.meta_path if "ScikitBuildRedirectingFinder" not in type(f).__name__
        ]
        sys.path.insert(0, tree)
        sys.path.insert(0, str(Path(tree) / "benchmarks"))
    else:
        sys.path.insert(0, str(HERE))


def make_sampler(variant: str, seed: int) -> Any:
    import hpo_core
    from hpo_core.samplers.tpe import _sampler as tpe

    # Every variant is a change of the plain TPE: where the library's TPESampler has
    # skip_evaluated (on by default since the screen), it is off here.
    plain: dict[str, Any] = (
        {"skip_evaluated": False}
        if "skip_evaluated" in inspect.signature(hpo_core.samplers.TPESampler).parameters
        else {}
    )
    if variant in ("base", *PATCHED):
        return hpo_core.samplers.TPESampler(seed=seed, **plain)
    if variant == "uniform_w":
        return hpo_core.samplers.TPESampler(seed=seed, weights=lambda n: np.ones(n), **plain)
    if variant == "shuffled_w":
        rng = np.random.default_rng(seed + 7919)
        return hpo_core.samplers.TPESampler(
            seed=seed, weights=lambda n: rng.permutation(tpe.default_weights(n)), **plain
        )
    if variant == "norepeat4":

        class NoRepeat(tpe.TPESampler):
            def _sample_space(
                self, study: Any, h: Any, trial: Any, space: Any, complete_has_all: bool = False
            ) -> Any:
                x = super()._sample_space(study, h, trial, space, complete_has_all)
                if not complete_has_all or len(space) < 2:
                    return x
                _, cols = self._arrays(space, h)
                done = np.flatnonzero(h.states[: h.n] == tpe._COMPLETE)
                seen = h.X[done[:, None], cols]
                for _ in range(4):
                    if not np.any(np.all(seen == x[None, :], axis=1)):
                        break
                    x = super()._sample_space(study, h, trial, space, complete_has_all)
                return x

        return NoRepeat(seed=seed, **plain)
    if variant == "gamma15":  # a larger good group: min(ceil(0.15 n), 25)
        return tpe.TPESampler(seed=seed, gamma=lambda n: min(int(np.ceil(0.15 * n)), 25), **plain)
    if variant == "gamma_sqrt":  # hyperopt's: min(ceil(0.25 sqrt(n)), 25)
        return tpe.TPESampler(seed=seed, gamma=lambda n: min(int(np.ceil(0.25 * np.sqrt(n))), 25), **plain)
    if variant == "lhs":
        # The candidates' uniforms as a Latin hypercube (each column stratified into
        # n_ei_candidates equal cells, one draw per cell, cells paired at random) instead of
        # independent draws: the component choice becomes systematic resampling.
        class LatinRng:
            def __init__(self, rng: Any) -> None:
                self._rng = rng

            def random(self, size: Any = None) -> Any:
                if not (isinstance(size, tuple) and len(size) == 2):
                    return self._rng.random(size)
                n, d = size
                u = self._rng.random(size)
                cells = np.argsort(self._rng.random(size), axis=0)
                return (cells + u) / n

            def __getattr__(self, name: str) -> Any:
                return getattr(self._rng, name)

        sampler = tpe.TPESampler(seed=seed, **plain)
        sampler._rng = LatinRng(sampler._rng)
        return sampler
    if variant.startswith(("cand", "sched")):
        # More candidates than Optuna's 24: throughout (candN), or from the trial after
        # the first T (schedN_T), 24 before.
        many, _, after = variant.removeprefix("cand").removeprefix("sched").partition("_")
        start = int(after) if after else 0

        class Candidates(tpe.TPESampler):
            def _sample_space(
                self, study: Any, h: Any, trial: Any, space: Any, complete_has_all: bool = False
            ) -> Any:
                self._n_ei_candidates = int(many) if h.n > start else 24
                return super()._sample_space(study, h, trial, space, complete_has_all)

        return Candidates(seed=seed, **plain)
    if variant == "clipsqrt":  # the good group's floor counts floor(sqrt(n_below * n)) observations
        return tpe.TPESampler(seed=seed, magic_clip_count="geometric", **plain)
    raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def _scores(
    R: Any,
    S: np.ndarray,
    good: Any,
    bad: Any,
    low: np.ndarray,
    high: np.ndarray,
    is_log: np.ndarray,
    step: np.ndarray,
    cat_offsets: np.ndarray,
    halved: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """``log l - log g`` at the candidates ``S`` (the reference's scoring; with ``halved``,
    discrete bins clipped to and normalised over the unwidened bounds, as rustuna)."""
    dn = len(low)
    discrete = step > 0
    XL, XH = S[:, :dn] - 0.5 * step, S[:, :dn] + 0.5 * step
    XL[:, is_log], XH[:, is_log] = np.log(XL[:, is_log]), np.log(XH[:, is_log])
    if halved is not None:
        low, high = np.where(discrete, halved[0], low), np.where(discrete, halved[1], high)
        XL, XH = np.maximum(XL, low), np.minimum(XH, high)
    C = S[:, dn:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return R.log_pdf_product_mixture(
            XL, XH, discrete, C, good[0], good[1], np.log(good[2]), low, high, np.log(good[3]), cat_offsets
        ) - R.log_pdf_product_mixture(
            XL, XH, discrete, C, bad[0], bad[1], np.log(bad[2]), low, high, np.log(bad[3]), cat_offsets
        )


def patch_reference(variant: str) -> None:
    """Put the reference kernels back, then replace what ``variant`` changes."""
    from hpo_core.kernels import _reference, _reference_tpe_propose

    # Functions of the reference proposal module (and its binding of
    # ``categorical_kernel_table``, which its estimators call) are replaced for the run.
    # ``_reference`` re-exports ``tpe_propose`` (bound when it is first imported), so both
    # modules get the patch; the gathered observations live on the module, shared by every
    # patch of the process.
    R: Any = _reference_tpe_propose
    orig = R.__dict__.setdefault(
        "_screen_orig", (R.categorical_kernel_table, R.tpe_best_candidate, R.tpe_propose)
    )
    R.categorical_kernel_table, R.tpe_best_candidate, R.tpe_propose = orig
    bandwidths = R.__dict__.setdefault("_screen_orig_bw", R.parzen_bandwidths)
    R.parzen_bandwidths = bandwidths
    setattr(_reference, "tpe_propose", orig[2])  # noqa: B010 - a module attribute
    seen: list[np.ndarray] = R.__dict__.setdefault("_screen_seen", [])

    def best(
        u_component: np.ndarray,
        U: np.ndarray,
        UC: np.ndarray,
        good: Any,
        bad: Any,
        low: np.ndarray,
        high: np.ndarray,
        is_log: np.ndarray,
        step: np.ndarray,
        grid_low: np.ndarray,
        grid_high: np.ndarray,
        cat_offsets: np.ndarray,
        cat_sizes: np.ndarray,
    ) -> np.ndarray:
        is_log, step = np.asarray(is_log, dtype=np.bool_), np.asarray(step, dtype=np.float64)
        S = R._tpe_candidates(
            u_component, U, UC, good, low, high, is_log, step, grid_low, grid_high, cat_offsets, cat_sizes
        )
        halved = None
        if variant == "halfbins":
            gl, gh = np.array(grid_low, dtype=np.float64), np.array(grid_high, dtype=np.float64)
            gl[is_log], gh[is_log] = np.log(gl[is_log]), np.log(gh[is_log])
            halved = (gl, gh)
        acq = _scores(R, S, good, bad, np.asarray(low), np.asarray(high), is_log, step, cat_offsets, halved)
        if variant == "skipseen" and seen and S.shape[1] >= 2 and bool(np.all(step > 0)):
            dup = (S[:, None, :] == seen[-1][None, :, :]).all(axis=2).any(axis=1)
            if not dup.all():
                acq = np.where(dup, -np.inf, acq)
        return S[int(np.argmax(acq))].copy()

    def propose(X: np.ndarray, rows: np.ndarray, n_below: int, cols: np.ndarray, *args: Any, **kwargs: Any,
                ) -> np.ndarray:
        seen[:] = [
            np.asarray(X, dtype=np.float64)[
                np.asarray(rows, dtype=np.intp)[:, None], np.asarray(cols, dtype=np.intp)
            ]
        ]
        return orig[2](X, rows, n_below, cols, *args, **kwargs)  # type: ignore[no-any-return]

    def table(C: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, prior_weight: float) -> np.ndarray:
        C, sizes = np.asarray(C, dtype=np.float64), np.asarray(sizes, dtype=np.intp)
        n, k = C.shape[0], C.shape[0] + 1
        fill = prior_weight / k / sizes if n else np.ones(len(sizes))
        P = np.repeat(np.repeat(fill, sizes)[None], k, axis=0)
        if n and len(sizes):
            P[np.arange(n)[:, None], C.astype(np.intp) + np.asarray(offsets, dtype=np.intp)] += 1.0
        P[:n] /= np.repeat(fill * sizes + 1.0, sizes)
        P[n] = np.repeat(1.0 / sizes, sizes)
        return P

    if variant in ("clipn", "clipnc"):
        # The magic clip's floor from every observation of the ask (len(rows)) instead of
        # the group's own count: the good group's kernels may narrow to range / 100 once
        # the study has 98 trials, as the bad group's do (not range / (n_below + 2)).
        n_total, steps = [0], [np.zeros(0)]

        def propose_n(X: np.ndarray, rows: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
            n_total[0] = len(rows)
            steps[0] = np.asarray(args[7], dtype=np.float64)  # tpe_propose's step, after rows
            return orig[2](X, rows, *args, **kwargs)  # type: ignore[no-any-return]

        def bandwidths_n(T: np.ndarray, low: np.ndarray, high: np.ndarray, consider_endpoints: bool,
                         magic_clip: bool) -> np.ndarray:
            sig = bandwidths(T, low, high, consider_endpoints, False)
            width = np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)
            n = np.full(len(width), float(max(len(T), n_total[0])))
            if variant == "clipnc":
                n[steps[0] > 0] = len(T)  # grids keep the group's floor
            return np.clip(sig, width / np.minimum(100.0, n + 2.0) if magic_clip else 1e-12, width)  # type: ignore[no-any-return]

        R.parzen_bandwidths, R.tpe_propose = bandwidths_n, propose_n
        setattr(_reference, "tpe_propose", propose_n)  # noqa: B010
    if variant in ("halfbins", "skipseen"):
        R.tpe_best_candidate, R.tpe_propose = best, propose
        setattr(_reference, "tpe_propose", propose)  # noqa: B010
    elif variant == "catsharp":
        R.categorical_kernel_table = table


def problems(suite: str) -> list[str]:
    import _problems

    if suite == PROBLEMS_DISCRETE:
        return list(_problems.DISCRETE_PROBLEMS)
    if suite == "sklearn":
        return list(_problems.SKLEARN_PROBLEMS)
    return [f"bbob_f{f:02d}_d{int(suite[4:])}" for f in range(1, 25)]


def checkpoints(n_trials: int) -> list[int]:
    return [c for c in (10, 25, 50, 100, 200) if c <= n_trials]


def run_one(task: tuple[str, str, int, int]) -> tuple[str, dict[str, Any]]:
    """One study; returns its key and the regrets and distinct configurations at the checkpoints."""
    import warnings

    variant, name, seed, n_trials = task
    warnings.filterwarnings("ignore")
    import hpo_core
    import hpo_core.kernels._backends as kernel_backends

    os.environ["HPO_CORE_BACKEND"] = "numpy" if variant in PATCHED else ""
    kernel_backends._reset_default()
    patch_reference(variant)
    import _problems
    import _runners

    hpo_core.logging.set_verbosity(hpo_core.logging.WARNING)
    problem = _problems.problem_by_name(name)
    evaluate = problem.make(seed)
    configs: list[tuple[Any, ...]] = []

    def recorded(params: dict[str, Any]) -> float:
        configs.append(_runners.config_key(params))
        return float(evaluate(params))

    study = hpo_core.create_study(sampler=make_sampler(variant, seed))
    values, _ = _runners._ask_tell_loop(study, problem, recorded, n_trials)
    f_opt = problem.f_opt if problem.f_opt is not None else 0.0  # sklearn: the loss itself
    regret = np.minimum.accumulate(np.array(values, dtype=float)) - f_opt
    cps = checkpoints(n_trials)
    return (
        f"{variant}|{name}|{seed}|{n_trials}",
        {
            "best": {str(c): float(regret[c - 1]) for c in cps},
            "distinct": {str(c): len(set(configs[:c])) for c in cps},
        },
    )


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def store(path: Path, new: dict[str, Any]) -> None:
    """Merge ``new`` into the results file under a lock (several runs may share it)."""
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(path)
        data.update(new)
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, path)


def seeds_of(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def run(
    variants: list[str],
    suite: str,
    seeds: list[int],
    n_trials: int,
    workers: int,
    out: Path,
    log: Callable[[str], None] = print,
) -> None:
    have = load(out)
    todo = [
        (v, p, s, n_trials)
        for v in variants
        for p in problems(suite)
        for s in seeds
        if f"{v}|{p}|{s}|{n_trials}" not in have
    ]
    log(f"{len(todo)} runs")
    done: dict[str, Any] = {}
    with mp.get_context("spawn").Pool(workers, maxtasksperchild=50) as pool:
        for key, rec in pool.imap_unordered(run_one, todo, chunksize=2):
            done[key] = rec
            if len(done) >= 50:
                store(out, done)
                log(f"{len(done)} stored")
                done = {}
    store(out, done)


def compare(variant: str, base: str, suite: str, n_trials: int, out: Path) -> str:
    """Wins / losses / ties, the pooled Wilcoxon p and the problems better or worse after Holm."""
    from scipy.stats import wilcoxon

    data = load(out)
    lines = [f"{variant} against {base} on {suite} ({n_trials} trials)"]
    for c in (b for b in (25, 50, 100, 200) if b <= n_trials):
        diffs, tests, w, los, t = [], [], 0, 0, 0
        for p in problems(suite):
            seeds = sorted(
                int(k.split("|")[2])
                for k in data
                if k.startswith(f"{variant}|{p}|")
                and k.endswith(f"|{n_trials}")
                and f"{base}|{p}|{k.split('|')[2]}|{n_trials}" in data
            )
            if not seeds:
                continue
            a = np.maximum([data[f"{variant}|{p}|{s}|{n_trials}"]["best"][str(c)] for s in seeds], 1e-8)
            b = np.maximum([data[f"{base}|{p}|{s}|{n_trials}"]["best"][str(c)] for s in seeds], 1e-8)
            d = np.where(np.abs(a - b) <= 1e-12 * np.maximum(1.0, np.abs(b)), 0.0, np.log(a) - np.log(b))
            w, los, t = w + int((d < 0).sum()), los + int((d > 0).sum()), t + int((d == 0).sum())
            diffs.append(d)
            nz = d[d != 0]
            if len(nz):
                tests.append((wilcoxon(nz).pvalue if len(nz) >= 2 else 1.0, p, float(nz.sum()) < 0))
        tests.sort()
        held, better, worse = 0.0, list[str](), list[str]()
        for i, (pv, p, neg) in enumerate(tests):
            held = max(held, min(1.0, (len(tests) - i) * pv))
            if held < 0.05:
                (better if neg else worse).append(f"{p} ({held:.3f})")
        d = np.concatenate(diffs) if diffs else np.zeros(0)
        p_all = wilcoxon(d[d != 0]).pvalue if np.count_nonzero(d) > 10 else float("nan")
        lines.append(
            f"  @ {c}: wins {w} / losses {los} / ties {t}; Wilcoxon p = {p_all:.2g}; "
            f"better (Holm): {', '.join(better) or '-'}; worse: {', '.join(worse) or '-'}"
        )
    budgets = [c for c in (25, 50, 100) if c <= n_trials]
    for v in (variant, base):
        rep = [
            [1 - r["distinct"][str(c)] / c for c in budgets]
            for k, r in data.items()
            if k.startswith(v + "|") and k.endswith(f"|{n_trials}") and k.split("|")[1] in problems(suite)
        ]
        if rep:
            share = " / ".join(f"{100 * x:.1f}%" for x in np.mean(rep, axis=0))
            at = " / ".join(map(str, budgets))
            lines.append(f"  {v}: repeated configurations @ {at}: {share} ({len(rep)} runs)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="TPE variants against the plain TPE, seed by seed (issue 11).")
    p.add_argument("action", choices=("run", "cmp"))
    p.add_argument("variants", help=f"comma-separated ({', '.join(VARIANTS)}); cmp: one")
    p.add_argument("suite", help="discrete, bbob5, bbob10 or sklearn")
    p.add_argument("seeds", nargs="?", default="0-9", help="run: e.g. 0-29 (default 0-9)")
    p.add_argument("--trials", type=int, default=None, help="default 100 (discrete, sklearn), 200 (BBOB)")
    p.add_argument("--base", default="base", help="cmp: the variant compared against (default base)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--tree", default=None, help="run the hpo_core of this directory (a git archive)")
    args = p.parse_args(argv)
    if args.tree:
        os.environ["TPE_VARIANTS_TREE"] = args.tree
    _use_tree()
    n_trials = args.trials or (100 if args.suite in (PROBLEMS_DISCRETE, "sklearn") else 200)
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            p.error(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    if args.action == "run":
        run(variants, args.suite, seeds_of(args.seeds), n_trials, args.workers, args.out)
    else:
        print(compare(variants[0], args.base, args.suite, n_trials, args.out))
    return 0


_use_tree() if __name__ == "__mp_main__" else None  # spawned workers import this module

if __name__ == "__main__":
    sys.exit(main())
