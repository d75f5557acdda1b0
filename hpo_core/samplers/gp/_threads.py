"""BLAS and OpenMP threads during a GP ask: limited, so that an ask does not oversubscribe.

A GP ask is a few hundred small and medium BLAS/LAPACK calls (matrix products of a few
hundred rows, a Cholesky factorisation), interleaved with Python. OpenBLAS's pthreads
build, which NumPy and SciPy wheels ship, starts one thread per core and its idle
workers spin-wait between calls: on these sizes the extra threads gain little and spin
on a core for most of the ask, competing with every other busy thread or process.
Measured on a 2-core VM (``benchmarks/README.md``, GP section; a define-by-run ask in a
study of 1,000 trials, OpenBLAS's default 2 threads against 1): 349 vs 92 ms idle, 547
vs 120 ms beside one busy process, 653 vs 127 ms per trial under ``optimize(n_jobs=2)``,
about 1,000 vs 93 ms in each of two worker processes, and still 7.4 vs 2.2 s with
``max_exact_trials=2048`` at 2,500 trials. So GPSampler limits the threads to
``n_blas_threads`` (default 1) for the duration of each proposal; None leaves them
alone (for a machine with many idle cores and a large model, where more threads may
pay: not measured here).

How. ``threadpoolctl`` (as Optuna's ``_gp/thread_limiting.py`` limits its threads, and
scikit-learn does): one ``ThreadpoolController`` per process, built at the first limited
ask (scanning the loaded libraries costs about 1.5 ms; applying and restoring a limit
about 50 us), covering the BLAS and OpenMP libraries loaded by then, which include NumPy's
and SciPy's BLAS, the ones the GP math calls. JAX's XLA thread pool is not controlled.

The OpenBLAS limit is process-wide, not per thread, so concurrent asks (``optimize(n_jobs=2)``,
several samplers) share one limit: the first ask to enter sets it and the last to leave
restores the previous setting (a reference count under a lock). Other threads of the
process run with the limit meanwhile. threadpoolctl (3.8 on) lets only one thread at a
time change such a process-wide limit (the first to set one, until it gives control up;
the others are silently ignored), so this module gives control up after each change:
the ask that leaves last may be another thread than the one that entered first. While a
thread of the user's holds control (inside its own ``threadpool_limits`` block), the
asks of other threads leave the threads as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["limited_threads"]

_lock = threading.Lock()
_controller: Any = None  # threadpoolctl.ThreadpoolController, built on first use
_active = 0  # asks inside limited_threads right now
_limiter: Any = None  # what restores the limits of before the first of them


@contextmanager
def limited_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block with at most ``n_threads`` BLAS/OpenMP threads; None: unchanged.

    Re-entrant and thread-safe: nested or concurrent blocks share the limit of the first
    one to enter (see the module docstring).
    """
    if n_threads is None:
        yield
        return
    global _controller, _active, _limiter
    with _lock:
        if _active == 0:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _limiter = _controller.limit(limits=n_threads)
            _give_up_control()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _limiter.restore_original_limits()
                _limiter = None
                _give_up_control()


def _give_up_control() -> None:
    """Let another thread change OpenBLAS's process-wide limit next (threadpoolctl >= 3.8
    gives that right to one thread at a time; a no-op if this thread does not hold it,
    or for older threadpoolctl, which has no such rule)."""
    import threadpoolctl

    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear is not None:
        clear()
