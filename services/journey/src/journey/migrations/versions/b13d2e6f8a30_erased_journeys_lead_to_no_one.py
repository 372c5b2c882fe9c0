"""erased journeys lead to no one: journeys erased (or retired by retention) before this
revision get fresh random journey and proposal ids (the old ones travelled on the bus),
keep only their UCLA totals, and lose pending timers and candidate names

Revision ID: b13d2e6f8a30
Revises: 7c3e1a9d4b20
Create Date: 2026-11-25 22:50:00.000000
"""

import json
import uuid

from alembic import op
import sqlalchemy as sa


revision = 'b13d2e6f8a30'
down_revision = '7c3e1a9d4b20'
branch_labels = None
depends_on = None

UCLA_ITEMS = ("lack_companionship", "left_out", "isolated")
CHILDREN = ("transitions", "contacts", "proposals", "visits", "punch_cards", "punch_entries")


def _total(answers):  # noqa: ANN001, ANN202
    if answers is None:
        return None
    if isinstance(answers, str):
        answers = json.loads(answers)
    return {"total": answers["total"] if "total" in answers else sum(answers[k] for k in UCLA_ITEMS)}


def upgrade() -> None:
    bind = op.get_bind()
    journeys = sa.table("journeys", sa.column("journey_id", sa.String), sa.column("erased", sa.Boolean),
                        sa.column("baseline", sa.JSON), sa.column("final", sa.JSON))
    proposals = sa.table("proposals", sa.column("proposal_id", sa.String), sa.column("journey_id", sa.String),
                         sa.column("candidate_name", sa.String))
    visits = sa.table("visits", sa.column("proposal_id", sa.String))
    timers = sa.table("timers", sa.column("journey_id", sa.String))
    erased = bind.execute(sa.select(journeys.c.journey_id, journeys.c.baseline, journeys.c.final)
                          .where(journeys.c.erased.is_(True))).all()
    for journey_id, baseline, final in erased:
        new_id = str(uuid.uuid4())
        bind.execute(timers.delete().where(timers.c.journey_id == journey_id))
        for proposal_id in bind.execute(sa.select(proposals.c.proposal_id).where(proposals.c.journey_id == journey_id)).scalars().all():
            new_proposal = str(uuid.uuid4())
            bind.execute(visits.update().where(visits.c.proposal_id == proposal_id).values(proposal_id=new_proposal))
            bind.execute(proposals.update().where(proposals.c.proposal_id == proposal_id)
                         .values(proposal_id=new_proposal, candidate_name=None))
        for name in CHILDREN:
            child = sa.table(name, sa.column("journey_id", sa.String))
            bind.execute(child.update().where(child.c.journey_id == journey_id).values(journey_id=new_id))
        bind.execute(journeys.update().where(journeys.c.journey_id == journey_id)
                     .values(journey_id=new_id, baseline=_total(baseline), final=_total(final)))


def downgrade() -> None:
    pass  # the old ids are gone on purpose
