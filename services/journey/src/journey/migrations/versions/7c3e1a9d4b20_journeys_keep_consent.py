"""journeys keep the citizen's current consent; hidden when the owning organisation is no longer named

Revision ID: 7c3e1a9d4b20
Revises: 2d535431214d
Create Date: 2026-11-25 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '7c3e1a9d4b20'
down_revision = '2d535431214d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consented_orgs', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.drop_column('hidden')
        batch_op.drop_column('consented_orgs')
