"""A database cut while a service consumes a steady stream: nothing dead-lettered,
lost, done twice or reordered.

The journey service (its own process, on PostgreSQL) consumes referrals produced
straight onto the bus in the contract's format, at a steady rate. Every third
citizen is referred, escalated to professionals and referred again, in that
order on one partition: journey must open a journey, close it as escalated,
then open a second one. While it works, every connection to its database is
terminated and new ones are refused for several seconds
(`ALLOW_CONNECTIONS false`), then allowed again; the stream goes on throughout.

Expected afterwards: no record on any `.dlt` topic for the partnership, every
referral handled (in journey's inbox, with its journey), exactly one
`GuideAssigned` per journey, per citizen the journey topic shows exactly the
expected sequence, and the journey process survived the cut.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, topic_for
from brobygger_contracts.events.referral import ReferralEscalated, ReferralReceived
from brobygger_stack.embedded_kafka import free_port
from brobygger_stack.fixed_keys import FixedKeyServer, for_the_bus
from brobygger_stack.testing import service_credentials
from brobygger_stack.processes import ServiceProcess

sys.path.insert(0, str(Path(__file__).parent))
import chaos_kit as kit  # noqa: E402

ORG = kit.ORG
RATE = 30.0
"""New citizens per second."""
CUT_SECONDS = 8.0
SINGLE = ["JourneyStateChanged:open", "GuideAssigned"]
TRIPLE = SINGLE + ["JourneyStateChanged:escalate", "JourneyCompleted"] + SINGLE
JOURNEY_TYPES = ("JourneyStateChanged", "GuideAssigned", "JourneyCompleted")


class ReferralStream:
    """Referrals onto the bus at a steady rate; every third citizen is escalated a second
    later and referred again a second after that (one key, so one partition, in order)."""

    def __init__(self, producer: AIOKafkaProducer, partnership: str) -> None:
        self.producer = producer
        self.partnership = partnership
        self.expected: dict[str, list[str]] = {}
        self.event_ids: list[str] = []
        self.sent_at: list[float] = []
        self._heap: list = []
        self._seq = itertools.count()

    def _plan(self, n: int, now: float) -> None:
        citizen = uuid.uuid4()
        first = uuid.uuid4()
        heapq.heappush(self._heap, (now, next(self._seq), self._referral(citizen, first, repeat=False)))
        if n % 3 == 0:
            heapq.heappush(self._heap, (now + 1.0, next(self._seq), lambda: ReferralEscalated(
                referral_id=first, citizen_id=citizen, reason="mental_health", receiving_unit="varde-psykiatri",
                escalated_at=datetime.now(UTC))))
            heapq.heappush(self._heap, (now + 2.0, next(self._seq), self._referral(citizen, uuid.uuid4(), repeat=True)))
        self.expected[str(citizen)] = TRIPLE if n % 3 == 0 else SINGLE

    @staticmethod
    def _referral(citizen: uuid.UUID, referral: uuid.UUID, repeat: bool):  # noqa: ANN205
        return lambda: ReferralReceived(
            referral_id=referral, citizen_id=citizen, source="home_care", referrer_org=ORG, postal_code="6800",
            age_band="75-84", consented_orgs=[ORG], repeat_referral=repeat, received_at=datetime.now(UTC))

    async def _send(self, make) -> None:  # noqa: ANN001
        event = make()
        envelope = Envelope.for_event(event, partnership=self.partnership, org=ORG, service="referral")
        await self.producer.send_and_wait(topic_for(type(event), self.partnership, ORG), for_the_bus(event).model_dump_json().encode(),
                                          key=event.subject().encode(), headers=envelope.to_headers())
        self.event_ids.append(envelope.id)
        self.sent_at.append(time.monotonic())

    async def run(self, stop: asyncio.Event) -> None:
        """New citizens until `stop`, then the planned follow-ups of those already referred."""
        n = 0
        next_citizen = time.monotonic()
        while True:
            now = time.monotonic()
            if not stop.is_set() and now >= next_citizen:
                self._plan(n, now)
                n += 1
                next_citizen += 1 / RATE
            while self._heap and self._heap[0][0] <= time.monotonic():
                await self._send(heapq.heappop(self._heap)[2])
            if stop.is_set() and not self._heap:
                return
            due = [self._heap[0][0]] if self._heap else []
            if not stop.is_set():
                due.append(next_citizen)
            wake = min(due + [time.monotonic() + 0.2])  # look at `stop` at least five times a second
            await asyncio.sleep(max(0.0, wake - time.monotonic()))  # the stream's pace


@pytest.mark.timeout(300)
async def test_database_cut_while_consuming_loses_nothing_and_dead_letters_nothing(
    kafka_bootstrap, database_url_factory, postgres_admin_dsn, tmp_path  # noqa: ANN001
):
    if postgres_admin_dsn is None:
        pytest.skip("the database cut needs PostgreSQL")
    started = time.monotonic()
    partnership = f"cut{uuid.uuid4().hex[:8]}"
    db_url = await database_url_factory("journey")
    keys = FixedKeyServer().__enter__()  # referral's key endpoint, for the referrals this test writes itself
    journey = ServiceProcess("journey", ORG, free_port(), log_path=tmp_path / "journey.log", env={
        "PARTNERSHIP_ID": partnership, "PARTNERSHIP_ORGS": f"{ORG},red-cross", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": db_url, "OUTBOX_POLL_SECONDS": "0.2", "CITIZEN_KEYS_URL": keys.url,
        **service_credentials("journey", ORG),
    })
    journey.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    offsets = kit.GroupOffsets(kafka_bootstrap)
    bus = await kit.BusTail(kafka_bootstrap, partnership).start()
    died_at: float | None = None
    producer_started = False
    try:
        async with httpx.AsyncClient(timeout=10, auth=kit.staff_auth()) as http:
            deadline = time.monotonic() + 60
            while not await kit.ready(http, journey.url, whole=False):
                assert journey.process and journey.process.poll() is None, f"journey exited; log: {journey.log_path}"
                assert time.monotonic() < deadline, "journey's API did not come up within 60s"
                await asyncio.sleep(0.2)
            for guide in ("guide-anne", "guide-karin"):
                response = await http.post(f"{journey.url}/guides", json={"guide_id": guide, "capacity": 500})
                assert response.status_code in (200, 201), response.text
        await producer.start()
        producer_started = True
        stream = ReferralStream(producer, partnership)
        stop = asyncio.Event()
        producing = asyncio.create_task(stream.run(stop))

        # Cut once journey is visibly consuming (its GuideAssigned events are on the bus).
        async def consuming() -> bool:
            return len(bus.distinct("GuideAssigned")) >= 30

        deadline = time.monotonic() + 90
        while not await consuming():
            assert not producing.done(), producing
            assert time.monotonic() < deadline, "journey handled fewer than 30 referrals within 90s"
            await asyncio.sleep(0.2)
        cut = await kit.cut_databases(postgres_admin_dsn, [db_url], CUT_SECONDS)
        await asyncio.sleep(4.0)  # the stream goes on a while after the database is back
        stop.set()
        await producing
        produced_during_cut = sum(1 for t in stream.sent_at if cut.started <= t <= cut.ended)
        if journey.process is None or journey.process.poll() is not None:
            died_at = time.monotonic()
            journey.start()  # to see what else went wrong; the test fails on it below

        # Until the system is at rest: everything read, journey's lag 0, its outbox sent.
        group = f"{partnership}.{ORG}.journey"
        deadline = time.monotonic() + 120
        busy: str | None = "not looked yet"
        while time.monotonic() < deadline:
            busy = None
            if not await bus.caught_up():
                busy = "the bus tail is still reading"
            elif behind := await offsets.lag(bus, group, kit.services_consumed("journey")):
                busy = f"journey lags {behind} records"
            elif (unsent := (await kit.outbox_unsent(db_url))[0]):
                busy = f"journey's outbox has {unsent} unsent rows"
            elif not await bus.caught_up():  # the rows just marked sent were acked before: read them too
                busy = "the bus tail is still reading what the outbox sent"
            if busy is None:
                break
            await asyncio.sleep(0.3)  # poll interval of a condition
        recovered_after = time.monotonic() - cut.ended

        # ---- what happened
        dead = [f"{r.type} {r.ce_id}: {r.headers.get('dlt_cause')}: {r.headers.get('dlt_reason', '')[:200]}"
                for r in bus.dead_letters()]
        handled = await kit.inbox_ids(db_url)
        unhandled = [i for i in stream.event_ids if i not in handled]
        lost, duplicated, reordered = [], [], []
        guide_ids_per_journey: dict[str, set[str]] = {}
        for citizen, expected in stream.expected.items():
            records = bus.distinct(*JOURNEY_TYPES, key=citizen)
            seen = [f"{r.type}:{r.body()['step']}" if r.type == "JourneyStateChanged" else r.type for r in records]
            for r in records:
                if r.type == "GuideAssigned":
                    guide_ids_per_journey.setdefault(r.body()["journey_id"], set()).add(r.ce_id)
            if seen == expected:
                continue
            have, want = Counter(seen), Counter(expected)
            if want - have:
                lost.append(f"{citizen}: missing {dict(want - have)}; seen {seen}")
            if have - want:
                duplicated.append(f"{citizen}: {dict(have - want)} more than expected; seen {seen}")
            if have == want:
                reordered.append(f"{citizen}: seen {seen}, expected {expected}")
        twice = {j: len(ids) for j, ids in guide_ids_per_journey.items() if len(ids) > 1}
        async with httpx.AsyncClient(timeout=30, auth=kit.staff_auth()) as http:
            listed = await kit.all_journeys(http, journey.url)
        per_citizen: dict[str, list[dict]] = {}
        for j in listed:
            per_citizen.setdefault(j["citizen_id"], []).append(j)
        wrong_state = []
        for citizen, expected in stream.expected.items():
            states = sorted((j["state"], j["outcome"] or "") for j in per_citizen.get(citizen, []))
            want_states = [("exited", "escalated"), ("referred", "")] if expected is TRIPLE else [("referred", "")]
            if states != want_states:
                wrong_state.append(f"{citizen}: journeys {states}, expected {want_states}")
        report = (
            f"\ndatabase cut: {cut.ended - cut.started:.1f}s, {cut.terminated} connections terminated, "
            f"{produced_during_cut} events produced during the cut; {len(stream.expected)} citizens, "
            f"{len(stream.event_ids)} events; at rest {recovered_after:.1f}s after the cut"
            f"{'' if busy is None else f' -- NOT at rest: {busy}'}\n"
            f"dead letters {len(dead)}, unhandled (not in the inbox) {len(unhandled)}, lost {len(lost)}, "
            f"duplicated {len(duplicated)} (GuideAssigned twice for {len(twice)} journeys), reordered {len(reordered)}, "
            f"wrong final journeys {len(wrong_state)}; journey process "
            f"{'survived' if died_at is None else 'DIED during the cut'}; test {time.monotonic() - started:.0f}s"
        )
        print(report)
        for title, items in (("dead letters", dead), ("lost", lost), ("duplicated", duplicated),
                             ("reordered", reordered), ("wrong final journeys", wrong_state)):
            for item in items[:5]:
                print(f"  {title}: {item}")
        assert produced_during_cut > 0, "the stream did not go on during the cut" + report
        assert not dead, f"{len(dead)} dead letters, e.g. {dead[:3]}" + report
        assert not unhandled and not lost, f"{len(unhandled)} referrals not handled, {len(lost)} citizens lost events" + report
        assert not duplicated and not twice, f"duplicated effects: {duplicated[:3]} {twice}" + report
        assert not reordered and not wrong_state, f"order not kept: {reordered[:3]} {wrong_state[:3]}" + report
        assert busy is None, f"journey did not catch up within 120s after the cut: {busy}" + report
        assert died_at is None, f"the journey process exited during the database cut; log: {journey.log_path}" + report
    finally:
        await bus.stop()
        await offsets.close()
        if producer_started:
            await producer.stop()
        journey.stop()
        keys.__exit__()
