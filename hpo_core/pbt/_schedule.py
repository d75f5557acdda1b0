"""Reading a population-based training run back from its study: the best member, the
hyperparameter schedule behind any segment, and replaying a schedule from scratch.

A segment trial's ``system_attrs["pbt"]["parent"]`` names the trial whose checkpoint it
resumed from, so following parents from a segment back to a fresh start gives the
whole history of the model it trained, across exploits: the schedule.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from hpo_core._validation import check_callable, check_int, format_error
from hpo_core.pbt._runner import PBT_ATTR, Job, open_session, run_segment, start_segment
from hpo_core.pbt._store import FileArtifactStore, pickle_load, pickle_save
from hpo_core.trial import FrozenTrial, StudyDirection, Trial, TrialState

if TYPE_CHECKING:
    from hpo_core.study import Study

__all__ = ["Segment", "best_trial", "replay", "schedule"]


class Segment(NamedTuple):
    """One segment of a schedule: steps ``[start, stop)`` trained with ``params``.

    Attributes:
        trial: The number of the segment's trial.
        member: The member that trained it.
        start: Its first step.
        stop: The step it trained until (exclusive).
        params: Its hyperparameters: those PBT set and those the objective suggested.
        value: The score at ``stop``.
    """

    trial: int
    member: int
    start: int
    stop: int
    params: dict[str, Any]
    value: float


def _segments(study: Study) -> dict[int, FrozenTrial]:
    """The COMPLETE segment trials of a PBT run (not replays), by number."""
    return {t.number: t for t in study.get_trials(states=(TrialState.COMPLETE,))
            if isinstance(t.system_attrs.get(PBT_ATTR), dict) and not t.system_attrs[PBT_ATTR].get("replay")}


def best_trial(study: Study) -> FrozenTrial | None:
    """The best member's last segment: the best COMPLETE segment trial among those that
    trained furthest (the finished members); None when there is none.

    Not ``study.best_trial``, which may be a segment half-way through training.
    """
    segs = list(_segments(study).values())
    if not segs:
        return None
    last = max(t.system_attrs[PBT_ATTR]["stop"] for t in segs)
    final = [t for t in segs if t.system_attrs[PBT_ATTR]["stop"] == last]
    sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
    return max(final, key=lambda t: (sign * float(t.value), -t.number))  # type: ignore[arg-type]


def schedule(study: Study, trial: FrozenTrial | int | None = None, *, member: int | None = None) -> list[Segment]:
    """The hyperparameter schedule that produced ``trial``'s model, first segment first.

    Args:
        study: The study of a :meth:`PBT.run <hpo_core.pbt.PBT.run>`.
        trial: A COMPLETE segment trial or its number; when None, the last complete
            segment of ``member``, or the best member's last segment (:func:`best_trial`).
        member: A member of the population (with ``trial`` None).

    Returns:
        The segments from a fresh start to ``trial``, following the checkpoints each
        resumed from (so across exploits, segments of other members come first);
        empty when the study has no complete segment.

    Example:
        >>> import hpo_core
        >>> from hpo_core.pbt import PBT, schedule
        >>> def objective(trial):
        ...     ckpt = trial.checkpoint
        ...     x = (ckpt.load() or 0.0) + trial.suggest_float("lr", 0.1, 1.0) * len(ckpt.steps)
        ...     ckpt.save(x)
        ...     return x
        >>> study = hpo_core.create_study(direction="maximize")
        >>> PBT(perturbation_interval=2, seed=9, hyperparam_mutations={"lr": [0.1, 0.5, 1.0]}).run(
        ...     study, objective, population_size=2, n_steps=6).value
        6.0

        Member 0 copied member 1's checkpoint at step 2, so the schedule starts with
        member 1's first segment:

        >>> [(s.member, s.start, s.stop, s.params["lr"]) for s in schedule(study)]
        [(1, 0, 2, 1.0), (0, 2, 4, 1.0), (0, 4, 6, 1.0)]
    """
    segs = _segments(study)
    if member is not None:
        check_int("member", member, low=0, owner="schedule")
        if trial is not None:
            raise ValueError(format_error("member", "None when `trial` is given", member, owner="schedule"))
        own = [t for t in segs.values() if t.system_attrs[PBT_ATTR]["member"] == member]
        if not own:
            raise ValueError(format_error("member", "a member with a complete segment", member, owner="schedule"))
        trial = max(own, key=lambda t: (t.system_attrs[PBT_ATTR]["stop"], t.number))
    if trial is None:
        best = best_trial(study)
        if best is None:
            return []
        number = best.number
    elif isinstance(trial, FrozenTrial):
        number = trial.number
    elif isinstance(trial, int) and not isinstance(trial, bool):
        number = trial
    else:
        raise TypeError(format_error("trial", "a FrozenTrial, a trial number or None", trial, owner="schedule"))
    if number not in segs:
        raise ValueError(format_error("trial", "a COMPLETE segment trial of a PBT run", trial, owner="schedule"))
    out: list[Segment] = []
    current: int | None = number
    while current is not None:
        t = segs[current]
        info = t.system_attrs[PBT_ATTR]
        out.append(Segment(t.number, info["member"], info["start"], info["stop"],
                           {**t.params, **info["config"]}, float(t.value)))  # type: ignore[arg-type]
        current = info["parent"]
    return out[::-1]


def replay(
    func: Callable[[Trial], Any],
    segments: Sequence[Segment],
    *,
    study: Study | None = None,
    checkpoint_dir: str | os.PathLike[str] | FileArtifactStore | None = None,
    save_fn: Callable[[Any, str], None] | None = None,
    load_fn: Callable[[str], Any] | None = None,
    executor: Any = None,
) -> FrozenTrial:
    """Train one model from scratch along ``segments`` (a :func:`schedule`).

    Each segment runs ``func`` as :meth:`PBT.run <hpo_core.pbt.PBT.run>` does, with the
    segment's steps and parameters, resuming from the previous segment's checkpoint.
    With deterministic training the last value equals the scheduled one.

    Args:
        func: The objective given to ``PBT.run``.
        segments: The schedule, first segment first.
        study: Where the replay's trials go (``system_attrs["pbt"]["replay"]`` is True);
            a new in-memory study with the direction maximize when None.
        checkpoint_dir, save_fn, load_fn, executor: As for ``PBT.run``.

    Returns:
        The last segment's trial.

    Raises:
        RuntimeError: a segment did not complete (its trial says why).
    """
    import hpo_core
    from hpo_core.pbt._pbt import as_store

    check_callable("func", func, owner="replay")
    segments = list(segments)
    if not segments or not all(isinstance(s, Segment) for s in segments):
        raise ValueError(format_error("segments", "a non-empty list of Segment (see schedule())", segments,
                                      owner="replay"))
    if study is None:
        study = hpo_core.create_study(direction="maximize")
    store = as_store(checkpoint_dir, "replay")
    previous: FrozenTrial | None = None
    with open_session(executor, study, func, [None]) as session:
        for seg in segments:
            parent = None if previous is None else previous.number
            job = Job(seg.member, seg.start, seg.stop, dict(seg.params), parent, None,
                      None if previous is None else f"trial-{previous.number}", replay=True)
            trial, ckpt, key = start_segment(study, job, store, save_fn or pickle_save, load_fn or pickle_load)
            previous = run_segment(study, session, 0, trial, ckpt, store, key)
            if previous.state != TrialState.COMPLETE:
                raise RuntimeError(f"replay: the segment of steps {seg.start}-{seg.stop} (trial {previous.number}) "
                                   f"ended {previous.state.name}: {previous.system_attrs.get('fail_reason', '')}")
    assert previous is not None
    return previous
