"""friendships reach the journey (issue 14)

Revision ID: a6f2c2d3e401
Revises: b13d2e6f8a30
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f2c2d3e401'
down_revision = 'b13d2e6f8a30'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
