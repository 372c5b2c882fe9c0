"""Sealed parts in delivery (DESIGN.md sections 2 and 3), on the real broker and
database: a box that does not open is dead-lettered with cause `sealed_part`; an
event whose key is withheld is not ours (skipped and committed, no dead letter);
the key service away is transient (the partition waits, nothing is skipped); the
handlers never see any of it."""

from __future__ import annotations

import base64
import json
import uuid

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from brobygger_contracts import dead_letter_topic
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.citizen_keys import FixedKeys, KeyServiceUnavailable
from brobygger_stack.fixed_keys import derived_key
from brobygger_stack.testing import read_topic, wait_until

from runtime.tests.delivery_kit import good, headers, recording_runtime, referrals


def consumed(runtime, outcome: str) -> float:  # noqa: ANN001
    return runtime.metrics.events_consumed.labels(ReferralReceived.event_type(), outcome)._value.get()


async def handled_postal_codes(runtime, handled, citizen) -> list[str]:  # noqa: ANN001
    async with runtime.db.sessions() as s:
        return list((await s.execute(sa.select(handled.c.postal_code).where(
            handled.c.citizen_id == str(citizen)).order_by(handled.c.n))).scalars())


async def send_all(kafka: str, partnership: str, records: list[tuple[bytes, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for body, event in records:
            await producer.send_and_wait(referrals(partnership), body, key=str(event.citizen_id).encode(),
                                         headers=headers(event, partnership))
    finally:
        await producer.stop()


def tampered(event) -> bytes:  # noqa: ANN001
    payload = json.loads(event.model_dump_json())
    raw = bytearray(base64.b64decode(payload["sealed"]["ciphertext"]))
    raw[0] ^= 0x40
    payload["sealed"]["ciphertext"] = base64.b64encode(raw).decode()
    return json.dumps(payload).encode()


def moved(event, other) -> bytes:  # noqa: ANN001
    """`event`'s box put on `other` (another citizen's referral)."""
    payload = json.loads(other.model_dump_json())
    payload["sealed"] = json.loads(event.model_dump_json())["sealed"]
    return json.dumps(payload).encode()


async def test_a_box_that_does_not_open_is_dead_lettered_and_a_withheld_key_is_not_ours(kafka_bootstrap, database_url):
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    keys = runtime.citizen_keys.source
    assert isinstance(keys, FixedKeys)
    partnership = runtime.settings.partnership_id
    altered, thief, withheld, fine = (uuid.uuid4() for _ in range(4))
    keys.withheld.add(str(withheld))
    stolen = good(fine, 9)
    await send_all(kafka_bootstrap, partnership, [
        (tampered(good(altered, 0)), good(altered, 0)),
        (moved(stolen, good(thief, 0)), good(thief, 0)),
        (good(withheld, 0).model_dump_json().encode(), good(withheld, 0)),
        *[(e.model_dump_json().encode(), e) for e in (good(altered, 1), good(thief, 1), good(fine, 1))],
    ])
    async with runtime.running():
        async def the_good_ones_handled() -> bool:
            return all([await handled_postal_codes(runtime, handled, c) == ["6801"] for c in (altered, thief, fine)])

        await wait_until(the_good_ones_handled, timeout=60)
        await wait_until(lambda: _true(consumed(runtime, "not_ours") == 1), timeout=30)
        assert await handled_postal_codes(runtime, handled, withheld) == []

    group = runtime.settings.group_id.encode()
    letters = [r for r in await read_topic(kafka_bootstrap, dead_letter_topic(referrals(partnership)), want=2, timeout=20)
               if dict(r.headers).get("dlt_consumer") == group]
    assert sorted(r.key.decode() for r in letters) == sorted([str(altered), str(thief)])
    for letter in letters:
        hdrs = dict(letter.headers)
        assert hdrs["dlt_cause"] == b"sealed_part"
        assert b"does not open" in hdrs["dlt_reason"] and b"68" not in hdrs["dlt_reason"]
    assert str(withheld).encode() not in [r.key for r in letters]


async def _true(value: bool) -> bool:
    return value


class Unreachable(FixedKeys):
    """Referral away until `back` is set."""

    back = False

    async def fetch(self, citizen_ids, session=None):  # noqa: ANN001, ANN201
        if not self.back:
            self.calls += 1
            raise KeyServiceUnavailable("citizen key endpoint not reachable: ConnectError")
        return await super().fetch(citizen_ids, session)


async def test_the_key_service_away_makes_the_partition_wait_and_nothing_is_skipped(kafka_bootstrap, database_url):
    runtime, handled = recording_runtime(kafka_bootstrap, database_url)
    source = Unreachable(derive=derived_key)
    runtime.citizen_keys.source = source
    partnership = runtime.settings.partnership_id
    citizen = uuid.uuid4()
    await send_all(kafka_bootstrap, partnership, [(e.model_dump_json().encode(), e) for e in
                                                  (good(citizen, 0), good(citizen, 1))])
    async with runtime.running():
        await wait_until(lambda: _true(source.calls >= 3), timeout=30)  # asked again and again, waiting
        assert await handled_postal_codes(runtime, handled, citizen) == []
        assert runtime.metrics.transient_waits._value.get() >= 2
        assert consumed(runtime, "not_ours") == 0 and consumed(runtime, "dead_lettered") == 0
        source.back = True

        async def both_in_order() -> bool:
            return await handled_postal_codes(runtime, handled, citizen) == ["6800", "6801"]

        await wait_until(both_in_order, timeout=60)
