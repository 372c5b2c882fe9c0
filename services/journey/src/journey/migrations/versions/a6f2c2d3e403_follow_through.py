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
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transport_need', sa.String(length=32), nullable=True))
    with op.batch_alter_table('timers', schema=None) as batch_op:  # still_taking_part is longer than 16
        batch_op.alter_column('kind', existing_type=sa.String(length=16), type_=sa.String(length=32),
                              existing_nullable=False)
    op.create_table(
        'follow_ups',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('journey_id', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('proposal_id', sa.String(length=64), nullable=True),
        sa.Column('recorded_by', sa.String(length=64), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_journey_id'), ['journey_id'], unique=False)
    op.create_table(
        'measures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('journey_id', sa.String(length=64), nullable=False),
        sa.Column('time_point', sa.String(length=24), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('measured_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_measures')),
        sa.UniqueConstraint('journey_id', 'time_point', name=op.f('uq_measures_journey_id')),
    )
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measures_journey_id'), ['journey_id'], unique=False)
    op.create_table(
        'tasks',
        sa.Column('task_id', sa.String(length=64), nullable=False),
        sa.Column('journey_id', sa.String(length=64), nullable=False),
        sa.Column('citizen_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('source_key', sa.String(length=160), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_tasks')),
        sa.UniqueConstraint('source_key', name=op.f('uq_tasks_source_key')),
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_journey_id'), ['journey_id'], unique=False)


def downgrade() -> None:
    op.drop_table('tasks')
    op.drop_table('measures')
    op.drop_table('follow_ups')
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=32), type_=sa.String(length=16),
                              existing_nullable=False)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('transport_need')
