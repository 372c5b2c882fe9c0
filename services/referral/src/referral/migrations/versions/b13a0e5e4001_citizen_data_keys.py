"""citizen data keys: each citizen's AES-256 data key for sealed fields, wrapped by the
key-encryption key (placeholder until the sealing work fills it in)

Revision ID: b13a0e5e4001
Revises: 7c1e5a9d2b40
Create Date: 2026-11-25 22:30:00.000000
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'b13a0e5e4001'
down_revision = '7c1e5a9d2b40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
