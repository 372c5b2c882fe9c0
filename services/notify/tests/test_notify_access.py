"""Who may call notify, and where its webhooks may go (issue 12, cases 2 and 3):
tokens on every route, a contact belongs to the organisation that entered it, the
operator sees deliveries without persons, webhooks only to public https addresses
(checked again at send time), and a receiver's answer is never kept or passed on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from brobygger_contracts.events.journey import GroupBecameSelfRunning
from notify_testkit import (
    LOCAL_WEBHOOKS, HttpSink, deliveries, notify_events, notify_settings, produce, running_notify, tokens,
    wait_until,
)

PUBLIC = "93.184.216.34"
NO_TOKEN = {"Authorization": ""}


def hook_contact(recipient_id: str, url: str, **extra) -> dict:  # noqa: ANN003
    return {"recipient_id": recipient_id, "role": "coordinator", "display_name": recipient_id, "language": "en",
            "webhook_url": url, "preferred_channel": "webhook", **extra}


def self_running() -> GroupBecameSelfRunning:
    return GroupBecameSelfRunning(group_id=uuid.uuid4(), facilitator_id="fac-1", reason="facilitator_decision",
                                  meetings_held=4, became_self_running_at=datetime.now(UTC))


async def settled_for(client, event_id: str, recipient_id: str) -> dict:  # noqa: ANN001
    """The event's delivery to `recipient_id`, once final (the facilitator's waits for a contact for ever)."""
    async def line() -> dict | None:
        found = [d for d in await deliveries(client, source_event_id=event_id) if d["recipient_id"] == recipient_id]
        return found[0] if found and found[0]["status"] in ("sent", "failed", "uncertain") else None

    await wait_until(line, what=f"the delivery to {recipient_id}")
    return await line()


class Dns:
    """The test's DNS: answers from `answers`, which a test may change between calls."""

    def __init__(self, **answers: list[str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"{host}: Name or service not known")
        return list(self.answers[host])


async def test_without_a_token_every_route_answers_401(kafka_bootstrap, database_url):
    settings = notify_settings(kafka_bootstrap, database_url)
    async with running_notify(settings) as (_runtime, client):
        answers = [
            await client.post("/contacts", json=hook_contact("x", "https://hooks.example.org/x"), headers=NO_TOKEN),
            await client.get("/contacts/x", headers=NO_TOKEN),
            await client.get("/deliveries", headers=NO_TOKEN),
            await client.post(f"/deliveries/{uuid.uuid4()}/resend", headers=NO_TOKEN),
        ]
        volunteer = await client.get("/deliveries", auth=tokens().auth("volunteer"))
        guide = await client.post("/contacts", json=hook_contact("x", "https://hooks.example.org/x"),
                                  auth=tokens().auth("guide"))
    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert all(a.json()["detail"]["error"] == "missing_token" for a in answers)
    assert volunteer.status_code == 403 and guide.status_code == 403


async def test_webhooks_to_private_addresses_or_plain_http_are_refused_at_registration(kafka_bootstrap, database_url):
    dns = Dns(**{"hooks.example.org": [PUBLIC], "intranet.example.org": ["10.0.0.7"],
                 "metadata.example.org": ["169.254.169.254"], "rebind.example.org": [PUBLIC, "127.0.0.1"]})
    settings = notify_settings(kafka_bootstrap, database_url)
    async with running_notify(settings, webhook_resolver=dns) as (_runtime, client):
        refused = {}
        for url in ["https://127.0.0.1/hook", "https://localhost.localdomain.invalid/hook", "https://169.254.169.254/latest",
                    "https://[::1]/hook", "https://[fe80::1]/hook", "https://10.1.2.3/hook", "https://192.168.0.10/hook",
                    "https://intranet.example.org/hook", "https://metadata.example.org/hook",
                    "https://rebind.example.org/hook", "http://hooks.example.org/hook"]:
            answer = await client.post("/contacts", json=hook_contact("abf", url))
            refused[url] = (answer.status_code, answer.json()["detail"])
        accepted = await client.post("/contacts", json=hook_contact("abf", "https://hooks.example.org/hook"))
    assert {url: status for url, (status, _) in refused.items()} == {url: 422 for url in refused}
    assert all(detail["error"] == "webhook_refused" and detail["reason"] for _, detail in refused.values())
    assert "https" in refused["http://hooks.example.org/hook"][1]["reason"]
    assert "non-public" in refused["https://intranet.example.org/hook"][1]["reason"]
    assert "does not resolve" in refused["https://localhost.localdomain.invalid/hook"][1]["reason"]
    assert accepted.status_code == 201


async def test_a_host_that_resolves_to_loopback_at_send_time_is_not_called(kafka_bootstrap, database_url):
    dns = Dns(**{"hooks.example.org": [PUBLIC]})
    with HttpSink() as local:
        settings = notify_settings(kafka_bootstrap, database_url, webhook_secret="service-wide-key-0001",
                                   delivery_max_attempts=1)
        async with running_notify(settings, webhook_resolver=dns) as (_runtime, client):
            port = local.server.server_address[1]
            url = f"https://hooks.example.org:{port}/messages"
            assert (await client.post("/contacts", json=hook_contact("abf", url))).status_code == 201
            dns.answers["hooks.example.org"] = ["127.0.0.1"]  # DNS changed after the check at registration
            event_id = await produce(kafka_bootstrap, self_running(), settings.partnership_id)
            line = await settled_for(client, event_id, "abf")
    assert line["status"] == "failed" and line["last_error"].startswith("webhook address refused")
    assert "non-public" in line["last_error"]
    assert dns.asked == ["hooks.example.org", "hooks.example.org"]  # at registration and again at send time
    assert local.requests == []


async def test_a_webhook_answer_is_never_stored_or_passed_on(kafka_bootstrap, database_url, smtp_catcher):
    secret_answer = b'{"internal_token": "TOPSECRET-4711", "note": "from the metadata service"}'
    with HttpSink(script=[500], answer=secret_answer) as hook:
        settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port, webhook_secret="service-wide-key-0001",
                                   delivery_max_attempts=1, webhook_allowed_hosts=LOCAL_WEBHOOKS)
        async with running_notify(settings) as (_runtime, client):
            ops = {"recipient_id": "ops-1", "role": "operator", "display_name": "Drift", "language": "en",
                   "email": "drift@varde.example"}
            assert (await client.post("/contacts", json=ops)).status_code == 201
            assert (await client.post("/contacts", json=hook_contact("abf", hook.url))).status_code == 201
            event_id = await produce(kafka_bootstrap, self_running(), settings.partnership_id)
            line = await settled_for(client, event_id, "abf")
            failed = await notify_events(kafka_bootstrap, settings.partnership_id, 1, event_type="NotificationFailed")
            await wait_until(lambda: len(smtp_catcher.messages) == 1, what="the operator's e-mail")
            log = await client.get("/deliveries", params={"limit": 500})
    assert line["status"] == "failed" and line["last_error"] == "webhook answered 500"
    [(_, payload)] = failed
    assert payload["cause"] == "webhook answered 500"
    [mail] = smtp_catcher.messages
    assert "500" in mail.body
    for seen in (log.text, str(payload), mail.body, mail.subject):
        assert "TOPSECRET" not in seen and "metadata service" not in seen


async def test_a_contact_belongs_to_its_organisation_and_a_new_address_gets_a_new_key(kafka_bootstrap, database_url):
    dns = Dns(**{"hooks.varde.example": [PUBLIC], "evil.example": [PUBLIC]})
    red_cross = tokens().auth("coordinator", org="red-cross")
    settings = notify_settings(kafka_bootstrap, database_url)
    async with running_notify(settings, webhook_resolver=dns) as (_runtime, client):
        created = await client.post("/contacts", json=hook_contact(
            "varde-hook", "https://hooks.varde.example/in", webhook_secret="varde-own-key-0123456789"))
        read_by_other = await client.get("/contacts/varde-hook", auth=red_cross)
        repointed = await client.post("/contacts", json=hook_contact("varde-hook", "https://evil.example/in"),
                                      auth=red_cross)
        unknown = await client.get("/contacts/nobody-at-all", auth=red_cross)
        kept = await client.get("/contacts/varde-hook")
        moved = await client.post("/contacts", json=hook_contact("varde-hook", "https://hooks.varde.example/new"))
        moved_again = await client.post("/contacts", json=hook_contact("varde-hook", "https://hooks.varde.example/newer"))
        same_url = await client.post("/contacts", json=hook_contact("varde-hook", "https://hooks.varde.example/newer",
                                                                    display_name="Varde"))
        own = await client.post("/contacts", json=hook_contact("rc-hook", "https://hooks.varde.example/rc"), auth=red_cross)
        own_read = await client.get("/contacts/rc-hook", auth=red_cross)
        varde_reads_red_cross = await client.get("/contacts/rc-hook")
        squat_referrer = await client.post("/contacts", auth=red_cross, json={
            "recipient_id": "varde-hjemmepleje", "role": "referrer", "display_name": "x", "email": "x@evil.example"})
        squat_operator = await client.post("/contacts", auth=red_cross, json={
            "recipient_id": "ops-rc", "role": "operator", "display_name": "x", "email": "x@evil.example"})
        log = (await client.get("/citizens/varde-hook/access-log")).json()["entries"]

    assert created.status_code == 201
    assert read_by_other.status_code == 404 and unknown.status_code == 404  # the same answer: existence not told
    assert repointed.status_code == 403 and repointed.json()["detail"]["error"] == "not_owner"
    assert kept.json()["webhook_url"] == "https://hooks.varde.example/in"  # untouched
    assert moved.status_code == 200 and moved.json()["webhook_url"] == "https://hooks.varde.example/new"
    first_key, second_key = moved.json()["issued_webhook_secret"], moved_again.json()["issued_webhook_secret"]
    assert first_key and second_key and first_key != second_key and "varde-own-key" not in first_key
    assert same_url.json()["issued_webhook_secret"] is None and same_url.json()["webhook_secret_set"] is True
    assert "issued_webhook_secret" not in kept.json()
    assert own.status_code == 201 and own_read.status_code == 200 and varde_reads_red_cross.status_code == 404
    assert squat_referrer.status_code == 403 and squat_operator.status_code == 403  # this instance's own roles
    reads = [(e["organisation"], e["allowed"], e["purpose"]) for e in log if e["purpose"] == "contact directory"]
    assert ("red-cross", False, "contact directory") in reads and ("varde-kommune", True, "contact directory") in reads
    assert all("email" in e["fields"] for e in log if e["purpose"] == "contact directory")


async def test_the_operator_sees_deliveries_without_persons(kafka_bootstrap, database_url, smtp_catcher):
    operator = tokens().auth("operator")
    settings = notify_settings(kafka_bootstrap, database_url, smtp_catcher.port)
    async with running_notify(settings) as (_runtime, client):
        contact = {"recipient_id": "coord-7", "role": "coordinator", "display_name": "Hanne Jensen",
                   "email": "hanne@varde.example"}
        assert (await client.post("/contacts", json=contact)).status_code == 201
        event_id = await produce(kafka_bootstrap, self_running(), settings.partnership_id)
        staff_line = await settled_for(client, event_id, "coord-7")
        seen = await client.get("/deliveries", params={"source_event_id": event_id, "status": "sent"}, auth=operator)
        by_recipient = await client.get("/deliveries", params={"recipient_id": "coord-7"}, auth=operator)
        contact_read = await client.get("/contacts/coord-7", auth=operator)
        resend = await client.post(f"/deliveries/{staff_line['notification_id']}/resend", auth=operator)
        other_org = await client.get("/deliveries", auth=tokens().auth("coordinator", org="red-cross"))
        other_operator = await client.get("/deliveries", auth=tokens().auth("operator", org="abf"))
        paged = [await deliveries(client, limit=1, offset=n) for n in (0, 1, 2)]
        too_many = await client.get("/deliveries", params={"limit": 501})
        # The coordinator's listings showed coord-7 (id, masked address): each is in coord-7's access log;
        # the operator's listings showed no person and are not.
        log = (await client.get("/citizens/coord-7/access-log")).json()["entries"]

    assert staff_line["recipient_id"] == "coord-7" and staff_line["status"] == "sent"
    [line] = seen.json()
    assert line["notification_id"] == staff_line["notification_id"] and line["status"] == "sent"
    assert set(line) == {"notification_id", "source_event_id", "source_event_type", "recipient_role", "channel",
                         "status", "attempts", "created_at", "next_attempt_at", "sent_at"}
    assert "Hanne" not in seen.text and "hanne@" not in seen.text and "coord-7" not in seen.text
    assert by_recipient.status_code == 403 and contact_read.status_code == 403 and resend.status_code == 403
    assert other_org.status_code == 403 and other_operator.status_code == 403
    assert [len(p) for p in paged] == [1, 1, 0] and paged[0] != paged[1]  # the coordinator's and the facilitator's
    assert too_many.status_code == 422
    listings = [e for e in log if e["purpose"] == "delivery log"]
    assert listings and all(e["roles"] == ["coordinator"] and "masked_address" in e["fields"] for e in listings)
