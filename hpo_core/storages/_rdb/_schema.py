"""Tables of the RDB storage (SQLAlchemy Core), schema version 3.

Times are POSIX seconds (double precision). Objective values are a JSON list (so +-inf
survive every backend); parameter values are internal floats with their distribution's
JSON.

Column types hold the same values on every backend:

- floats are ``DOUBLE``/``DOUBLE PRECISION`` (SQLAlchemy's ``Float`` is a 4-byte
  ``FLOAT`` on MySQL, which rounds 0.1 + 0.2 and a POSIX time to 7 digits);
- names and keys (:class:`Key`) compare byte for byte: ``VARCHAR`` on SQLite and
  PostgreSQL, ``VARBINARY`` of their UTF-8 bytes on MySQL/MariaDB, whose collations
  ignore case and trailing spaces (``_bin`` collations still pad) and would make "x",
  "X" and "x " one parameter;
- JSON text (:data:`JSON_TEXT`) is ``LONGTEXT`` on MySQL, where ``TEXT`` stops at
  64 KB; MySQL tables are utf8mb4 whatever the database's default character set.

Change sequence (version 2): every write to a study takes the next number of the
study's ``seq`` (an UPDATE that locks the study row until commit, so a study's writes
commit in sequence order) and stamps it on each row it inserts or changes, together
with the row's ``study_id``. A reader that has applied everything up to ``s`` asks each
table only for rows with ``seq > s``: a sync costs what changed, not what is running.

Parameter order (version 3): the parameters that one write inserts share its number,
and a sync must apply them in the order they were suggested (the history lists a
study's parameters, and so ``trial.params``, in the order they first appeared).
``hpo_trial_params`` has an autoincrement key, ``param_id``, which grows with insertion
order within a transaction on every backend (SQLite's rowid, a PostgreSQL sequence,
MySQL's AUTO_INCREMENT); a sync orders parameters by ``(seq, param_id)``. Ordering by
``seq`` alone returned one write's parameters in whatever order the backend found them
(name order on MySQL/MariaDB, whose table was clustered on ``(trial_id, name)``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

SCHEMA_VERSION = 3

# Dialect names of MySQL and MariaDB (``mysql://`` to a MariaDB server says "mysql").
MYSQL_DIALECTS = ("mysql", "mariadb")


def _encode(value: str | None) -> bytes | None:
    return None if value is None else value.encode("utf-8")


def _decode(value: bytes | bytearray | memoryview | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return bytes(value).decode("utf-8")


class Key(TypeDecorator[str]):
    """A name compared byte for byte: ``String(length)``, except on MySQL/MariaDB,
    where it is ``VARBINARY`` of the UTF-8 bytes (4 per character), converted to and
    from ``str`` at the driver.

    Args:
        length: Characters (what SQLite and PostgreSQL declare).
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int):
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in MYSQL_DIALECTS:
            return dialect.type_descriptor(mysql.VARBINARY(4 * self.length))
        return dialect.type_descriptor(String(self.length))

    # Processors only where they do something: no per-value call on SQLite/PostgreSQL.
    def bind_processor(self, dialect: Dialect) -> Any:
        return _encode if dialect.name in MYSQL_DIALECTS else None

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        return _decode if dialect.name in MYSQL_DIALECTS else None


# JSON text: LONGTEXT (4 GB) on MySQL, whose TEXT holds 64 KB.
JSON_TEXT = Text().with_variant(mysql.LONGTEXT(), *MYSQL_DIALECTS)
# Table options: MySQL tables hold utf8mb4 text whatever the database default is.
_OPTS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}

metadata = MetaData()

version_table = Table(
    "hpo_schema",
    metadata,
    Column("schema_version", Integer, primary_key=True, autoincrement=False),
    **_OPTS,
)

studies = Table(
    "hpo_studies",
    metadata,
    Column("study_id", Integer, primary_key=True, autoincrement=True),
    Column("study_name", Key(512), nullable=False, unique=True),
    Column("directions", String(256), nullable=False),
    # Next trial number; incremented in the transaction that inserts the trial, so
    # numbers are dense and committed in order (incremental reads rely on it).
    Column("next_number", Integer, nullable=False, default=0),
    Column("created_at", Double, nullable=False),
    # Number of the study's last write (see the module docstring).
    Column("seq", BigInteger, nullable=False, default=0),
    **_OPTS,
)

study_attrs = Table(
    "hpo_study_attrs",
    metadata,
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), primary_key=True),
    Column("kind", Key(8), primary_key=True),
    Column("key", Key(512), primary_key=True),
    Column("value_json", JSON_TEXT, nullable=False),
    **_OPTS,
)

reservations = Table(
    "hpo_reservations",
    metadata,
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), primary_key=True),
    Column("key", Key(512), primary_key=True),
    **_OPTS,
)

trials = Table(
    "hpo_trials",
    metadata,
    Column("trial_id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("hpo_studies.study_id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("values_json", JSON_TEXT, nullable=True),
    Column("t_start", Double, nullable=True),
    Column("t_complete", Double, nullable=True),
    Column("owner", String(256), nullable=True),
    Column("heartbeat", Double, nullable=True),
    Column("seq", BigInteger, nullable=False, default=0),
    UniqueConstraint("study_id", "number", name="uq_hpo_trials_study_number"),
    Index("ix_hpo_trials_study_state", "study_id", "state"),
    Index("ix_hpo_trials_study_seq", "study_id", "seq"),
    **_OPTS,
)

# 64-bit keys, except on SQLite, where only an INTEGER primary key is the rowid (an
# autoincrementing 64-bit integer already).
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

trial_params = Table(
    "hpo_trial_params",
    metadata,
    # Insertion order (see the module docstring); (trial_id, name) is unique.
    Column("param_id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), nullable=False),
    Column("name", Key(512), nullable=False),
    Column("value", Double, nullable=False),
    Column("distribution", JSON_TEXT, nullable=False),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    UniqueConstraint("trial_id", "name", name="uq_hpo_trial_params_trial_name"),
    Index("ix_hpo_trial_params_study_seq", "study_id", "seq"),
    **_OPTS,
)

trial_attrs = Table(
    "hpo_trial_attrs",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    Column("kind", Key(8), primary_key=True),
    Column("key", Key(512), primary_key=True),
    Column("value_json", JSON_TEXT, nullable=False),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_hpo_trial_attrs_study_seq", "study_id", "seq"),
    **_OPTS,
)

trial_intermediate = Table(
    "hpo_trial_intermediate",
    metadata,
    Column("trial_id", Integer, ForeignKey("hpo_trials.trial_id"), primary_key=True),
    # 64-bit: a step counted in samples or tokens exceeds 2**31.
    Column("step", BigInteger, primary_key=True, autoincrement=False),
    # The first (or only) value when finite, else NULL (MySQL takes neither NaN nor
    # +-inf; SQLite turns NaN into NULL). Version 1 wrote NULL for NaN only.
    Column("value", Double, nullable=True),
    # The exact value(s), tagged JSON (``_checks.encode_json``): the list of a report of
    # one value per objective, or a non-finite float; else NULL.
    Column("values_json", JSON_TEXT, nullable=True),
    Column("study_id", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_hpo_trial_intermediate_study_seq", "study_id", "seq"),
    **_OPTS,
)
