"""A volunteer's way to being proposed, through the services as separate processes on the real broker and
PostgreSQL: a volunteer applies, is interviewed, vetted, signs and is trained, and is then proposed to a
citizen referred through referral and clarified in journey; an unvetted, an expired and a paused volunteer
(each a better fit on paper) are never proposed; a phone friend about 310 km away is proposed, by phone,
to a citizen who wishes a phone friend (and to nobody who wishes to meet in person)."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime

import httpx
import pytest

from brobygger_stack.demo import DemoEndpoints, load_partnership, play_citizen, seed

RED_CROSS = "red-cross"
DAY = datetime.now(UTC).date().isoformat()


def _profile(**overrides) -> dict:  # noqa: ANN003
    body = dict(interests=["bagning"], languages=["da"], postal_code="6800", max_travel_km=10, capacity=1,
                availability=[{"day": "tue", "part": "morning"}])
    return body | overrides


async def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def _steps(http: httpx.AsyncClient, url: str, volunteer_id: str, *, vetting: dict | None,
                 coordinator: httpx.Auth) -> dict:
    """Interview, vetting (unless None), confidentiality and training, recorded by Red Cross's coordinator."""
    await _ok(await http.post(f"{url}/volunteers/{volunteer_id}/interview", json={"held_on": DAY, "outcome": "approved"},
                              auth=coordinator))
    if vetting is not None:
        await _ok(await http.post(f"{url}/volunteers/{volunteer_id}/vetting", json=vetting, auth=coordinator))
    await _ok(await http.post(f"{url}/volunteers/{volunteer_id}/confidentiality", json={"signed_on": DAY},
                              auth=coordinator))
    return await _ok(await http.post(f"{url}/volunteers/{volunteer_id}/training",
                                     json={"course": "friend_basics", "completed_on": DAY}, auth=coordinator))


@pytest.mark.timeout(300)
async def test_only_ready_volunteers_are_proposed_and_a_far_phone_friend_is(stack, identity):  # noqa: ANN001
    eps = DemoEndpoints.of_stack(stack)
    url = eps.matching[RED_CROSS]
    coordinator = identity.auth("coordinator", org=RED_CROSS)
    vera = identity.auth("volunteer", org=RED_CROSS, subject="vera")
    seen_today = {"kind": "criminal_record_extract", "seen_on": DAY}
    async with httpx.AsyncClient(timeout=30) as http:
        # Vera applies herself and goes through every step.
        vera_id = (await _ok(await http.post(f"{url}/volunteers/applications", json=_profile(), auth=vera), 201))[
            "volunteer_id"]
        assert (await _ok(await http.get(f"{url}/volunteers/me", auth=vera)))["status"] == "applied"
        assert (await _steps(http, url, vera_id, vetting=seen_today, coordinator=coordinator))["status"] == "ready"
        assert (await _ok(await http.get(f"{url}/volunteers/me", auth=vera)))["status"] == "ready"

        # Three who share more with Lillemor (baking and coffee), each missing one thing.
        better = _profile(interests=["bagning", "kaffe og snak"])
        blocked = {}
        for name, vetting in (("unvetted", None), ("paused", seen_today), ("expired", {
                "kind": "criminal_record_extract", "seen_on": "2023-03-01", "expires_on": "2025-03-01"})):
            blocked[name] = (await _ok(await http.post(f"{url}/volunteers/applications", json=better,
                                                       auth=coordinator), 201))["volunteer_id"]
            await _steps(http, url, blocked[name], vetting=vetting, coordinator=coordinator)
        await _ok(await http.post(f"{url}/volunteers/{blocked['paused']}/pause", json={"from": DAY, "reason": "holiday"},
                                  auth=coordinator))
        # A ringvän in Göteborg, registered directly by the coordinator with every step in one call.
        phone_id = (await _ok(await http.post(f"{url}/volunteers", auth=coordinator, json=_profile(
            postal_code="41301", roles=["phone_friend"], capacity=2, trained=True, vetting=seen_today,
            confidentiality_signed_on=DAY)), 201))["volunteer_id"]
        statuses = {v: (await _ok(await http.get(f"{url}/volunteers/{v}", auth=coordinator)))["status"]
                    for v in [vera_id, phone_id, *blocked.values()]}
        assert statuses == {vera_id: "ready", phone_id: "ready", blocked["unvetted"]: "interviewed",
                            blocked["expired"]: "interviewed", blocked["paused"]: "paused"}

    data = load_partnership()
    data["volunteers"], data["activities"] = [], []
    await asyncio.to_thread(seed, eps, data, lambda _line: None)
    lillemor = next(c for c in data["citizens"] if c["label"].startswith("Lillemor"))
    ringing = copy.deepcopy(lillemor)
    ringing["label"] = "Lillemor's neighbour, who would like a phone friend"
    ringing["card"]["citizen"]["name"] = "Else Madsen"
    ringing["clarification"]["wishes"] = ["phone_friend"]

    in_person = await asyncio.to_thread(play_citizen, eps, lillemor, lambda _line: None, 60)
    by_phone = await asyncio.to_thread(play_citizen, eps, ringing, lambda _line: None, 60)

    assert [(p["candidate_id"], p["kind"]) for p in in_person.proposals] == [(vera_id, "volunteer_friend")]
    assert [p["candidate_id"] for p in by_phone.proposals] == [phone_id]
    [phone_proposal] = by_phone.proposals
    assert phone_proposal["distance_km"] > 290
    assert "over telefon eller video: afstanden betyder ikke noget" in phone_proposal["reasons"] or \
        "by phone or video: distance does not matter" in phone_proposal["reasons"]

    async with httpx.AsyncClient(timeout=30) as http:
        judged = (await _ok(await http.get(f"{url}/citizens/{in_person.citizen_id}/candidates", auth=coordinator)))[
            "candidates"]
        why = {c["candidate_id"]: c["excluded_because"] for c in judged}
        assert "vetting_missing" in why[blocked["unvetted"]]["not_ready"]
        assert "vetting_expired" in why[blocked["expired"]]["not_ready"]
        assert "paused" in why[blocked["paused"]]["not_ready"]
        assert set(why[phone_id]) == {"no_common_channel", "out_of_reach"}
        # A batch run changes nothing: no blocked volunteer is proposed to anyone.
        await _ok(await http.post(f"{url}/assignments/run", auth=coordinator))
        everyone = await _ok(await http.get(f"{url}/proposals", auth=coordinator))
        assert not {p["candidate_id"] for p in everyone} & set(blocked.values())
        report = await _ok(await http.get(f"{url}/volunteers/report", auth=coordinator))
        assert report["by_status"]["ready"] == 2 and report["by_status"]["paused"] == 1
        assert report["by_status"]["interviewed"] == 2
