"""The tables, as SQLAlchemy Core objects (the queries' view of the schema).

The migrations in `migrations/versions` create exactly these; a test compares them, so a
change here without a migration fails the suite.

Times are stored as UTC epoch seconds (double precision): the same on SQLite and
PostgreSQL, compact, and easy to range-filter.

Three hash chains make what must not change tamper-evident (see `chain.py`): incident
events, the audit log and the alarm log; `chain_head` holds each chain's newest link
(row 1, 2, 3) and every session's heartbeat copies the three heads into `sessions.anchor`,
so removing the newest records and rewinding a head still leaves a trace.

Readings and incident traces have composite primary keys and, on SQLite, no rowid, which
keeps 32 stations x 1 Hz small.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

Double = Float(precision=53)

sessions = Table(
    "sessions", metadata,
    Column("id", String(32), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_ts", Double, nullable=False),
    Column("heartbeat_ts", Double, nullable=False),
    Column("ended_ts", Double),
    Column("end_reason", String(32)),
    # Real (time.time) seconds of the last heartbeat: a restart measures the monitoring gap
    # from it (older stores may hold stamps that ran ahead of it under `--speed`).
    Column("heartbeat_real_ts", Double),
    Column("anchor", Text),  # JSON {chain: [seq, hash]} at the last heartbeat
    # A run that is not live monitoring: `speed` (virtual seconds per real second; NULL
    # at 1) and `simulated` (every source a simulator or a recording). Its stamps are wall
    # times all the same (timebase.py).
    Column("speed", Double),
    Column("simulated", Boolean, nullable=False, default=False, server_default=text("false")),
)

def _reading_values() -> list[Column]:
    """The numbers of one reading, shared by the live readings and an incident's own copy."""
    return [Column("spo2", Float), Column("pr", Float), Column("pi", Float),
            Column("flags", Integer, nullable=False, default=0)]


readings = Table(
    "readings", metadata,
    Column("station", String(64), primary_key=True),
    Column("ts", Double, primary_key=True),
    *_reading_values(),
    sqlite_with_rowid=False,
)

incidents = Table(
    "incidents", metadata,
    Column("id", String(32), primary_key=True),
    Column("station", String(64), nullable=False),
    Column("alias", String(128), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("opened_ts", Double, nullable=False),
    Column("closed_ts", Double),
    Column("outcome", String(200)),
    Column("interrupted", Boolean, nullable=False, default=False),
    Column("naloxone_doses", Integer, nullable=False, default=0),
    Column("first_naloxone_ts", Double),
    Column("called_911_ts", Double),
    Column("ehs_arrived_ts", Double),
    Column("nadir", Float),
    Column("nadir_ts", Double),
    Column("below90_s", Float),
    Column("below85_s", Float),
    Column("reviewed", Boolean, nullable=False, default=False),
    Column("reviewed_by", String(128)),
    Column("reviewed_ts", Double),
    Column("debrief", Boolean, nullable=False, default=False),
    Column("amendments", Integer, nullable=False, default=0),
    Column("session_id", String(32)),
    # "simulated ×10" etc. for an incident of a run that was not live monitoring (from its
    # "opened" event's `timeline`); NULL for live monitoring.
    Column("timeline", String(32)),
    Index("ix_incidents_opened", "opened_ts"),
    Index("ix_incidents_station_opened", "station", "opened_ts"),
    Index("ix_incidents_status", "status"),
)

incident_events = Table(
    "incident_events", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("incident_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ts", Double, nullable=False),
    Column("t", Double),
    Column("actor", String(128), nullable=False, default=""),
    Column("data", Text, nullable=False),
    Column("recorded_ts", Double, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_incident_events_incident", "incident_id", "seq"),
    # One "opened" record per incident id: two incidents can never share an id.
    Index("ux_incident_events_opened", "incident_id", unique=True,
          sqlite_where=text("kind = 'opened'"), postgresql_where=text("kind = 'opened'")),
)

incident_trace = Table(
    "incident_trace", metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("ts", Double, primary_key=True),
    *_reading_values(),
    sqlite_with_rowid=False,
)

chain_head = Table(
    "chain_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Double, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128)),
    Column("detail", Text),
    Column("recorded_ts", Double, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_ts", "ts"),
    Index("ix_audit_target", "target"),
)

# Every alarm state change (raised, acknowledged, escalated, cleared; audio paused and
# resumed), of every station and of the system, whether or not an incident was open.
alarm_log = Table(
    "alarm_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Double, nullable=False),
    Column("t", Double),
    Column("kind", String(16), nullable=False),  # "alarm" | "audio"
    Column("station", String(64)),
    Column("condition", String(64)),
    Column("state", String(32), nullable=False),
    Column("priority", String(16)),
    Column("technical", Boolean, nullable=False, default=False),
    Column("actor", String(128), nullable=False, default=""),
    Column("data", Text, nullable=False),
    Column("session_id", String(32)),
    Column("recorded_ts", Double, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_alarm_log_ts", "ts"),
    Index("ix_alarm_log_station_ts", "station", "ts"),
)

# Site settings kept with the records (so every monitoring station sharing a database
# follows them): retention_days, quiet_close_min. Changes are audited.
settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_ts", Double, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

# Which live session (or site hub) monitors each booth: a second computer with the same
# booth ids is refused instead of interleaving two people's readings (leases.py).
booth_leases = Table(
    "booth_leases", metadata,
    Column("booth", String(64), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("host", String(255), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("claimed_ts", Double, nullable=False),
    Column("heartbeat_ts", Double, nullable=False),
)

# Who read what (show, export, report): kept apart from the audit chain, so reading never
# moves the chain heads a supervisor notes; failed exports are recorded as failed.
access_log = Table(
    "access_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Double, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128)),
    Column("detail", Text),
    Index("ix_access_ts", "ts"),
)

CHAIN_INCIDENTS, CHAIN_AUDIT, CHAIN_ALARMS = 1, 2, 3
CHAINS = {CHAIN_INCIDENTS: "incident", CHAIN_AUDIT: "audit", CHAIN_ALARMS: "alarm"}

GENESIS_HASH = "0" * 64
