"""Erasure reaches the outbox (issue 13, case 4): the rows about an erased
citizen, sent ones included (kept 30 days), lose their sealed box in the
erasing transaction; rows about anyone else keep theirs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_runtime import outbox
from brobygger_runtime.db import Database, new_metadata


def _row(key: str, payload: dict, sent: bool) -> dict:
    now = datetime.now(UTC)
    return {"event_id": str(uuid.uuid4()), "event_type": "x.v1", "topic": "t", "key": key, "headers": [],
            "payload": json.dumps(payload), "created_at": now, "sent_at": now if sent else None, "send_count": 0}


async def test_rows_about_an_erased_citizen_lose_their_sealed_box(database_url):  # noqa: ANN001
    metadata = new_metadata()
    table = metadata.tables["outbox"]
    db = Database(database_url)
    erased, other, group = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    box = {"alg": "AES-256-GCM", "nonce": "bm9uY2U=", "ciphertext": "c2VjcmV0"}
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with db.transaction() as s:
            await outbox.write(s, table, [
                _row(erased, {"citizen_id": erased, "sealed": box}, sent=True),
                _row(erased, {"citizen_id": erased, "sealed": box}, sent=False),
                _row(group, {"group_id": group, "citizen_ids": [other, erased], "sealed": box}, sent=True),
                _row(erased, {"citizen_id": erased}, sent=True),  # nothing sealed: left as it is
                _row(other, {"citizen_id": other, "sealed": box}, sent=True),
            ])
        async with db.transaction() as s:
            assert await outbox.strip_sealed(s, table, erased) == 3
        async with db.sessions() as s:
            rows = (await s.execute(sa.select(table.c.key, table.c.payload).order_by(table.c.id))).all()
        payloads = [json.loads(p) for _k, p in rows]
        assert [p.get("sealed") for p in payloads] == [None, None, None, None, box]
        assert payloads[0] == {"citizen_id": erased, "sealed": None}
        assert payloads[2]["citizen_ids"] == [other, erased]
    finally:
        await db.dispose()
