"""a contact belongs to the organisation that entered it

Revision ID: e3b1c6f0a2d4
Revises: cbe0a0b8d81a
Create Date: 2026-11-25 19:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'e3b1c6f0a2d4'
down_revision = 'cbe0a0b8d81a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Contacts entered before owners were recorded have none: they belong to the
    # organisation running the instance (see repository.owner_of).
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('org')
