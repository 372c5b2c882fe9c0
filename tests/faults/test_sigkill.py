"""SIGKILL at any point loses no event and repeats no effect.

The referral service is killed while it is committing referrals and relaying
them; rows committed but not yet published must be published after the
restart. The journey service is killed while it consumes; every citizen must
end with exactly one journey and one `GuideAssigned` event id.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_stack.embedded_kafka import free_port
from brobygger_stack.processes import ServiceProcess
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.testing import embedded_identity, read_topic, service_credentials

ORG = "varde-kommune"


def staff_auth() -> httpx.Auth:
    return TestTokens(embedded_identity()).auth("coordinator")


def letters(n: int) -> str:
    """A distinct name part per number: the duplicate check ignores digits in names."""
    word = ""
    for _ in range(3):
        n, digit = divmod(n, 26)
        word += "abcdefghijklmnopqrstuvwxyz"[digit]
    return word.capitalize()


def card(n: int) -> dict:
    return {
        "referrer": {"source": "home_care", "org": ORG},
        "citizen": {"name": f"Borger {letters(n)}sen", "birth_year": 1930 + n % 60, "postal_code": "6800",
                    "phone": f"+45 20 00 {n:05d}"[:18], "language": "da"},
        "reason": "Sidder meget alene.",
        "consent": {"given_by": "citizen", "given_at": datetime.now(UTC).isoformat(), "organisations": [ORG]},
    }


KEY_ENCRYPTION_KEY = base64.b64encode(bytes(range(32))).decode()
"""Referral's, the same across its restarts (else the keys it stored would not unwrap)."""


def process(package: str, kafka: str, db_url: str, partnership: str, workdir: Path, **env: str) -> ServiceProcess:
    return ServiceProcess(package, ORG, free_port(), log_path=workdir / f"{package}.log", env={
        "PARTNERSHIP_ID": partnership, "PARTNERSHIP_ORGS": f"{ORG},red-cross",
        "KAFKA_BOOTSTRAP_SERVERS": kafka, "DATABASE_URL": db_url, "OUTBOX_POLL_SECONDS": "0.2",
        "KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY, **service_credentials(package, ORG), **env,
    })


async def unsent_rows(db_url: str) -> int:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
    finally:
        await engine.dispose()


async def submit(url: str, numbers: range) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=30, auth=staff_auth()) as http:
        async def one(n: int) -> str:
            response = await http.post("/referrals", json=card(n))
            assert response.status_code == 201, response.text
            return response.json()["referral_id"]

        return list(await asyncio.gather(*(one(n) for n in numbers)))


async def test_sigkill_between_commit_and_publish_loses_nothing(kafka_bootstrap, database_url_factory, tmp_path):
    partnership = f"kill{uuid.uuid4().hex[:8]}"
    db_url = await database_url_factory("referral")
    referral = process("referral", kafka_bootstrap, db_url, partnership, tmp_path)
    referral.start().wait_ready()
    accepted: list[str] = []
    window_hit = False
    for round_ in range(5):  # usually the first kill lands inside the window
        accepted += await submit(referral.url, range(round_ * 200, round_ * 200 + 200))
        referral.kill()  # SIGKILL right after the last commit was acknowledged
        if await unsent_rows(db_url) > 0:
            window_hit = True
        referral.start().wait_ready()
        if window_hit:
            break
    assert window_hit, "every kill came after the relay had caught up: nothing was tested"

    wanted = set(accepted)

    async def published() -> set[str]:
        records = await read_topic(kafka_bootstrap, topic_for(ReferralReceived, partnership, ORG), partnership=partnership,
                                   want=len(wanted) * 2, timeout=10)
        import json

        return {json.loads(r.value)["referral_id"] for r in records}

    seen: set[str] = set()
    for _ in range(6):
        seen = await published()
        if wanted <= seen:
            break
    referral.stop()
    assert wanted - seen == set(), f"{len(wanted - seen)} committed referrals never reached the bus"
    assert await unsent_rows(db_url) == 0


async def test_sigkill_of_a_consumer_repeats_no_effect(kafka_bootstrap, database_url_factory, tmp_path):
    partnership = f"kill{uuid.uuid4().hex[:8]}"
    referral_db = await database_url_factory("referral")
    journey_db = await database_url_factory("journey")
    referral = process("referral", kafka_bootstrap, referral_db, partnership, tmp_path).start()
    journey = process("journey", kafka_bootstrap, journey_db, partnership, tmp_path,
                      CITIZEN_KEYS_URL=f"{referral.url}/citizen-keys").start()
    referral.wait_ready()
    journey.wait_ready()
    async with httpx.AsyncClient(base_url=journey.url, auth=staff_auth()) as http:
        response = await http.post("/guides", json={"guide_id": "guide-anne", "capacity": 500})
        assert response.status_code in (200, 201), response.text
    await submit(referral.url, range(300))
    for _ in range(3):  # kill the consumer repeatedly while it works through the backlog
        await asyncio.sleep(1.0)
        journey.kill()
        journey.start().wait_ready()

    engine = create_async_engine(journey_db)
    try:
        for _ in range(120):
            async with engine.connect() as conn:
                count = (await conn.execute(sa.text("SELECT count(*) FROM journeys"))).scalar_one()
            if count >= 300:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    assert count == 300, f"{count} journeys for 300 referrals"

    records = await read_topic(kafka_bootstrap, topic_for(GuideAssigned, partnership, ORG), partnership=partnership, want=10_000,
                               timeout=15)
    ids_per_citizen: dict[str, set[bytes]] = defaultdict(set)
    for record in records:
        headers = dict(record.headers)
        if headers["ce_type"].decode() == GuideAssigned.event_type():  # the journey topic carries other events too
            ids_per_citizen[record.key.decode()].add(headers["ce_id"])
    referral.stop()
    journey.stop()
    assert len(ids_per_citizen) == 300
    assert all(len(ids) == 1 for ids in ids_per_citizen.values()), "a guide was assigned twice"
