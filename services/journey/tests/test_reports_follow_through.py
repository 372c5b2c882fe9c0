"""Reports with a date range, per partner, and the paired loneliness change per cohort (issue 15, case 6)."""

from __future__ import annotations

from datetime import UTC, datetime

from journey_testkit import CLARIFICATION, accept_match, referral

JANUARY, APRIL = datetime(2026, 1, 12, 9, 0, tzinfo=UTC), datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
BASELINE = {"lack_companionship": 3, "left_out": 3, "isolated": 3}


async def _cohorts(svc) -> list:  # noqa: ANN001
    """Six citizens referred in January by varde-kommune (Q1), two in April by a GP practice (Q2); all
    clarified with a baseline of 9; red-cross's activity accepted by the January ones, who are asked again
    3 months after the start (6, or 7 for the last) while only four of them are measured at exit (5)."""
    await svc.client.post("/guides", json={"guide_id": "anne", "capacity": 50})
    january = [referral(received_at=JANUARY) for _ in range(6)]
    april = [referral(received_at=APRIL, referrer_org="laegehuset") for _ in range(2)]
    svc.clock.moment = APRIL
    for event in january + april:
        await svc.send(event)
        await svc.client.post(f"/journeys/{event.citizen_id}/clarification", json=CLARIFICATION | {"baseline": BASELINE})
    for number, event in enumerate(january):
        c = event.citizen_id
        await accept_match(svc, c)
        await svc.client.post(f"/journeys/{c}/first-visit", json={})
        after = {"lack_companionship": 2, "left_out": 2, "isolated": 3 if number == 5 else 2}
        assert (await svc.client.post(f"/journeys/{c}/loneliness", json={"time_point": "after_start", **after})).status_code == 201
        if number < 4:
            final = {"lack_companionship": 2, "left_out": 2, "isolated": 1}
            assert (await svc.client.post(f"/journeys/{c}/exit", json={"outcome": "completed", "final": final})).status_code == 201
    return january


async def test_reports_by_date_range_partner_and_cohort(journey_service):
    svc = journey_service
    await _cohorts(svc)
    funnel = (await svc.client.get("/reports/funnel", params={"from": "2026-01-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"})).json()
    assert funnel["total"]["referred"] == 6 and list(funnel["by_referrer_org"]) == ["varde-kommune"]
    assert (await svc.client.get("/reports/funnel", params={"from": "2026-04-01T00:00:00Z"})).json()["total"]["referred"] == 2
    assert (await svc.client.get("/reports/funnel")).json()["total"]["referred"] == 8
    refused = await svc.client.get("/reports/funnel", params={"from": "2026-04-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert refused.status_code == 422 and refused.json()["detail"]["error"] == "empty_period"
    assert (await svc.client.get("/reports/funnel", params={"from": "2026-04-01T00:00:00"})).status_code == 422

    partners = (await svc.client.get("/reports/partners")).json()
    assert partners["varde-kommune"] == {"referrals": 6, "guides_journeys": 8, "proposals_accepted": 0, "activities": 0,
                                         "volunteer_friendships": 0}
    assert partners["laegehuset"]["referrals"] == 2
    assert partners["red-cross"] == {"referrals": 0, "guides_journeys": 0, "proposals_accepted": 6, "activities": 6,
                                     "volunteer_friendships": 0}
    steering = (await svc.client.get("/reports/partners", auth=svc.auth("steering"))).json()
    assert steering["laegehuset"]["referrals"] is None and steering["varde-kommune"]["referrals"] == 6  # a cell of 2: suppressed
    before_april = (await svc.client.get("/reports/partners", params={"to": "2026-04-01T00:00:00Z"})).json()
    assert "red-cross" not in before_april  # its proposals were accepted in April

    cohorts = (await svc.client.get("/reports/loneliness-cohorts")).json()
    assert list(cohorts) == ["2026-Q1", "2026-Q2"]
    q1 = cohorts["2026-Q1"]
    assert (q1["after_start"]["pairs"], q1["after_start"]["mean_change"]) == (6, -2.83)  # 9 -> 6 five times, 9 -> 7 once
    assert (q1["exit"]["pairs"], q1["exit"]["mean_final"]) == (4, 5)  # only the four measured at both ends
    assert q1["after_exit"]["pairs"] == 0 and cohorts["2026-Q2"]["after_start"]["pairs"] == 0
    seen_by_steering = (await svc.client.get("/reports/loneliness-cohorts", auth=svc.auth("steering"))).json()["2026-Q1"]
    assert seen_by_steering["after_start"]["mean_change"] == -2.83
    assert seen_by_steering["exit"]["pairs"] is None and seen_by_steering["exit"]["mean_final"] is None  # 4 pairs: suppressed
    csv_rows = (await svc.client.get("/reports/loneliness-cohorts", params={"format": "csv"})).text.splitlines()
    assert csv_rows[0].startswith("cohort,time_point,pairs,") and len(csv_rows) == 1 + 2 * 3
    everything = (await svc.client.get("/reports", params={"to": "2026-04-01T00:00:00Z"})).json()
    assert everything["funnel"]["total"]["referred"] == 6 and "2026-Q2" not in everything["loneliness_cohorts"]
