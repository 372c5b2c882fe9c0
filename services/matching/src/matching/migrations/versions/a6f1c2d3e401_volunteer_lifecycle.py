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
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(length=200), nullable=True,
                                      comment="the volunteer's own login (the token's sub at their organisation's provider); NULL until they have one"))
        batch_op.create_unique_constraint('uq_volunteers_account', ['account'])


def downgrade() -> None:
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_volunteers_account', type_='unique')
        batch_op.drop_column('account')
