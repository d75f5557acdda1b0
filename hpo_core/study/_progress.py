"""The progress bar of ``optimize(show_progress_bar=True)``: trials done (or seconds, with
only a timeout), an ETA, and the best trial so far, as Optuna's; silent when its stream
is not a terminal (a log file, a batch job), so logs stay clean."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpo_core.study._study import Study

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar over ``n_trials`` trials, or over ``timeout`` seconds when only a timeout
    is given; nothing at all when ``file`` (default: standard error) is not a terminal.

    Each finished trial moves it and, in a single-objective study, shows the best trial
    and value. Thread-safe (``optimize(n_jobs=...)`` updates it from several threads).
    """

    def __init__(self, n_trials: int | None, timeout: float | None, file: IO[str] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        self._bar: Any = None
        self._n_trials, self._timeout = n_trials, timeout
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._shown_seconds = 0.0
        if n_trials is None and timeout is None:
            return
        isatty = getattr(stream, "isatty", None)
        if not (callable(isatty) and isatty()):
            return
        from tqdm.auto import tqdm

        if n_trials is not None:
            self._bar = tqdm(total=n_trials, file=stream, desc="trials")
        else:
            fmt = "{desc} {percentage:3.0f}%|{bar}| {elapsed}/" + tqdm.format_interval(timeout)
            self._bar = tqdm(total=timeout, file=stream, bar_format=fmt, desc="trials")

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn (a terminal, and a trial count or a timeout)."""
        return self._bar is not None

    def update(self, study: Study) -> None:
        """One more trial finished."""
        if self._bar is None:
            return
        with self._lock:
            if len(study.directions) == 1:
                try:
                    best = study.best_trial
                    self._bar.set_description(f"Best trial: {best.number}. Best value: {best.value:.6g}")
                except ValueError:  # no COMPLETE trial yet
                    pass
            elapsed = time.monotonic() - self._start
            if self._n_trials is not None:
                self._bar.update(1)
                if self._timeout is not None:
                    self._bar.set_postfix_str(f"{elapsed:.02f}/{self._timeout} seconds")
            else:
                now = min(elapsed, float(self._timeout or 0.0))
                self._bar.update(now - self._shown_seconds)
                self._shown_seconds = now

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
