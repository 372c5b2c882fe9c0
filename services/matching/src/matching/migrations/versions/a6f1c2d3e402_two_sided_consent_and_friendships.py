"""two-sided consent to a match and friendships over time (issue 14)

Revision ID: a6f1c2d3e402
Revises: a6f1c2d3e401
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f1c2d3e402'
down_revision = 'a6f1c2d3e401'
branch_labels = None
depends_on = None


OLD_STATUSES = 'proposed, accepted, declined, withdrawn (the candidate stopped before an answer) or ended (after acceptance)'
STATUSES = ('proposed, awaiting_volunteer (the citizen said yes, the volunteer is asked), accepted, declined, '
            'withdrawn (the candidate stopped before an answer) or ended (after acceptance)')


def upgrade() -> None:
    # `awaiting_volunteer` is longer than the 16 characters a status had
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=32),
                              existing_nullable=False, comment=STATUSES, existing_comment=OLD_STATUSES)
    op.create_table(
        'volunteer_questions',
        sa.Column('proposal_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('citizen_id', sa.String(length=36), nullable=False),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answer_due', sa.DateTime(timezone=True), nullable=False),
        sa.Column('shown', sa.JSON(), nullable=False,
                  comment="what the volunteer was told to decide on (VolunteerAsked's sealed part)"),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answer', sa.String(length=16), nullable=True,
                  comment='accepted, declined or no_answer; NULL while open'),
        sa.Column('decline_note', sa.String(length=200), nullable=True,
                  comment="the volunteer's own words on a no; kept here only"),
        sa.PrimaryKeyConstraint('proposal_id', name=op.f('pk_volunteer_questions')),
    )
    with op.batch_alter_table('volunteer_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_questions_answer_due'), ['answer_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_questions_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_questions_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table(
        'friendships',
        sa.Column('friendship_id', sa.String(length=36), nullable=False),
        sa.Column('proposal_id', sa.String(length=36), nullable=False),
        sa.Column('citizen_id', sa.String(length=36), nullable=False),
        sa.Column('volunteer_id', sa.String(length=36), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rhythm', sa.String(length=16), nullable=True, comment='weekly, fortnightly or monthly; NULL until agreed'),
        sa.Column('channel', sa.String(length=16), nullable=True, comment='in_person, phone or video; NULL until agreed'),
        sa.Column('place', sa.String(length=200), nullable=True,
                  comment='where they meet (personal: never in clear on the bus)'),
        sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('check_in_due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('check_in_published_at', sa.DateTime(timezone=True), nullable=True,
                  comment='FriendshipCheckInDue went out (once)'),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_side', sa.String(length=16), nullable=True),
        sa.Column('ended_reason', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('friendship_id', name=op.f('pk_friendships')),
        sa.UniqueConstraint('proposal_id', name=op.f('uq_friendships_proposal_id')),
    )
    with op.batch_alter_table('friendships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_friendships_check_in_due_at'), ['check_in_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_friendships_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_friendships_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table(
        'friendship_meetings',
        sa.Column('meeting_id', sa.String(length=36), nullable=False),
        sa.Column('friendship_id', sa.String(length=36), nullable=False),
        sa.Column('met_on', sa.Date(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('note', sa.String(length=280), nullable=True, comment='only where MEETING_NOTES_ALLOWED'),
        sa.Column('logged_by', sa.String(length=200), nullable=False),
        sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['friendship_id'], ['friendships.friendship_id'],
                                name=op.f('fk_friendship_meetings_friendship_id_friendships'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_friendship_meetings')),
    )
    with op.batch_alter_table('friendship_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_friendship_meetings_friendship_id'), ['friendship_id'], unique=False)

    op.create_table(
        'friendship_check_ins',
        sa.Column('friendship_id', sa.String(length=36), nullable=False),
        sa.Column('side', sa.String(length=16), nullable=False, comment='citizen or volunteer'),
        sa.Column('going_well', sa.Boolean(), nullable=False),
        sa.Column('answered_by', sa.String(length=200), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['friendship_id'], ['friendships.friendship_id'],
                                name=op.f('fk_friendship_check_ins_friendship_id_friendships'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('friendship_id', 'side', name=op.f('pk_friendship_check_ins')),
    )


def downgrade() -> None:
    op.drop_table('friendship_check_ins')
    with op.batch_alter_table('friendship_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_friendship_meetings_friendship_id'))
    op.drop_table('friendship_meetings')
    with op.batch_alter_table('friendships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_friendships_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_friendships_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_friendships_check_in_due_at'))
    op.drop_table('friendships')
    with op.batch_alter_table('volunteer_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_questions_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_questions_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_questions_answer_due'))
    op.drop_table('volunteer_questions')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=32), type_=sa.String(length=16),
                              existing_nullable=False, comment=OLD_STATUSES, existing_comment=STATUSES)
