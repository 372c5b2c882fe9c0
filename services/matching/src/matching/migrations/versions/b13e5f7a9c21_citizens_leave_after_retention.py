"""citizens leave after retention: when the citizen's journey ended (JourneyCompleted), so
the row goes RETENTION_MONTHS_AFTER_EXIT months later

Revision ID: b13e5f7a9c21
Revises: 8a4d2c6e1f35
Create Date: 2026-11-25 23:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'b13e5f7a9c21'
down_revision = '8a4d2c6e1f35'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('journey_ended_at', sa.DateTime(timezone=True), nullable=True,
                                      comment='JourneyCompleted: the row goes RETENTION_MONTHS_AFTER_EXIT months later'))
        batch_op.create_index(batch_op.f('ix_citizens_journey_ended_at'), ['journey_ended_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citizens_journey_ended_at'))
        batch_op.drop_column('journey_ended_at')
