"""Retention: an ended journey keeps its personal data for RETENTION_MONTHS_AFTER_EXIT
(default 12), then only its anonymous counts, as after an erasure."""

from __future__ import annotations

from datetime import UTC, datetime

from journey_testkit import FakeClock, referral

EXITED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_an_ended_journey_forgets_the_citizen_a_year_after_its_exit(start_journey):  # noqa: ANN001
    clock = FakeClock(EXITED)
    async with start_journey(clock) as svc:
        await svc.client.post("/guides", json={"guide_id": "anne"})
        ended, ongoing = referral(received_at=EXITED), referral(received_at=EXITED)
        await svc.send(ended)
        await svc.send(ongoing)
        exited = await svc.client.post(f"/journeys/{ended.citizen_id}/exit",
                                       json={"outcome": "declined", "note": "Fandt sin plads i gåklubben"})
        assert exited.status_code == 201, exited.text
        before = (await svc.client.get("/reports/funnel")).json()

        clock.moment = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a day short of a year
        await svc.runtime.retention.tick()
        kept = await svc.client.get(f"/journeys/{ended.citizen_id}")
        assert kept.status_code == 200 and kept.json()["citizen_id"] == str(ended.citizen_id)

        clock.moment = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
        await svc.runtime.retention.tick()
        assert (await svc.client.get(f"/journeys/{ended.citizen_id}")).status_code == 404
        assert (await svc.client.get(f"/journeys/{ongoing.citizen_id}")).status_code == 200  # still open: kept
        assert (await svc.client.get("/reports/funnel")).json() == before  # the counts stay


async def test_free_text_with_a_nul_is_a_422_not_a_database_error(journey_service):  # noqa: ANN001
    answer = await journey_service.client.post("/guides", json={"guide_id": "nul", "display_name": "An\x00ne"})
    assert answer.status_code == 422, answer.text
