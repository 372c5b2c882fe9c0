"""notify forgets after retention: when each citizen's journey ended (JourneyCompleted), so
that RETENTION_MONTHS_AFTER_EXIT months later their links, contact row and deliveries'
addresses go

Revision ID: b13f6a8b0d32
Revises: b13c4a7e9f10
Create Date: 2026-11-25 23:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'b13f6a8b0d32'
down_revision = 'b13c4a7e9f10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'journey_ended',
        sa.Column('citizen_id', sa.String(length=64), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('citizen_id', name=op.f('pk_journey_ended')),
    )
    with op.batch_alter_table('journey_ended', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_ended_ended_at'), ['ended_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('journey_ended', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_ended_ended_at'))
    op.drop_table('journey_ended')
