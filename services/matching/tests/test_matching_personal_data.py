"""Matching's part of the subject-access report (the runtime's GET /citizens/{id}/personal-data):
for referral's service client and this organisation's coordinators; 404 for a citizen whose
consent does not name this organisation, or one it does not know; every answer logged."""

from __future__ import annotations

import uuid

from matching.testing import ORG, clarification, eventually, matching_instance, publish, referral, tokens


async def test_personal_data_is_answered_to_referral_and_own_coordinators_only(kafka_bootstrap, database_url):
    async with matching_instance(kafka_bootstrap, database_url) as (runtime, api):
        partnership = runtime.settings.partnership_id
        ours, not_ours = uuid.uuid4(), uuid.uuid4()
        await publish(kafka_bootstrap, partnership, referral(ours, [ORG]), clarification(ours, wishes=["activity"]),
                      referral(not_ours, ["varde-kommune"]))

        async def known() -> bool:  # the clarification too: it travels on journey's topic, not referral's
            answer = await api.get(f"/citizens/{ours}/personal-data")
            return answer.status_code == 200 and answer.json()["holds"]["profile"]["needs"] is not None

        await eventually(known)
        as_referral = tokens().service_auth("referral", "varde-kommune")
        answer = await api.get(f"/citizens/{ours}/personal-data", auth=as_referral)
        assert answer.status_code == 200, answer.text
        part = answer.json()
        assert part["service"] == "matching" and part["organisation"] == ORG
        assert part["holds"]["profile"]["needs"]["wishes"] == ["activity"]
        assert [e["purpose"] for e in part["access_log"]][:1] == ["subject-access report"]
        assert (await api.get(f"/citizens/{not_ours}/personal-data", auth=as_referral)).status_code == 404
        assert (await api.get(f"/citizens/{uuid.uuid4()}/personal-data", auth=as_referral)).status_code == 404
        assert (await api.get(f"/citizens/{ours}/personal-data",
                              auth=tokens().service_auth("notify", ORG))).status_code == 403
        assert (await api.get(f"/citizens/{ours}/personal-data",
                              auth=tokens().auth("coordinator", org="abf"))).status_code == 403
        assert (await api.get(f"/citizens/{ours}/personal-data", auth=tokens().auth("guide", org=ORG))).status_code == 403
