"""GPSampler's BLAS/OpenMP thread limit during a proposal (``samplers/gp/_threads.py``)."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import threadpoolctl
from threadpoolctl import threadpool_info, threadpool_limits

import hpo_core
from hpo_core.distributions import FloatDistribution, SearchSpace
from hpo_core.samplers.gp import GPSampler, _model
from hpo_core.samplers.gp._threads import limited_threads


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def _give_up_control() -> None:
    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear is not None:
        clear()


@pytest.fixture
def two_blas_threads() -> Iterator[None]:
    """A known starting point: every BLAS library at 2 threads, restored afterwards.

    Not a ``with threadpool_limits()`` block: inside one, threadpoolctl (3.8 on) lets no
    other thread change OpenBLAS's process-wide limit, and these tests ask from several.
    """
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can control is loaded")
    limiter = threadpool_limits(limits=2, user_api="blas")
    _give_up_control()
    yield
    limiter.restore_original_limits()
    _give_up_control()


def test_limited_threads_limits_and_restores(two_blas_threads: None) -> None:
    before = _blas_threads()
    with limited_threads(1):
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_limited_threads_none_leaves_threads_alone(two_blas_threads: None) -> None:
    before = _blas_threads()
    with limited_threads(None):
        assert _blas_threads() == before


def test_limited_threads_restores_after_an_exception(two_blas_threads: None) -> None:
    before = _blas_threads()
    with pytest.raises(RuntimeError), limited_threads(1):
        raise RuntimeError("boom")
    assert _blas_threads() == before


def test_limited_threads_overlapping_blocks_share_the_limit(two_blas_threads: None) -> None:
    # The OpenBLAS limit is process-wide: a block that ends while another is still inside
    # must not restore the old limit under it; the last one out restores it.
    before = _blas_threads()
    entered, release = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def other() -> None:
        with limited_threads(1):
            entered.set()
            release.wait(10)
            seen.append(_blas_threads())

    worker = threading.Thread(target=other)
    worker.start()
    assert entered.wait(10)
    with limited_threads(1):
        pass  # ends first: the worker's block is still open
    assert set(_blas_threads()) == {1}
    release.set()
    worker.join(10)
    assert seen == [[1] * len(before)]
    assert _blas_threads() == before


def test_limited_threads_restores_when_another_thread_ends_last(two_blas_threads: None) -> None:
    # The main thread sets the limit; a worker that entered later leaves last and must be
    # able to restore it (threadpoolctl gives one thread at a time that right).
    before = _blas_threads()
    entered, release, done = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        with limited_threads(1):
            entered.set()
            release.wait(10)
        done.set()

    with limited_threads(1):
        worker = threading.Thread(target=other)
        worker.start()
        assert entered.wait(10)
    assert set(_blas_threads()) == {1}  # the worker is still inside
    release.set()
    assert done.wait(10)
    worker.join(10)
    assert _blas_threads() == before


def _threads_during_fit(monkeypatch: pytest.MonkeyPatch, sampler: GPSampler) -> list[list[int]]:
    """BLAS threads seen inside every model fit of a short study with ``sampler``."""
    seen: list[list[int]] = []
    fit = _model.fit_model

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_blas_threads())
        return fit(*args, **kwargs)

    monkeypatch.setattr(_model, "fit_model", spy)
    study = hpo_core.create_study(sampler=sampler)
    space = SearchSpace({"x": FloatDistribution(-2.0, 2.0)})
    for _ in range(6):
        t = study.ask(space)
        study.tell(t, t.params["x"] ** 2)
    return seen


def test_gp_sampler_proposes_with_one_blas_thread_by_default(two_blas_threads: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    before = _blas_threads()
    seen = _threads_during_fit(monkeypatch, GPSampler(seed=0, n_startup_trials=3, n_candidates=64, n_starts=1))
    assert len(seen) == 3 and all(set(s) == {1} for s in seen)
    assert _blas_threads() == before


def test_gp_sampler_n_blas_threads(two_blas_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _blas_threads()
    untouched = _threads_during_fit(
        monkeypatch, GPSampler(seed=0, n_startup_trials=3, n_candidates=64, n_starts=1, n_blas_threads=None))
    assert untouched == [before] * 3
    two = _threads_during_fit(
        monkeypatch, GPSampler(seed=0, n_startup_trials=3, n_candidates=64, n_starts=1, n_blas_threads=2))
    assert all(set(s) == {2} for s in two)


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_gp_sampler_rejects_bad_n_blas_threads(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="n_blas_threads"):
        GPSampler(n_blas_threads=value)


def test_gp_sampler_n_blas_threads_pickles() -> None:
    restored = pickle.loads(pickle.dumps(GPSampler(n_blas_threads=3)))
    assert restored._n_blas_threads == 3
    old = GPSampler()
    state = old.__getstate__()
    del state["_n_blas_threads"]  # a sampler pickled before the option existed
    fresh = GPSampler.__new__(GPSampler)
    fresh.__setstate__(state)
    assert fresh._n_blas_threads == 1


def test_gp_sampler_under_threads_restores_blas_threads(two_blas_threads: None) -> None:
    # optimize(n_jobs=2): two threads ask at once; the limit ends with the last ask.
    before = _blas_threads()
    study = hpo_core.create_study(sampler=GPSampler(seed=0, n_startup_trials=3, n_candidates=64, n_starts=1))
    study.optimize(lambda t: t.suggest_float("x", -2.0, 2.0) ** 2, n_trials=10, n_jobs=2)
    assert len(study.trials) == 10 and np.isfinite(study.best_value)
    assert _blas_threads() == before
