"""barriers that count (issue 15): an activity's subsidised price, hearing loop and interpreter;
a proposal's transport need and the price the citizen pays

Revision ID: c15a4b8d2e60
Revises: b13e5f7a9c21
Create Date: 2026-11-25 23:35:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'c15a4b8d2e60'
down_revision = 'b13e5f7a9c21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reduced_cost_dkk', sa.Float(), nullable=True,
                                      comment='a subsidised price; empty when there is none'))
        batch_op.add_column(sa.Column('hearing_loop', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('interpreter_available', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transport_need', sa.String(length=32), nullable=True,
                                      comment='what the guide arranges: volunteer_driver, flex_transport, accompanied_bus_ride'))
        batch_op.add_column(sa.Column('cost_dkk', sa.Integer(), nullable=True, comment='what the citizen pays, whole kroner'))


def downgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('cost_dkk')
        batch_op.drop_column('transport_need')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('interpreter_available')
        batch_op.drop_column('hearing_loop')
        batch_op.drop_column('reduced_cost_dkk')
