"""Helpers for notify's tests: settings, producing events, reading notify's topic, waiting."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import AsyncIterator, Awaitable, Callable

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from brobygger_contracts import Envelope, Event, topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.matching import MatchProposed
from brobygger_contracts.events.notify import NotificationSent
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.fixed_keys import for_the_bus, use_test_keys
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.testing import embedded_identity, service_settings
from notify.bootstrap import Settings, build

LOCAL_WEBHOOKS = "127.0.0.1"
"""WEBHOOK_ALLOWED_HOSTS for tests whose webhook receivers are plain-http servers on loopback:
the operator's exception, exactly what the setting is for."""


def tokens() -> TestTokens:
    """Tokens of this test process's identity provider (any organisation, any role)."""
    return TestTokens(embedded_identity())


def service_token_claims(authorization: str | None) -> dict:
    """The claims of a `Bearer <jwt>` header (unverified: the test only looks at who it names)."""
    import jwt

    scheme, _, token = (authorization or "").partition(" ")
    assert scheme == "Bearer" and token, authorization
    return jwt.decode(token, options={"verify_signature": False})


def far_quiet_hours() -> str:
    """A one-minute quiet window twelve hours away (UTC): SMS tests run at any hour."""
    start = datetime.now(UTC) + timedelta(hours=12)
    return f"{start:%H:%M}-{start + timedelta(minutes=1):%H:%M}"


GUIDE_TOLD_OF_NEW_CITIZEN = "guide-assigned-to-guide"


def rules_without_new_citizen_mail() -> str:
    """The default rules without the guide's "a new citizen for you" mail, as a file: tests of one behaviour
    (retries, quiet hours, replicas, crashes) assign a guide only to link them to the citizen and count the
    messages of the rule under test. The mail itself is tested with every default rule (test_notify_rules,
    test_messages_fit_people)."""
    import tempfile
    from importlib import resources

    document = json.loads(resources.files("notify").joinpath("rules", "default.json").read_text(encoding="utf-8"))
    document["rules"] = [r for r in document["rules"] if r["id"] != GUIDE_TOLD_OF_NEW_CITIZEN]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as out:
        json.dump(document, out)
    return out.name


def notify_settings(kafka: str, database_url: str, smtp_port: int = 25, *, every_default_rule: bool = False,
                    **extra) -> Settings:  # noqa: ANN003
    """`every_default_rule`: the bundled rules as they are (else without the new-citizen mail, see above)."""
    values = dict(smtp_host="127.0.0.1", smtp_port=smtp_port, mail_from="brobygger@varde.example",
                  dispatcher_poll_seconds=0.05, delivery_backoff_seconds=0.05, delivery_backoff_max_seconds=0.2,
                  smtp_timeout_seconds=3.0, quiet_hours=far_quiet_hours(), timezone="UTC")
    if not every_default_rule:
        values["notify_rules_file"] = rules_without_new_citizen_mail()
    values.update(extra)
    return service_settings(Settings, "notify", kafka, database_url, **values)


@asynccontextmanager
async def running_notify(settings: Settings, **build_kw) -> AsyncIterator[tuple]:  # noqa: ANN003
    """The service in-process and a client acting, by default, as a coordinator of the instance's
    organisation (pass `auth=` per call to act as someone else)."""
    runtime, app = build(settings, **build_kw)
    use_test_keys(runtime)  # no referral here: citizens' keys derived as `produce` seals them
    async with runtime.running():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                     auth=tokens().auth("coordinator", org=settings.org_id)) as client:
            yield runtime, client


async def produce(kafka: str, event: Event, partnership: str, *, org: str = "varde-kommune",
                  event_id: str | None = None) -> str:
    """Publish `event` as its owning service would; returns its ce_id."""
    envelope = Envelope.for_event(event, partnership=partnership, org=org, service=event.publisher, event_id=event_id)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_for(type(event), partnership, org), for_the_bus(event).model_dump_json().encode(),
                                     key=event.subject().encode(), headers=envelope.to_headers())
    finally:
        await producer.stop()
    return envelope.id


async def produce_many(kafka: str, events: list[Event], partnership: str, *, org: str = "varde-kommune") -> list[str]:
    """Publish several events with one producer, in order; returns their ce_ids."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    ids = []
    try:
        for event in events:
            envelope = Envelope.for_event(event, partnership=partnership, org=org, service=event.publisher)
            await producer.send_and_wait(topic_for(type(event), partnership, org), for_the_bus(event).model_dump_json().encode(),
                                         key=event.subject().encode(), headers=envelope.to_headers())
            ids.append(envelope.id)
    finally:
        await producer.stop()
    return ids


async def notify_events(kafka: str, partnership: str, want: int, timeout: float = 15.0,
                        event_type: str | None = None, org: str = "varde-kommune") -> list[tuple[dict, dict]]:
    """(headers, payload) of the events of `org`'s notify in this partnership, waiting for `want` of them."""
    topic = topic_for(NotificationSent, partnership, org)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    found: list[tuple[dict, dict]] = []
    try:
        # Every partition assigned, no consumer group: nothing to wait for (a group join takes seconds).
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the client's own view, new topics included
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return found  # notify never published here
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    # other tests put records with bad or null headers on the same topics
                    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}
                    if headers.get("ce_partnership") != partnership:
                        continue
                    if event_type and not headers.get("ce_type", "").endswith(f".{event_type}.v1"):
                        continue
                    found.append((headers, json.loads(record.value)))
    finally:
        await consumer.stop()
    return found


async def wait_until(predicate: Callable[[], Awaitable[bool] | bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s")
        await asyncio.sleep(0.05)


def referral_received(citizen_id: uuid.UUID, orgs: tuple[str, ...] = ("varde-kommune",),
                      referrer_org: str | None = None) -> ReferralReceived:
    return ReferralReceived(referral_id=uuid.uuid4(), citizen_id=citizen_id, source="home_care", referrer_org=referrer_org,
                            postal_code="6800", age_band="75-84", consented_orgs=list(orgs), received_at=datetime.now(UTC))


async def refer(kafka: str, partnership: str, citizens: list[uuid.UUID], orgs: tuple[str, ...] = ("varde-kommune",)) -> None:
    """The citizens' referrals, consenting to `orgs`: notify acts only for citizens whose consent names it."""
    await produce_many(kafka, [referral_received(c, orgs) for c in citizens], partnership)


def guide_assigned(citizen_id: uuid.UUID, guide_id: str) -> GuideAssigned:
    return GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen_id, guide_id=guide_id,
                         guide_org="varde-kommune", assigned_at=datetime.now(UTC))


def match_proposed(citizen_id: uuid.UUID, **overrides) -> MatchProposed:  # noqa: ANN003
    values = dict(
        proposal_id=uuid.uuid4(), citizen_id=citizen_id, kind="activity", candidate_id=uuid.uuid4(),
        candidate_name="Gåfællesskab Varde", proposing_org="varde-kommune", score=0.82,
        reasons=["both enjoy walking", "1 km away", "both free on Tuesday mornings"],
        distance_km=1, proposed_at=datetime.now(UTC),
    )
    values.update(overrides)
    return MatchProposed(**values)


async def citizen_of_guide(kafka: str, partnership: str, client, guide_id: str, language: str) -> uuid.UUID:  # noqa: ANN001
    """A referred citizen whose guide (with an e-mail contact in `language`) journey assigned."""
    assert (await client.post("/contacts", json=contact_body(guide_id, language))).status_code == 201
    citizen = uuid.uuid4()
    await refer(kafka, partnership, [citizen])
    await produce(kafka, guide_assigned(citizen, guide_id), partnership, org="varde-kommune")
    return citizen


def contact_body(recipient_id: str, language: str = "da", **extra) -> dict:  # noqa: ANN003
    body = {"recipient_id": recipient_id, "role": "guide", "display_name": "Hanne Jensen",
            "email": f"{recipient_id}@varde.example", "language": language}
    body.update(extra)
    return body


class _LoopbackServer:
    """A real HTTP server on loopback in a thread; subclasses give the request handler."""

    def _serve(self, handler: type) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):  # noqa: ANN204
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _quiet_handler():  # noqa: ANN202
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    return Handler


class HttpSink(_LoopbackServer):
    """The SMS gateway or a webhook receiver in tests.

    It answers with the statuses in `script`, one per request, then 200 (each answer
    with `answer` as its body); it keeps every accepted request's headers and body.
    """

    def __init__(self, script: list[int] | None = None, answer: bytes = b"{}") -> None:
        import threading

        sink = self
        self.script = list(script or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

        class Handler(_quiet_handler()):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    status = sink.script.pop(0) if sink.script else 200
                    if status == 200:
                        sink.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.answer(status, answer)

        self._serve(Handler)

    @property
    def url(self) -> str:
        return self.base_url + "/messages"

    @property
    def accepted(self) -> list[tuple[dict[str, str], dict]]:
        with self.lock:
            return [(h, json.loads(b)) for h, b in self.requests]


class CitizenRegistry(_LoopbackServer):
    """Answers referral's `GET /citizens/{id}/contact` and `GET /referrals/{id}/referrer-contact`:
    the details of the citizens and following referrers it knows, 403 for the others."""

    def __init__(self, citizens: dict[str, dict], referrers: dict[str, dict] | None = None) -> None:
        registry = self
        self.citizens = citizens
        self.referrers = referrers or {}
        self.asked: list[tuple[str, str | None]] = []

        class Handler(_quiet_handler()):
            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                _, kind, some_id, _ = self.path.split("/", 3)
                registry.asked.append((some_id, self.headers.get("Authorization")))
                known = registry.citizens if kind == "citizens" else registry.referrers
                found = known.get(some_id)
                body = {"id": some_id, **found} if found else {"detail": "not in consent"}
                self.answer(200 if found else 403, json.dumps(body).encode())

        self._serve(Handler)

    @property
    def url(self) -> str:
        return self.base_url


class ScriptedSmtp:
    """A real SMTP server that answers `refusal` (a 451) to the first `refusals` messages
    (all, when None) and takes `delay` seconds over each message it accepts."""

    def __init__(self, refusals: int | None = 0, delay: float = 0.0,
                 refusal: str = "451 4.3.0 Mailbox busy, try again later") -> None:
        from aiosmtpd.controller import Controller

        from brobygger_stack.embedded_kafka import free_port

        self.refusals, self.delay, self.refusal = refusals, delay, refusal
        self.refused = 0
        self.received = 0
        self.accepted: list[bytes] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
                outer.received += 1
                if outer.refusals is None or outer.refused < outer.refusals:
                    outer.refused += 1
                    return outer.refusal
                if outer.delay:
                    await asyncio.sleep(outer.delay)
                outer.accepted.append(envelope.content)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def message_ids(self) -> list[str]:
        import email

        return [email.message_from_bytes(raw)["Message-ID"] for raw in list(self.accepted)]

    def __enter__(self) -> "ScriptedSmtp":
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


async def deliveries(client: httpx.AsyncClient, **params) -> list[dict]:  # noqa: ANN003
    response = await client.get("/deliveries", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def settled(client: httpx.AsyncClient, source_event_id: str, want: int = 1) -> list[dict]:
    """Wait until the event's deliveries are all out of the pending/sending states."""
    final = {"sent", "failed", "uncertain", "suppressed", "cancelled"}

    async def done() -> bool:
        log = await deliveries(client, source_event_id=source_event_id)
        return len(log) >= want and all(d["status"] in final for d in log)

    await wait_until(done, what=f"deliveries of {source_event_id} settled")
    return await deliveries(client, source_event_id=source_event_id)
