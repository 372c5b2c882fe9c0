"""Helpers for matching's tests: run a real instance, feed it events, read what it published."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, AsyncIterator

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from brobygger_contracts import Envelope, Event, EVENTS_BY_TYPE, subscription_pattern, topic_for
from brobygger_contracts.events.journey import NeedsClarified
from brobygger_contracts.events.matching import MatchProposed
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.fixed_keys import for_the_bus, opened, use_test_keys
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.testing import embedded_identity, service_settings
from matching.bootstrap import Settings, build

ORG = "red-cross"


def tokens() -> TestTokens:
    """Tokens of this test process's embedded identity provider: `tokens().auth("guide", org="abf")`."""
    return TestTokens(embedded_identity())


@asynccontextmanager
async def matching_instance(kafka: str, database_url: str, org: str = ORG, **extra: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """A running instance and a client calling it as a coordinator of the instance's organisation;
    pass `auth=tokens().auth(role, org=...)` per call to act as someone else, `anonymous(client)` for no token."""
    settings = service_settings(Settings, "matching", kafka, database_url, org=org, **extra)
    runtime, app = build(settings)
    use_test_keys(runtime)  # no referral here: citizens' keys derived as the events below are sealed
    async with runtime.running():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                     auth=tokens().auth("coordinator", org=org)) as client:
            yield runtime, client


def anonymous(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client on the same app that sends no token."""
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url)


async def publish(kafka: str, partnership: str, *events: Event, org: str = "varde-kommune") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for event in events:
            envelope = Envelope.for_event(event, partnership=partnership, org=org, service=event.publisher)
            await producer.send_and_wait(topic_for(type(event), partnership, org), for_the_bus(event).model_dump_json().encode(),
                                         key=event.subject().encode(), headers=envelope.to_headers())
    finally:
        await producer.stop()


async def read_events(kafka: str, partnership: str, want: int, timeout: float = 60.0, settle: float = 0.0,
                      topic: str | None = None) -> list[Event]:
    """The events of one partnership on a topic (default: every matching topic of the
    partnership, whichever organisation publishes), read from the start with a fresh consumer group.

    Returns once `want` events arrived (then waits `settle` seconds more for any extra) or at the timeout.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=f"reader-{uuid.uuid4()}",
                                metadata_max_age_ms=500)  # a matching instance may create its topic after this starts
    if topic is None:
        consumer.subscribe(pattern=subscription_pattern(partnership, ["matching"]))
    else:
        consumer.subscribe([topic])
    await consumer.start()
    found: list[Event] = []
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + timeout
        settled_at: float | None = None
        while loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    envelope = Envelope.from_headers(record.headers)
                    if envelope.partnership == partnership:
                        found.append(opened(EVENTS_BY_TYPE[envelope.type].model_validate(json.loads(record.value))))
            if len(found) >= want:
                settled_at = settled_at or loop.time()
                if loop.time() - settled_at >= settle:
                    break
    finally:
        await consumer.stop()
    return found


def of_type(events: list[Event], cls: type[Event]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def referral(citizen_id: uuid.UUID, consented_orgs: list[str], postal_code: str = "6800") -> ReferralReceived:
    return ReferralReceived(
        referral_id=uuid.uuid4(), citizen_id=citizen_id, source="home_care", postal_code=postal_code,
        age_band="75-84", language="da", consented_orgs=consented_orgs, received_at=datetime.now(UTC),
    )


def clarification(citizen_id: uuid.UUID, **overrides: Any) -> NeedsClarified:
    values: dict[str, Any] = dict(
        journey_id=uuid.uuid4(), citizen_id=citizen_id, interests=["baking_and_cooking", "walking"],
        languages=["da"], postal_code="6800", wishes=["friend", "activity"], max_travel_km=10,
        availability=[{"day": "tue", "part": "morning"}], clarified_at=datetime.now(UTC),
    )
    values.update(overrides)
    return NeedsClarified(**values)


def volunteer(**overrides: Any) -> dict[str, Any]:
    """A volunteer registered directly by a coordinator, ready to be proposed: trained, vetted today and signed
    (only such volunteers are proposed; override `vetting`/`confidentiality_signed_on` with None to leave them out)."""
    today = datetime.now(UTC).date().isoformat()
    body: dict[str, Any] = dict(
        interests=["bagning"], languages=["da"], postal_code="6800", max_travel_km=10, capacity=2, trained=True,
        availability=[{"day": "tue", "part": "morning"}],
        vetting={"kind": "criminal_record_extract", "seen_on": today}, confidentiality_signed_on=today,
    )
    body.update(overrides)
    return body


def activity(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(
        name="Gåfællesskab Varde", interests=["gåtur"], postal_code="6800",
        schedule=[{"day": "tue", "part": "morning"}], seats=10, step_free=True,
    )
    body.update(overrides)
    return body


async def eventually(predicate, timeout: float = 60.0) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def proposals_of(client: httpx.AsyncClient, citizen_id: uuid.UUID, **kwargs: Any) -> list[dict[str, Any]]:
    """The citizen's proposals (none while the instance does not know the citizen or the caller may not see them)."""
    response = await client.get("/proposals", params={"citizen_id": str(citizen_id)}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()
