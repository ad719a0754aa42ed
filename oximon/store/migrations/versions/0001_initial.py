"""The first schema: sessions, readings, incidents, hash-chained incident events, incident
traces, the chain head and the audit log.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_ts", Double, nullable=False),
        sa.Column("heartbeat_ts", Double, nullable=False),
        sa.Column("ended_ts", Double),
        sa.Column("end_reason", sa.String(32)),
    )
    op.create_table(
        "readings",
        sa.Column("station", sa.String(64), primary_key=True),
        sa.Column("ts", Double, primary_key=True),
        sa.Column("spo2", sa.Float),
        sa.Column("pr", sa.Float),
        sa.Column("pi", sa.Float),
        sa.Column("flags", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("opened_ts", Double, nullable=False),
        sa.Column("closed_ts", Double),
        sa.Column("outcome", sa.String(200)),
        sa.Column("interrupted", sa.Boolean, nullable=False),
        sa.Column("naloxone_doses", sa.Integer, nullable=False),
        sa.Column("first_naloxone_ts", Double),
        sa.Column("called_911_ts", Double),
        sa.Column("ehs_arrived_ts", Double),
        sa.Column("nadir", sa.Float),
        sa.Column("nadir_ts", Double),
        sa.Column("below90_s", sa.Float),
        sa.Column("below85_s", sa.Float),
        sa.Column("reviewed", sa.Boolean, nullable=False),
        sa.Column("reviewed_by", sa.String(128)),
        sa.Column("reviewed_ts", Double),
        sa.Column("debrief", sa.Boolean, nullable=False),
        sa.Column("amendments", sa.Integer, nullable=False),
        sa.Column("session_id", sa.String(32)),
    )
    op.create_index("ix_incidents_opened", "incidents", ["opened_ts"])
    op.create_index("ix_incidents_station_opened", "incidents", ["station", "opened_ts"])
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_table(
        "incident_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("incident_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ts", Double, nullable=False),
        sa.Column("t", Double),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("recorded_ts", Double, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id", "seq"])
    op.create_table(
        "incident_trace",
        sa.Column("incident_id", sa.String(32), primary_key=True),
        sa.Column("ts", Double, primary_key=True),
        sa.Column("spo2", sa.Float),
        sa.Column("pr", sa.Float),
        sa.Column("pi", sa.Float),
        sa.Column("flags", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    chain = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(chain, [{"id": 1, "last_seq": 0, "last_hash": "0" * 64}])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", Double, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_ts", "audit_log", ["ts"])
