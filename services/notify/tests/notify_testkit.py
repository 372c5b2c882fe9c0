"""Helpers for notify's tests: settings, producing events, reading notify's topic, waiting."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import AsyncIterator, Awaitable, Callable

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from brobygger_contracts import Envelope, Event, topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.matching import MatchProposed
from brobygger_contracts.events.notify import NotificationSent
from brobygger_stack.testing import service_settings
from notify.bootstrap import Settings, build


def notify_settings(kafka: str, database_url: str, smtp_port: int = 25, **extra) -> Settings:  # noqa: ANN003
    values = dict(smtp_host="127.0.0.1", smtp_port=smtp_port, mail_from="brobygger@varde.example",
                  dispatcher_poll_seconds=0.05, delivery_backoff_seconds=0.05, delivery_backoff_max_seconds=0.2,
                  smtp_timeout_seconds=3.0)
    values.update(extra)
    return service_settings(Settings, "notify", kafka, database_url, **values)


@asynccontextmanager
async def running_notify(settings: Settings, **build_kw) -> AsyncIterator[tuple]:  # noqa: ANN003
    runtime, app = build(settings, **build_kw)
    async with runtime.running():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield runtime, client


async def produce(kafka: str, event: Event, partnership: str, *, org: str = "varde-kommune",
                  event_id: str | None = None) -> str:
    """Publish `event` as its owning service would; returns its ce_id."""
    envelope = Envelope.for_event(event, partnership=partnership, org=org, service=event.publisher, event_id=event_id)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_for(type(event)), event.model_dump_json().encode(),
                                     key=event.subject().encode(), headers=envelope.to_headers())
    finally:
        await producer.stop()
    return envelope.id


async def notify_events(kafka: str, partnership: str, want: int, timeout: float = 15.0,
                        event_type: str | None = None) -> list[tuple[dict, dict]]:
    """(headers, payload) of notify's events for this partnership, waiting for `want` of them."""
    consumer = AIOKafkaConsumer(topic_for(NotificationSent), bootstrap_servers=kafka,
                                auto_offset_reset="earliest", group_id=f"reader-{uuid.uuid4()}")
    await consumer.start()
    found: list[tuple[dict, dict]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
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


def guide_assigned(citizen_id: uuid.UUID, guide_id: str) -> GuideAssigned:
    return GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen_id, guide_id=guide_id,
                         guide_org="varde-kommune", assigned_at=datetime.now(UTC))


def match_proposed(citizen_id: uuid.UUID, **overrides) -> MatchProposed:  # noqa: ANN003
    values = dict(
        proposal_id=uuid.uuid4(), citizen_id=citizen_id, kind="activity", candidate_id=uuid.uuid4(),
        candidate_name="Gåfællesskab Varde", proposing_org="varde-kommune", score=0.82,
        reasons=["both enjoy walking", "1.2 km away", "both free on Tuesday mornings"],
        distance_km=1.2, proposed_at=datetime.now(UTC),
    )
    values.update(overrides)
    return MatchProposed(**values)


def contact_body(recipient_id: str, language: str = "da", **extra) -> dict:  # noqa: ANN003
    body = {"recipient_id": recipient_id, "role": "guide", "display_name": "Hanne Jensen",
            "email": f"{recipient_id}@varde.example", "language": language}
    body.update(extra)
    return body
