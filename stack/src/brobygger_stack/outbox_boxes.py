"""Test helpers for erasure: give a service's outbox rows a sealed box (as events with
sealed fields carry one) and read back which rows still hold theirs."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

BOX = {"alg": "AES-256-GCM", "nonce": "bm9uY2U=", "ciphertext": "c2VjcmV0"}
"""A stand-in sealed box: its content does not matter, only whether it is still there."""


async def seal_outbox_rows(runtime: Any) -> None:
    """Every outbox row of `runtime` gets BOX as its payload's `sealed` field."""
    table = runtime.tables.outbox
    async with runtime.db.transaction() as s:
        for row_id, payload in (await s.execute(sa.select(table.c.id, table.c.payload))).all():
            body = {**json.loads(payload), "sealed": BOX}
            await s.execute(table.update().where(table.c.id == row_id).values(payload=json.dumps(body)))


async def outbox_payloads(runtime: Any) -> list[tuple[str, dict]]:
    """(key, payload) of every outbox row of `runtime`, oldest first."""
    table = runtime.tables.outbox
    async with runtime.db.sessions() as s:
        rows = (await s.execute(sa.select(table.c.key, table.c.payload).order_by(table.c.id))).all()
    return [(key, json.loads(payload)) for key, payload in rows]
