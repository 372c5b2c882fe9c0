"""Sealed fields across services (issue 13 case 3; DESIGN.md section 2), on the
real broker and PostgreSQL: referral serves its key endpoint on a real port,
two matching instances of different organisations ask it for keys.

- the consented organisation's matching gets the key, opens the referral and acts;
- the organisation outside the consent skips it as not ours: no dead letter,
  no error, its lag back to 0;
- after erasure the key endpoint withholds the key and a replayed event is not ours;
- a raw read of the topic shows none of the sealed fields in clear.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx
import sqlalchemy as sa
import uvicorn
from aiokafka import AIOKafkaProducer

from brobygger_contracts import topic_for
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.testing import listen_ports, read_topic_to_end, service_settings, wait_until
from matching.adapters.tables import citizens as matching_citizens
from matching.bootstrap import Settings as MatchingSettings, build as build_matching
from referral.bootstrap import Settings as ReferralSettings, build as build_referral

OWNER, CONSENTED, OUTSIDER = "varde-kommune", "red-cross", "abf"
CARD = {
    "referrer": {"source": "dementia_consultant", "org": OWNER},
    "citizen": {"name": "Sealed Sørensen", "birth_year": 1941, "postal_code": "6857", "address": "Gade 1",
                "phone": "+45 70 10 20 30", "language": "da", "lives_alone": True},
    "reason": "Savner fællesskab.",
    "urgency": "urgent",
    "consent": {"given_by": "citizen", "given_at": "2026-01-05T10:00:00Z", "organisations": [OWNER, CONSENTED]},
}


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """The app on a real loopback port (the other services call it over HTTP, as in production)."""
    port = listen_ports()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: _started(server), timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


def consumed(runtime: Any, outcome: str) -> float:
    return runtime.metrics.events_consumed.labels(ReferralReceived.event_type(), outcome)._value.get()


def dead_letters(runtime: Any) -> float:
    return sum(sample.value for metric in runtime.metrics.dead_letters.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


async def lag(runtime: Any) -> float:
    await runtime.consumer.refresh_lag()
    return sum(sample.value for metric in runtime.metrics.consumer_lag.collect() for sample in metric.samples)


async def test_only_consented_organisations_read_sealed_fields_and_erasure_shreds_them(
    kafka_bootstrap, database_url_factory, identity,  # noqa: ANN001
):
    partnership = f"seal{uuid.uuid4().hex[:8]}"
    common = dict(partnership_id=partnership)
    referral_settings = service_settings(
        ReferralSettings, "referral", kafka_bootstrap, await database_url_factory("referral", migrated="referral"),
        org=OWNER, partnership_orgs=f"{OWNER},{CONSENTED},{OUTSIDER}",
        key_encryption_key=base64.b64encode(os.urandom(32)).decode(), **common,
    )
    referral, referral_app = build_referral(referral_settings)
    async with referral.running(), served(referral_app) as referral_url:
        keys_url = f"{referral_url}/citizen-keys"
        instances = {}
        for org in (CONSENTED, OUTSIDER):
            settings = service_settings(MatchingSettings, "matching", kafka_bootstrap,
                                        await database_url_factory("matching", migrated="matching"), org=org,
                                        citizen_keys_url=keys_url, **common)
            instances[org] = build_matching(settings)[0]
        consented, outsider = instances[CONSENTED], instances[OUTSIDER]
        async with consented.running(), outsider.running():
            owner = httpx.AsyncClient(base_url=referral_url, auth=identity.auth("coordinator", OWNER))
            async with owner:
                accepted = (await owner.post("/referrals", json=CARD)).json()
                citizen = accepted["citizen_id"]

                async def known_to_the_consented() -> bool:
                    async with consented.db.sessions() as s:
                        return await s.scalar(sa.select(matching_citizens.c.postal_code).where(
                            matching_citizens.c.citizen_id == citizen)) == "6857"

                async def skipped_by_the_outsider() -> bool:
                    return consumed(outsider, "not_ours") == 1

                await wait_until(known_to_the_consented, timeout=60)  # opened with the key it was given
                await wait_until(skipped_by_the_outsider, timeout=60)
                assert consumed(outsider, "handled") == 0 and dead_letters(outsider) == 0

                async def caught_up() -> bool:
                    return await lag(outsider) == 0

                await wait_until(caught_up, timeout=30)  # skipped and committed, never stuck or retried
                async with outsider.db.sessions() as s:
                    assert (await s.execute(sa.select(matching_citizens))).all() == []

                # On the bus: the box, none of the sealed fields.
                topic = topic_for(ReferralReceived, partnership, OWNER)
                [record] = [r for r in await read_topic_to_end(kafka_bootstrap, topic, partnership=partnership)
                            if dict(r.headers)["ce_type"] == ReferralReceived.event_type().encode()]
                raw = record.value.decode()
                for secret in ("6857", "dementia_consultant", "urgent", "lives_alone", "85+", "postal_code"):
                    assert secret not in raw, secret
                assert json.loads(raw)["sealed"]["alg"] == "A256GCM"

                # The key endpoint: the consented organisation's service gets it, the outsider's does not.
                async def ask(org: str) -> dict:
                    answer = await owner.post("/citizen-keys", json={"citizen_ids": [citizen]},
                                              auth=identity.service_auth("matching", org))
                    assert answer.status_code == 200, answer.text
                    return answer.json()

                assert list((await ask(CONSENTED))["keys"]) == [citizen]
                assert await ask(OUTSIDER) == {"keys": {}, "withheld": [citizen]}
                refused = await owner.post("/citizen-keys", json={"citizen_ids": [citizen]},
                                           auth=identity.auth("coordinator", CONSENTED))
                assert refused.status_code == 403  # people never get keys, only services
                log = (await owner.get(f"/citizens/{citizen}/access-log")).json()["entries"]
                handed = [(e["organisation"], e["allowed"]) for e in log if e["fields"] == ["data key"]]
                assert (CONSENTED, True) in handed and (OUTSIDER, False) in handed

                # Erasure shreds the key: withheld from everyone, and a replayed event is not ours any more.
                assert (await owner.delete(f"/citizens/{citizen}")).status_code == 200
                assert await ask(CONSENTED) == {"keys": {}, "withheld": [citizen]}

                async def postal_code_held() -> str | None:
                    async with consented.db.sessions() as s:
                        return await s.scalar(sa.select(matching_citizens.c.postal_code).where(
                            matching_citizens.c.citizen_id == citizen))

                async def forgotten() -> bool:
                    return await postal_code_held() is None

                await wait_until(forgotten, timeout=60)
                before = consumed(consented, "not_ours")
                replay = [(k, str(uuid.uuid4()).encode() if k == "ce_id" else v) for k, v in record.headers]
                producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
                await producer.start()
                try:
                    await producer.send_and_wait(topic, record.value, key=record.key, headers=replay)
                finally:
                    await producer.stop()

                async def replay_skipped() -> bool:
                    return consumed(consented, "not_ours") > before

                await wait_until(replay_skipped, timeout=60)
                assert dead_letters(consented) == 0
                assert await postal_code_held() is None  # the replay brought nothing back
