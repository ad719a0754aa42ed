"""Runs that are not live monitoring say so: `sessions.speed` and `sessions.simulated`,
and `incidents.timeline` ("simulated ×10"...). From this revision every stamp a run
records is a wall time; a compressed (`--speed`) run's virtual seconds stay in the events'
and alarm-log entries' `t`.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Double = sa.Float(precision=53)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("speed", Double))
        batch.add_column(sa.Column("simulated", sa.Boolean, nullable=False,
                                   server_default=sa.text("false")))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("timeline", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("timeline")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("simulated")
        batch.drop_column("speed")
