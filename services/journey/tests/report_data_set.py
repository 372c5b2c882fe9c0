"""The small fixed data set of journey's report tests, played through the running service.

Seven citizens referred on Monday 2 March 2026 (A-G), contacted, clarified,
matched, visited and exited at known moments; a published walking activity in
6800, a proposed cards group, a formed walking group that runs itself. The
clock ends on 15 April, when the reports are read. test_journey_reports.py
has the figures computed by hand.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.matching import ActivityPublished, GroupProposed
from brobygger_contracts.events.referral import ReferralEscalated
from journey_testkit import RunningJourney, accept_match, referral

REFERRED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


async def play_report_data_set(svc: RunningJourney) -> dict[str, uuid.UUID]:
    """Plays the data set (the service's clock must start at `REFERRED`); returns A-G's citizen ids."""
    api, clock = svc.client, svc.clock
    people = {
        "A": referral(source="home_care", received_at=REFERRED),
        "B": referral(source="home_care", received_at=REFERRED),
        "C": referral(source="relative", referrer_org=None, received_at=REFERRED),
        "D": referral(source="gp", referrer_org="laegehus-varde", received_at=REFERRED),
        "E": referral(source="home_care", received_at=REFERRED),
        "F": referral(source="gp", referrer_org="laegehus-varde", received_at=REFERRED),
        "G": referral(source="self", referrer_org=None, received_at=REFERRED),
    }
    for event in people.values():
        await svc.send(event)
    cid = {k: e.citizen_id for k, e in people.items()}
    await svc.send(ActivityPublished(
        activity_id=uuid.uuid4(), org="red-cross", name="Gåfællesskab Varde", interests=["walking"],
        postal_code="6800", published_at=REFERRED,
    ))

    async def contact(who: str, when: datetime) -> None:
        assert (await api.post(f"/journeys/{cid[who]}/contacts", json={"at": when.isoformat()})).status_code == 201

    async def clarify(who: str, when: datetime, interests: list[str], baseline: tuple | None) -> None:
        clock.moment = when
        body = {"interests": interests}
        if baseline:
            body["baseline"] = dict(zip(("lack_companionship", "left_out", "isolated"), baseline))
        assert (await api.post(f"/journeys/{cid[who]}/clarification", json=body)).status_code == 201

    await contact("A", at(3, 3))  # 1 day
    await contact("B", at(3, 5))  # 3 days
    await contact("C", at(3, 9))  # 7 days
    await contact("D", at(3, 4))  # 2 days
    await clarify("A", at(3, 5), ["walking", "baking"], (3, 3, 3))
    await clarify("B", at(3, 6), ["walking"], (2, 2, 2))
    await clarify("G", at(3, 6), ["walking"], None)  # clarified at the first meeting: contact after 4 days
    await clarify("C", at(3, 9, 10), ["walking", "cards"], (3, 2, 3))
    await clarify("D", at(3, 20), ["cards"], None)

    await api.post(f"/journeys/{cid['A']}/punch-card/grants", json={"hours": 3})
    clock.moment = at(3, 12)
    await accept_match(svc, cid["A"])  # 10 days to match
    clock.moment = at(3, 22)
    await accept_match(svc, cid["B"])  # 20 days
    await api.post(f"/journeys/{cid['A']}/first-visit", json={"visited_at": at(3, 16).isoformat(), "companion": "guide", "hours": 2})
    await api.post(f"/journeys/{cid['A']}/attendance", json={"visited_at": at(3, 23).isoformat(), "companion": "volunteer", "hours": 1})
    await api.post(f"/journeys/{cid['B']}/first-visit", json={"visited_at": at(3, 30).isoformat()})
    clock.moment = at(4, 1)
    await api.post(f"/journeys/{cid['A']}/exit", json={"outcome": "completed", "final": {"lack_companionship": 2, "left_out": 2, "isolated": 1}})
    await api.post(f"/journeys/{cid['B']}/exit", json={"outcome": "completed", "final": {"lack_companionship": 2, "left_out": 2, "isolated": 3}})
    await svc.send(ReferralEscalated(
        referral_id=people["F"].referral_id, citizen_id=cid["F"], reason="dementia", receiving_unit="demenskonsulent",
        escalated_at=at(4, 1),
    ))
    await svc.send(GroupProposed(
        group_proposal_id=uuid.uuid4(), interest="cards", postal_code="6800", citizen_ids=[cid["C"], cid["D"]],
        proposing_org="varde-kommune", proposed_at=at(4, 2),
    ))
    group = (await api.post("/groups", json={"facilitator_id": "t-1", "interest": "walking", "postal_code": "6800"})).json()
    await api.post(f"/groups/{group['group_id']}/self-running")

    clock.moment = at(4, 15)
    return cid
