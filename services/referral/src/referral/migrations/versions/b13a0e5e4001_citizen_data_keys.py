"""citizen data keys: each citizen's AES-256 data key for sealed fields, wrapped by the
key-encryption key (KEY_ENCRYPTION_KEY); erasure deletes the row (crypto-shredding)

Revision ID: b13a0e5e4001
Revises: 7c1e5a9d2b40
Create Date: 2026-11-25 22:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'b13a0e5e4001'
down_revision = '7c1e5a9d2b40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'citizen_keys',
        sa.Column('citizen_id', sa.String(length=36), nullable=False, comment='the citizen the key seals for'),
        sa.Column('wrapped_key', sa.LargeBinary(length=48), nullable=False,
                  comment='the citizen\'s data key wrapped by KEY_ENCRYPTION_KEY (RFC 3394); deleted on erasure'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('citizen_id', name=op.f('pk_citizen_keys')),
    )


def downgrade() -> None:
    op.drop_table('citizen_keys')
