"""Two replicas of one notify instance share its database and the consumer group:
together they send each message exactly once, also when one of them stops."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import sqlalchemy as sa

from notify.bootstrap import build
from brobygger_stack.fixed_keys import use_test_keys
from notify_testkit import (
    ScriptedSmtp, contact_body, guide_assigned, match_proposed, notify_settings, produce_many, refer, tokens, wait_until,
)

CITIZENS = 30


async def test_two_replicas_send_each_message_once(kafka_bootstrap, database_url):
    with ScriptedSmtp(delay=0.05) as smtp:
        first = notify_settings(kafka_bootstrap, database_url, smtp.port, instance_id="replica-a", lease_seconds=1.5)
        second = first.model_copy(update={"instance_id": "replica-b"})
        (rt_a, app_a), (rt_b, _app_b) = build(first), build(second)
        use_test_keys(rt_a), use_test_keys(rt_b)  # no referral here: keys derived as `produce_many` seals
        await rt_a.start()
        await rt_b.start()
        stopped = set()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_a), base_url="http://t",
                                         auth=tokens().auth("coordinator")) as client:
                assert (await client.post("/contacts", json=contact_body("guide-2r", "en"))).status_code == 201
            citizens = [uuid.uuid4() for _ in range(CITIZENS)]
            await refer(kafka_bootstrap, first.partnership_id, citizens)
            await produce_many(kafka_bootstrap, [guide_assigned(c, "guide-2r") for c in citizens], first.partnership_id)
            await produce_many(kafka_bootstrap, [match_proposed(c) for c in citizens], first.partnership_id)
            delivery = rt_a.metadata.tables["delivery"]

            async def all_planned() -> bool:
                async with rt_a.db.sessions() as s:
                    return await s.scalar(sa.select(sa.func.count()).select_from(delivery)) == CITIZENS

            # Both replicas consume (the group shares the partitions out), GuideAssigned and
            # MatchProposed of one citizen on different topics, often at the same moment.
            await wait_until(all_planned, timeout=30, what="every delivery planned")
            await wait_until(lambda: len(smtp.accepted) >= 8, timeout=30, what="the first e-mails")

            # Stop whichever replica holds the dispatcher lease: the other one takes over.
            async with rt_a.db.sessions() as s:
                holder = await s.scalar(sa.select(rt_a.tables.lease.c.holder).where(
                    rt_a.tables.lease.c.name == rt_a.dispatcher.loop.name))
            leaving = rt_a if holder == "replica-a" else rt_b
            await leaving.stop()
            stopped.add(id(leaving))
            await wait_until(lambda: len(smtp.accepted) >= CITIZENS, timeout=30, what="every e-mail")
            await asyncio.sleep(1.0)  # time for a wrong second copy to show up
        finally:
            for rt in (rt_a, rt_b):
                if id(rt) not in stopped:
                    await rt.stop()
    counts = Counter(smtp.message_ids())
    assert len(counts) == CITIZENS
    assert max(counts.values()) == 1
