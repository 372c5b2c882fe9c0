"""The outbox relay: publishes outbox rows in order and marks them sent only
after the broker confirmed (acks=all). One relay runs per service instance:
replicas share the instance's database and take turns through a lease."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from brobygger_runtime import broker_reset, outbox
from brobygger_runtime.singleton import SingletonLoop

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, runtime: "ServiceRuntime") -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.loop = SingletonLoop(runtime, f"outbox-relay:{settings.service_name}", settings.outbox_poll_seconds, self._round)
        self._last_purge = datetime.min.replace(tzinfo=UTC)
        self._last_reset_check = time.monotonic()

    def wake(self) -> None:
        self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop(release=False)
        # Drain what is left so a graceful stop leaves nothing behind.
        try:
            if await self.loop.hold_lease():
                await self._publish_all()
        except Exception:  # noqa: BLE001
            log.warning("could not drain the outbox at shutdown; rows stay for the next start", exc_info=True)
        await self.loop.release()

    async def _round(self) -> None:
        settings = self.runtime.settings
        try:
            await self._publish_all()
        except Exception:
            self.runtime.metrics.relay_failures.inc()
            raise
        if time.monotonic() - self._last_reset_check > settings.broker_reset_check_seconds:
            self._last_reset_check = time.monotonic()
            await self.republish_if_broker_was_reset()
        if datetime.now(UTC) - self._last_purge > timedelta(hours=1):
            await self.purge_expired()
            self._last_purge = datetime.now(UTC)

    async def _publish_all(self) -> None:
        while await self.publish_pending() >= self.runtime.settings.outbox_batch_size:
            pass  # a full batch: there may be more

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows in order; returns how many were sent."""
        rt = self.runtime
        table = rt.tables.outbox
        async with rt.db.sessions() as session:
            rows = (
                await session.execute(
                    sa.select(table.c.id, table.c.event_type, table.c.topic, table.c.key, table.c.headers, table.c.payload)
                    .where(table.c.sent_at.is_(None))
                    .order_by(table.c.id)
                    .limit(rt.settings.outbox_batch_size)
                )
            ).all()
        if not rows:
            return 0
        pending = []
        for row in rows:
            future = await rt.broker.publish(
                row.payload.encode(),
                row.topic,
                key=row.key.encode(),
                headers={k: v for k, v in row.headers},
                no_confirm=True,
            )
            pending.append(future)
        results = await asyncio.gather(*pending, return_exceptions=True)
        now = datetime.now(UTC)
        confirmed = []
        for row, result in zip(rows, results):
            if isinstance(result, BaseException):
                log.warning("broker refused outbox row %s: %s", row.id, result)
                break  # keep order: later rows wait for this one
            confirmed.append({"row_id": row.id, "p": result.partition, "o": result.offset})
            rt.metrics.events_published.labels(row.event_type).inc()
        if confirmed:
            async with rt.db.transaction() as session:
                await session.execute(
                    table.update()
                    .where(table.c.id == sa.bindparam("row_id"))
                    .values(
                        sent_at=now,
                        kafka_partition=sa.bindparam("p"),
                        kafka_offset=sa.bindparam("o"),
                        send_count=table.c.send_count + 1,
                    ),
                    confirmed,
                )
        if len(confirmed) < len(rows):
            raise RuntimeError(f"published {len(confirmed)} of {len(rows)} outbox rows")
        return len(confirmed)

    async def refresh_backlog_metrics(self) -> None:
        rt = self.runtime
        async with rt.db.sessions() as session:
            count, oldest = await outbox.backlog(session, rt.tables.outbox)
        rt.metrics.outbox_backlog.set(count)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        rt.metrics.outbox_oldest_age.set(age)

    async def purge_expired(self) -> int:
        rt = self.runtime
        before = datetime.now(UTC) - timedelta(days=rt.settings.outbox_retention_days)
        async with rt.db.transaction() as session:
            return await outbox.purge_sent(session, rt.tables.outbox, before)

    async def republish_if_broker_was_reset(self) -> int:
        """Read back the last record we published; if the broker lost it, send everything kept again."""
        rt = self.runtime
        async with rt.db.sessions() as session:
            last = await broker_reset.last_sent(session, rt.tables.outbox)
        if last is None:
            return 0
        lost = await broker_reset.broker_lost(
            rt.settings.kafka_bootstrap_servers, last.topic, last.kafka_partition, last.kafka_offset, last.event_id
        )
        if not lost:
            return 0
        since = datetime.now(UTC) - timedelta(days=rt.settings.outbox_retention_days)
        count = await self.republish_since(since)
        log.warning("the broker lost the events this service published; republishing %d kept outbox rows", count)
        return count

    async def republish_since(self, since: datetime) -> int:
        """Operator command and broker-reset response: send rows again from `since`."""
        rt = self.runtime
        async with rt.db.transaction() as session:
            count = await outbox.mark_for_republish(session, rt.tables.outbox, since)
        rt.metrics.outbox_republished.inc(count)
        self.wake()
        return count
