"""Trial states."""

from __future__ import annotations

import enum

__all__ = ["TrialState", "StudyDirection"]


class TrialState(enum.IntEnum):
    """State of a trial. The integer codes are stored in the history and in databases.

    Printed as Optuna 5.0 prints it: ``str`` gives the name, ``repr`` the enum's default.

    Example:
        >>> str(TrialState.FAIL), repr(TrialState.FAIL), int(TrialState.FAIL)
        ('TrialState.FAIL', '<TrialState.FAIL: 3>', 3)
    """

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    __str__ = enum.Enum.__str__  # the name, as Optuna's

    def is_finished(self) -> bool:
        """COMPLETE, PRUNED and FAIL are final; a finished trial never changes again."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class StudyDirection(enum.IntEnum):
    """Direction of one objective (printed as Optuna's: ``str`` the code, ``repr`` the
    enum's default). ``NOT_SET`` (0) is Optuna's placeholder: no study has it, and
    ``create_study`` rejects it."""

    NOT_SET = 0
    MINIMIZE = 1
    MAXIMIZE = 2
