"""Fixtures of the referral service's tests: the service in-process on the real broker and database."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from brobygger_contracts import topic_of_service
from brobygger_contracts.sealed import SEALED_FIELD
from brobygger_runtime.service import ServiceRuntime
from brobygger_stack.fixed_keys import opened_payload
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.testing import service_settings
from referral.bootstrap import Settings, build

sys.path.insert(0, str(Path(__file__).parent))  # test helper modules beside this file
from referral_cards import make_card  # noqa: E402

PARTNERSHIP_ORGS = "varde-kommune,red-cross,abf"
TEST_KEY_ENCRYPTION_KEY = base64.b64encode(bytes(range(32))).decode()


@dataclass
class RunningReferral:
    runtime: ServiceRuntime
    app: FastAPI
    client: httpx.AsyncClient
    """Calls as a coordinator of the owning organisation unless a call passes its own `auth=`."""
    settings: Settings
    kafka: str
    tokens: TestTokens
    """`tokens.auth(role, org, subject=...)` for calls made as someone else."""

    async def outbox_drained(self, timeout: float = 20.0) -> None:
        """Waits until the relay has sent every outbox row."""
        outbox = self.runtime.tables.outbox
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.runtime.db.sessions() as s:
                unsent = await s.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))
            if not unsent:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{unsent} outbox rows still unsent")
            await asyncio.sleep(0.05)

    async def published(self, topic: str | None = None) -> list["Published"]:
        """Every event of this test's partnership on the topic (default: this instance's own), read from the
        broker after the outbox drained;
        each payload shows its sealed fields too, opened with referral's own keys (`raw_value` as sent)."""
        await self.outbox_drained()
        own = topic_of_service("referral", self.settings.partnership_id, self.settings.org_id)
        found = await read_partnership_events(self.kafka, topic or own, self.settings.partnership_id)
        sealed = [p for p in found if p.payload.get(SEALED_FIELD)]
        async with self.runtime.db.sessions() as session:
            keys = await self.runtime.citizen_keys.keys_for([p.headers["ce_subject"] for p in sealed], session)
        for p in sealed:
            if (key := keys.get(p.headers["ce_subject"])) is not None:  # an erased citizen's stay shut
                p.payload = p.payload | opened_payload(p.payload, p.headers["ce_type"], key)
        return found


@dataclass
class Published:
    headers: dict[str, str]
    payload: dict[str, Any]
    raw_headers: list[tuple[str, bytes]]
    raw_value: bytes

    @property
    def type(self) -> str:
        return self.headers["ce_type"].split(".")[-2]


async def read_partnership_events(kafka: str, topic: str, partnership: str) -> list[Published]:
    """Reads the topic from the beginning to its current end; keeps this partnership's events."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=f"reader-{uuid.uuid4()}", enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the client's own view, new topics included
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            return []  # nothing was ever written there
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[Published] = []
        deadline = asyncio.get_running_loop().time() + 30
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("could not read the topic to its end")
            batch = await consumer.getmany(*partitions, timeout_ms=500)
            for records in batch.values():
                for record in records:
                    # other tests put records with bad or null headers on the same topics
                    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}
                    if headers.get("ce_partnership") == partnership:
                        found.append(Published(headers, json.loads(record.value), list(record.headers), record.value))
        return found
    finally:
        await consumer.stop()


@pytest_asyncio.fixture
async def start_referral(kafka_bootstrap, database_url_factory, identity):  # noqa: ANN001, ANN201
    """Starts referral services in-process; each gets its own database and partnership unless told.
    The client sends a token of a coordinator of the owning organisation (varde-kommune) by default."""

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[RunningReferral]:
        settings.setdefault("partnership_orgs", PARTNERSHIP_ORGS)
        settings.setdefault("key_encryption_key", TEST_KEY_ENCRYPTION_KEY)
        database_url = settings.pop("database_url", None) or await database_url_factory("referral", migrated="referral")
        config = service_settings(Settings, "referral", kafka_bootstrap, database_url, **settings)
        runtime, app = build(config)
        async with runtime.running():
            default_auth = identity.auth("coordinator", config.org_id, subject="coordinator-of-the-owner")
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", auth=default_auth) as client:
                yield RunningReferral(runtime, app, client, config, kafka_bootstrap, identity)

    return start


@pytest_asyncio.fixture
async def referral_service(start_referral) -> AsyncIterator[RunningReferral]:  # noqa: ANN001
    """One referral service; its client calls as a coordinator of the owning organisation."""
    async with start_referral() as service:
        yield service


@pytest.fixture
def card():  # noqa: ANN201
    return make_card
