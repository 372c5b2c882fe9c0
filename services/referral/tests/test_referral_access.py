"""Who may call what (DESIGN.md section 9): tokens from trusted issuers, roles, organisations and the
citizen's consent; duplicate detection without disclosure (issue 12, case 1); the access log."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from brobygger_runtime.auth.route_guard import OPEN_PATHS, _flat_routes, route_policies
from referral_cards import make_card

OWNER, PARTNER, OUTSIDER = "varde-kommune", "red-cross", "abf"
"""The test card's consent names varde-kommune (the owning organisation) and red-cross; abf is a
member of the partnership outside this citizen's consent."""

ROUTE_COUNT = 15
"""The service's own routes (without /health/*, /metrics and the runtime's access-log and personal-data routes)."""


def _admitted(dependant) -> list[frozenset]:  # noqa: ANN001
    found = []
    for sub in dependant.dependencies:
        if hasattr(sub.call, "admitted_roles"):
            found.append(sub.call.admitted_roles)
        found.extend(_admitted(sub))
    return found


async def test_every_route_declares_exactly_one_role_guard(referral_service):
    policies = route_policies(referral_service.app)
    own = [(m, p, roles) for m, p, roles in policies if not p.endswith(("/access-log", "/personal-data"))]
    assert len(own) == ROUTE_COUNT, own
    assert all(roles for _, _, roles in policies), policies  # every route names the roles it admits
    guards = {path: _admitted(route.dependant) for path, route in _flat_routes(referral_service.app.routes)
              if path not in OPEN_PATHS and getattr(route, "dependant", None) is not None}
    assert all(len(g) == 1 for g in guards.values()), guards


async def test_no_token_a_bad_token_an_untrusted_issuer_or_a_wrong_audience_is_401(start_referral, identity):
    only_owner_trusted = identity.provider.trusted_issuers_json((OWNER, OUTSIDER))
    async with start_referral(trusted_issuers=only_owner_trusted) as service:
        client = service.client
        submitted = await client.post("/referrals", json=make_card())
        assert submitted.status_code == 201, submitted.text
        referral = submitted.json()["referral_id"]
        calls = [("POST", "/referrals", make_card(citizen__name="Else Berg")), ("GET", "/referrals", None),
                 ("GET", f"/referrals/{referral}", None), ("GET", f"/citizens/{submitted.json()['citizen_id']}/contact", None)]
        for method, url, body in calls:
            missing = await client.request(method, url, json=body, auth=None)
            garbage = await client.request(method, url, json=body, headers={"Authorization": "Bearer not.a.token"})
            # red-cross's issuer is a real one, but this instance does not trust it
            untrusted = await client.request(method, url, json=body, auth=identity.auth("coordinator", PARTNER))
            assert (missing.status_code, garbage.status_code, untrusted.status_code) == (401, 401, 401), (method, url)
            assert missing.json()["detail"]["error"] == "missing_token"
            assert untrusted.json()["detail"]["error"] == "invalid_token"
            assert "WWW-Authenticate" in untrusted.headers
    async with start_referral(auth_audience="some-other-api") as service:
        wrong_audience = await service.client.post("/referrals", json=make_card())
        assert wrong_audience.status_code == 401 and wrong_audience.json()["detail"]["error"] == "invalid_token"
        assert (await service.client.get("/referrals")).status_code == 401
        assert (await service.client.get("/health/live", auth=None)).status_code == 200


OK = "ok"
"""Allowed: 2xx, or 409 when an earlier allowed caller already did the one-time action (triage)."""


async def test_the_access_matrix_by_role_organisation_and_consent(referral_service):
    client, tokens = referral_service.client, referral_service.tokens
    accepted = (await client.post("/referrals", json=make_card())).json()  # consent: varde-kommune, red-cross
    referral, citizen = accepted["referral_id"], accepted["citizen_id"]
    triage = {"decision": "bridge", "triaged_by": "guide-1"}
    same_consent = {"organisations": [OWNER, PARTNER], "given_by": "citizen"}
    routes = [
        ("GET", f"/referrals/{referral}", None),
        ("GET", f"/referrals/{referral}/status", None),
        ("POST", f"/referrals/{referral}/triage", triage),
        ("PUT", f"/citizens/{citizen}/consent", same_consent),
        ("GET", f"/citizens/{citizen}/contact", None),
        ("GET", "/possible-duplicates", None),
        ("DELETE", f"/citizens/{uuid.uuid4()}", None),  # erasure of nobody: the refusal comes first
    ]
    matrix = {
        # (role, organisation): read, status, triage, consent, contact, duplicates, erase
        None: (401, 401, 401, 401, 401, 401, 401),
        ("coordinator", OWNER): (OK, OK, OK, OK, OK, OK, 404),
        ("guide", OWNER): (OK, 403, OK, 403, 403, 403, 403),
        ("referrer", OWNER): (404, 404, 403, 403, 403, 403, 403),  # not the person who submitted it
        ("coordinator", PARTNER): (OK, OK, 403, OK, OK, 403, 403),
        ("guide", PARTNER): (OK, 403, 403, 403, 403, 403, 403),
        ("service", PARTNER): (403, 403, 403, 403, OK, 403, 403),
        ("coordinator", OUTSIDER): (404, 404, 403, 404, 404, 403, 403),
        ("guide", OUTSIDER): (404, 403, 403, 403, 403, 403, 403),
        ("service", OUTSIDER): (403, 403, 403, 403, 404, 403, 403),
        ("volunteer", OWNER): (403,) * 7,
        ("steering", OWNER): (403,) * 7,
        ("operator", OWNER): (403,) * 7,
    }
    for who, expected in matrix.items():
        auth = None if who is None else (
            tokens.service_auth("notify", who[1]) if who[0] == "service" else tokens.auth(who[0], who[1]))
        got = []
        for (method, url, body), want in zip(routes, expected, strict=True):
            status = (await client.request(method, url, json=body, auth=auth)).status_code
            got.append(OK if want == OK and (200 <= status < 300 or status == 409) else status)
        assert tuple(got) == expected, who
    # Consent is unchanged by all of it, and the owning organisation's coordinator erases.
    view = (await client.get(f"/referrals/{referral}")).json()
    assert view["citizen"]["consented_orgs"] == [OWNER, PARTNER]
    assert (await client.delete(f"/citizens/{citizen}", auth=tokens.auth("coordinator", PARTNER))).status_code == 403
    assert (await client.delete(f"/citizens/{citizen}")).status_code == 200


async def test_lists_show_only_what_the_caller_could_open(referral_service):
    client, tokens = referral_service.client, referral_service.tokens
    nurse = tokens.auth("referrer", OWNER, subject="nurse-1")
    abf_referrer = tokens.auth("referrer", OUTSIDER, subject="abf-outreach-1")
    by_nurse = (await client.post("/referrals", json=make_card(citizen__name="Holger Bak"), auth=nurse)).json()
    by_owner = (await client.post("/referrals", json=make_card(citizen__name="Lillemor Jensen"))).json()
    by_abf = (await client.post("/referrals", json=make_card(
        referrer={"source": "outreach", "org": OUTSIDER}, citizen__name="Poul Holm", consent__organisations=[OUTSIDER]),
        auth=abf_referrer)).json()

    async def listed(auth, **params) -> dict[str, str]:  # noqa: ANN001
        response = await client.get("/referrals", auth=auth, params=params)
        assert response.status_code == 200, response.text
        return {r["referral_id"]: r["scope"] for r in response.json()}

    everyone = {by_nurse["referral_id"], by_owner["referral_id"], by_abf["referral_id"]}
    assert set(await listed(tokens.auth("coordinator", OWNER))) == everyone
    assert set(await listed(tokens.auth("guide", OWNER))) == {by_nurse["referral_id"], by_owner["referral_id"]}
    assert set(await listed(tokens.auth("guide", PARTNER))) == {by_nurse["referral_id"], by_owner["referral_id"]}
    assert set(await listed(tokens.auth("coordinator", OUTSIDER))) == {by_abf["referral_id"]}
    assert await listed(nurse) == {by_nurse["referral_id"]: "own_card"}
    assert await listed(tokens.auth("referrer", OWNER, subject="nurse-2")) == {}
    assert await listed(abf_referrer) == {by_abf["referral_id"]: "own_card"}
    # paging
    assert len(await listed(tokens.auth("coordinator", OWNER), limit=2)) == 2
    assert len(await listed(tokens.auth("coordinator", OWNER), limit=2, offset=2)) == 1
    assert (await client.get("/referrals", params={"limit": 501})).status_code == 422
    # the referrer follows their own card, and only that
    assert (await client.get(f"/referrals/{by_nurse['referral_id']}/status", auth=nurse)).status_code == 200
    assert (await client.get(f"/referrals/{by_owner['referral_id']}/status", auth=nurse)).status_code == 404
    assert (await client.get("/referrals", auth=tokens.service_auth("notify", OWNER))).status_code == 403


async def test_case_1_an_organisation_outside_the_consent_learns_nothing_and_changes_nothing(referral_service):
    """Issue 12 case 1, as it was reproduced against the running stack."""
    client, tokens, runtime = referral_service.client, referral_service.tokens, referral_service.runtime
    frida = (await client.post("/referrals", json=make_card())).json()  # address, phone, e-mail; consent varde + red-cross
    abf = tokens.auth("referrer", OUTSIDER, subject="abf-outreach-1")

    # An organisation outside the consent posts only the citizen's name, birth year and postal code.
    probe = make_card(referrer={"source": "outreach", "org": OUTSIDER}, citizen={
        "name": "Frida Hansen", "birth_year": 1942, "postal_code": "6800"}, consent__organisations=[OUTSIDER])
    answer = await client.post("/referrals", json=probe, auth=abf)
    assert answer.status_code == 201, answer.text
    assert answer.json()["repeat_referral"] is False
    assert answer.json()["citizen_id"] != frida["citizen_id"]  # a new citizen record

    theirs = await client.get(f"/referrals/{answer.json()['referral_id']}", auth=abf)
    assert theirs.status_code == 200
    citizen = theirs.json()["citizen"]
    assert (citizen["address"], citizen["phone"], citizen["email"]) == (None, None, None)
    assert theirs.json()["scope"] == "own_card" and theirs.json()["repeat_referral"] is False
    for stored in ("Storegade", "75 22 11 00", "frida@example.dk", "red-cross", frida["citizen_id"]):
        assert stored not in theirs.text, stored
    # Frida herself is closed to abf, exactly like a referral that does not exist.
    hidden = await client.get(f"/referrals/{frida['referral_id']}", auth=abf)
    unknown = await client.get(f"/referrals/{uuid.uuid4()}", auth=abf)
    assert hidden.status_code == unknown.status_code == 404

    # A card with Frida's citizen_id (it travels on the bus) and a dummy name: refused as an unknown id would be.
    by_id = make_card(referrer={"source": "outreach", "org": OUTSIDER}, citizen_id=frida["citizen_id"],
                      citizen__name="Dummy Person", consent__organisations=[OUTSIDER])
    refused = await client.post("/referrals", json=by_id, auth=abf)
    unknown_id = await client.post("/referrals", json=by_id | {"citizen_id": str(uuid.uuid4())}, auth=abf)
    assert refused.status_code == unknown_id.status_code == 422
    assert refused.json() == unknown_id.json()
    # Inside the consent the id links the card, but a card still renames and re-consents nobody.
    red_cross_card = make_card(referrer={"source": "outreach", "org": PARTNER}, citizen_id=frida["citizen_id"],
                               citizen__name="Dummy Person", citizen__phone="+4511111111", consent__organisations=[PARTNER])
    linked = await client.post("/referrals", json=red_cross_card, auth=tokens.auth("referrer", PARTNER, subject="rc-1"))
    assert linked.status_code == 201 and linked.json()["repeat_referral"] is True
    assert linked.json()["citizen_id"] == frida["citizen_id"]

    stored = (await client.get(f"/referrals/{frida['referral_id']}")).json()["citizen"]
    assert stored["name"] == "Frida Hansen" and stored["phone"] == "+45 75 22 11 00"
    assert stored["consented_orgs"] == [OWNER, PARTNER]  # consent unchanged
    events = await referral_service.published()
    assert [e.type for e in events if e.type in ("ConsentChanged", "CitizenErased")] == []
    received = {e.payload["referral_id"]: e.payload for e in events if e.type == "ReferralReceived"}
    assert received[linked.json()["referral_id"]]["consented_orgs"] == [OWNER, PARTNER]

    # The owning organisation's coordinators are asked to confirm the possible duplicate; no one else.
    duplicates = await client.get("/possible-duplicates")
    assert duplicates.status_code == 200
    [duplicate] = duplicates.json()
    assert duplicate["known"]["citizen_id"] == frida["citizen_id"]
    assert duplicate["new"]["citizen_id"] == answer.json()["citizen_id"] and duplicate["submitted_by_org"] == OUTSIDER
    for outsider in (tokens.auth("coordinator", PARTNER), tokens.auth("coordinator", OUTSIDER)):
        assert (await client.get("/possible-duplicates", auth=outsider)).status_code == 403
        resolve = await client.post(f"/possible-duplicates/{duplicate['duplicate_id']}/resolve", json={"resolution": "merge"}, auth=outsider)
        assert resolve.status_code == 403

    # Confirmed: the card joins Frida, whose details and consent stay; the new record is erased.
    merged = await client.post(f"/possible-duplicates/{duplicate['duplicate_id']}/resolve", json={"resolution": "merge"})
    assert merged.status_code == 200, merged.text
    again = await client.post(f"/possible-duplicates/{duplicate['duplicate_id']}/resolve", json={"resolution": "distinct"})
    assert again.status_code == 409
    assert (await client.get("/possible-duplicates")).json() == []
    joined = (await client.get(f"/referrals/{answer.json()['referral_id']}")).json()
    assert joined["citizen_id"] == frida["citizen_id"] and joined["citizen"]["consented_orgs"] == [OWNER, PARTNER]
    still_theirs = await client.get(f"/referrals/{answer.json()['referral_id']}", auth=abf)
    assert still_theirs.json()["citizen"]["address"] is None and "Storegade" not in still_theirs.text
    erased = [e.payload["citizen_id"] for e in await referral_service.published() if e.type == "CitizenErased"]
    assert erased == [answer.json()["citizen_id"]]

    # Withdrawing consent for one organisation is a ConsentChanged, never an erasure.
    withdrawn = await client.put(f"/citizens/{frida['citizen_id']}/consent", json={"organisations": [OWNER], "given_by": "citizen"},
                                 auth=tokens.auth("coordinator", PARTNER))
    assert withdrawn.status_code == 200 and withdrawn.json()["removed"] == [PARTNER]
    events = await referral_service.published()
    assert [e.payload["removed"] for e in events if e.type == "ConsentChanged"] == [[PARTNER]]
    assert [e.payload["citizen_id"] for e in events if e.type == "CitizenErased"] == [answer.json()["citizen_id"]]
    # red-cross is no longer named: it can neither read nor re-consent itself in.
    again = await client.put(f"/citizens/{frida['citizen_id']}/consent", json={"organisations": [OWNER, PARTNER], "given_by": "citizen"},
                             auth=tokens.auth("coordinator", PARTNER))
    assert again.status_code == 404

    # Every read and refusal above about Frida is in the runtime's access log.
    log = runtime.tables.access_log
    async with runtime.db.sessions() as s:
        rows = (await s.execute(sa.select(log.c.organisation, log.c.allowed, log.c.purpose)
                                .where(log.c.subject_id == frida["citizen_id"]))).all()
    assert (OUTSIDER, False, "read a referral") in rows
    assert (OWNER, True, "confirm a possible duplicate") in rows
    assert (PARTNER, False, "change consent") in rows


async def test_a_distinct_resolution_keeps_two_people(referral_service):
    client, tokens = referral_service.client, referral_service.tokens
    frida = (await client.post("/referrals", json=make_card())).json()
    other = (await client.post("/referrals", json=make_card(
        referrer={"source": "outreach", "org": OUTSIDER}, citizen__address=None, consent__organisations=[OUTSIDER]),
        auth=tokens.auth("referrer", OUTSIDER))).json()
    [duplicate] = (await client.get("/possible-duplicates")).json()
    resolved = await client.post(f"/possible-duplicates/{duplicate['duplicate_id']}/resolve", json={"resolution": "distinct"})
    assert resolved.status_code == 200
    assert (await client.get(f"/referrals/{other['referral_id']}")).json()["citizen_id"] == other["citizen_id"] != frida["citizen_id"]
    assert (await client.get("/possible-duplicates", params={"open_only": False})).json()[0]["resolution"] == "distinct"
    assert (await client.post(f"/possible-duplicates/{uuid.uuid4()}/resolve", json={"resolution": "merge"})).status_code == 404
