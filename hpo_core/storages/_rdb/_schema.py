"""Tables of the RDB storage (SQLAlchemy Core), schema version 1.

Times are POSIX seconds (FLOAT). Objective values are a JSON list (so +-inf survive
every backend); parameter values are internal floats with their distribution's JSON.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 1

metadata = MetaData()

version_table = Table(
    "hpo_schema",
    metadata,
    Column("schema_version", Integer, primary_key=True, autoincrement=False),
)

studies = Table(
    "hpo_studies",
    metadata,
    Column("study_id", Integer, primary_key=True, autoincrement=True),
    Column("study_name", String(512), nullable=False, unique=True),
    Column("directions", String(256), nullable=False),
    # Next trial number; incremented in the transaction that inserts the trial, so
    # numbers are dense and committed in order (incremental reads rely on it).
    Column("next_number", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)

study_attrs = Table(
    "hpo_study_attrs",
    metadata,
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
)

reservations = Table(
    "hpo_reservations",
    metadata,
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), primary_key=True),
    Column("key", String(512), primary_key=True),
)

trials = Table(
    "hpo_trials",
    metadata,
    Column("trial_id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("values_json", Text, nullable=True),
    Column("t_start", Float, nullable=True),
    Column("t_complete", Float, nullable=True),
    Column("owner", String(256), nullable=True),
    Column("heartbeat", Float, nullable=True),
    UniqueConstraint("study_id", "number", name="uq_hpo_trials_study_number"),
    Index("ix_hpo_trials_study_state", "study_id", "state"),
)

trial_params = Table(
    "hpo_trial_params",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("value", Float, nullable=False),
    Column("distribution", Text, nullable=False),
)

trial_attrs = Table(
    "hpo_trial_attrs",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
)

trial_intermediate = Table(
    "hpo_trial_intermediate",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("step", Integer, primary_key=True, autoincrement=False),
    # NULL encodes NaN (SQLite turns NaN into NULL anyway).
    Column("value", Float, nullable=True),
)
