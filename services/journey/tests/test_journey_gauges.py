"""The journey's domain gauges reach /metrics: journeys by state, who waits too long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journey_testkit import referral


def gauge(text: str, name: str, **labels: str) -> float | None:
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return None


async def test_gauges_show_journeys_by_state_and_citizens_waiting_too_long(journey_service):
    svc = journey_service
    await svc.client.post("/guides", json={"guide_id": "guide-anna", "capacity": 10})
    long_ago = svc.clock() - timedelta(days=30)
    await svc.send(referral(received_at=long_ago))  # first contact long overdue
    await svc.send(referral(received_at=svc.clock()))
    text = (await svc.client.get("/metrics")).text
    assert gauge(text, "brobygger_journeys", state="referred") == 2
    assert gauge(text, "brobygger_journeys", state="exited") == 0
    assert gauge(text, "brobygger_citizens_waiting_beyond_limit", waiting_for="match") == 0
    assert gauge(text, "brobygger_citizens_waiting_beyond_limit", waiting_for="first_contact") == 1
