"""Retention in referral (issue 13): RETENTION_MONTHS_AFTER_EXIT months (12 by default, as in
every service) after a citizen's journey ended (here: escalated at triage), their card is
erased as on request and every service is told; a citizen still on their journey stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from referral_cards import make_card


async def test_a_card_is_erased_a_year_after_the_journey_ended(referral_service):
    client, runtime = referral_service.client, referral_service.runtime
    ended = (await client.post("/referrals", json=make_card())).json()
    ongoing = (await client.post("/referrals", json=make_card(citizen__name="Lillemor Jensen"))).json()
    triaged = await client.post(f"/referrals/{ended['referral_id']}/triage", json={
        "decision": "professional", "escalation_reason": "dementia", "receiving_unit": "Demensteam Vest"})
    assert triaged.status_code == 200, triaged.text
    now = datetime.now(UTC)

    sweeper = runtime.retention
    sweeper.clock = lambda: now + timedelta(days=360)
    assert await sweeper.tick() == 0
    assert (await client.get(f"/referrals/{ended['referral_id']}")).json()["citizen"]["name"] == "Frida Hansen"
    sweeper.clock = lambda: now + timedelta(days=370)
    assert await sweeper.tick() == 1
    gone = (await client.get(f"/referrals/{ended['referral_id']}")).json()
    assert gone["citizen"]["erased"] is True and gone["citizen"]["name"] is None and gone["reason"] is None
    assert (await client.get(f"/referrals/{ongoing['referral_id']}")).json()["citizen"]["name"] == "Lillemor Jensen"
    events = await referral_service.published()
    assert [e.payload["citizen_id"] for e in events if e.type == "CitizenErased"] == [ended["citizen_id"]]
