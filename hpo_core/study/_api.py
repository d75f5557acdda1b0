"""Module-level study functions: create, load, delete, list."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from hpo_core._validation import check_bool, format_error
from hpo_core.exceptions import DuplicatedStudyError
from hpo_core.pruners import BasePruner
from hpo_core.samplers import BaseSampler
from hpo_core.storages import BaseStorage, get_storage
from hpo_core.study._stale import fail_stale_trials
from hpo_core.study._study import Study
from hpo_core.study._summary import StudySummary
from hpo_core.trial import StudyDirection

__all__ = ["copy_study", "create_study", "load_study", "delete_study", "get_all_study_names", "get_all_study_summaries"]

_logger = logging.getLogger("hpo_core")


def _direction(d: Any, name: str) -> StudyDirection:
    if isinstance(d, StudyDirection) and d != StudyDirection.NOT_SET:
        return d
    if isinstance(d, str) and d.lower() in ("minimize", "maximize"):
        return StudyDirection.MINIMIZE if d.lower() == "minimize" else StudyDirection.MAXIMIZE
    raise ValueError(format_error(name, "'minimize', 'maximize' or a StudyDirection other than NOT_SET", d))


def _check_components(sampler: Any, pruner: Any) -> None:
    if sampler is not None and not isinstance(sampler, BaseSampler):
        raise TypeError(format_error("sampler", "an hpo_core BaseSampler or None", sampler))
    if pruner is not None and not isinstance(pruner, BasePruner):
        raise TypeError(format_error("pruner", "an hpo_core BasePruner or None", pruner))


def create_study(
    *,
    storage: str | BaseStorage | None = None,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
    study_name: str | None = None,
    direction: str | StudyDirection | None = None,
    load_if_exists: bool = False,
    directions: Sequence[str | StudyDirection] | None = None,
) -> Study:
    """Create a study (or load it, with ``load_if_exists``).

    Args:
        storage: None (in memory), a URL (``"sqlite:///study.db"``,
            ``"postgresql://user@host/db"``) or a storage object.
        sampler: Defaults to :class:`~hpo_core.samplers.TPESampler`, as in Optuna
            (:class:`~hpo_core.samplers.AutoSampler` is the opt-in that switches to the
            GP where it measured better).
        pruner: Defaults to :class:`~hpo_core.pruners.MedianPruner`, as in Optuna.
        study_name: Unique name in the storage; generated when None.
        direction: ``"minimize"`` (default) or ``"maximize"``.
        load_if_exists: Load an existing study of that name instead of raising. The
            study keeps its stored directions: with neither ``direction`` nor
            ``directions`` given, it loads whatever they are (as Optuna does, so that the
            same script resumes a ``"maximize"`` study); directions given explicitly that
            differ from the stored ones raise ``ValueError``.
        directions: One direction per objective (multi-objective studies).

    When an existing study is loaded, trials left RUNNING by processes of this host
    that no longer exist (or whose heartbeat expired) are marked FAIL first.
    """
    if direction is not None and directions is not None:
        raise ValueError("Give `direction` or `directions`, not both.")
    if directions is None:
        dirs = [_direction("minimize" if direction is None else direction, "direction")]
    else:
        if isinstance(directions, (str, bytes)) or not isinstance(directions, Sequence) or not directions:
            raise ValueError(format_error("directions", "a non-empty sequence of directions", directions))
        dirs = [_direction(d, f"directions[{i}]") for i, d in enumerate(directions)]
    if study_name is not None and not isinstance(study_name, str):
        raise TypeError(format_error("study_name", "a str or None", study_name))
    check_bool("load_if_exists", load_if_exists)
    _check_components(sampler, pruner)
    storage_obj = get_storage(storage)
    try:
        study_id = storage_obj.create_new_study(dirs, study_name)
    except DuplicatedStudyError:
        if not load_if_exists:
            raise
        assert study_name is not None
        existing = storage_obj.get_study_directions(storage_obj.get_study_id_from_name(study_name))
        if existing != dirs and (direction is not None or directions is not None):
            raise ValueError(
                f"Study {study_name!r} exists with directions {existing!r}, but "
                f"{dirs!r} were requested."
            ) from None
        _logger.info(f"Using an existing study with {study_name=} instead of creating a new one.")
        return _load(study_name, storage_obj, sampler, pruner)
    name = storage_obj.get_study_name_from_id(study_id)
    # Optuna's line (its storages name themselves "memory", "RDB" and "Journal").
    where = {"InMemoryStorage": "memory", "RDBStorage": "RDB", "JournalStorage": "Journal"}.get(
        type(storage_obj).__name__, type(storage_obj).__name__)
    _logger.info(f"A new study created in {where} with name: {name}")
    return Study(name, storage_obj, sampler, pruner)


def _load(name: str, storage: BaseStorage, sampler: Any, pruner: Any) -> Study:
    study = Study(name, storage, sampler, pruner)
    fail_stale_trials(study, force=True)
    return study


def load_study(
    *,
    study_name: str | None,
    storage: str | BaseStorage,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
) -> Study:
    """Load an existing study. ``study_name=None`` works when the storage holds one study.

    Raises:
        StudyNotFoundError: no such study.
    """
    _check_components(sampler, pruner)
    storage_obj = get_storage(storage)
    if study_name is None:
        names = [s.study_name for s in storage_obj.get_all_studies()]
        if len(names) != 1:
            raise ValueError(
                format_error("study_name", "given when the storage does not hold exactly one study", None)
                + f" The storage holds {len(names)}: {names[:10]!r}."
            )
        study_name = names[0]
    storage_obj.get_study_id_from_name(study_name)  # raises StudyNotFoundError
    return _load(study_name, storage_obj, sampler, pruner)


def delete_study(*, study_name: str, storage: str | BaseStorage) -> None:
    """Delete a study and all its trials."""
    storage_obj = get_storage(storage)
    storage_obj.delete_study(storage_obj.get_study_id_from_name(study_name))


def get_all_study_names(storage: str | BaseStorage) -> list[str]:
    """The names of the studies in ``storage``, as Optuna's.

    Example:
        >>> import hpo_core
        >>> storage = hpo_core.storages.InMemoryStorage()
        >>> _ = hpo_core.create_study(storage=storage, study_name="a")
        >>> get_all_study_names(storage)
        ['a']
    """
    return [s.study_name for s in get_storage(storage).get_all_studies()]


def get_all_study_summaries(storage: str | BaseStorage, include_best_trial: bool = True) -> list[StudySummary]:
    """One :class:`~hpo_core.study.StudySummary` per study in ``storage`` (Optuna's).

    With ``include_best_trial=False`` their ``best_trial`` is None, as in Optuna.
    """
    check_bool("include_best_trial", include_best_trial)
    return [
        StudySummary(
            s.study_name, None, s.best_trial if include_best_trial else None, s.user_attrs, s.n_trials,
            s.datetime_start, s.study_id, directions=s.directions,
        )
        for s in get_storage(storage).get_all_studies()
    ]


def copy_study(
    *,
    from_study_name: str,
    from_storage: str | BaseStorage,
    to_storage: str | BaseStorage,
    to_study_name: str | None = None,
) -> None:
    """Copy a study into another storage, as Optuna's ``copy_study``: its directions, user
    and system attributes and every trial (parameters, values, intermediate values,
    attributes, times and states; running trials too, as they are now).

    Args:
        from_study_name: The study to copy.
        from_storage: Its storage (a URL or a storage object).
        to_storage: The storage to copy it into.
        to_study_name: The copy's name; defaults to ``from_study_name``.

    Raises:
        StudyNotFoundError: no study ``from_study_name`` in ``from_storage``.
        DuplicatedStudyError: ``to_storage`` already holds a study of the copy's name.

    Example:
        >>> import hpo_core
        >>> src = hpo_core.create_study(study_name="src")
        >>> src.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        >>> dst = hpo_core.storages.InMemoryStorage()
        >>> copy_study(from_study_name="src", from_storage=src._storage, to_storage=dst)
        >>> [t.params for t in hpo_core.load_study(study_name="src", storage=dst).trials] == [
        ...     t.params for t in src.trials]
        True
    """
    source = load_study(study_name=from_study_name, storage=from_storage)
    target = create_study(study_name=to_study_name or from_study_name, storage=to_storage,
                          directions=source.directions, load_if_exists=False)
    for key, value in source.system_attrs.items():
        target.set_system_attr(key, value)
    for key, value in source.user_attrs.items():
        target.set_user_attr(key, value)
    for trial in source.trials:
        target._storage.create_new_trial(target._study_id, trial)
