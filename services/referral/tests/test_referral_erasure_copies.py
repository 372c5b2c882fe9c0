"""Erasure reaches every copy in referral (issue 13, case 4): what triage and consent
recorded about the citizen, the sealed boxes of the outbox rows about them, batch
idempotency keys (the home-care system's row ids) and SQLite's write-ahead log."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from brobygger_stack.outbox_boxes import BOX, outbox_payloads, seal_outbox_rows
from referral.adapters.tables import consent_changes, milestones, referrals, submissions
from referral_cards import make_card


async def test_erasure_clears_triage_consent_milestones_and_strips_the_outbox(referral_service):
    client, runtime = referral_service.client, referral_service.runtime
    erased = (await client.post("/referrals", json=make_card())).json()
    other = (await client.post("/referrals", json=make_card(citizen__name="Lillemor Jensen", citizen__phone="+4597412233"))).json()
    for card in (erased, other):
        triaged = await client.post(f"/referrals/{card['referral_id']}/triage", json={
            "decision": "professional", "escalation_reason": "dementia", "receiving_unit": "Demensteam Vest"})
        assert triaged.status_code == 200, triaged.text
        await client.put(f"/citizens/{card['citizen_id']}/consent", json={"organisations": ["varde-kommune"], "given_by": "relative"})
    await seal_outbox_rows(runtime)

    assert (await client.delete(f"/citizens/{erased['citizen_id']}")).status_code == 200

    async with runtime.db.sessions() as s:
        def of(table, citizen):  # noqa: ANN001, ANN202
            return table.c.citizen_id == citizen["citizen_id"]
        triage = (await s.execute(sa.select(referrals.c.triaged_by, referrals.c.escalation_reason, referrals.c.receiving_unit)
                                  .where(of(referrals, erased)))).one()
        assert tuple(triage) == (None, None, None)
        assert (await s.scalars(sa.select(consent_changes.c.given_by).where(of(consent_changes, erased)))).all() == [None]
        assert (await s.scalar(sa.select(sa.func.count()).select_from(milestones).where(of(milestones, erased)))) == 0
        kept = (await s.execute(sa.select(referrals.c.triaged_by, referrals.c.receiving_unit).where(of(referrals, other)))).one()
        assert kept.receiving_unit == "Demensteam Vest" and kept.triaged_by
        assert (await s.scalars(sa.select(consent_changes.c.given_by).where(of(consent_changes, other)))).all() == ["relative"]
    rows = await outbox_payloads(runtime)
    about_erased = [p for k, p in rows if k == erased["citizen_id"]]
    about_other = [p for k, p in rows if k == other["citizen_id"]]
    # received, triaged, escalated, consent changed: each had a box; CitizenErased (written after) has none
    assert len([p for p in about_erased if "sealed" in p]) >= 3 and all(p.get("sealed") is None for p in about_erased)
    assert about_other and all(p["sealed"] == BOX for p in about_other)


async def test_batch_idempotency_keys_are_stored_hashed(referral_service):
    client, runtime = referral_service.client, referral_service.runtime
    row_id = "HC-ROW-7731942"
    batch = [{**make_card(citizen__name="Jens Madsen"), "external_id": row_id}]
    first = await client.post("/referrals/batch", json=batch)
    again = await client.post("/referrals/batch", json=batch)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json()["accepted"][0]["already_received"] is True
    assert again.json()["accepted"][0]["referral_id"] == first.json()["accepted"][0]["referral_id"]
    async with runtime.db.sessions() as s:
        stored = (await s.scalars(sa.select(submissions.c.idempotency_key))).all()
    assert len(stored) == 1 and row_id not in stored[0] and len(stored[0]) == 64


def _holding(paths, needles: list[bytes]) -> list[str]:  # noqa: ANN001
    return [f"{p.name}: {n!r}" for p in paths if p.exists() for n in needles if n in p.read_bytes()]


async def test_an_erased_name_and_phone_leave_the_sqlite_files(start_referral, tmp_path):  # noqa: ANN001
    path = tmp_path / "referral.db"
    name, phone = "Gudrun Pedersdatter", "+45 61 72 83 94"
    async with start_referral(database_url=f"sqlite+aiosqlite:///{path}") as service:
        card = (await service.client.post("/referrals", json=make_card(
            citizen__name=name, citizen__phone=phone, citizen__address="Kirkebakken 77"))).json()
        files = [path, path.with_name(path.name + "-wal")]
        needles = [name.encode(), phone.encode(), b"Kirkebakken"]
        assert _holding(files, needles), "the seeded data must be on disk before the erasure"
        assert (await service.client.delete(f"/citizens/{card['citizen_id']}")).status_code == 200
        assert _holding(files, needles) == []
    assert uuid.UUID(card["citizen_id"])


async def test_the_migration_hashes_stored_keys_and_clears_citizens_erased_earlier(database_url):  # noqa: ANN001
    import asyncio
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy.ext.asyncio import create_async_engine

    from brobygger_runtime.migrations import alembic_config, runtime_alembic_config
    from referral.adapters.repository import stored_key

    def to(revision: str) -> None:
        command.upgrade(runtime_alembic_config(database_url), "head")
        command.upgrade(alembic_config("referral", database_url), revision)

    await asyncio.to_thread(to, "b13a0e5e4001")
    now, erased, kept = datetime.now(UTC), str(uuid.uuid4()), str(uuid.uuid4())
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            for citizen, erased_at in ((erased, now), (kept, None)):
                await conn.execute(sa.text(
                    "INSERT INTO citizens (citizen_id, consented_orgs, language, lives_alone, consent_given_by, created_at,"
                    " updated_at, erased_at) VALUES (:c, '[]', 'da', true, 'relative', :now, :now, :e)"), dict(c=citizen, now=now, e=erased_at))
                await conn.execute(sa.text(
                    "INSERT INTO referrals (referral_id, citizen_id, source, submitted_by_org, urgency, repeat_referral,"
                    " received_at, state, triaged_by, escalation_reason, receiving_unit) VALUES (:r, :c, 'home_care',"
                    " 'varde-kommune', 'soon', false, :now, 'escalated', 'guide-1', 'dementia', 'Demensteam')"),
                    dict(r=citizen, c=citizen, now=now))
            await conn.execute(sa.text("INSERT INTO submissions (org, idempotency_key, referral_id, submitted_at)"
                                       " VALUES ('varde-kommune', 'batch:HC-1', :r, :now)"), dict(r=kept, now=now))
        await asyncio.to_thread(to, "head")
        async with engine.connect() as conn:
            assert (await conn.scalars(sa.text("SELECT idempotency_key FROM submissions"))).all() == [stored_key("varde-kommune", "batch:HC-1")]
            rows = {r.citizen_id: r for r in (await conn.execute(sa.text(
                "SELECT c.citizen_id, c.language, c.consent_given_by, r.triaged_by, r.escalation_reason, r.receiving_unit"
                " FROM citizens c JOIN referrals r ON r.citizen_id = c.citizen_id"))).all()}
        assert tuple(rows[erased])[1:] == (None, None, None, None, None)
        assert tuple(rows[kept])[1:] == ("da", "relative", "guide-1", "dementia", "Demensteam")
    finally:
        await engine.dispose()
