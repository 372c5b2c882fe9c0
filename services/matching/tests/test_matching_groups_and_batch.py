"""New groups, the batch assignment (on demand and on a schedule) and CSV import, on the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

from brobygger_contracts.events.matching import GroupProposed, MatchProposed
from matching.entrypoints.schedule import assignment_loop
from matching.testing import (
    ORG, activity, clarification, eventually, matching_instance, of_type, proposals_of, publish, read_events, referral,
    volunteer,
)


async def test_group_proposed_when_nearby_citizens_share_an_interest_no_activity_serves(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        await api.post("/activities", json=activity(name="Seniorsvømning", interests=["svømning"]))
        walkers = [uuid.uuid4() for _ in range(3)]
        far_walker = uuid.uuid4()
        # One at a time: referral and journey events travel on different topics, so their
        # relative order is only fixed by waiting for each citizen to be known.
        for citizen, postal_code in ((walkers[0], "6800"), (far_walker, "7500"), (walkers[1], "6800"), (walkers[2], "6851")):
            await publish(kafka_bootstrap, partnership, referral(citizen, [ORG], postal_code), clarification(
                citizen, postal_code=postal_code, wishes=["group"], interests=["walking", "swimming"]))
            await eventually(lambda: _known(api, citizen))

        groups = of_type(await read_events(kafka_bootstrap, partnership, want=3, settle=1.0), GroupProposed)
        # Swimming is served by the nearby activity; the walker in Holstebro is too far;
        # the first two Varde walkers start a group, and the walker from Janderup (7 km) joins it.
        assert len(groups) == 2
        first, grown = groups
        assert first.interest == "walking" and first.postal_code == "6800" and first.proposing_org == ORG
        assert set(first.citizen_ids) == {walkers[0], walkers[1]}
        assert grown.group_proposal_id == first.group_proposal_id and grown.citizen_ids == [*first.citizen_ids, walkers[2]]
        # Four gaps (walking in 6800 for 2; swimming in 7500, the pool is in Varde; walking in 6851 and 7500),
        # each of fewer than 5 citizens: all suppressed, however low the threshold asked for.
        for asked in ({}, {"min_citizens": 1}):
            gaps = await api.get("/gaps", params=asked)
            assert gaps.status_code == 200, gaps.text
            assert gaps.json() == {"min_citizens": 5, "suppressed_cells": 4, "gaps": []}


async def test_batch_assignment_maximises_total_quality_on_demand_and_on_schedule(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        # Both wait: no volunteer is registered yet when they are clarified.
        early, late = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership,
                      referral(early, [ORG]), clarification(early, wishes=["friend"], interests=["baking_and_cooking", "walking"]),
                      referral(late, [ORG]), clarification(late, wishes=["friend"], interests=["baking_and_cooking"], languages=["sv"]))

        async def both_waiting() -> bool:
            return all([(await api.get(f"/citizens/{c}/candidates")).status_code == 200 for c in (early, late)])

        await eventually(both_waiting)
        # Arrival order would give `early` the bilingual baker and leave `late`, who speaks only Swedish, with nobody.
        bilingual = (await api.post("/volunteers", json=volunteer(interests=["bagning", "gåtur"], languages=["da", "sv"], capacity=1))).json()
        walker = (await api.post("/volunteers", json=volunteer(interests=["gåtur"], capacity=1))).json()
        run = await api.post("/assignments/run")
        assert run.status_code == 200 and run.json()["proposed"] == 2
        made = {p["citizen_id"]: p["candidate_id"] for p in run.json()["proposals"]}
        assert made == {str(early): walker["volunteer_id"], str(late): bilingual["volunteer_id"]}
        assert (await api.post("/assignments/run")).json()["proposed"] == 0  # nobody waits any more

        # On a schedule: a third citizen waits, a volunteer arrives, the next round proposes.
        third = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(third, [ORG]), clarification(third, wishes=["friend"]))
        await eventually(lambda: _known(api, third))
        await api.post("/volunteers", json=volunteer(capacity=1))  # registering does not propose by itself
        loop = assignment_loop(runtime, interval=0.2)
        loop.start()
        try:
            await eventually(lambda: _has_proposal(api, third))
        finally:
            await loop.stop()
        proposed = of_type(await read_events(kafka_bootstrap, partnership, want=6), MatchProposed)
        assert sorted(str(p.citizen_id) for p in proposed) == sorted(str(c) for c in (early, late, third))


async def test_a_clarification_assigns_volunteers_jointly_with_citizens_already_waiting(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        swede = uuid.uuid4()  # waits: clarified before any volunteer speaking Swedish was registered
        await publish(kafka_bootstrap, partnership, referral(swede, [ORG]),
                      clarification(swede, wishes=["friend"], interests=["baking_and_cooking"], languages=["sv"]))
        await eventually(lambda: _known(api, swede))
        bilingual = (await api.post("/volunteers", json=volunteer(interests=["bagning", "gåtur"], languages=["da", "sv"], capacity=1))).json()
        walker = (await api.post("/volunteers", json=volunteer(interests=["gåtur"], capacity=1))).json()

        # The Danish newcomer would score best with the bilingual baker; taking them in
        # arrival order would leave the Swedish speaker with nobody.
        dane = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(dane, [ORG]),
                      clarification(dane, wishes=["friend"], interests=["baking_and_cooking", "walking"]))
        proposed = of_type(await read_events(kafka_bootstrap, partnership, want=4), MatchProposed)
        assert {(p.citizen_id, str(p.candidate_id)) for p in proposed} == {
            (dane, walker["volunteer_id"]), (swede, bilingual["volunteer_id"])}


async def test_concurrent_runs_never_hand_out_the_last_slot_twice(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        waiting = [uuid.uuid4() for _ in range(4)]
        events = []
        for citizen in waiting:
            events += [referral(citizen, [ORG]), clarification(citizen, wishes=["friend"])]
        await publish(kafka_bootstrap, partnership, *events)
        for citizen in waiting:
            await eventually(lambda: _known(api, citizen))
        await api.post("/volunteers", json=volunteer(capacity=1))
        runs = await asyncio.gather(*(api.post("/assignments/run") for _ in range(6)))
        assert sorted(r.json()["proposed"] for r in runs) == [0, 0, 0, 0, 0, 1]
        assert len((await api.get("/proposals")).json()) == 1


async def _known(api, citizen) -> bool:  # noqa: ANN001
    return (await api.get(f"/citizens/{citizen}/candidates")).status_code == 200


async def _has_proposal(api, citizen) -> bool:  # noqa: ANN001
    return len(await proposals_of(api, citizen)) == 1


CSV = """name;interests;postal_code;schedule;seats;step_free;org;latitude;longitude
Gåfællesskab Varde;gåtur|natur;6800;tirsdag formiddag|torsdag eftermiddag;12;ja;;55,621;8,481
Strik og snak;strikning|kaffe og snak;6800;onsdag eftermiddag;;nej;varde-kommune;;
Curling for seniors;curling;6800;blursday;-1;maybe;;;
;sang;Varde;;;;;;
"""


async def test_csv_import_publishes_valid_rows_and_reports_each_bad_one(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        result = await api.post("/activities/import", content=CSV.encode(), headers={"content-type": "text/csv"})
        assert result.status_code == 200, result.text
        body = result.json()
        assert body["imported"] == 2
        assert [a["line"] for a in body["activities"]] == [2, 3]
        errors = {(e["line"], e["field"]) for e in body["errors"]}
        assert errors == {(4, "interests"), (4, "schedule"), (4, "seats"), (4, "step_free"), (5, "name"), (5, "postal_code")}
        stored = {a["name"]: a for a in (await api.get("/activities")).json()}
        assert set(stored) == {"Gåfællesskab Varde", "Strik og snak"}
        assert stored["Gåfællesskab Varde"]["interests"] == ["walking", "nature"]
        assert stored["Gåfællesskab Varde"]["latitude"] == 55.621
        assert stored["Strik og snak"]["org"] == "varde-kommune" and stored["Strik og snak"]["seats"] is None
        missing = await api.post("/activities/import", content=b"title;postal_code\nx;6800\n", headers={"content-type": "text/csv"})
        assert missing.status_code == 422 and "name" in missing.json()["detail"]
        events = await read_events(kafka_bootstrap, runtime.settings.partnership_id, want=2)
        assert sorted(e.name for e in events) == ["Gåfællesskab Varde", "Strik og snak"]
