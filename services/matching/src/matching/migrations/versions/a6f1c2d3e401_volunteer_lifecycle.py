"""volunteer lifecycle (issue 14): vetting, training, supervision, pauses, roles

Revision ID: a6f1c2d3e401
Revises: c15a4b8d2e60
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f1c2d3e401'
down_revision = 'c15a4b8d2e60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
