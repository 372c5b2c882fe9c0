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
        batch_op.add_column(sa.Column('roles', sa.JSON(), nullable=True,
                                      comment='volunteer_friend (in person), phone_friend (by phone or video); NULL: ["volunteer_friend"]'))
    op.create_table(
        'volunteer_steps',
        sa.Column('step_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('step', sa.String(length=24), nullable=False,
                  comment='applied, registered, interview, vetting, confidentiality, training, pause, resume or retired'),
        sa.Column('happened_on', sa.Date(), nullable=False, comment='held, seen, signed, completed, paused from, resumed on'),
        sa.Column('valid_until', sa.Date(), nullable=True, comment="a vetting's or course's expiry, a pause's last day"),
        sa.Column('code', sa.String(length=64), nullable=True,
                  comment="the interview's outcome, the vetting's kind, the course, the pause's or retirement's reason"),
        sa.Column('recorded_by', sa.String(length=200), nullable=False, comment="the token's sub of whoever recorded it"),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.volunteer_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('step_id'),
        comment="each step of a volunteer's lifecycle with its date; facts only, never a document",
    )
    with op.batch_alter_table('volunteer_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_steps_volunteer_id'), ['volunteer_id'], unique=False)
    op.create_table(
        'supervision_sessions',
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('org', sa.String(length=64), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False, comment='group or individual'),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('session_id'),
    )
    op.create_table(
        'supervision_attendance',
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['supervision_sessions.session_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.volunteer_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'volunteer_id'),
    )
    with op.batch_alter_table('supervision_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_attendance_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supervision_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_attendance_volunteer_id'))
    op.drop_table('supervision_attendance')
    op.drop_table('supervision_sessions')
    with op.batch_alter_table('volunteer_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_steps_volunteer_id'))
    op.drop_table('volunteer_steps')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('roles')
        batch_op.drop_constraint('uq_volunteers_account', type_='unique')
        batch_op.drop_column('account')
