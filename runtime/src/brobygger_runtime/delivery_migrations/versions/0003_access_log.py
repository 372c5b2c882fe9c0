"""The access log: who read which person's data, when, why; refusals too.

Revision ID: 0003_access_log
Revises: 0002_parking_fencing
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from brobygger_runtime.db import UtcDateTime

revision = "0003_access_log"
down_revision = "0002_parking_fencing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("caller", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=100), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.String(length=500), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_subject", "access_log", ["subject_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_access_log_subject", table_name="access_log")
    op.drop_table("access_log")
