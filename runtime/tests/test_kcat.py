"""A non-Python Kafka client (kcat, librdkafka) reads and writes our events."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.testing import wait_until

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
pytestmark = pytest.mark.skipif(KCAT is None, reason="kcat is installed by `make setup` (Debian package kcat)")


def journey_runtime(kafka: str, db_url: str, partnership: str) -> tuple[ServiceRuntime, sa.Table]:
    metadata = new_metadata()
    opened = sa.Table("opened", metadata, sa.Column("citizen_id", sa.String(64), primary_key=True))
    settings = ServiceSettings(service_name="journey", org_id="varde-kommune", partnership_id=partnership,
                               kafka_bootstrap_servers=kafka, database_url=db_url, outbox_poll_seconds=0.05)
    runtime = ServiceRuntime(settings, metadata, service_package=None)

    @runtime.handles(ReferralReceived)
    async def open_journey(event: ReferralReceived, uow) -> None:  # noqa: ANN001
        await uow.session.execute(opened.insert().values(citizen_id=str(event.citizen_id)))

    return runtime, opened


async def kcat(*args: str, stdin: bytes | None = None, timeout: float = 30) -> str:
    proc = await asyncio.create_subprocess_exec(
        KCAT, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_kcat_reads_an_event_with_its_cloudevents_headers(kafka_bootstrap, database_url):
    partnership = f"kcat{uuid.uuid4().hex[:8]}"
    runtime, _ = journey_runtime(kafka_bootstrap, database_url, partnership)
    citizen = uuid.uuid4()
    async with runtime.running():
        async with runtime.unit_of_work() as uow:
            envelope = await uow.publish(GuideAssigned(journey_id=uuid.uuid4(), citizen_id=citizen, guide_id="g-7",
                                                       guide_org="varde-kommune", assigned_at=datetime.now(UTC)))
        outbox = runtime.tables.outbox

        async def sent() -> bool:
            async with runtime.db.sessions() as s:
                return await s.scalar(sa.select(outbox.c.sent_at).where(outbox.c.event_id == envelope.id)) is not None

        await wait_until(sent)
    # -e: stop at the end of the partitions; one line per record: key, headers, payload
    out = await kcat("-C", "-b", kafka_bootstrap, "-t", topic_for(GuideAssigned), "-o", "beginning", "-e", "-q",
                     "-f", "%k\t%h\t%s\n")
    lines = [line for line in out.splitlines() if envelope.id in line]
    assert len(lines) == 1
    key, headers, payload = lines[0].split("\t", 2)
    assert key == str(citizen)
    shown = dict(h.split("=", 1) for h in headers.split(","))
    assert shown["ce_id"] == envelope.id
    assert shown["ce_type"] == "org.brobygger.journey.GuideAssigned.v1"
    assert shown["ce_specversion"] == "1.0"
    assert shown["ce_source"] == f"/partnerships/{partnership}/orgs/varde-kommune/journey"
    assert shown["ce_subject"] == str(citizen)
    assert shown["ce_partnership"] == partnership and shown["ce_org"] == "varde-kommune"
    assert shown["ce_time"].endswith("Z")
    assert json.loads(payload)["guide_id"] == "g-7"


async def test_an_event_produced_by_kcat_is_processed(kafka_bootstrap, database_url):
    partnership = f"kcat{uuid.uuid4().hex[:8]}"
    runtime, opened = journey_runtime(kafka_bootstrap, database_url, partnership)
    citizen = str(uuid.uuid4())
    payload = {
        "referral_id": str(uuid.uuid4()), "citizen_id": citizen, "source": "gp", "postal_code": "6800",
        "age_band": "65-74", "consented_orgs": ["varde-kommune"], "received_at": "2026-11-24T10:00:00Z",
    }
    headers = {
        "ce_id": str(uuid.uuid4()), "ce_source": f"/partnerships/{partnership}/orgs/varde-kommune/referral",
        "ce_type": "org.brobygger.referral.ReferralReceived.v1", "ce_specversion": "1.0",
        "ce_time": "2026-11-24T10:00:00Z", "ce_subject": citizen, "ce_partnership": partnership,
        "ce_org": "varde-kommune", "content-type": "application/json",
    }
    args = ["-P", "-b", kafka_bootstrap, "-t", topic_for(ReferralReceived), "-k", citizen]
    for name, value in headers.items():
        args += ["-H", f"{name}={value}"]
    async with runtime.running():
        await kcat(*args, stdin=json.dumps(payload).encode())

        async def handled() -> bool:
            async with runtime.db.sessions() as s:
                return bool(await s.scalar(sa.select(sa.func.count()).select_from(opened).where(opened.c.citizen_id == citizen)))

        await wait_until(handled)
