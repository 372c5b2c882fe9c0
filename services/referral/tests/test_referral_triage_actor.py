"""Who triaged a referral is the verified caller, whatever the body claims."""

from __future__ import annotations

from referral_cards import make_card


async def test_triage_records_the_caller_not_the_body(referral_service):  # noqa: ANN001
    service = referral_service
    referral = (await service.client.post("/referrals", json=make_card())).json()["referral_id"]
    anne = service.tokens.auth("guide", subject="anne")
    answer = await service.client.post(f"/referrals/{referral}/triage", auth=anne,
                                       json={"decision": "bridge", "triaged_by": "somebody-else"})
    assert answer.status_code == 200, answer.text
    triaged = [e for e in await service.published() if e.type.endswith("ReferralTriaged")]
    assert [e.payload["triaged_by"] for e in triaged] == ["anne"]
