"""Erased-citizen markers (digests only), so late or replayed events are ignored.

Revision ID: 0004_erased_subjects
Revises: 0003_access_log
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from brobygger_runtime.db import UtcDateTime

revision = "0004_erased_subjects"
down_revision = "0003_access_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erased_subjects",
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_digest", name=op.f("pk_erased_subjects")),
    )


def downgrade() -> None:
    op.drop_table("erased_subjects")
