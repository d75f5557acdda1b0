"""One CMA-ES run shared by every worker of a study: its state, ask, tell and restarts.

The state (:class:`Run`) is a dataclass of the ``cmaes`` optimizer and the bookkeeping
of restarts; it is stored in the study as text (:func:`encode` / :func:`decode`), without
the optimizer's random generator (each worker draws from its own). ``generation``
numbers the populations of the whole run, restarts included, so that the history's
``generation`` column alone says which trials belong to the population being collected.

Restarts (when the optimizer's own stopping criteria fire after a tell):

* IPOP (Auger and Hansen 2005): the next run starts at a uniformly random point with
  the population ``inc_popsize`` times larger.
* BIPOP (Hansen 2009): runs alternate between a large-population regime (the population
  ``inc_popsize ** i`` times the default at the i-th large restart) and a small one (a
  population ``floor(lambda_def * (lambda_large / lambda_def) ** (U ** 2))`` and a step
  size ``sigma0 * 10 ** (-2 U)``, ``U ~ U(0, 1)``), choosing the small regime while it
  has used fewer evaluations than the large one.
"""

from __future__ import annotations

import base64
import math
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_core.samplers.cmaes._space import Coder, default_popsize, gauss_order, make_optimizer, set_rng

__all__ = ["Run", "ask", "decode", "encode", "new_run", "restart_if_stopped", "tell", "warm_start"]

_FORMAT = "cmaes-run-v2:"
_FORMATS = ("cmaes-run-v1:", _FORMAT)  # v1: arrays and float64 scalars pickled as NumPy's
_CMAES_OBJECT = "cmaes-object"
_ARRAY = "cmaes-ndarray"
_FLOAT64 = "cmaes-float64"


@dataclass
class Run:
    """The state of one CMA-ES run (picklable; the optimizer's generator excluded).

    Attributes:
        kind: ``"cma"``, ``"sepcma"``, ``"cmawm"`` or ``"catcmawm"``.
        signature: the joint search space it optimizes, as text (``Coder.signature``;
            pickling the space itself would cost more than the optimizer).
        optimizer: the ``cmaes`` optimizer.
        generation: number of the population being collected (the history's
            ``generation`` column of its trials); grows by one per tell, restarts included.
        popsize0: the population size of the first run (restarts scale it).
        sigma0: the initial step size of the first run (None: the optimizer's default).
        n_restarts, n_large: restarts so far, and those in BIPOP's large regime.
        regime: BIPOP's regime of the current run, ``"large"`` or ``"small"``.
        small_evals, large_evals: evaluations spent in each BIPOP regime.
        stored_cov: after a tell, until the next ask: the covariance as a pickle of
            the optimizer holds it (see :func:`_as_pickled`), None otherwise.
        basis: ``(B, B @ diag(D))`` of the CMA's last eigen decomposition (see
            :func:`_ask_cma`; a cache, not stored), or None.
    """

    kind: str
    signature: str
    optimizer: Any
    generation: int
    popsize0: int
    sigma0: float | None = None
    n_restarts: int = 0
    n_large: int = 0
    regime: str = "large"
    small_evals: int = 0
    large_evals: int = 0
    stored_cov: Any = None
    basis: Any = None

    @property
    def popsize(self) -> int:
        return int(self.optimizer.population_size)


def encode(run: Run) -> str:
    """The run as text for a study attribute (pickle, base64), without the generator.

    The optimizer goes in as its class and attribute dict (:func:`_flatten`), its arrays
    as raw bytes: a quarter of the time of pickling it whole, a cost paid once per
    generation.
    """
    state = dict(run.__dict__, optimizer=_flatten(run.optimizer), stored_cov=None, basis=None)
    if run.stored_cov is not None:  # as Optuna stores it: the covariance pickled
        _cma_attrs(state["optimizer"])["_C"] = _flatten(run.stored_cov)
    data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    return _FORMAT + base64.b64encode(data).decode("ascii")


def decode(text: Any, rng: np.random.RandomState) -> Run | None:
    """The run stored by :func:`encode` (drawing from ``rng``), or None if ``text`` is
    not one (an older format, another program's attribute)."""
    if not isinstance(text, str) or not text.startswith(_FORMATS):
        return None
    try:
        state = pickle.loads(base64.b64decode(text[len(_FORMAT):]))  # both prefixes are 13 characters
        state["optimizer"] = _unflatten(state["optimizer"])
        run = Run(**state)
    except Exception:  # a damaged attribute: start afresh rather than fail every ask
        return None
    set_rng(run.optimizer, rng)
    return run


def _flatten(obj: Any) -> Any:
    """A ``cmaes`` object as ``(class, attributes)``, nested ones too (CMA-ES with margin
    holds a CMA), without the random generator; numeric arrays as ``(dtype, shape,
    order, bytes)`` and ``float64`` scalars as floats, tagged (pickling NumPy objects
    costs microseconds each). The order is pickle's: Fortran where the array is
    Fortran- and not C-contiguous (BLAS may round differently on the other layout)."""
    tp = type(obj)
    if tp is np.ndarray and obj.dtype.kind in "biuf":
        order = "F" if obj.flags.f_contiguous and not obj.flags.c_contiguous else "C"
        return (_ARRAY, obj.dtype.str, obj.shape, order, obj.tobytes(order=order))
    if tp is np.float64:
        return (_FLOAT64, float(obj))
    if tp.__module__.startswith("cmaes"):
        return (_CMAES_OBJECT, tp, {k: _flatten(v) for k, v in obj.__dict__.items() if k != "_rng"})
    return obj


def _cma_attrs(flat: Any) -> dict[str, Any]:
    """The attribute dict of the CMA in a flattened optimizer (CMA-ES with margin holds one)."""
    attrs: dict[str, Any] = flat[2]
    inner = attrs.get("_cma")
    return attrs if inner is None else _cma_attrs(inner)


def _unflatten(obj: Any) -> Any:
    # Bypasses the classes' __setstate__, which seeds a generator from the OS (the
    # sampler sets its own).
    if type(obj) is tuple and obj and type(obj[0]) is str:
        tag = obj[0]
        if tag == _ARRAY:
            _, dtype, shape, order, data = obj
            return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order=order)
        if tag == _FLOAT64:
            return np.float64(obj[1])
        if tag == _CMAES_OBJECT:
            out = object.__new__(obj[1])
            out.__dict__.update({k: _unflatten(v) for k, v in obj[2].items()})
            out.__dict__["_rng"] = None
            return out
    return obj


def new_run(
    kind: str, coder: Coder, *, generation: int, rng: np.random.RandomState, mean: np.ndarray | None,
    sigma: float | None, cov: np.ndarray | None, popsize: int | None, lr_adapt: bool, seed: int | None = None,
) -> Run:
    """A fresh run starting at ``generation``, drawing from ``rng`` (its optimizer's seed
    too, as Optuna's ``randint(1, 2**31 - 2)``, unless ``seed`` is given)."""
    if seed is None:
        seed = int(rng.randint(1, 2**31 - 2))
    opt = make_optimizer(kind, coder, mean=mean, sigma=sigma, cov=cov, popsize=popsize, lr_adapt=lr_adapt,
                         seed=seed)
    set_rng(opt, rng)
    return Run(kind, coder.signature, opt, generation, popsize or default_popsize(kind, coder), sigma0=sigma)


def ask(run: Run, coder: Coder) -> tuple[np.ndarray, list[float] | None]:
    """One proposal: its internal row (d,) and, for the margin optimizers, the raw
    Gaussian sample that :func:`tell` needs back (None otherwise)."""
    if run.stored_cov is not None:
        try:
            return _ask(run, coder)
        finally:
            _restore_cov(run)  # later asks sample from the stored optimizer, as Optuna's
    return _ask(run, coder)


def _restore_cov(run: Run) -> None:
    cma = getattr(run.optimizer, "_cma", run.optimizer)
    cma._C, cma._B, cma._D = run.stored_cov, None, None
    run.stored_cov = None


def _ask(run: Run, coder: Coder) -> tuple[np.ndarray, list[float] | None]:
    opt = run.optimizer
    if run.kind == "catcmawm":
        sol = opt.ask()
        u = np.empty(coder.n_numeric)
        cont, grid = gauss_order(coder)
        if sol.x is not None:
            u[cont] = sol.x
        if sol.z is not None:
            u[grid] = sol.z
        cats = None if sol.c is None else np.argmax(sol.c, axis=1)
        raw = None if sol._v_raw is None else sol._v_raw.tolist()
        return coder.from_coords(u, cats), raw
    if run.kind == "cmawm":
        u, v = opt.ask()
        return coder.from_coords(u), v.tolist()
    if run.kind == "cma" and type(opt) is _cma_class():
        return coder.from_coords(_ask_cma(run)), None
    return coder.from_coords(opt.ask()), None


def _cma_class() -> Any:
    import cmaes

    return cmaes.CMA


_UNIT = np.array([0.0, 1.0])


def _ask_cma(run: Run) -> np.ndarray:
    """``cmaes.CMA.ask`` of ``run``'s optimizer with the same operations on the same
    arrays, so the same floats: ``B @ diag(D)`` is formed once per eigen decomposition
    (``run.basis``) instead of at every sample, and the bounds check (the unit cube,
    as :func:`make_optimizer` sets it) runs on a list.

    ``CMA.ask``: up to ``n_max_resampling`` samples ``mean + sigma * (B @ diag(D)) @ z``,
    ``z = rng.randn(n)``, the first inside the bounds; else one more, clipped to them.
    """
    opt = run.optimizer
    B, D = opt._eigen_decomposition()
    basis = run.basis
    if basis is None or basis[0] is not B:
        bounds = opt._bounds
        if bounds is None or not (bounds == _UNIT).all():  # not our unit cube: the optimizer's own ask
            return opt.ask()  # type: ignore[no-any-return]
        basis = run.basis = (B, B.dot(np.diag(D)))  # cmaes: B.dot(np.diag(D)).dot(z)
    BD = basis[1]
    mean, sigma, rng, n = opt._mean, opt._sigma, opt._rng, opt._n_dim
    for _ in range(opt._n_max_resampling):
        x = mean + sigma * BD.dot(rng.randn(n))
        # NaN fails the check, as in CMA._is_feasible.
        if all(0.0 <= v <= 1.0 for v in x.tolist()):
            return x  # type: ignore[no-any-return]
    return opt._repair_infeasible_params(mean + sigma * BD.dot(rng.randn(n)))  # type: ignore[no-any-return]


def tell(run: Run, coder: Coder, X: np.ndarray, y: np.ndarray, raw: list[Any]) -> None:
    """Tell the population: internal rows X (popsize, d), values y (popsize,) to
    minimize, and the raw samples :func:`ask` returned (margin optimizers)."""
    opt = run.optimizer
    if run.stored_cov is not None:  # told twice without an ask between: as restored
        _restore_cov(run)
    if run.kind in ("cmawm", "catcmawm") and coder.n_numeric:
        # A trial without its raw sample (a row written by another program) is told at
        # its coordinates, in the optimizer's order.
        U = coder.to_coords(X)
        if run.kind == "catcmawm":
            U = U[:, np.concatenate(gauss_order(coder)).astype(np.int64)]
        raw = [U[i] if r is None else np.asarray(r, dtype=np.float64) for i, r in enumerate(raw)]
    if run.kind == "catcmawm":
        import cmaes

        C = coder.one_hot(X) if len(coder.cat) else None
        sols = [cmaes.CatCMAwM.Solution(c=None if C is None else C[i], _v_raw=raw[i] if coder.n_numeric else None)
                for i in range(len(y))]
        opt.tell(list(zip(sols, y.tolist())))
    elif run.kind == "cmawm":
        opt.tell(list(zip(raw, y.tolist())))
    else:
        opt.tell(list(zip(coder.to_coords(X), y.tolist())))
    run.stored_cov = _as_pickled(opt)
    run.generation += 1


_TRIU: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # np.triu_indices(n), by n


def _as_pickled(opt: Any) -> np.ndarray | None:
    """The covariance of a just-told CMA (the one inside CMA-ES with margin too) as a
    pickle of it holds it: the upper triangle, mirrored (None for other optimizers).

    Optuna asks the trial that tells from the told optimizer itself, then pickles it and
    unpickles it at every later ask. The tell's update is symmetric only up to rounding
    and the eigen decomposition at an ask starts from ``(C + C.T) / 2``, so the told
    covariance and the unpickled one give samples that differ in the last bits:
    :func:`ask` uses the first for one ask and this one after. Hence two eigen
    decompositions per generation, as Optuna's (whose every unpickled ask makes one):
    ``eigh`` reads the lower triangle, ``(C_ij + C_ji) / 2`` for the first and ``C_ji``
    for the second, equal only where the told C is exactly symmetric (1 tell in 299 of
    the 10-parameter overhead benchmark), so the second cannot be skipped exactly.
    """
    cma = getattr(opt, "_cma", opt)
    C = getattr(cma, "_C", None)
    if type(cma).__name__ != "CMA" or not isinstance(C, np.ndarray) or C.ndim != 2:
        return None
    n = len(C)
    idx = _TRIU.get(n)
    if idx is None:
        idx = _TRIU[n] = np.triu_indices(n)
    rows, cols = idx
    upper = C[rows, cols]
    out = np.empty_like(C)
    out[rows, cols] = upper
    out[cols, rows] = upper
    return out


def restart_if_stopped(
    run: Run, coder: Coder, *, strategy: str, inc_popsize: int, rng: np.random.RandomState, lr_adapt: bool,
) -> Run:
    """After a tell: the same run, or (when its stopping criteria fire) the next one of
    ``strategy`` (``"ipop"`` or ``"bipop"``, see the module docstring)."""
    if coder.n_numeric == 0 or not run.optimizer.should_stop():
        return run  # CatCMA's stopping criteria cover only the Gaussian part
    evals = run.popsize * int(run.optimizer.generation)
    sigma = run.sigma0
    if strategy == "ipop":
        popsize = run.popsize * inc_popsize
        regime = "large"
    else:
        if run.regime == "small":
            run.small_evals += evals
        else:
            run.large_evals += evals
        if run.n_restarts == 0 or run.small_evals >= run.large_evals:
            run.n_large += 1
            regime, popsize = "large", run.popsize0 * inc_popsize**run.n_large
        else:
            large = run.popsize0 * inc_popsize**run.n_large
            u = float(rng.uniform())
            regime = "small"
            popsize = max(2, math.floor(run.popsize0 * (large / run.popsize0) ** (u * u)))
            sigma = (1.0 / 6.0 if sigma is None else sigma) * 10 ** (-2.0 * float(rng.uniform()))
    mean = rng.uniform(size=coder.n_numeric)
    nxt = new_run(run.kind, coder, generation=run.generation, rng=rng, mean=mean, sigma=sigma, cov=None,
                  popsize=popsize, lr_adapt=lr_adapt)
    nxt.popsize0, nxt.sigma0 = run.popsize0, run.sigma0
    nxt.n_restarts, nxt.n_large, nxt.regime = run.n_restarts + 1, run.n_large, regime
    nxt.small_evals, nxt.large_evals = run.small_evals, run.large_evals
    return nxt


def warm_start(coder: Coder, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Warm-starting CMA-ES (Nomura et al. 2021): the mean (k,), step size and
    covariance (k, k) in coordinates estimated from source rows X (n, d), values y (n,)."""
    import cmaes

    U = coder.to_coords(X)
    mean, sigma, cov = cmaes.get_warm_start_mgd(list(zip(U, y.tolist())))
    return mean, float(sigma), cov
