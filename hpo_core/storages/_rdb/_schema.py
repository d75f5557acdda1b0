"""Tables of the RDB storage (SQLAlchemy Core), schema version 2.

Times are POSIX seconds (FLOAT). Objective values are a JSON list (so +-inf survive
every backend); parameter values are internal floats with their distribution's JSON.

Change sequence (version 2): every write to a study takes the next number of the
study's ``seq`` (an UPDATE that locks the study row until commit, so a study's writes
commit in sequence order) and stamps it on each row it inserts or changes, together
with the row's ``study_id``. A reader that has applied everything up to ``s`` asks each
table only for rows with ``seq > s``: a sync costs what changed, not what is running.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

SCHEMA_VERSION = 2

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
    # Number of the study's last write (see the module docstring).
    Column("seq", BigInteger, nullable=False, default=0),
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
    Column("seq", BigInteger, nullable=False, default=0),
    UniqueConstraint("study_id", "number", name="uq_hpo_trials_study_number"),
    Index("ix_hpo_trials_study_state", "study_id", "state"),
    Index("ix_hpo_trials_study_seq", "study_id", "seq"),
)

trial_params = Table(
    "hpo_trial_params",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("name", String(512), primary_key=True),
    Column("value", Float, nullable=False),
    Column("distribution", Text, nullable=False),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_hpo_trial_params_study_seq", "study_id", "seq"),
)

trial_attrs = Table(
    "hpo_trial_attrs",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("value_json", Text, nullable=False),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_hpo_trial_attrs_study_seq", "study_id", "seq"),
)

trial_intermediate = Table(
    "hpo_trial_intermediate",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    # 64-bit: a step counted in samples or tokens exceeds 2**31.
    Column("step", BigInteger, primary_key=True, autoincrement=False),
    # The first (or only) value; NULL encodes NaN (SQLite turns NaN into NULL anyway).
    Column("value", Float, nullable=True),
    # A report of one value per objective: the JSON list of all of them (else NULL).
    Column("values_json", Text, nullable=True),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_hpo_trial_intermediate_study_seq", "study_id", "seq"),
)
