"""Erasure is remembered (issue 13, case 4): once a service handled
CitizenErased, a late or replayed event about that citizen is ignored by
every service's consumer instead of bringing the citizen back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, topic_for
from brobygger_contracts.events.referral import CitizenErased, ReferralReceived
from brobygger_runtime import erasure
from brobygger_stack.testing import wait_until

from .delivery_kit import good, recording_runtime


async def test_a_late_referral_of_an_erased_citizen_is_ignored(kafka_bootstrap, database_url):  # noqa: ANN001
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)

    @runtime.handles(CitizenErased)
    async def forget(event: CitizenErased, uow) -> None:  # noqa: ANN001
        await uow.session.execute(handled.delete().where(handled.c.citizen_id == str(event.citizen_id)))

    partnership = runtime.settings.partnership_id
    forgotten, other = uuid.uuid4(), uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()

    async def send(event) -> None:  # noqa: ANN001
        envelope = Envelope.for_event(event, partnership=partnership, org="varde-kommune", service="referral")
        await producer.send_and_wait(topic_for(type(event), partnership, "varde-kommune"), event.model_dump_json().encode(),
                                     key=envelope.subject.encode(), headers=envelope.to_headers())

    async def citizens() -> list[str]:
        async with runtime.db.sessions() as s:
            return list((await s.execute(sa.select(handled.c.citizen_id))).scalars())

    try:
        async with runtime.running():
            await send(good(forgotten, 0))
            await send(CitizenErased(citizen_id=forgotten, erased_at=datetime.now(UTC)))
            await send(good(other, 0))

            async def other_handled() -> bool:
                return str(other) in await citizens()

            await wait_until(other_handled, timeout=60)
            assert str(forgotten) not in await citizens()
            # Days later a late (or replayed) referral of the erased citizen arrives, then one of someone else.
            late, newcomer = good(forgotten, 1), good(uuid.uuid4(), 0)
            await send(late)
            await send(newcomer)

            async def newcomer_handled() -> bool:
                return str(newcomer.citizen_id) in await citizens()

            await wait_until(newcomer_handled, timeout=60)
            assert str(forgotten) not in await citizens(), "the late referral brought the erased citizen back"
            async with runtime.db.sessions() as s:
                markers = list((await s.execute(sa.select(runtime.tables.erased_subjects))).all())
            # Only a digest is kept: it answers for an id one already has and leads to nobody.
            assert [m.subject_digest for m in markers] == [erasure.digest(str(forgotten))]
            assert str(forgotten) not in repr(markers)
    finally:
        await producer.stop()
    assert isinstance(late, ReferralReceived)
