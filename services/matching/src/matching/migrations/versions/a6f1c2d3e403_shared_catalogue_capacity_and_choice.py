"""one partnership catalogue, capacity that follows reality, real choice (issue 15)

Revision ID: a6f1c2d3e403
Revises: a6f1c2d3e402
Create Date: 2026-11-26 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'a6f1c2d3e403'
down_revision = 'a6f1c2d3e402'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("catalogued_from", sa.String(64), nullable=True,
                                   comment="the partner organisation whose matching topic published it; NULL: published by this instance"))
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("choice_id", sa.String(36), nullable=True,
                                   comment="the options shown together (up to three of a kind); accepting one withdraws the others"))
        batch.add_column(sa.Column("estimated_wait_days", sa.Integer, nullable=True,
                                   comment="the area's waiting time for this interest when proposed (domain/waiting.py); NULL: not told"))
        batch.create_index("ix_proposals_choice_id", ["choice_id"])
    with op.batch_alter_table("group_proposals") as batch:
        batch.add_column(sa.Column("proposal_version", sa.Integer, nullable=False, server_default="1",
                                   comment="1 when first proposed; +1 each time the group grows"))
        batch.add_column(sa.Column("group_id", sa.String(36), nullable=True, comment="journey's group once formed (GroupFormed)"))
        batch.add_column(sa.Column("formed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "group_requests",
        sa.Column("citizen_id", sa.String(36), primary_key=True),
        sa.Column("interest", sa.String(41), primary_key=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        comment="the citizen (with the guide) asked for a new group for this interest rather than an existing activity",
    )


def downgrade() -> None:
    op.drop_table("group_requests")
    with op.batch_alter_table("group_proposals") as batch:
        batch.drop_column("formed_at")
        batch.drop_column("group_id")
        batch.drop_column("proposal_version")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_index("ix_proposals_choice_id")
        batch.drop_column("estimated_wait_days")
        batch.drop_column("choice_id")
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("catalogued_from")
