"""Population-based training: :class:`PBT` with Ray Tune's semantics, on the study and
the executors of :mod:`hpo_core.distributed`.

- :class:`PBT` schedules a population: exploit (copy a top member's checkpoint) and
  explore (perturb or resample its hyperparameters), synchronously or asynchronously;
- :class:`PB2` is PBT whose explore step is a GP-UCB bandit on our GP (population-based
  bandits);
- :class:`Checkpoint` is what a segment's objective receives as ``trial.checkpoint``;
  :class:`FileArtifactStore` keeps the checkpoints in a local directory (atomic writes);
- :func:`best_trial`, :func:`schedule` and :func:`replay` read a run back from its study
  and train its winner again from scratch.
"""

from __future__ import annotations

from hpo_core.pbt._pb2 import PB2
from hpo_core.pbt._pbt import PBT
from hpo_core.pbt._runner import PBT_ATTR
from hpo_core.pbt._schedule import Segment, best_trial, replay, schedule
from hpo_core.pbt._store import Checkpoint, FileArtifactStore

__all__ = ["PB2", "PBT", "PBT_ATTR", "Checkpoint", "FileArtifactStore", "Segment", "best_trial", "replay", "schedule"]
