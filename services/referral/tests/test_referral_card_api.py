"""The slice: POST /referrals against the real broker and database."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from brobygger_contracts.events.referral import ReferralSource
from referral_cards import REFERRERS, make_card

PERSONAL_VALUES = ["Frida", "Hansen", "75 22 11 00", "frida@example.dk", "Storegade", "mistet sin mand", "1942"]


async def test_valid_card_publishes_one_referral_received_without_personal_data(referral_service):
    response = await referral_service.client.post("/referrals", json=make_card())
    assert response.status_code == 201, response.text
    accepted = response.json()

    events = await referral_service.published()
    assert [e.type for e in events] == ["ReferralReceived"]
    event = events[0]
    assert event.payload["referral_id"] == accepted["referral_id"]
    assert event.payload["citizen_id"] == accepted["citizen_id"]
    assert event.payload["age_band"] == "75-84"
    assert event.payload["postal_code"] == "6800"
    assert event.payload["consented_orgs"] == ["varde-kommune", "red-cross"]
    assert event.payload["source"] == "home_care" and event.payload["urgency"] == "soon"
    assert event.payload["repeat_referral"] is False
    assert event.headers["ce_type"] == "org.brobygger.referral.ReferralReceived.v1"
    assert event.headers["ce_subject"] == accepted["citizen_id"]
    assert event.headers["ce_source"] == f"/partnerships/{referral_service.settings.partnership_id}/orgs/varde-kommune/referral"
    wire = event.raw_value.decode() + repr(event.raw_headers)
    for value in PERSONAL_VALUES:
        assert value not in wire, f"{value!r} reached the bus"

    stored = await referral_service.client.get(f"/referrals/{accepted['referral_id']}")
    assert stored.status_code == 200
    view = stored.json()
    assert view["citizen"]["name"] == "Frida Hansen"
    assert view["citizen"]["phone"] == "+45 75 22 11 00"
    assert view["reason"].startswith("Frida har mistet")
    assert view["state"] == "received"
    metrics = (await referral_service.client.get("/metrics")).text
    assert 'brobygger_referrals_received_total{repeat="false",source="home_care"} 1.0' in metrics




async def test_every_source_type_is_accepted_with_its_own_fields(referral_service):
    for source in ReferralSource:
        referrer = REFERRERS.get(source.value, {"source": source.value, "org": "varde-kommune"})
        card = make_card(referrer=referrer, citizen__name=f"Citizen {source.value.replace('_', ' ')}")
        response = await referral_service.client.post("/referrals", json=card)
        assert response.status_code == 201, (source, response.text)
    events = await referral_service.published()
    assert sorted(e.payload["source"] for e in events) == sorted(s.value for s in ReferralSource)
    for event in events:
        assert event.payload["referrer_org"] == REFERRERS.get(event.payload["source"], {"org": "varde-kommune"}).get("org")
        assert "Karen" not in event.raw_value.decode() and "2030" not in event.raw_value.decode()


INVALID_CARDS = [
    # (what is wrong, the card, the field the answer must name)
    ("no consent", make_card(consent=...), ["body", "consent"]),
    ("consent names no organisation", make_card(consent__organisations=[]), ["body", "consent", "organisations"]),
    ("unknown organisation", make_card(consent__organisations=["varde-kommune", "acme-corp"]), ["body", "consent", "organisations", 1]),
    ("organisation id malformed", make_card(consent__organisations=["Red Cross"]), ["body", "consent", "organisations", 0]),
    ("consent in the future", make_card(consent__given_at="2999-01-01T00:00:00Z"), ["body", "consent", "given_at"]),
    ("consent giver unknown", make_card(consent__given_by="neighbour"), ["body", "consent", "given_by"]),
    ("birth year as text", make_card(citizen__birth_year="1942"), ["body", "citizen", "birth_year"]),
    ("birth year in the future", make_card(citizen__birth_year=2090), ["body", "citizen", "birth_year"]),
    ("lives_alone as text", make_card(citizen__lives_alone="yes"), ["body", "citizen", "lives_alone"]),
    ("name as a number", make_card(citizen__name=42), ["body", "citizen", "name"]),
    ("no name", make_card(citizen__name=...), ["body", "citizen", "name"]),
    ("oversized name", make_card(citizen__name="A" * 121), ["body", "citizen", "name"]),
    ("oversized reason", make_card(reason="x" * 2001), ["body", "reason"]),
    ("empty reason", make_card(reason="   "), ["body", "reason"]),
    ("control characters in name", make_card(citizen__name="Frida\x00Hansen"), ["body", "citizen", "name"]),
    ("bad postal code", make_card(citizen__postal_code="DK-6800"), ["body", "citizen", "postal_code"]),
    ("bad phone", make_card(citizen__phone="call me"), ["body", "citizen", "phone"]),
    ("bad e-mail", make_card(citizen__email="frida at home"), ["body", "citizen", "email"]),
    ("unknown source", make_card(referrer__source="postman"), ["body", "referrer", "source"]),
    ("unknown urgency", make_card(urgency="yesterday"), ["body", "urgency"]),
    ("professional without organisation", make_card(referrer={"source": "gp"}), ["body", "referrer", "org"]),
    ("relative without name", make_card(referrer={"source": "relative", "relation": "son", "phone": "+4520304050"}), ["body", "referrer", "name"]),
    ("relative with an organisation", make_card(referrer={**REFERRERS["relative"], "org": "red-cross"}), ["body", "referrer", "org"]),
    ("self-referral consented by someone else", make_card(referrer={"source": "self"}, consent__given_by="relative"), ["body", "consent", "given_by"]),
    ("unexpected field", make_card(citizen__cpr="010142-1234"), ["body", "citizen", "cpr"]),
    ("unknown citizen id", make_card(citizen_id=str(uuid.uuid4())), ["body", "citizen_id"]),
]


async def test_invalid_cards_answer_422_naming_the_field_and_publish_nothing(referral_service):
    client = referral_service.client
    for what, card, field in INVALID_CARDS:
        response = await client.post("/referrals", json=card)
        assert response.status_code == 422, (what, response.text)
        locations = [item["loc"] for item in response.json()["detail"]]
        assert field in locations, (what, locations)
    response = await client.post("/referrals", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422

    async with referral_service.runtime.db.sessions() as s:
        outbox = referral_service.runtime.tables.outbox
        assert await s.scalar(sa.select(sa.func.count()).select_from(outbox)) == 0
        assert await s.scalar(sa.text("SELECT count(*) FROM referrals")) == 0
    assert await referral_service.published() == []
    metrics = (await client.get("/metrics")).text
    assert f"brobygger_referrals_refused_total {float(len(INVALID_CARDS) + 1)}" in metrics


async def test_injection_strings_are_stored_verbatim_as_data(referral_service):
    name = "Robert'); DROP TABLE citizens;-- <script>alert(1)</script>"
    reason = "' OR 1=1 --\n{{7*7}} ${jndi:ldap://x} \"; DELETE FROM referrals; --"
    response = await referral_service.client.post("/referrals", json=make_card(citizen__name=name, reason=reason))
    assert response.status_code == 201, response.text
    view = (await referral_service.client.get(f"/referrals/{response.json()['referral_id']}")).json()
    assert view["citizen"]["name"] == name
    assert view["reason"] == reason
    listed = (await referral_service.client.get("/referrals")).json()
    assert len(listed) == 1


async def test_unknown_referral_is_404(referral_service):
    response = await referral_service.client.get(f"/referrals/{uuid.uuid4()}")
    assert response.status_code == 404
    assert (await referral_service.client.get("/referrals/not-a-uuid")).status_code == 422


async def test_a_retried_submission_with_an_idempotency_key_creates_one_referral(referral_service):
    client = referral_service.client
    retry = {"Idempotency-Key": "home-care-system-4711"}
    first = await client.post("/referrals", json=make_card(), headers=retry)
    again = await client.post("/referrals", json=make_card(), headers=retry)
    racing = await asyncio.gather(*(client.post("/referrals", json=make_card(citizen__name="Else Berg"), headers={"Idempotency-Key": "k-2"}) for _ in range(4)))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert sorted(r.status_code for r in racing) == [200, 200, 200, 201]
    assert len({r.json()["referral_id"] for r in racing}) == 1
    assert (await client.post("/referrals", json=make_card(), headers={"Idempotency-Key": "bad key\t"})).status_code == 422
    assert len(await referral_service.published()) == 2
