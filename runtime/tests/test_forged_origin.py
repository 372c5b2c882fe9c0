"""The topic is the publisher's identity (DESIGN.md section 2, issue 13 case 1):
a record's partnership, organisation, source and event type must agree with
the topic it came from, or it is dead-lettered as `forged_origin` and never
acted on. Against the real embedded broker, which cannot enforce ACLs: the
consumers' check is what stands between a partner and another's voice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, Event, dead_letter_topic, topic_for
from brobygger_contracts.events.matching import VolunteerRegistered
from brobygger_contracts.events.referral import CitizenErased, ReferralReceived
from brobygger_stack.testing import read_topic_to_end, wait_until

from .delivery_kit import PUBLISHER, good, recording_runtime, referrals


async def _send(kafka: str, topic: str, event: Event, *, partnership: str, org: str, service: str,
                source: str | None = None) -> None:
    envelope = Envelope.for_event(event, partnership=partnership, org=org, service=service)
    if source is not None:
        envelope = envelope.model_copy(update={"source": source})
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, event.model_dump_json().encode(), key=envelope.subject.encode(),
                                     headers=envelope.to_headers())
    finally:
        await producer.stop()


async def test_forgeries_are_dead_lettered_once_as_forged_origin_and_never_acted_on(kafka_bootstrap, database_url):  # noqa: ANN001
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)

    @runtime.handles(CitizenErased)
    async def on_erased(event: CitizenErased, uow) -> None:  # noqa: ANN001
        await uow.session.execute(handled.insert().values(citizen_id=str(event.citizen_id), postal_code="erased"))

    @runtime.handles(VolunteerRegistered)  # so matching's topics are read too, as journey reads them
    async def on_volunteer(event: VolunteerRegistered, uow) -> None:  # noqa: ANN001
        pass

    p = runtime.settings.partnership_id
    ours = referrals(p)  # the municipality's referral topic
    red_cross_matching = topic_for(VolunteerRegistered, p, "red-cross")
    before, after = good(uuid.uuid4(), 0), good(uuid.uuid4(), 0)
    victim = uuid.uuid4()
    forgeries = {
        # Red Cross, which may write its matching topic, erases a citizen in referral's name.
        "erasure on a matching topic": (red_cross_matching, CitizenErased(citizen_id=victim, erased_at=datetime.now(UTC)),
                                        dict(org="red-cross", service="matching"), "published by referral"),
        # A record on the municipality's referral topic that says Red Cross sent it.
        "another organisation": (ours, good(uuid.uuid4(), 1), dict(org="red-cross", service="referral"),
                                 "organisation 'red-cross'"),
        # Another partnership named in the headers of our topic.
        "another partnership": (ours, good(uuid.uuid4(), 2),
                                dict(org=PUBLISHER, service="referral", partnership=f"other{uuid.uuid4().hex[:6]}"),
                                "names partnership"),
        # The right partnership and organisation, but another service as the source.
        "another service": (ours, good(uuid.uuid4(), 3),
                            dict(org=PUBLISHER, service="referral",
                                 source=f"/partnerships/{p}/orgs/{PUBLISHER}/matching"), "source"),
    }
    await _send(kafka_bootstrap, ours, before, partnership=p, org=PUBLISHER, service="referral")
    for topic, event, claims, _ in forgeries.values():
        await _send(kafka_bootstrap, topic, event, **{"partnership": p, **claims})
    await _send(kafka_bootstrap, ours, after, partnership=p, org=PUBLISHER, service="referral")

    async with runtime.running():
        async def good_ones_handled() -> bool:
            async with runtime.db.sessions() as s:
                seen = set((await s.execute(sa.select(handled.c.citizen_id))).scalars())
            return {str(before.citizen_id), str(after.citizen_id)} <= seen

        await wait_until(good_ones_handled, timeout=60)

        group = runtime.settings.group_id.encode()

        async def letters() -> list:
            records = await read_topic_to_end(kafka_bootstrap, [dead_letter_topic(ours), dead_letter_topic(red_cross_matching)])
            return [r for r in records if dict(r.headers).get("dlt_consumer") == group]

        async def all_dead_lettered() -> bool:
            return len(await letters()) >= len(forgeries)

        await wait_until(all_dead_lettered, timeout=30)
        dead = await letters()
        async with runtime.db.sessions() as s:
            seen = sorted((await s.execute(sa.select(handled.c.citizen_id))).scalars())

    assert seen == sorted([str(before.citizen_id), str(after.citizen_id)]), "a forged event was acted on"
    assert len(dead) == len(forgeries), "each forgery is dead-lettered exactly once"
    by_subject = {dict(r.headers)["ce_subject"].decode(): dict(r.headers) for r in dead}
    for label, (topic, event, _claims, named) in forgeries.items():
        headers = by_subject[event.subject()]
        assert headers["dlt_cause"] == b"forged_origin", label
        assert named in headers["dlt_reason"].decode(), (label, headers["dlt_reason"])
        assert headers["dlt_original_topic"] == topic.encode(), label


async def test_a_running_consumer_reads_a_new_organisations_topic_and_never_another_partnerships(
    kafka_bootstrap, database_url,  # noqa: ANN001
):
    """Consumers subscribe by pattern: an organisation that joins the
    partnership later is read without restarting anyone."""
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    p = runtime.settings.partnership_id
    other = f"other{uuid.uuid4().hex[:6]}"
    newcomer = f"new-{uuid.uuid4().hex[:6]}"
    async with runtime.running():
        async def consuming() -> bool:
            return runtime.consumer.ready and runtime.consumer._consumer is not None  # noqa: SLF001

        await wait_until(consuming, timeout=60)
        # Written after the consumer started: the newcomer's topic did not exist before.
        joined, stranger = good(uuid.uuid4(), 0), good(uuid.uuid4(), 0)
        await _send(kafka_bootstrap, topic_for(ReferralReceived, other, newcomer), stranger,
                    partnership=other, org=newcomer, service="referral")
        await _send(kafka_bootstrap, topic_for(ReferralReceived, p, newcomer), joined,
                    partnership=p, org=newcomer, service="referral")

        async def newcomer_handled() -> bool:
            async with runtime.db.sessions() as s:
                return str(joined.citizen_id) in set((await s.execute(sa.select(handled.c.citizen_id))).scalars())

        await wait_until(newcomer_handled, timeout=30)
        subscribed = runtime.consumer._consumer.subscription()  # noqa: SLF001
        async with runtime.db.sessions() as s:
            seen = set((await s.execute(sa.select(handled.c.citizen_id))).scalars())
    assert topic_for(ReferralReceived, p, newcomer) in subscribed
    assert all(t.startswith(f"brobygger.{p}.referral.") and not t.endswith(".dlt") for t in subscribed), subscribed
    assert str(stranger.citizen_id) not in seen
