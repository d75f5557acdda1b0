"""Trial states."""

from __future__ import annotations

import enum

__all__ = ["TrialState", "StudyDirection"]


class TrialState(enum.IntEnum):
    """State of a trial. The integer codes are stored in the history and in databases."""

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    def is_finished(self) -> bool:
        """COMPLETE, PRUNED and FAIL are final; a finished trial never changes again."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

    def __repr__(self) -> str:
        return f"TrialState.{self.name}"


class StudyDirection(enum.IntEnum):
    """Direction of one objective."""

    MINIMIZE = 1
    MAXIMIZE = 2

    def __repr__(self) -> str:
        return f"StudyDirection.{self.name}"
