"""A referrer who asks to hear at each milestone: the card says so, the event carries only
that flag, and notify gets the referrer's contact from here, for consented organisations only."""

from __future__ import annotations

import sqlalchemy as sa

from referral_cards import make_card

FOLLOWING_NURSE = {"source": "nurse", "org": "varde-kommune", "name": "Mette Holm", "email": "mette.holm@sygepleje.example",
                   "wants_milestones": True, "language": "sv"}


async def test_a_following_referrer_is_flagged_on_the_bus_and_reachable_through_referral(start_referral):
    async with start_referral() as service:
        client, tokens = service.client, service.tokens
        nurse = tokens.auth("referrer", "varde-kommune", subject="nurse-mette")
        red_cross_notify, abf_notify = tokens.service_auth("notify", "red-cross"), tokens.service_auth("notify", "abf")
        follows = (await client.post("/referrals", json=make_card(referrer=FOLLOWING_NURSE), auth=nurse)).json()
        quiet = (await client.post("/referrals", json=make_card(citizen__name="Holger Bak"))).json()
        published = {e.payload["referral_id"]: e.payload for e in await service.published() if e.type == "ReferralReceived"}

        red_cross = await client.get(f"/referrals/{follows['referral_id']}/referrer-contact", auth=red_cross_notify)
        abf = await client.get(f"/referrals/{follows['referral_id']}/referrer-contact", auth=abf_notify)
        not_following = await client.get(f"/referrals/{quiet['referral_id']}/referrer-contact")
        unknown = await client.get("/referrals/00000000-0000-4000-8000-000000000000/referrer-contact")
        log_table = service.runtime.tables.access_log
        async with service.runtime.db.sessions() as s:
            log = (await s.execute(sa.select(log_table.c.organisation, log_table.c.allowed)
                                   .where(log_table.c.subject_id == follows["citizen_id"],
                                          log_table.c.fields.like("referrer_%")))).all()

        await client.delete(f"/citizens/{follows['citizen_id']}")
        after_erasure = await client.get(f"/referrals/{follows['referral_id']}/referrer-contact", auth=red_cross_notify)

    assert published[follows["referral_id"]]["referrer_follows"] is True
    assert published[quiet["referral_id"]]["referrer_follows"] is False
    blob = str(published)
    assert "Mette" not in blob and "sygepleje" not in blob  # the referrer's details stay here
    assert red_cross.status_code == 200
    assert red_cross.json() == {"referral_id": follows["referral_id"], "name": "Mette Holm",
                                "email": "mette.holm@sygepleje.example", "phone": None, "language": "sv"}
    assert abf.status_code == 404  # abf is not in the citizen's consent: as if there were no such referral
    assert not_following.status_code == 403 and "did not ask" in not_following.json()["detail"]
    assert unknown.status_code == 404
    assert sorted(log) == [("abf", False), ("red-cross", True)]
    assert after_erasure.status_code == 404  # erased: nobody's consent names red-cross any more


async def test_following_needs_a_name_and_a_way_to_reach_the_referrer(referral_service):
    client = referral_service.client
    nameless = make_card(referrer={"source": "gp", "org": "varde-kommune", "email": "x@example.dk", "wants_milestones": True})
    unreachable = make_card(referrer={"source": "gp", "org": "varde-kommune", "name": "Dr. Holm", "wants_milestones": True})
    for card, field in ((nameless, "name"), (unreachable, "email")):
        response = await client.post("/referrals", json=card)
        assert response.status_code == 422, response.text
        assert ["body", "referrer", field] in [d["loc"] for d in response.json()["detail"]]
    assert [e for e in await referral_service.published() if e.type == "ReferralReceived"] == []


async def test_the_referrers_language_defaults_to_the_citizens(referral_service):
    client = referral_service.client
    relative = {"source": "relative", "name": "Karen Hansen", "relation": "daughter", "phone": "+4520304050",
                "wants_milestones": True}
    accepted = (await client.post("/referrals", json=make_card(referrer=relative, citizen__language="en"))).json()
    contact = (await client.get(f"/referrals/{accepted['referral_id']}/referrer-contact")).json()
    assert contact["language"] == "en" and contact["phone"] == "+4520304050"


async def test_the_referrer_can_stop_following(start_referral):
    async with start_referral() as service:
        client, tokens = service.client, service.tokens
        nurse = tokens.auth("referrer", "varde-kommune", subject="nurse-mette")
        red_cross_notify = tokens.service_auth("notify", "red-cross")
        follows = (await client.post("/referrals", json=make_card(referrer=FOLLOWING_NURSE), auth=nurse)).json()
        url = f"/referrals/{follows['referral_id']}"
        colleague = await client.delete(f"{url}/follow", auth=tokens.auth("referrer", "varde-kommune", subject="nurse-jens"))
        red_cross_guide = await client.delete(f"{url}/follow", auth=tokens.auth("guide", "red-cross"))
        still = await client.get(f"{url}/referrer-contact", auth=red_cross_notify)
        stopped = await client.delete(f"{url}/follow", auth=nurse)
        again = await client.delete(f"{url}/follow", auth=nurse)
        after = await client.get(f"{url}/referrer-contact", auth=red_cross_notify)
    assert colleague.status_code == 404  # only the person who submitted it (or a coordinator who may open it)
    assert red_cross_guide.status_code == 403  # a guide does not act for the referrer
    assert still.status_code == 200
    assert stopped.status_code == 200 and stopped.json() == {"referral_id": follows["referral_id"], "follows": False}
    assert again.status_code == 200
    assert after.status_code == 403
