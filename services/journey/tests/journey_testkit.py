"""Helpers of journey's tests: a clock the tests move, sending events, reading what was published."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from brobygger_contracts import Envelope, Event, topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.matching import MatchAccepted, MatchDeclined, MatchProposed
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.fixed_keys import for_the_bus, opened_payload, use_test_keys
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.testing import embedded_identity, service_settings
from journey.bootstrap import JourneyRuntime, Settings, build

ORG = "varde-kommune"
PARTNER = "red-cross"
"""Named in the test referrals' consent beside ORG."""
OUTSIDER = "abf"
"""An organisation of the partnership outside the test referrals' consent."""


def tokens() -> TestTokens:
    """Tokens of this test process's embedded identity provider."""
    return TestTokens(embedded_identity())


class FakeClock:
    """Stands in for the wall clock: tests move it by days instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


async def wait_until(predicate, timeout: float = 20.0, what: str = "condition") -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s")
        await asyncio.sleep(0.05)


@dataclass
class Received:
    type: str
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass
class RunningJourney:
    runtime: JourneyRuntime
    client: httpx.AsyncClient
    settings: Settings
    kafka: str
    clock: FakeClock
    tokens: TestTokens
    app: Any = None
    sent_ids: list[str] = field(default_factory=list)

    def anonymous(self) -> httpx.AsyncClient:
        """A client sending no token (close it, or use it in `async with`)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t")

    def auth(self, role: str | tuple[str, ...] = "coordinator", org: str = ORG, **who: str) -> httpx.Auth:
        """Someone else than the default caller (the owning organisation's coordinator): pass as `auth=`."""
        return self.tokens.auth(role, org, **who)

    async def send(self, event: Event, org: str = ORG, wait: bool = True) -> str:
        """Puts an event of this test's partnership on the bus, as its owning service would."""
        envelope = Envelope.for_event(event, partnership=self.settings.partnership_id, org=org, service=event.publisher)
        producer = AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                topic_for(type(event), self.settings.partnership_id, org), for_the_bus(event).model_dump_json().encode(),
                key=event.subject().encode(),
                headers=envelope.to_headers(),
            )
        finally:
            await producer.stop()
        if wait:
            await self.handled(envelope.id)
        return envelope.id

    async def handled(self, event_id: str) -> None:
        inbox = self.runtime.tables.inbox

        async def done() -> bool:
            async with self.runtime.db.sessions() as s:
                return bool(await s.scalar(sa.select(sa.func.count()).select_from(inbox).where(inbox.c.event_id == event_id)))

        await wait_until(done, what=f"event {event_id} handled")

    async def outbox_drained(self) -> None:
        outbox = self.runtime.tables.outbox

        async def drained() -> bool:
            async with self.runtime.db.sessions() as s:
                return not await s.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))

        await wait_until(drained, what="outbox drained")

    async def published(self, event_type: str) -> list[Received]:
        """This partnership's events of `event_type` (e.g. "GuideAssigned") on journey's topic."""
        await self.outbox_drained()
        s = self.settings
        return await read_events(self.kafka, topic_for(GuideAssigned, s.partnership_id, s.org_id), s.partnership_id, event_type)

    async def outbox(self, event_type: str) -> list[dict]:
        outbox = self.runtime.tables.outbox
        async with self.runtime.db.sessions() as s:
            rows = (await s.execute(sa.select(outbox.c.payload).where(outbox.c.event_type.like(f"%.{event_type}.v1")).order_by(outbox.c.id))).all()
        return [opened_payload(json.loads(r.payload), event_type) for r in rows]


def journey_starter(kafka: str, database_url_factory: Callable[..., Awaitable[str]]):  # noqa: ANN201
    """Starts journey instances in-process, each with a fresh (migrated) database unless `database_url` is given."""

    @asynccontextmanager
    async def start(clock: FakeClock | None = None, **settings: Any) -> AsyncIterator[RunningJourney]:
        clock = clock or FakeClock()
        database_url = settings.pop("database_url", None) or await database_url_factory("journey", migrated="journey")
        settings.setdefault("timer_poll_seconds", 0.1)
        config = service_settings(Settings, "journey", kafka, database_url, org=ORG, **settings)
        ctx = config.context()
        ctx.clock = clock
        runtime, app = build(config, ctx)
        use_test_keys(runtime)  # no referral here: citizens' keys derived as `send` seals them
        issued = tokens()
        async with runtime.running():
            # staff actions default to the owning organisation's coordinator; tests pass other callers per call
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                         auth=issued.auth("coordinator", ORG, subject="eva")) as client:
                yield RunningJourney(runtime, client, config, kafka, clock, issued, app)

    return start


async def read_events(kafka: str, topic: str, partnership: str, event_type: str | None = None) -> list[Received]:
    """Reads the topic from its beginning to its current end, keeping one partnership's events."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=f"reader-{uuid.uuid4()}", enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - topics created after this client started
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            return []  # nothing was ever written there
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[Received] = []
        deadline = asyncio.get_running_loop().time() + 30
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            assert asyncio.get_running_loop().time() < deadline, "could not read the topic to its end"
            for records in (await consumer.getmany(*partitions, timeout_ms=500)).values():
                for record in records:
                    # other tests put records with bad or null headers on the same topics
                    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}
                    kind = headers.get("ce_type", "").split(".")[-2:-1]
                    if headers.get("ce_partnership") == partnership and (event_type is None or kind == [event_type]):
                        found.append(Received(kind[0], headers, opened_payload(json.loads(record.value), kind[0])))
        return found
    finally:
        await consumer.stop()


def referral(citizen_id: uuid.UUID | None = None, received_at: datetime | None = None, **changes: Any) -> ReferralReceived:
    values: dict[str, Any] = dict(
        referral_id=uuid.uuid4(), citizen_id=citizen_id or uuid.uuid4(), source="home_care", referrer_org=ORG,
        postal_code="6800", age_band="75-84", consented_orgs=[ORG, "red-cross"],
        received_at=received_at or datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    values.update(changes)
    return ReferralReceived(**values)


CLARIFICATION: dict[str, Any] = {
    "interests": ["baking", "walking"],
    "languages": ["da"],
    "barriers": ["transport"],
    "wishes": ["friend", "activity"],
    "wants_accompaniment": True,
    "max_travel_km": 4.0,
    "availability": [{"day": "tue", "part": "morning"}],
    "baseline": {"lack_companionship": 3, "left_out": 2, "isolated": 3},
}


async def propose(svc: RunningJourney, citizen_id: uuid.UUID, kind: str = "activity", name: str | None = "Gåfællesskab Varde") -> MatchProposed:
    event = MatchProposed(
        proposal_id=uuid.uuid4(), citizen_id=citizen_id, kind=kind, candidate_id=uuid.uuid4(),
        candidate_name=name if kind == "activity" else None, proposing_org="red-cross", score=0.8,
        reasons=["both enjoy walking"], proposed_at=svc.clock(),
    )
    await svc.send(event)
    return event


async def accept_match(svc: RunningJourney, citizen_id: uuid.UUID, kind: str = "activity", name: str | None = "Gåfællesskab Varde") -> MatchProposed:
    """Matching proposes and the citizen accepts, as the two events arrive from matching."""
    proposal = await propose(svc, citizen_id, kind, name)
    await svc.send(MatchAccepted(
        proposal_id=proposal.proposal_id, citizen_id=citizen_id, kind=kind, candidate_id=proposal.candidate_id,
        accepted_at=svc.clock(),
    ))
    return proposal


async def decline_match(svc: RunningJourney, proposal: MatchProposed, reason: str = "too_far") -> None:
    await svc.send(MatchDeclined(
        proposal_id=proposal.proposal_id, citizen_id=proposal.citizen_id, kind=proposal.kind,
        candidate_id=proposal.candidate_id, reason=reason, declined_at=svc.clock(),
    ))
