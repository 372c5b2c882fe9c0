"""The poison matrix (issue 11, DESIGN.md section 3): each kind of bad record,
followed by good events for the same key, against the real broker and
database. Each bad record lands once in `<topic>.dlt` with its cause; every
good event behind it is handled exactly once, in order; the lag returns to 0."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from brobygger_contracts import dead_letter_topic
from brobygger_stack.testing import read_topic, wait_until

from runtime.tests.delivery_kit import MAX_BYTES, good, headers, recording_runtime, referrals


def poison_matrix(citizen: uuid.UUID, partnership: str) -> dict[str, tuple[bytes, list, str]]:
    """kind -> (body, headers, expected dead-letter cause); each for its own key."""
    sample = good(citizen, 0)
    body = sample.model_dump_json().encode()
    unknown = "org.brobygger.referral.SomethingNew.v1".encode()
    return {
        "body_not_json": (b"{this is not json", headers(sample, partnership), "validation"),
        "body_not_utf8": (b'{"referral_id": "\xff\xfe"}', headers(sample, partnership), "validation"),
        "header_not_utf8": (body, headers(sample, partnership, ce_subject=b"\xc3\x28citizen"), "envelope"),
        "header_null": (body, headers(sample, partnership, ce_id=None), "envelope"),
        "missing_ce_type": (body, headers(sample, partnership, ce_type=...), "envelope"),
        "unknown_ce_type": (body, headers(sample, partnership, ce_type=unknown), "unknown_type"),
        "wrong_shape": (json.dumps({"citizen": "someone", "postal_code": 6800}).encode(), headers(sample, partnership), "validation"),
        "over_size_limit": (body[:-1] + b', "padding": "' + b"x" * (MAX_BYTES + 10) + b'"}', headers(sample, partnership), "too_large"),
        "deeply_nested": (b"[" * 100_000 + b"]" * 100_000, headers(sample, partnership), "validation"),
    }


async def test_every_poison_record_is_dead_lettered_once_and_the_good_ones_behind_it_are_handled(kafka_bootstrap, database_url):
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    partnership = runtime.settings.partnership_id
    citizens = {kind: uuid.uuid4() for kind in poison_matrix(uuid.uuid4(), partnership)}
    expected_cause: dict[str, str] = {}
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=2 * MAX_BYTES)
    await producer.start()
    try:
        # All records first, in one stream: the consumer's first batch holds bad and good records together.
        for kind, citizen in citizens.items():
            body, hdrs, cause = poison_matrix(citizen, partnership)[kind]
            key = str(citizen).encode()
            await producer.send_and_wait(referrals(partnership), body, key=key, headers=hdrs)
            expected_cause[str(citizen)] = cause
            for sequence in (1, 2):
                event = good(citizen, sequence)
                await producer.send_and_wait(referrals(partnership), event.model_dump_json().encode(), key=key, headers=headers(event, partnership))
    finally:
        await producer.stop()

    async with runtime.running():
        async def all_good_handled() -> bool:
            async with runtime.db.sessions() as s:
                return await s.scalar(sa.select(sa.func.count()).select_from(handled)) >= 2 * len(citizens)

        await wait_until(all_good_handled, timeout=60)

        async def lag_is_zero() -> bool:
            await runtime.consumer.refresh_lag()
            samples = [s for m in runtime.metrics.consumer_lag.collect() for s in m.samples]
            return bool(samples) and all(s.value == 0 for s in samples)

        await wait_until(lag_is_zero, timeout=30)
        async with runtime.db.sessions() as s:
            rows = (await s.execute(sa.select(handled.c.citizen_id, handled.c.postal_code).order_by(handled.c.n))).all()

    # Every good event exactly once, and in its citizen's order.
    per_citizen: dict[str, list[str]] = {}
    for citizen_id, postal_code in rows:
        per_citizen.setdefault(citizen_id, []).append(postal_code)
    assert per_citizen == {str(c): ["6801", "6802"] for c in citizens.values()}

    # Every bad record exactly once on the dead-letter topic, with its cause, and nothing else of ours there.
    # (Other tests' records without any envelope are dead-lettered by every
    # group reading the topic, since nothing says whose they are: count ours by key.)
    group = runtime.settings.group_id.encode()
    keys = {str(c).encode() for c in citizens.values()}
    dead = [r for r in await read_topic(kafka_bootstrap, dead_letter_topic(referrals(partnership)), want=10_000, timeout=8)
            if dict(r.headers).get("dlt_consumer") == group and r.key in keys]
    causes = {r.key.decode(): dict(r.headers)["dlt_cause"].decode() for r in dead}
    assert len(dead) == len(citizens), sorted(k for k in causes)
    assert causes == expected_cause
    for record in dead:
        reason = dict(record.headers)["dlt_reason"].decode()
        assert reason and "input_value" not in reason  # the cause, never the payload's content


async def test_a_redelivered_batch_does_not_dead_letter_its_bad_record_again(kafka_bootstrap, database_url):
    """A crash after the dead letter and the commit, before the offset commit:
    the batch comes again, and the bad record is remembered rather than dead-lettered twice."""
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    partnership = runtime.settings.partnership_id
    citizen = uuid.uuid4()
    key = str(citizen).encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        bad = await producer.send_and_wait(referrals(partnership), b"{not json", key=key, headers=headers(good(citizen, 0), partnership))
        event = good(citizen, 1)
        await producer.send_and_wait(referrals(partnership), event.model_dump_json().encode(), key=key, headers=headers(event, partnership))
    finally:
        await producer.stop()

    async def handled_once() -> bool:
        async with runtime.db.sessions() as s:
            return await s.scalar(sa.select(sa.func.count()).select_from(handled)) == 1

    # The offset commit never happens, as when the process dies right after the database commit.
    async def crash_before_offset_commit(*_args) -> None:  # noqa: ANN002
        return None

    runtime.consumer._commit = crash_before_offset_commit  # noqa: SLF001 - the fault under test
    async with runtime.running():
        await wait_until(handled_once, timeout=60)

    again, _ = recording_runtime(kafka_bootstrap, database_url)
    again.settings.partnership_id = partnership
    again.settings.org_id = runtime.settings.org_id
    async with again.running():
        async def both_seen_again() -> bool:
            return again.metrics.events_consumed.labels("unknown", "duplicate")._value.get() + \
                again.metrics.events_consumed.labels(event.event_type(), "duplicate")._value.get() >= 2

        await wait_until(both_seen_again, timeout=60)
    assert await handled_once()
    dead = [r for r in await read_topic(kafka_bootstrap, dead_letter_topic(referrals(partnership)), want=10_000, timeout=5)
            if r.key == key and dict(r.headers).get("dlt_consumer") == runtime.settings.group_id.encode()]
    assert len(dead) == 1


async def test_another_partnerships_topics_are_never_read(kafka_bootstrap, database_url):
    """A consumer subscribes to its own partnership's topics only: another
    partnership's records, malformed or not, are neither handled nor dead-lettered here."""
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    partnership = runtime.settings.partnership_id
    other = f"other{uuid.uuid4().hex[:6]}"
    citizen = uuid.uuid4()
    key = str(citizen).encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(referrals(other), b"{not json", key=key, headers=headers(good(citizen, 0), other))
        stranger = good(citizen, 2)
        await producer.send_and_wait(referrals(other), stranger.model_dump_json().encode(), key=key,
                                     headers=headers(stranger, other))
        event = good(citizen, 1)
        await producer.send_and_wait(referrals(partnership), event.model_dump_json().encode(), key=key,
                                     headers=headers(event, partnership))
    finally:
        await producer.stop()

    async with runtime.running():
        async def ours_handled() -> bool:
            async with runtime.db.sessions() as s:
                return await s.scalar(sa.select(sa.func.count()).select_from(handled)) == 1

        await wait_until(ours_handled, timeout=60)
    async with runtime.db.sessions() as s:
        assert list((await s.execute(sa.select(handled.c.postal_code))).scalars()) == ["6801"]
    group = runtime.settings.group_id.encode()
    dead = [r for r in await read_topic(kafka_bootstrap, dead_letter_topic(referrals(other)), want=10_000, timeout=3)
            if dict(r.headers).get("dlt_consumer") == group]
    assert dead == []
