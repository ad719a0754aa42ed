"""Booth ownership and the access log: `booth_leases` (one live session or hub per booth,
with a heartbeat) and `access_log` (reads and exports, kept off the audit chain).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "booth_leases",
        sa.Column("booth", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("claimed_ts", Double, nullable=False),
        sa.Column("heartbeat_ts", Double, nullable=False),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", Double, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_access_ts", "access_log", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_access_ts", "access_log")
    op.drop_table("access_log")
    op.drop_table("booth_leases")
