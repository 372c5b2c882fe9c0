"""A proposal never helps anyone find a volunteer's home (issue 13, case 3):
distances are whole kilometres between the two postal areas' centroids, the
same wherever in the area the volunteer lives."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import MatchProposed
from matching.testing import ORG, clarification, matching_instance, of_type, publish, read_events, referral, volunteer


async def test_a_volunteers_exact_home_does_not_change_the_distance_a_proposal_gives(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        # Janderup (6851), about 7 km from Varde's centroid; the home itself is 2 km off Janderup's centre.
        registered = await api.post("/volunteers", json=volunteer(postal_code="6851", latitude=55.62, longitude=8.40,
                                                                  max_travel_km=20))
        assert registered.status_code == 201, registered.text
        citizen = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(citizen, [ORG], postal_code="6800"),
                      clarification(citizen, postal_code="6800", wishes=["friend"]))
        events = await read_events(kafka_bootstrap, partnership, want=2)
        proposal = of_type(events, MatchProposed)[0]
        assert proposal.opened.distance_km is not None and proposal.opened.distance_km == round(proposal.opened.distance_km)
        assert any(reason.endswith(f"{int(proposal.opened.distance_km)} km away") for reason in proposal.opened.reasons), proposal.opened.reasons
        stored = (await api.get("/proposals", params={"citizen_id": str(citizen)})).json()
        assert stored[0]["distance_km"] == proposal.opened.distance_km

        # The same volunteer anywhere else in Janderup: the same answer.
        moved = await api.post("/volunteers", json=volunteer(postal_code="6851", latitude=55.60, longitude=8.45,
                                                             max_travel_km=20))
        other = uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(other, [ORG], postal_code="6800"),
                      clarification(other, postal_code="6800", wishes=["friend"]))
        events = await read_events(kafka_bootstrap, partnership, want=4)
        again = [p for p in of_type(events, MatchProposed) if p.citizen_id == other][0]
        assert again.opened.distance_km == proposal.opened.distance_km
        assert moved.status_code == 201
