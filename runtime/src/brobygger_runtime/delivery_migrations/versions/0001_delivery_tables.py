"""The delivery tables every service shares: inbox, outbox, lease.

Databases created before the runtime owned these tables already have them
(each service's first migration made them); they are created only where missing.

Revision ID: 0001_delivery_tables
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_delivery_tables"
down_revision = None
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing("inbox"):
        op.create_table(
            "inbox",
            sa.Column("consumer", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=200), nullable=False),
            sa.Column("event_type", sa.String(length=200), nullable=False),
            sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        )
    if _missing("lease"):
        op.create_table(
            "lease",
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("holder", sa.String(length=200), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
        )
    if _missing("outbox"):
        op.create_table(
            "outbox",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
            sa.Column("event_id", sa.String(length=200), nullable=False),
            sa.Column("event_type", sa.String(length=200), nullable=False),
            sa.Column("topic", sa.String(length=200), nullable=False),
            sa.Column("key", sa.String(length=200), nullable=False),
            sa.Column("headers", sa.JSON(), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("send_count", sa.Integer(), server_default="0", nullable=False),
            sa.Column("kafka_partition", sa.Integer(), nullable=True),
            sa.Column("kafka_offset", sa.BigInteger(), nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
            sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        )
        with op.batch_alter_table("outbox", schema=None) as batch_op:
            batch_op.create_index("ix_outbox_unsent", ["sent_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unsent")
    op.drop_table("outbox")
    op.drop_table("lease")
    op.drop_table("inbox")
