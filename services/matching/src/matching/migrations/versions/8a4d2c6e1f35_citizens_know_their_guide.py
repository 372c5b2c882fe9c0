"""citizens know their guide (a guide sees only their own caseload)

Revision ID: 8a4d2c6e1f35
Revises: 3e1bdeec7de6
Create Date: 2026-11-25 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '8a4d2c6e1f35'
down_revision = '3e1bdeec7de6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guide_id', sa.String(length=200), nullable=True,
                                      comment='the guide journey assigned (GuideAssigned): whose caseload'))
        batch_op.add_column(sa.Column('guide_org', sa.String(length=64), nullable=True,
                                      comment='the organisation of that guide'))


def downgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_column('guide_org')
        batch_op.drop_column('guide_id')
