"""A writer of one topic must not speak for another service: an event type
is accepted only on its publisher's topic and only when its envelope names
that publisher (issue 13, case 1: a CitizenErased written on the matching
topic made journey erase the citizen)."""

from __future__ import annotations

import uuid
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, dead_letter_topic, topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.testing import read_topic_to_end, wait_until

from .delivery_kit import good, recording_runtime


async def test_an_event_on_another_services_topic_or_naming_another_sender_is_dead_lettered_as_forged(
    kafka_bootstrap, database_url,  # noqa: ANN001
):
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)

    @runtime.handles(GuideAssigned)  # so the journey topic is read too, as journey's consumer reads matching's
    async def on_guide(event: GuideAssigned, uow) -> None:  # noqa: ANN001
        pass

    partnership = runtime.settings.partnership_id
    on_wrong_topic, wrong_sender, genuine = good(uuid.uuid4(), 0), good(uuid.uuid4(), 0), good(uuid.uuid4(), 0)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async def send(topic: str, event: ReferralReceived, service: str) -> None:
            envelope = Envelope.for_event(event, partnership=partnership, org="red-cross", service=service)
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=envelope.subject.encode(),
                                         headers=envelope.to_headers())

        # A partner that may write the journey topic puts referral's event there...
        await send(topic_for(GuideAssigned), on_wrong_topic, service="journey")
        # ...or writes referral's topic saying it is matching: neither is referral speaking.
        await send(topic_for(ReferralReceived), wrong_sender, service="matching")
        await send(topic_for(ReferralReceived), genuine, service="referral")
    finally:
        await producer.stop()

    async with runtime.running():
        async def genuine_handled() -> bool:
            async with runtime.db.sessions() as s:
                return str(genuine.citizen_id) in set((await s.execute(sa.select(handled.c.citizen_id))).scalars())

        await wait_until(genuine_handled, timeout=60)

        async def both_dead_lettered() -> list:
            group = runtime.settings.group_id.encode()
            letters = await read_topic_to_end(kafka_bootstrap, [dead_letter_topic(topic_for(ReferralReceived)),
                                                                dead_letter_topic(topic_for(GuideAssigned))])
            mine = [r for r in letters if dict(r.headers).get("dlt_consumer") == group
                    and dict(r.headers).get("ce_partnership") == partnership.encode()]
            return mine if len(mine) >= 2 else []

        await wait_until(both_dead_lettered, timeout=30)
        letters = await both_dead_lettered()
        assert sorted(dict(r.headers)["dlt_cause"] for r in letters) == [b"forged_origin", b"forged_origin"]
        async with runtime.db.sessions() as s:
            seen = set((await s.execute(sa.select(handled.c.citizen_id))).scalars())
        assert seen == {str(genuine.citizen_id)}, "a forged event was acted on"
