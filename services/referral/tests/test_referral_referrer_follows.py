"""A referrer who asks to hear at each milestone: the card says so, the event carries only
that flag, and notify gets the referrer's contact from here, for consented organisations only."""

from __future__ import annotations

import sqlalchemy as sa

from referral.adapters.tables import contact_access_log
from referral_cards import make_card
from test_referral_access import KEYS, bearer

FOLLOWING_GP = {"source": "gp", "org": "gp-vestjylland", "name": "Dr. Mette Holm", "email": "mette.holm@laegehus.example",
                "wants_milestones": True, "language": "sv"}


async def test_a_following_referrer_is_flagged_on_the_bus_and_reachable_through_referral(start_referral):
    async with start_referral(api_keys=",".join(KEYS.values())) as service:
        client = service.client
        follows = (await client.post("/referrals", json=make_card(referrer=FOLLOWING_GP), headers=bearer("gp"))).json()
        quiet = (await client.post("/referrals", json=make_card(citizen__name="Holger Bak"), headers=bearer("varde_staff"))).json()
        published = {e.payload["referral_id"]: e.payload for e in await service.published() if e.type == "ReferralReceived"}

        red_cross = await client.get(f"/referrals/{follows['referral_id']}/referrer-contact", headers=bearer("red_cross_notify"))
        abf = await client.get(f"/referrals/{follows['referral_id']}/referrer-contact", headers=bearer("abf_notify"))
        not_following = await client.get(f"/referrals/{quiet['referral_id']}/referrer-contact", headers=bearer("varde_staff"))
        unknown = await client.get("/referrals/00000000-0000-4000-8000-000000000000/referrer-contact", headers=bearer("varde_staff"))
        async with service.runtime.db.sessions() as s:
            log = (await s.execute(sa.select(contact_access_log.c.org, contact_access_log.c.granted)
                                   .where(contact_access_log.c.citizen_id == follows["citizen_id"]))).all()

        await client.delete(f"/citizens/{follows['citizen_id']}", headers=bearer("varde_staff"))
        after_erasure = await client.get(f"/referrals/{follows['referral_id']}/referrer-contact", headers=bearer("red_cross_notify"))

    assert published[follows["referral_id"]]["referrer_follows"] is True
    assert published[quiet["referral_id"]]["referrer_follows"] is False
    blob = str(published)
    assert "Mette" not in blob and "laegehus" not in blob  # the referrer's details stay here
    assert red_cross.status_code == 200
    assert red_cross.json() == {"referral_id": follows["referral_id"], "name": "Dr. Mette Holm",
                                "email": "mette.holm@laegehus.example", "phone": None, "language": "sv"}
    assert abf.status_code == 403  # abf is not in the citizen's consent
    assert not_following.status_code == 403 and "did not ask" in not_following.json()["detail"]
    assert unknown.status_code == 404
    assert sorted(log) == [("abf", False), ("red-cross", True)]
    assert after_erasure.status_code == 410


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
    async with start_referral(api_keys=",".join(KEYS.values())) as service:
        client = service.client
        follows = (await client.post("/referrals", json=make_card(referrer=FOLLOWING_GP), headers=bearer("gp"))).json()
        url = f"/referrals/{follows['referral_id']}"
        other_referrer = await client.delete(f"{url}/follow", headers=bearer("varde_home_care"))
        still = await client.get(f"{url}/referrer-contact", headers=bearer("red_cross_notify"))
        stopped = await client.delete(f"{url}/follow", headers=bearer("gp"))
        again = await client.delete(f"{url}/follow", headers=bearer("gp"))
        after = await client.get(f"{url}/referrer-contact", headers=bearer("red_cross_notify"))
    assert other_referrer.status_code == 403  # only their own organisation, or the owning staff
    assert still.status_code == 200
    assert stopped.status_code == 200 and stopped.json() == {"referral_id": follows["referral_id"], "follows": False}
    assert again.status_code == 200
    assert after.status_code == 403
