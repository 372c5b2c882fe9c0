"""Subject access end to end (issue 13): one request to referral returns everything every
service holds about a citizen, each service answering for its own part over its API with
its access log; a service that does not answer is reported, not fatal. The services run
as processes on the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

OWNER, PARTNER = "varde-kommune", "red-cross"
NAME = "Gudrun Pedersdatter"


async def _referred(http: httpx.AsyncClient, stack, identity) -> str:  # noqa: ANN001
    card = {
        "referrer": {"source": "home_care", "org": OWNER},
        "citizen": {"name": NAME, "birth_year": 1941, "postal_code": "6800", "address": "Kirkebakken 77",
                    "phone": "+45 61 72 83 94", "language": "da", "lives_alone": True},
        "reason": "Sidder alene efter flytningen.", "urgency": "soon",
        "consent": {"given_by": "citizen", "given_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "organisations": [OWNER, PARTNER]},
    }
    accepted = await http.post(f"{stack.url('referral')}/referrals", json=card, auth=identity.auth("coordinator"))
    assert accepted.status_code == 201, accepted.text
    return accepted.json()["citizen_id"]


async def _until(check, what: str, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


@pytest.mark.timeout(300)
async def test_one_request_returns_every_services_part_with_its_access_log(stack, identity):  # noqa: ANN001
    async with httpx.AsyncClient(timeout=30) as http:
        citizen = await _referred(http, stack, identity)

        async def journey_knows() -> bool:
            answer = await http.get(f"{stack.url('journey')}/journeys/{citizen}", auth=identity.auth("coordinator"))
            return answer.status_code == 200

        await _until(journey_knows, "journey never opened the citizen's journey")
        url = f"{stack.url('referral')}/citizens/{citizen}/subject-access"
        report = await http.get(url, auth=identity.auth("coordinator"))
        assert report.status_code == 200, report.text
        parts = report.json()["parts"]
        assert set(parts) == {"referral", f"journey@{OWNER}", f"notify@{OWNER}", f"matching@{OWNER}", f"matching@{PARTNER}"}
        referral = parts["referral"]["part"]
        assert referral["holds"]["citizen"]["name"] == NAME and referral["holds"]["referrals"][0]["reason"]
        journey = parts[f"journey@{OWNER}"]
        assert journey["status"] == "answered", journey
        assert journey["part"]["holds"]["journeys"][0]["citizen_id"] == citizen
        # the service's own access log, this very read included (by referral's service client)
        assert any(e["purpose"] == "subject-access report" and e["organisation"] == OWNER
                   for e in journey["part"]["access_log"])
        assert all(p["status"] in ("answered", "holds nothing") for p in parts.values()), parts

        # Only the owning organisation's coordinators ask; a partner's service or coordinator is refused.
        assert (await http.get(url, auth=identity.auth("coordinator", org=PARTNER))).status_code == 403
        assert (await http.get(url, auth=identity.auth("guide"))).status_code == 403
        direct = f"{stack.url('journey')}/citizens/{citizen}/personal-data"
        assert (await http.get(direct, auth=identity.service_auth("notify"))).status_code == 403
        assert (await http.get(direct, auth=identity.auth("coordinator", org=PARTNER))).status_code == 403
        assert (await http.get(direct, auth=identity.auth("coordinator"))).status_code == 200

        # A service that does not answer is reported as such; the rest of the report stands.
        await asyncio.to_thread(stack.services[f"notify@{OWNER}"].stop)
        again = (await http.get(url, auth=identity.auth("coordinator"))).json()["parts"]
        assert again[f"notify@{OWNER}"]["status"] == "unavailable"
        assert again[f"journey@{OWNER}"]["status"] == "answered"

        # The report request is in referral's own access log.
        log = await http.get(f"{stack.url('referral')}/citizens/{citizen}/access-log", auth=identity.auth("coordinator"))
        assert any(e["purpose"] == "subject-access report" for e in log.json()["entries"])
