"""Scan tests (issue 13): play the demo partnership with distinctive personal
data, then read every record of every topic of the partnership, dead letters
included, and fail on any personal datum or any sealed field readable in
clear; erase one citizen and dump every table of every service's database
(PostgreSQL, and referral's SQLite files on disk with their write-ahead log)
and the bus again, and find nothing of that citizen.

Referral runs on SQLite here (the embedded default) and the other services on
PostgreSQL, so one stack covers both kinds of storage."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from brobygger_contracts import EVENTS_BY_TYPE
from brobygger_contracts.sealed import SEALED_FIELD, SealedEvent
from brobygger_runtime.erasure import digest
from brobygger_stack.demo import DemoEndpoints, load_partnership, play_citizen, seed
from brobygger_stack.stack import EmbeddedStack, default_instances
from brobygger_stack.testing import embedded_identity, partnership_topics_on, read_topic_to_end, wait_until
from brobygger_stack.identity.test_tokens import TestTokens

from tests.e2e.conftest import free_base_port, running_stack


def _person(n: int) -> dict[str, str]:
    """Personal data nobody else in the suite uses, ASCII so that no JSON escaping hides it."""
    return {
        "name": f"Quorvalda Zimbertrix{n}",
        "phone": f"+45 71 93 5{n} 86",
        "email": f"quorvalda{n}.zimbertrix@mail.example",
        "address": f"Xylofonvej {917 + n}",
        "reason": f"Ensom efter flytning; kvorsk-note-{n} om sorg og nabostrid",
        "referrer_name": f"Yllvard Pemberix{n}",
        "referrer_phone": f"+45 61 48 2{n} 37",
    }


def _seeded_citizens() -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    citizens, people = [], []
    for n, citizen in enumerate(load_partnership()["citizens"][:2]):
        person = _person(n)
        card = json.loads(json.dumps(citizen["card"]))
        card["citizen"].update({"name": person["name"], "phone": person["phone"], "email": person["email"],
                                "address": person["address"]})
        card["reason"] = person["reason"]
        card["referrer"].update({"name": person["referrer_name"], "phone": person["referrer_phone"]})
        citizens.append({**citizen, "card": card})
        people.append(person)
    return citizens, people


@pytest_asyncio.fixture
async def scan_stack(kafka_bootstrap, database_url_factory, tmp_path: Path):  # noqa: ANN001, ANN201
    """The embedded stack with referral on its default SQLite file, the rest on PostgreSQL."""
    instances = default_instances(base_port=free_base_port())
    databases = {f"{i.package}@{i.org_id}": await database_url_factory(i.package)
                 for i in instances if i.package != "referral"}
    async with running_stack(kafka_bootstrap, databases, tmp_path / "stack", instances, name="scan") as running:
        yield running


async def _partnership_records(kafka: str, partnership: str) -> list[Any]:
    """Every record on every topic of the partnership now, dead-letter topics included."""
    topics = await partnership_topics_on(kafka, partnership)
    assert topics, f"no topics of {partnership}"
    return await read_topic_to_end(kafka, topics)


def _record_bytes(record: Any) -> bytes:
    return b"\0".join([record.key or b"", record.value or b""] + [k.encode() + b"=" + (v or b"") for k, v in record.headers or ()])


def _markers(person: dict[str, str]) -> list[bytes]:
    return [v.encode().lower() for v in person.values()] + [person["phone"].replace(" ", "").encode()]


def _found(haystack: bytes, person: dict[str, str]) -> list[str]:
    low = haystack.lower()
    return [m.decode() for m in _markers(person) if m in low]


def _clear_sealed_fields(record: Any) -> list[str]:
    """Fields of the event's sealed part that travel in clear on this record (must be none)."""
    headers = dict(record.headers or ())
    event_cls = EVENTS_BY_TYPE.get((headers.get("ce_type") or b"").decode("utf-8", "replace"))
    if event_cls is None or not issubclass(event_cls, SealedEvent):
        return []
    payload = json.loads(record.value)
    clear = [f for f in event_cls.sealed_part.model_fields if f in payload]
    if not isinstance(payload.get(SEALED_FIELD), dict):
        clear.append(f"{SEALED_FIELD} missing")
    return clear


async def _forge_one_dead_letter(kafka: str, records: list[Any]) -> None:
    """Put a real, sealed ReferralReceived back on its topic claiming another organisation:
    the consumers dead-letter it (forged origin), so the dead-letter topics hold a whole payload."""
    record = next(r for r in records if dict(r.headers)["ce_type"].endswith(b"ReferralReceived.v1")
                  and not r.topic.endswith(".dlt"))
    headers = [(k, b"red-cross" if k == "ce_org" else v) for k, v in record.headers]
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        await producer.send_and_wait(record.topic, record.value, key=record.key, headers=headers)
    finally:
        await producer.stop()


def _dump_database(url: str) -> bytes:
    """Every row of every table of one database, as text."""
    async def dump() -> bytes:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
                rows = []
                for name in names:
                    result = await conn.execute(sa.text(f'SELECT * FROM "{name}"'))
                    rows += [f"{name}: {tuple(r)!r}" for r in result]
                return "\n".join(rows).encode()
        finally:
            await engine.dispose()
    return asyncio.run(dump())


def _sqlite_files(stack: EmbeddedStack) -> bytes:
    """The raw bytes of every SQLite file the stack keeps (database, -wal, -shm, journal)."""
    files = sorted(p for p in (stack.workdir / "data").rglob("*") if p.is_file())
    assert any(p.suffix == ".db" or ".db" in p.name for p in files), files
    return b"".join(p.read_bytes() for p in files)


async def test_bus_and_databases_hold_no_personal_data_and_erasure_leaves_no_copy(scan_stack, kafka_bootstrap):  # noqa: ANN001
    stack = scan_stack
    endpoints = DemoEndpoints.of_stack(stack)
    data = load_partnership()
    citizens, people = _seeded_citizens()
    await asyncio.to_thread(seed, endpoints, data, lambda _: None)
    played = [await asyncio.to_thread(play_citizen, endpoints, c, lambda _: None, 90) for c in citizens]

    # -- the bus after the demo: nothing personal, nothing sealed in clear, dead letters included
    records = await _partnership_records(kafka_bootstrap, stack.partnership_id)
    await _forge_one_dead_letter(kafka_bootstrap, records)

    async def dead_lettered() -> bool:
        records[:] = await _partnership_records(kafka_bootstrap, stack.partnership_id)
        return any(r.topic.endswith(".dlt") for r in records)

    await wait_until(dead_lettered, timeout=30, interval=0.5)
    counts = Counter(r.topic.split(".", 2)[2] for r in records)
    print(f"bus scan: {len(records)} records on {len(counts)} topics: {dict(sorted(counts.items()))}")
    barriers = {b.encode() for c in citizens for b in c["clarification"]["barriers"]}
    for record in records:
        raw = _record_bytes(record)
        for person in people:
            assert not _found(raw, person), (record.topic, record.offset, _found(raw, person))
        assert not _clear_sealed_fields(record), (record.topic, record.offset, _clear_sealed_fields(record))
        assert not [b for b in barriers if b in raw], (record.topic, record.offset)
    assert sum(1 for r in records if r.topic.endswith(".dlt")) >= 1
    sealed = sum(1 for r in records if json.loads(r.value).get(SEALED_FIELD))
    assert sealed >= len(citizens) * 2, sealed  # at least ReferralReceived and NeedsClarified of each

    # -- the databases before erasure: the scan sees what is there (the check below is not blind)
    erased, kept = played[0].citizen_id, played[1].citizen_id
    assert _found(_sqlite_files(stack), people[1])
    notify_url = stack.database_url_for["notify@varde-kommune"]
    assert b"anne@varde.example" in await asyncio.to_thread(_dump_database, notify_url)

    # -- erase the first citizen and wait until every service has taken it in
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.delete(f"{endpoints.referral}/citizens/{erased}",
                                     headers=endpoints.people.coordinator("varde-kommune"))
        assert response.status_code in (200, 202, 204), response.text

    async def every_service_forgot() -> bool:
        for url in stack.database_url_for.values():
            engine = create_async_engine(url)
            try:
                async with engine.connect() as conn:
                    found = await conn.scalar(sa.text("SELECT count(*) FROM erased_subjects WHERE subject_digest = :d"),
                                              {"d": digest(erased)})
            finally:
                await engine.dispose()
            if not found:
                return False
        return True

    await wait_until(every_service_forgot, timeout=60, interval=0.5)

    # -- every table of every database, and referral's SQLite files with their write-ahead log
    disk = _sqlite_files(stack)
    assert not _found(disk, people[0]), _found(disk, people[0])
    assert _found(disk, people[1])  # the other citizen is still there
    for name, url in stack.database_url_for.items():
        dump = await asyncio.to_thread(_dump_database, url)
        assert not _found(dump, people[0]), (name, _found(dump, people[0]))

    # -- the bus: still nothing personal, and the erased citizen's boxes open for nobody any more
    records = await _partnership_records(kafka_bootstrap, stack.partnership_id)
    for record in records:
        assert not _found(_record_bytes(record), people[0]), (record.topic, record.offset)
    tokens = TestTokens(stack.identity)
    async with httpx.AsyncClient(timeout=10) as http:
        for org in ("varde-kommune", "red-cross"):
            answer = (await http.post(f"{endpoints.referral}/citizen-keys", json={"citizen_ids": [erased, kept]},
                                      auth=tokens.service_auth("matching", org))).json()
            assert erased in answer["withheld"] and erased not in answer["keys"], answer
            assert kept in answer["keys"], answer
    boxes_of_erased = sum(1 for r in records if r.key == erased.encode() and json.loads(r.value).get(SEALED_FIELD))
    print(f"after erasure: {boxes_of_erased} sealed boxes of the erased citizen remain on the bus, none can be opened")
