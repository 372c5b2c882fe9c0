"""Helpers for the friendship tests: a volunteer with their own login, a friendship both sides said yes to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from brobygger_contracts.events.journey import GuideAssigned
from matching.adapters.tables import volunteers
from matching.testing import ORG, clarification, eventually, proposals_of, publish, referral, tokens, volunteer

GUIDE_ORG = "varde-kommune"


async def give_account(runtime: Any, volunteer_id: str, account: str) -> None:
    """The volunteer's own login (the column exists; registering it is the volunteer lifecycle's part)."""
    async with runtime.db.transaction() as session:
        await session.execute(volunteers.update().where(volunteers.c.volunteer_id == volunteer_id).values(account=account))


async def a_friendship(kafka_bootstrap: str, runtime: Any, api: Any, account: str, guide: str) -> tuple[str, str, uuid.UUID]:
    """A volunteer with `account`, a citizen guided by `guide`, proposed, accepted by both: (volunteer, friendship, citizen)."""
    partnership = runtime.settings.partnership_id
    volunteer_id = (await api.post("/volunteers", json=volunteer(interests=["bagning"], capacity=1))).json()["volunteer_id"]
    await give_account(runtime, volunteer_id, account)
    citizen = uuid.uuid4()
    await publish(kafka_bootstrap, partnership, referral(citizen, [ORG, GUIDE_ORG]),
                  clarification(citizen, wishes=["friend"]),
                  GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id=guide, guide_org=GUIDE_ORG,
                                assigned_at=datetime.now(UTC)))
    guide_auth = tokens().auth("guide", org=GUIDE_ORG, subject=guide)

    async def proposed() -> bool:
        return len(await proposals_of(api, citizen, auth=guide_auth)) == 1
    await eventually(proposed)
    proposal = (await proposals_of(api, citizen))[0]["proposal_id"]
    assert (await api.post(f"/proposals/{proposal}/accept", auth=guide_auth)).status_code == 200
    yes = await api.post(f"/proposals/{proposal}/volunteer-answer", json={"answer": "accept"},
                         auth=tokens().auth("volunteer", org=ORG, subject=account))
    assert yes.status_code == 200, yes.text
    return volunteer_id, yes.json()["friendship_id"], citizen
