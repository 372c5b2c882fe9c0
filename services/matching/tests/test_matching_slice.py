"""The slice against the real broker and PostgreSQL: registries, consent, NeedsClarified -> MatchProposed."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import ActivityPublished, MatchProposed, VolunteerRegistered
from brobygger_contracts.events.referral import CitizenErased, ConsentChanged, ReferralEscalated
from matching.testing import (
    ORG, activity, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral,
    volunteer,
)


async def test_needs_clarified_proposes_the_best_volunteer_and_activity_with_reasons(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        good = await api.post("/volunteers", json=volunteer(interests=["bagning", "gåtur"]))
        assert good.status_code == 201, good.text
        assert good.json()["interests"] == ["baking_and_cooking", "walking"]  # Danish words became codes
        weaker = await api.post("/volunteers", json=volunteer(interests=["fiskeri"], postal_code="6840"))
        walk = await api.post("/activities", json=activity())
        assert walk.status_code == 201, walk.text
        assert [v["org"] for v in (await api.get("/volunteers")).json()] == [ORG, ORG]
        assert len((await api.get("/activities")).json()) == 1

        citizen = uuid.uuid4()
        # Journey may send a shorter code than the taxonomy's own (`baking`): read leniently.
        await publish(kafka_bootstrap, partnership, referral(citizen, ["varde-kommune", ORG]),
                      clarification(citizen, interests=["baking", "walking"]))

        events = await read_events(kafka_bootstrap, partnership, want=5)
        assert len(of_type(events, VolunteerRegistered)) == 2
        assert len(of_type(events, ActivityPublished)) == 1
        proposed = {p.kind.value: p for p in of_type(events, MatchProposed)}
        friend, place = proposed["volunteer_friend"], proposed["activity"]
        assert friend.candidate_id == uuid.UUID(good.json()["volunteer_id"])
        assert friend.candidate_id != uuid.UUID(weaker.json()["volunteer_id"])
        assert friend.opened.candidate_name is None  # never a volunteer's name
        assert friend.proposing_org == ORG and friend.citizen_id == citizen and friend.rank == 1
        assert "both enjoy baking and cooking and walking" in friend.opened.reasons
        assert "in the same area" in friend.opened.reasons
        assert "both free on Tuesday mornings" in friend.opened.reasons
        assert 0 < friend.score <= 1
        assert place.candidate_id == uuid.UUID(walk.json()["activity_id"])
        assert place.opened.candidate_name == "Gåfællesskab Varde"
        assert "an activity for walking" in place.opened.reasons
        metrics = (await api.get("/metrics")).text
        assert 'brobygger_matching_proposals_total{kind="volunteer_friend"} 1.0' in metrics
        assert 'brobygger_matching_proposals_total{kind="activity"} 1.0' in metrics
        assert "brobygger_matching_batch_seconds_count 1.0" in metrics


async def test_clarification_before_consent_waits_for_it_and_unknown_postal_code_is_said(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        await api.post("/volunteers", json=volunteer())
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, clarification(citizen, postal_code="9999", wishes=["friend"]))
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG], postal_code="9999"))
        proposed = of_type(await read_events(kafka_bootstrap, partnership, want=2), MatchProposed)
        assert len(proposed) == 1
        assert proposed[0].opened.distance_km is None
        assert "distance unknown: postal code 9999 is not in the table" in proposed[0].opened.reasons


async def test_consent_withdrawal_and_erasure_forget_the_citizen(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        await api.post("/volunteers", json=volunteer(capacity=1))
        withdrawn, erased = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership,
                      referral(withdrawn, [ORG]), clarification(withdrawn, wishes=["friend"]),
                      referral(erased, [ORG]), clarification(erased, wishes=["activity"]))

        async def both_known() -> bool:
            rows = (await api.get("/proposals")).json()
            return len(rows) == 1 and (await api.get(f"/citizens/{erased}/candidates")).status_code == 200

        await eventually(both_known)
        await publish(kafka_bootstrap, partnership,
                      ConsentChanged(citizen_id=withdrawn, consented_orgs=["varde-kommune"], removed=[ORG],
                                     changed_at=referral(withdrawn, [ORG]).received_at),
                      CitizenErased(citizen_id=erased, erased_at=referral(erased, [ORG]).received_at))

        async def forgotten() -> bool:
            gone = [(await api.get(f"/citizens/{c}/candidates")).status_code == 404 for c in (withdrawn, erased)]
            return all(gone) and (await api.get("/proposals")).json() == []

        await eventually(forgotten)
        # A clarification still on its way after the withdrawal is dropped, not stored.
        await publish(kafka_bootstrap, partnership, clarification(withdrawn, wishes=["friend"]))
        # The withdrawn citizen's proposal held the volunteer's only slot; it is free again.
        newcomer = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(newcomer, [ORG]), clarification(newcomer, wishes=["friend"]))

        async def proposed_to_newcomer() -> bool:
            return len(await proposals_of(api, newcomer)) == 1

        await eventually(proposed_to_newcomer)
        assert [p["citizen_id"] for p in (await api.get("/proposals")).json()] == [str(newcomer)]
        assert (await api.get(f"/citizens/{withdrawn}/candidates")).status_code == 404


async def test_bad_registrations_answer_422_naming_the_field(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (_runtime, api):
        untold = {k: v for k, v in volunteer().items() if k != "trained"}
        assert (await api.post("/volunteers", json=untold)).json()["detail"][0]["loc"] == ["body", "trained"]
        unknown = await api.post("/volunteers", json=volunteer(interests=["curling"]))
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", "interests", 0]  # the word's place
        assert "curling" in unknown.json()["detail"][0]["msg"] and "'cykling'" in unknown.json()["detail"][0]["msg"]
        bad_code = await api.post("/activities", json=activity(postal_code="Varde"))
        assert bad_code.status_code == 422 and bad_code.json()["detail"][0]["loc"] == ["body", "postal_code"]
        assert (await api.get("/volunteers")).json() == [] and (await api.get("/activities")).json() == []
        taxonomy = {i["code"]: i for i in (await api.get("/interests")).json()}
        assert taxonomy["swimming"]["labels"] == {"en": "swimming", "da": "svømning", "sv": "simning"}


async def test_escalation_withdraws_open_proposals_and_stops_matching(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        await api.post("/volunteers", json=volunteer(capacity=1))
        escalated, next_in_line = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(escalated, [ORG]), clarification(escalated, wishes=["friend"]))

        def proposals_to(citizen: uuid.UUID, count: int):  # noqa: ANN202
            async def check() -> bool:
                return len(await proposals_of(api, citizen)) == count
            return check

        await eventually(proposals_to(escalated, 1))
        await publish(kafka_bootstrap, partnership, ReferralEscalated(
            referral_id=uuid.uuid4(), citizen_id=escalated, reason="mental_health", receiving_unit="varde-psykiatri",
            escalated_at=referral(escalated, [ORG]).received_at))
        await eventually(proposals_to(escalated, 0))
        assert (await api.get(f"/citizens/{escalated}/candidates")).status_code == 404
        # The withdrawn proposal's slot goes to the next citizen; the escalated one is not waiting any more.
        await publish(kafka_bootstrap, partnership, referral(next_in_line, [ORG]), clarification(next_in_line, wishes=["friend"]))
        await eventually(proposals_to(next_in_line, 1))
        assert (await api.post("/assignments/run")).json()["proposed"] == 0
