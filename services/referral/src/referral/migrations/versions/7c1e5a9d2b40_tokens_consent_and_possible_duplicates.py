"""tokens, consent and possible duplicates: the submitter's subject and supplied details on
each referral, a possible-duplicate queue, and the old contact_access_log gone (the runtime's
access_log holds every read of personal data now)

Revision ID: 7c1e5a9d2b40
Revises: 53da4254ff6f
Create Date: 2026-11-25 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '7c1e5a9d2b40'
down_revision = '53da4254ff6f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_by_subject', sa.String(length=200), nullable=True,
                                      comment="who submitted it: the token's subject at the submitting organisation's issuer"))
        batch_op.add_column(sa.Column('supplied', sa.JSON(), nullable=True,
                                      comment='PERSONAL: the citizen\'s details as this card gave them (all a submitter may see again)'))
        batch_op.drop_column('submitted_with_key')

    op.create_table('possible_duplicates',
    sa.Column('duplicate_id', sa.String(length=36), nullable=False),
    sa.Column('referral_id', sa.String(length=36), nullable=False, comment='the card that became a new citizen record'),
    sa.Column('new_citizen_id', sa.String(length=36), nullable=False),
    sa.Column('known_citizen_id', sa.String(length=36), nullable=False,
              comment='the citizen the card resembles, whose consent did not name the submitter'),
    sa.Column('submitted_by_org', sa.String(length=64), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution', sa.String(length=10), nullable=True, comment='merge or distinct; empty while open'),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['known_citizen_id'], ['citizens.citizen_id'], name=op.f('fk_possible_duplicates_known_citizen_id_citizens')),
    sa.ForeignKeyConstraint(['new_citizen_id'], ['citizens.citizen_id'], name=op.f('fk_possible_duplicates_new_citizen_id_citizens')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.referral_id'], name=op.f('fk_possible_duplicates_referral_id_referrals')),
    sa.PrimaryKeyConstraint('duplicate_id', name=op.f('pk_possible_duplicates'))
    )
    with op.batch_alter_table('possible_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_possible_duplicates_known_citizen_id'), ['known_citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_possible_duplicates_new_citizen_id'), ['new_citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_possible_duplicates_referral_id'), ['referral_id'], unique=False)

    with op.batch_alter_table('contact_access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_access_log_citizen_id'))
    op.drop_table('contact_access_log')


def downgrade() -> None:
    op.create_table('contact_access_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('citizen_id', sa.String(length=36), nullable=False),
    sa.Column('org', sa.String(length=64), nullable=False),
    sa.Column('key_name', sa.String(length=80), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('accessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_access_log'))
    )
    with op.batch_alter_table('contact_access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_access_log_citizen_id'), ['citizen_id'], unique=False)

    with op.batch_alter_table('possible_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_possible_duplicates_referral_id'))
        batch_op.drop_index(batch_op.f('ix_possible_duplicates_new_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_possible_duplicates_known_citizen_id'))
    op.drop_table('possible_duplicates')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_with_key', sa.String(length=80), nullable=False, server_default='migrated',
                                      comment='name of the credential, never the secret'))
        batch_op.drop_column('supplied')
        batch_op.drop_column('submitted_by_subject')
