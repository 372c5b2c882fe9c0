"""Two matching instances of different organisations on one partnership: each acts only where consent names it."""

from __future__ import annotations

import uuid

from brobygger_contracts.events.matching import MatchProposed
from matching.testing import clarification, matching_instance, of_type, publish, read_events, referral, volunteer


async def test_each_instance_acts_only_on_citizens_whose_consent_names_its_org(kafka_bootstrap, database_url_factory):
    partnership = f"t{uuid.uuid4().hex[:10]}"
    red_db, abf_db = await database_url_factory("red", migrated="matching"), await database_url_factory("abf", migrated="matching")
    async with (
        matching_instance(kafka_bootstrap, red_db, org="red-cross", partnership_id=partnership) as (_r, red),
        matching_instance(kafka_bootstrap, abf_db, org="abf", partnership_id=partnership, reasons_language="sv") as (_a, abf),
    ):
        red_volunteer = (await red.post("/volunteers", json=volunteer())).json()
        abf_volunteer = (await abf.post("/volunteers", json=volunteer())).json()
        assert red_volunteer["org"] == "red-cross" and abf_volunteer["org"] == "abf"

        only_red, only_abf, both = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        events = []
        for citizen, orgs in ((only_red, ["red-cross"]), (only_abf, ["abf"]), (both, ["red-cross", "abf"])):
            events += [referral(citizen, orgs), clarification(citizen, wishes=["friend"])]
        await publish(kafka_bootstrap, partnership, *events)

        proposed = of_type(await read_events(kafka_bootstrap, partnership, want=6, settle=2.0), MatchProposed)
        made = sorted((p.proposing_org, str(p.citizen_id)) for p in proposed)
        assert made == sorted([("red-cross", str(only_red)), ("red-cross", str(both)),
                               ("abf", str(only_abf)), ("abf", str(both))])
        for p in proposed:
            own = red_volunteer if p.proposing_org == "red-cross" else abf_volunteer
            assert str(p.candidate_id) == own["volunteer_id"]
            said = "both enjoy baking and cooking" if p.proposing_org == "red-cross" else "båda tycker om bakning och matlagning"
            assert said in p.opened.reasons
        # Neither instance even keeps the other's citizen.
        assert (await red.get(f"/citizens/{only_abf}/candidates")).status_code == 404
        assert (await abf.get(f"/citizens/{only_red}/candidates")).status_code == 404
