"""groups grow under new versions, attendance frees seats (issue 15)

Revision ID: a6f2c2d3e402
Revises: a6f2c2d3e401
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f2c2d3e402'
down_revision = 'a6f2c2d3e401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("proposal_version", sa.Integer, nullable=False, server_default="1",
                                   comment="the latest GroupProposed version applied: a group that grows is proposed again"))
    with op.batch_alter_table("group_members") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True,
                                   comment="when the member said yes; NULL while only proposed"))
        batch.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True,
                                   comment="when the member stopped taking part; the place is free"))
        batch.add_column(sa.Column("left_reason", sa.String(24), nullable=True,
                                   comment="left, stopped_attending or journey_ended"))
        batch.add_column(sa.Column("missed_in_a_row", sa.Integer, nullable=False, server_default="0",
                                   comment="recorded meetings in a row the member did not attend"))


def downgrade() -> None:
    with op.batch_alter_table("group_members") as batch:
        batch.drop_column("missed_in_a_row")
        batch.drop_column("left_reason")
        batch.drop_column("left_at")
        batch.drop_column("confirmed_at")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("proposal_version")
