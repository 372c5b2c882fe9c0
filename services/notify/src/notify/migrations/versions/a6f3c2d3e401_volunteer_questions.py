"""the volunteer is asked, the citizen confirmed, check-ins (issue 14)

Revision ID: a6f3c2d3e401
Revises: b13f6a8b0d32
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f3c2d3e401'
down_revision = 'b13f6a8b0d32'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
