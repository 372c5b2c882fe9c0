"""messages that fit people: guide tasks when no channel (issue 15)

Revision ID: a6f3c2d3e402
Revises: a6f3c2d3e401
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f3c2d3e402'
down_revision = 'a6f3c2d3e401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
