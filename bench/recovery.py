"""How soon a killed service answers again: SIGKILL, restart, and time from
process start to its HTTP API serving (`/health/ready`) and to its consumer
consuming again (`/health/ready?whole=true`), while a stream of referrals
keeps it busy.

Runs journey as its own process against an embedded Tansu and a database
(the local PostgreSQL with --postgres, else SQLite).

    python bench/recovery.py --restarts 10 [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from brobygger_contracts import Envelope, topic_for
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.topics import ensure_topics
from brobygger_stack.embedded_kafka import EmbeddedKafka, free_port, wait_until_ready
from brobygger_stack.processes import ServiceProcess
from brobygger_stack.testing import create_database, drop_database, LOCAL_POSTGRES, _async_url


async def feed(kafka: str, partnership: str, stop: asyncio.Event) -> int:
    """A steady stream of referrals (20/s) for the journey service to work on."""
    from datetime import UTC, datetime

    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    sent = 0
    try:
        while not stop.is_set():
            event = ReferralReceived(referral_id=uuid.uuid4(), citizen_id=uuid.uuid4(), source="home_care",
                                     postal_code="6800", age_band="75-84", consented_orgs=["varde-kommune"],
                                     received_at=datetime.now(UTC))
            envelope = Envelope.for_event(event, partnership=partnership, org="varde-kommune", service="referral")
            await producer.send_and_wait(topic_for(ReferralReceived, partnership, "varde-kommune"), event.model_dump_json().encode(),
                                         key=envelope.subject.encode(), headers=envelope.to_headers())
            sent += 1
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
    return sent


def wait_for(proc: ServiceProcess, whole: bool, timeout: float = 120) -> float:
    started = time.monotonic()
    proc.wait_ready(timeout=timeout, whole=whole)
    return time.monotonic() - started


async def run(restarts: int, postgres: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="recovery-"))
    broker = EmbeddedKafka(log_path=str(workdir / "tansu.log")).start()
    database = None
    try:
        await wait_until_ready(broker.bootstrap_servers)
        if postgres:
            database = await create_database(LOCAL_POSTGRES)
            db_url = _async_url(LOCAL_POSTGRES, database)
        else:
            db_url = f"sqlite+aiosqlite:///{workdir}/journey.db"
        partnership = f"recovery{uuid.uuid4().hex[:6]}"
        await ensure_topics(broker.bootstrap_servers, partnership, {"varde-kommune": ["referral", "journey"]})
        journey = ServiceProcess("journey", "varde-kommune", free_port(), log_path=workdir / "journey.log", env={
            "PARTNERSHIP_ID": partnership, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers, "DATABASE_URL": db_url,
        })
        journey.start().wait_ready(whole=True, timeout=120)
        stop = asyncio.Event()
        feeding = asyncio.create_task(feed(broker.bootstrap_servers, partnership, stop))
        to_http: list[float] = []
        to_consuming: list[float] = []
        for _ in range(restarts):
            await asyncio.sleep(1.0)  # let it work a little before the crash
            journey.kill()
            journey.start()
            to_http.append(await asyncio.to_thread(wait_for, journey, False))
            to_consuming.append(to_http[-1] + await asyncio.to_thread(wait_for, journey, True))
        stop.set()
        sent = await feeding
        journey.stop()
    finally:
        broker.stop()
        if database:
            await drop_database(LOCAL_POSTGRES, database)
    print(f"database:                 {'PostgreSQL' if postgres else 'SQLite'}")
    print(f"restarts after SIGKILL:   {restarts} (under a stream of {sent} referrals)")
    print(f"start -> HTTP serving:    median {statistics.median(to_http):.2f} s, max {max(to_http):.2f} s")
    print(f"start -> consuming again: median {statistics.median(to_consuming):.2f} s, max {max(to_consuming):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="the local PostgreSQL instead of SQLite")
    args = parser.parse_args()
    asyncio.run(run(args.restarts, args.postgres))


if __name__ == "__main__":
    main()
