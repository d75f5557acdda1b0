"""Studies between Optuna's storages and ours: :func:`from_optuna` and :func:`to_optuna`.

Both copy what :func:`hpo_core.copy_study` copies (directions, the study's user and
system attributes, and every trial with its state, values, parameters and their
distributions, intermediate values, user and system attributes and datetimes), one
library's study into the other's storage: any Optuna storage (RDB URL, ``JournalStorage``,
in memory) and any of ours.
"""

from __future__ import annotations

import warnings
from typing import Any

from hpo_core._validation import format_error
from hpo_core.exceptions import HpoWarning
from hpo_core.integration._optuna_convert import (
    from_optuna_direction,
    from_optuna_trial,
    optuna,
    to_optuna_direction,
    to_optuna_trial,
)
from hpo_core.storages import BaseStorage
from hpo_core.study import Study, create_study, load_study
from hpo_core.trial._state import TrialState

__all__ = ["from_optuna", "to_optuna"]


def _optuna_study(study: Any, study_name: str | None, o: Any) -> Any:
    if isinstance(study, o.Study):
        return study
    if isinstance(study, Study):
        raise TypeError(
            format_error("study", "an Optuna study, storage or storage URL", study, owner="from_optuna")
        )
    if study_name is None:
        raise ValueError(
            "from_optuna: `study_name` must name the study when a storage is given, but got None."
        )
    return o.load_study(study_name=study_name, storage=study, sampler=o.samplers.RandomSampler())


def from_optuna(
    study: Any,
    study_name: str | None = None,
    *,
    to_storage: str | BaseStorage,
    to_study_name: str | None = None,
) -> Study:
    """Copy an Optuna study into one of our storages.

    Args:
        study: An ``optuna.Study``, or an Optuna storage (a URL such as
            ``"sqlite:///optuna.db"``, or a storage object such as
            ``optuna.storages.JournalStorage``) holding ``study_name``.
        study_name: The study to copy when ``study`` is a storage.
        to_storage: Our storage (a URL or a storage object) to copy it into.
        to_study_name: The copy's name; defaults to the Optuna study's.

    Returns:
        Our :class:`~hpo_core.study.Study` of the copy.

    Raises:
        DuplicatedStudyError: ``to_storage`` already holds a study of that name.

    Example:
        >>> import optuna, hpo_core
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> src = optuna.create_study(study_name="tuned")
        >>> src.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        >>> ours = from_optuna(src, to_storage=hpo_core.storages.InMemoryStorage())
        >>> [t.params for t in ours.trials] == [t.params for t in src.trials]
        True
    """
    o = optuna("hpo_core.integration.from_optuna")
    source = _optuna_study(study, study_name, o)
    target = create_study(
        study_name=to_study_name or source.study_name,
        storage=to_storage,
        directions=[from_optuna_direction(d) for d in source.directions],
        load_if_exists=False,
    )
    storage, study_id = target._storage, target._study_id
    for key, value in source._storage.get_study_system_attrs(source._study_id).items():
        storage.set_study_attr(study_id, "system", key, value)
    for key, value in source.user_attrs.items():
        storage.set_study_attr(study_id, "user", key, value)
    for t in source.get_trials(deepcopy=False):
        storage.create_new_trial(study_id, from_optuna_trial(t))
    return target


def to_optuna(
    study: Study | str | BaseStorage,
    study_name: str | None = None,
    *,
    to_storage: Any,
    to_study_name: str | None = None,
) -> Any:
    """Copy one of our studies into an Optuna storage.

    Args:
        study: Our :class:`~hpo_core.study.Study`, or our storage (a URL or a storage
            object) holding ``study_name``.
        study_name: The study to copy when ``study`` is a storage.
        to_storage: An Optuna storage: a URL (``"sqlite:///optuna.db"``) or a storage
            object (``optuna.storages.JournalStorage(...)``, ``InMemoryStorage()``).
        to_study_name: The copy's name; defaults to our study's.

    Returns:
        The ``optuna.Study`` of the copy.

    Raises:
        optuna.exceptions.DuplicatedStudyError: ``to_storage`` holds a study of that name.

    Vector intermediate values (one per objective; Optuna keeps one number per step) are
    left out with an :class:`~hpo_core.exceptions.HpoWarning`.

    Example:
        >>> import optuna, hpo_core
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> ours = hpo_core.create_study(study_name="tuned")
        >>> ours.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        >>> theirs = to_optuna(ours, to_storage=optuna.storages.InMemoryStorage())
        >>> [t.value for t in theirs.trials] == [t.value for t in ours.trials]
        True
    """
    o = optuna("hpo_core.integration.to_optuna")
    if not isinstance(study, Study):
        if isinstance(study, o.Study):
            raise TypeError(
                format_error("study", "an hpo_core study, storage or storage URL", study, owner="to_optuna")
            )
        if study_name is None:
            raise ValueError(
                "to_optuna: `study_name` must name the study when a storage is given, but got None."
            )
        study = load_study(study_name=study_name, storage=study)
    target = o.create_study(
        study_name=to_study_name or study.study_name,
        storage=to_storage,
        directions=[to_optuna_direction(d) for d in study.directions],
        load_if_exists=False,
    )
    for key, value in study.system_attrs.items():
        target._storage.set_study_system_attr(target._study_id, key, value)
    for key, value in study.user_attrs.items():
        target.set_user_attr(key, value)
    dropped = 0
    trials = []
    for t in study.trials:
        scalar = {s: v for s, v in t.intermediate_values.items() if not isinstance(v, (list, tuple))}
        dropped += len(t.intermediate_values) - len(scalar)
        t.intermediate_values = scalar
        if t.state not in (TrialState.COMPLETE, TrialState.PRUNED):  # Optuna keeps a pruned trial's value
            t.values = None
        trials.append(to_optuna_trial(t))
    if dropped:
        warnings.warn(
            f"to_optuna: left out {dropped} vector intermediate values (Optuna keeps one number per step).",
            HpoWarning,
            stacklevel=2,
        )
    target.add_trials(trials)
    return target
