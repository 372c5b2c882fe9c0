"""After an erasure nothing in journey links the anonymous counts to the citizen (issue
13, case 4): the journey and its proposals get fresh ids (the old ones travelled on the
bus), times move so the referral falls on the first of its month (spans kept), UCLA
answers shrink to their totals, timers go, journey's outbox rows about the citizen lose
their sealed boxes, and a late or replayed referral opens no new journey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from brobygger_contracts.events.referral import CitizenErased
from brobygger_stack.outbox_boxes import BOX, outbox_payloads, seal_outbox_rows
from journey.adapters.tables import metadata as journey_metadata
from journey_testkit import FakeClock, accept_match, referral

REFERRED = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)


async def _values_of_every_column(svc) -> list[str]:  # noqa: ANN001
    found: list[str] = []
    async with svc.runtime.db.sessions() as s:
        for table in journey_metadata.sorted_tables:
            if table.name == "outbox":
                continue  # journey's events carry the ids they had; their sealed boxes are what erasure strips
            for row in (await s.execute(sa.select(table))).all():
                found.extend(f"{table.name}: {v}" for v in row)
    return found


async def test_an_erased_journey_is_rekeyed_coarsened_and_not_reopened(start_journey):  # noqa: ANN001
    clock = FakeClock(REFERRED)
    async with start_journey(clock) as svc:
        await svc.client.post("/guides", json={"guide_id": "guide-anna"})
        frida, other = referral(received_at=REFERRED), referral(received_at=REFERRED)
        c = frida.citizen_id
        await svc.send(frida)
        await svc.send(other)
        clock.moment = REFERRED + timedelta(days=2)
        await svc.client.post(f"/journeys/{c}/contacts", json={"kind": "home_visit", "by": "guide-anna", "note": "Savner sin mand."})
        clock.moment = REFERRED + timedelta(days=5)
        baseline = {"lack_companionship": 3, "left_out": 2, "isolated": 3}
        assert (await svc.client.post(f"/journeys/{c}/clarification", json={
            "interests": ["walking"], "baseline": baseline})).status_code == 201
        proposal = await accept_match(svc, c)
        before = (await svc.client.get(f"/journeys/{c}")).json()
        funnel = (await svc.client.get("/reports/funnel")).json()
        waiting = (await svc.client.get("/reports/waiting-times")).json()
        await seal_outbox_rows(svc.runtime)

        await svc.send(CitizenErased(citizen_id=c, erased_at=svc.clock()))

        everything = await _values_of_every_column(svc)
        for trace in (str(c), before["journey_id"], str(proposal.proposal_id), "Savner", "guide-anna-note"):
            assert not [v for v in everything if trace in v], trace
        async with svc.runtime.db.sessions() as s:
            tables = journey_metadata.tables
            row = (await s.execute(sa.select(tables["journeys"]).where(tables["journeys"].c.erased.is_(True)))).one()
            timers = (await s.scalar(sa.select(sa.func.count()).select_from(tables["timers"])
                                     .where(tables["timers"].c.journey_id == row.journey_id)))
        assert (await svc.client.get(f"/journeys/{c}")).status_code == 404
        assert row.referred_at == datetime(2026, 3, 1, tzinfo=UTC)
        assert row.first_contact_at - row.referred_at == timedelta(days=2)  # the span the reports use stays
        assert row.baseline == {"total": 8} and timers == 0
        assert (await svc.client.get("/reports/funnel")).json() == funnel
        assert (await svc.client.get("/reports/waiting-times")).json() == waiting
        payloads = await outbox_payloads(svc.runtime)
        about_c = [p for _k, p in payloads if p.get("citizen_id") == str(c)]
        assert about_c and all(p["sealed"] is None for p in about_c)
        assert all(p["sealed"] == BOX for _k, p in payloads if p.get("citizen_id") == str(other.citizen_id))

        # A late or replayed referral of the erased citizen, then one of a newcomer.
        await svc.send(referral(citizen_id=c, received_at=svc.clock()))
        await svc.send(referral(received_at=svc.clock()))
        assert (await svc.client.get(f"/journeys/{c}")).status_code == 404
        async with svc.runtime.db.sessions() as s:
            journeys = tables["journeys"]
            assert await s.scalar(sa.select(sa.func.count()).select_from(journeys)) == 3  # erased, other, newcomer
            assert await s.scalar(sa.select(sa.func.count()).select_from(journeys).where(journeys.c.citizen_id == str(c))) == 0


async def test_the_migration_rekeys_journeys_erased_before_it(database_url):  # noqa: ANN001
    import asyncio
    import json

    from alembic import command
    from sqlalchemy.ext.asyncio import create_async_engine

    from brobygger_runtime.migrations import alembic_config, runtime_alembic_config

    def to(revision: str) -> None:
        command.upgrade(runtime_alembic_config(database_url), "head")
        command.upgrade(alembic_config("journey", database_url), revision)

    await asyncio.to_thread(to, "7c3e1a9d4b20")
    engine = create_async_engine(database_url)
    answers = json.dumps({"lack_companionship": 3, "left_out": 2, "isolated": 3})
    try:
        async with engine.begin() as conn:
            for journey_id, erased in (("old-erased", True), ("kept", False)):
                await conn.execute(sa.text(
                    "INSERT INTO journeys (journey_id, citizen_id, state, source, urgency, postal_code, age_band, language,"
                    " referral_count, referred_at, relatives_involved, erased, hidden, baseline) VALUES (:j, :c, 'exited',"
                    " 'home_care', 'soon', '6800', '75-84', 'da', 1, :at, false, :e, false, :b)"),
                    dict(j=journey_id, c=f"citizen-{journey_id}", at=REFERRED, e=erased, b=answers))
                await conn.execute(sa.text(
                    "INSERT INTO proposals (proposal_id, journey_id, kind, candidate_id, candidate_name, proposing_org, status,"
                    " proposed_at) VALUES (:p, :j, 'activity', 'v1', 'Gåklubben', 'red-cross', 'accepted', :at)"),
                    dict(p=f"proposal-{journey_id}", j=journey_id, at=REFERRED))
                await conn.execute(sa.text("INSERT INTO timers (journey_id, kind, due_at) VALUES (:j, 'follow_up', :at)"),
                                   dict(j=journey_id, at=REFERRED))
        await asyncio.to_thread(to, "head")
        async with engine.connect() as conn:
            journeys = (await conn.execute(sa.text("SELECT journey_id, baseline FROM journeys ORDER BY erased"))).all()
            proposals = (await conn.execute(sa.text("SELECT proposal_id, journey_id, candidate_name FROM proposals"))).all()
            timers = (await conn.scalars(sa.text("SELECT journey_id FROM timers"))).all()
    finally:
        await engine.dispose()
    (kept, kept_baseline), (rekeyed, rekeyed_baseline) = journeys
    assert kept == "kept" and rekeyed != "old-erased"
    as_dict = (lambda v: json.loads(v) if isinstance(v, str) else v)  # noqa: E731 - JSON as text on SQLite
    assert as_dict(rekeyed_baseline) == {"total": 8} and as_dict(kept_baseline)["left_out"] == 2
    assert {(p.journey_id, p.candidate_name) for p in proposals} == {("kept", "Gåklubben"), (rekeyed, None)}
    assert "proposal-old-erased" not in {p.proposal_id for p in proposals}
    assert timers == ["kept"]
