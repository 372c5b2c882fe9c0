"""Parked outbox rows, the lease's fencing token, remembered dead letters.

Revision ID: 0002_parking_fencing
Revises: 0001_delivery_tables
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_parking_fencing"
down_revision = "0001_delivery_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("park_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "dead_letters",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("source_topic", sa.String(length=249), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "source_topic", "source_partition", "source_offset", name=op.f("pk_dead_letters")),
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_column("token")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("park_reason")
        batch_op.drop_column("parked_at")
