"""Dead letters: a record that can never be handled is published to
`<topic>.dlt` with its cause in headers, awaited, before its offset is
committed; and remembered, so a redelivered batch does not dead-letter it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Iterable

import sqlalchemy as sa
from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_contracts import DeadLetterCause, dead_letter_topic


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord
    cause: DeadLetterCause
    reason: str
    fingerprint: str
    event_id: str | None


def headers_for(letter: DeadLetter, consumer: str) -> dict[str, str]:
    """The original headers (as text) plus the `dlt_` attributes of DeadLetterHeaders."""
    record = letter.record
    # Header values that are not UTF-8 are written with replacement characters:
    # the dead-letter record is for an operator to read, and such a record
    # could never be handled anyway.
    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}
    headers.update(
        {
            "dlt_cause": letter.cause.value,
            "dlt_reason": letter.reason[:1000],
            "dlt_consumer": consumer,
            "dlt_original_topic": record.topic,
            "dlt_original_partition": str(record.partition),
            "dlt_original_offset": str(record.offset),
            "dlt_failed_at": datetime.now(UTC).isoformat(),
        }
    )
    return headers


def topic_for(letter: DeadLetter) -> str:
    return dead_letter_topic(letter.record.topic)


async def remembered(session: AsyncSession, table: sa.Table, consumer: str, records: list[ConsumerRecord]) -> dict[tuple[str, int, int], str]:
    """Fingerprints of the records among these that this consumer dead-lettered before."""
    if not records:
        return {}
    first = records[0]
    offsets = [r.offset for r in records]
    rows = await session.execute(
        sa.select(table.c.source_offset, table.c.fingerprint).where(
            table.c.consumer == consumer,
            table.c.source_topic == first.topic,
            table.c.source_partition == first.partition,
            table.c.source_offset.in_(offsets),
        )
    )
    return {(first.topic, first.partition, offset): fp for offset, fp in rows}


async def remember(session: AsyncSession, table: sa.Table, consumer: str, letters: Iterable[DeadLetter]) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "consumer": consumer,
            "source_topic": letter.record.topic,
            "source_partition": letter.record.partition,
            "source_offset": letter.record.offset,
            "fingerprint": letter.fingerprint,
            "event_id": letter.event_id,
            "cause": letter.cause.value,
            "dead_lettered_at": now,
        }
        for letter in letters
    ]
    if rows:
        # A row from before a broker reset may sit at the same place: the new one replaces it.
        await session.execute(
            table.delete().where(
                table.c.consumer == consumer,
                sa.tuple_(table.c.source_topic, table.c.source_partition, table.c.source_offset).in_(
                    [(r["source_topic"], r["source_partition"], r["source_offset"]) for r in rows]
                ),
            )
        )
        await session.execute(table.insert(), rows)
