"""Tamper evidence and history: the audit log becomes a hash chain, every alarm state
change is kept in a chained alarm log, sessions copy the chain heads at each heartbeat,
an incident id can be opened only once, and site settings live in the database.

Audit entries written before this revision are chained as they stand when it runs (they
were never protected before; from here on they are).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

from oximon.store.chain import AUDIT_COLUMNS, row_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Double = sa.Float(precision=53)
GENESIS = "0" * 64


def upgrade() -> None:
    conn = op.get_bind()
    dup = conn.execute(sa.text(
        "SELECT incident_id FROM incident_events WHERE kind = 'opened' GROUP BY incident_id "
        "HAVING count(*) > 1")).scalars().all()
    if dup:
        raise RuntimeError(
            "two incidents share the id(s) " + ", ".join(dup[:5]) + " (an older oximon made "
            "short random ids); export them with 'oximon incidents export' before upgrading")

    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("heartbeat_real_ts", Double))
        batch.add_column(sa.Column("anchor", sa.Text))
    op.create_index("ux_incident_events_opened", "incident_events", ["incident_id"],
                    unique=True, sqlite_where=sa.text("kind = 'opened'"),
                    postgresql_where=sa.text("kind = 'opened'"))

    old = conn.execute(sa.text(
        "SELECT ts, actor, action, target, detail FROM audit_log ORDER BY id")).all()
    op.drop_table("audit_log")
    audit = op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", Double, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128)),
        sa.Column("detail", sa.Text),
        sa.Column("recorded_ts", Double, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_ts", "audit_log", ["ts"])
    op.create_index("ix_audit_target", "audit_log", ["target"])
    rows, prev = [], GENESIS
    for seq, r in enumerate(old, start=1):
        row = {"seq": seq, "ts": r.ts, "actor": r.actor, "action": r.action,
               "target": r.target, "detail": r.detail, "recorded_ts": r.ts}
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, seq, [row[c] for c in AUDIT_COLUMNS])
        rows.append(row)
    if rows:
        op.bulk_insert(audit, rows)

    op.create_table(
        "alarm_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", Double, nullable=False),
        sa.Column("t", Double),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("station", sa.String(64)),
        sa.Column("condition", sa.String(64)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16)),
        sa.Column("technical", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("session_id", sa.String(32)),
        sa.Column("recorded_ts", Double, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_alarm_log_ts", "alarm_log", ["ts"])
    op.create_index("ix_alarm_log_station_ts", "alarm_log", ["station", "ts"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_ts", Double, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    # "reviewed" now means signed off and not amended since: refresh the listing's cache.
    from oximon.store.record import StoredEvent, fold

    for iid in conn.execute(sa.text("SELECT id FROM incidents WHERE amendments > 0")).scalars():
        events = conn.execute(sa.text(
            "SELECT seq, incident_id, kind, ts, t, actor, data FROM incident_events WHERE "
            "incident_id = :i ORDER BY seq"), {"i": iid}).all()
        rec = fold(iid, [StoredEvent.from_row(r) for r in events])
        conn.execute(sa.text("UPDATE incidents SET reviewed = :r WHERE id = :i"),
                     {"r": rec.reviewed, "i": iid})
    head = sa.table("chain_head", sa.column("id", sa.Integer), sa.column("last_seq"),
                    sa.column("last_hash"))
    op.bulk_insert(head, [{"id": 2, "last_seq": len(rows), "last_hash": prev},
                          {"id": 3, "last_seq": 0, "last_hash": GENESIS}])
