"""Each hard constraint excludes a candidate that would otherwise score best (real broker and PostgreSQL)."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import MatchProposed
from matching.testing import (
    ORG, activity, clarification, eventually, matching_instance, of_type, publish, read_events, referral, volunteer,
)

BOTH = ["baking", "walking"]


async def test_each_hard_constraint_excludes_a_candidate(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id

        async def add(path: str, body: dict) -> str:
            response = await api.post(path, json=body)
            assert response.status_code == 201, response.text
            return response.json()["volunteer_id" if path == "/volunteers" else "activity_id"]

        # Volunteers: every one but `fits` shares both interests; `fits` shares only one.
        friends = {
            # Not trained: not ready for their role, so not proposed (the lifecycle's rule, shown as `not_ready`).
            "not_ready": await add("/volunteers", volunteer(interests=BOTH, trained=False)),
            "no_common_language": await add("/volunteers", volunteer(interests=BOTH, languages=["sv"])),
            "no_capacity": await add("/volunteers", volunteer(interests=BOTH, capacity=0)),
            "out_of_reach": await add("/volunteers", volunteer(interests=BOTH, postal_code="6950", max_travel_km=10)),
            "fits": await add("/volunteers", volunteer(interests=["baking"])),
        }
        # Activities: Janderup (6851) is about 7 km from Varde: inside the citizen's 10 km,
        # outside the 5 km left once the transport barrier halves it.
        places = {
            "not_step_free": await add("/activities", activity(interests=BOTH, step_free=False)),
            "not_consented": await add("/activities", activity(interests=BOTH, org="ringkobing-kommune")),
            "out_of_reach": await add("/activities", activity(interests=BOTH, postal_code="6851")),
            "no_capacity": await add("/activities", activity(interests=BOTH, seats=0)),
            "accompaniment_not_welcome": await add("/activities", activity(interests=BOTH, accompaniment_welcome=False)),
            "no_common_language": await add("/activities", activity(interests=BOTH, languages=["en"])),
            "fits": await add("/activities", activity(interests=["walking"])),
        }
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, ["varde-kommune", ORG]), clarification(
            citizen, interests=["baking_and_cooking", "walking"], barriers=["transport"], max_travel_km=10,
            needs_step_free=True, wants_accompaniment=True,
        ))
        proposed = {p.kind.value: p for p in of_type(await read_events(kafka_bootstrap, partnership, want=14), MatchProposed)}
        assert str(proposed["volunteer_friend"].candidate_id) == friends["fits"]
        assert str(proposed["activity"].candidate_id) == places["fits"]

        for kind, expected in (("volunteer_friend", friends), ("activity", places)):
            judged = (await api.get(f"/citizens/{citizen}/candidates", params={"kind": kind})).json()["candidates"]
            by_id = {c["candidate_id"]: c for c in judged}
            for constraint, candidate_id in expected.items():
                if constraint == "fits":
                    assert by_id[candidate_id]["excluded_because"] == {"already_proposed": "already proposed to this citizen before"}
                else:
                    assert list(by_id[candidate_id]["excluded_because"]) == [constraint], (kind, constraint, by_id[candidate_id])
        reach = by_id[places["out_of_reach"]]["excluded_because"]["out_of_reach"]
        assert "beyond the reach of 5.0 km (barriers: transport)" in reach


async def test_citizen_preferences_rank_volunteers(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        smoker = (await api.post("/volunteers", json=volunteer(gender="male", smokes=True, age_band="30-39"))).json()
        liked = (await api.post("/volunteers", json=volunteer(gender="female", smokes=False, age_band="75-84"))).json()
        assert (await api.post("/volunteers", json=volunteer(gender="robot"))).status_code == 422
        citizen = uuid.uuid4()
        assert (await api.put(f"/citizens/{citizen}/preferences", json={"non_smoker": True})).status_code == 404
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG]))
        wishes = {"gender": "female", "non_smoker": True, "similar_age": True}

        async def recorded() -> bool:
            return (await api.put(f"/citizens/{citizen}/preferences", json=wishes)).status_code == 200

        await eventually(recorded)
        await publish(kafka_bootstrap, partnership, clarification(citizen, wishes=["friend"]))
        proposed = of_type(await read_events(kafka_bootstrap, partnership, want=3), MatchProposed)
        assert [str(p.candidate_id) for p in proposed] == [liked["volunteer_id"]]
        assert liked["volunteer_id"] != smoker["volunteer_id"]
        assert {"a woman, as wished", "a non-smoker, as wished", "of a similar age (75-84)"} <= set(proposed[0].opened.reasons)
