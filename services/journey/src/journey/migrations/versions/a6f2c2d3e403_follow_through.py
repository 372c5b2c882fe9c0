"""follow-through: outcomes, repeated loneliness measures, reports (issue 15)

Revision ID: a6f2c2d3e403
Revises: a6f2c2d3e402
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f2c2d3e403'
down_revision = 'a6f2c2d3e402'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
