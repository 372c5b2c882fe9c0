"""erasure reaches every copy (placeholder until the erasure work fills it in)

Revision ID: b13a0e5e4002
Revises: b13a0e5e4001
Create Date: 2026-11-25 22:31:00.000000
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'b13a0e5e4002'
down_revision = 'b13a0e5e4001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
